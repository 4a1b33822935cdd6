"""Stable influencer ids and the corrections file (ingest/corrections/), and the constraints they
become in clustering (ingest.people.cluster.cluster_faces's must_link / cannot_link)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import numpy as np
import pytest

from ingest.cli import main
from ingest.corrections import apply, model
from ingest.corrections import file as cfile
from ingest.people.cluster import FaceTable, cluster_faces, constrained_average_linkage
from ingest.settings import ClusterSettings
from ingest.warehouse import store

HEADER = "action,influencer_id,other_id,video_id,name\n"


def parse(text: str) -> list[model.Correction]:
    return cfile.parse_text(HEADER + text, "people.csv").corrections


def test_parse_good_file():
    got = parse('name,3,,,"Ana, the host"\nmerge,3,5,,\nsplit,3,,v_x,\nhide,9,,,\n\n')
    assert [(c.action, c.influencer_id, c.other_id, c.video_id, c.name, c.line) for c in got] == [
        ("name", 3, None, None, "Ana, the host", 2),
        ("merge", 3, 5, None, None, 3),
        ("split", 3, None, "v_x", None, 4),
        ("hide", 9, None, None, None, 5),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("rename,3,,,Ana\n", "people.csv:2: unknown action 'rename'"),
        ("name,x,,,Ana\n", "people.csv:2: influencer_id must be a whole number"),
        ("name,0,,,Ana\n", "people.csv:2: influencer_id must be 1 or more"),
        ("name,3,,,\n", "people.csv:2: name needs a name"),
        ("merge,3,,,\n", "people.csv:2: merge needs other_id"),
        ("merge,3,3,,\n", "people.csv:2: cannot merge influencer 3 with itself"),
        ("split,3,,,\n", "people.csv:2: split needs video_id"),
        ("hide,3,,,,x\n", "people.csv:2: expected 5 fields"),
        (
            "name,3,,,Ana\nhide,4,,,\nname,3,,,Bo\n",
            "people.csv:4: influencer 3 is already named on line 2",
        ),
        ("hide,4,,,\nhide,4,,,\n", "people.csv:3: hide 4: line 2 answers the same question"),
        ("merge,3,5,,\napart,5,3,,\n", "people.csv:3: apart 5 3: line 2 answers the same"),
        ("split,3,,v,\nkeep,3,,v,\n", "people.csv:3: keep 3 --video v: line 2 answers"),
        ("apart,3,,,\n", "people.csv:2: apart needs other_id"),
        ("keep,3,,,\n", "people.csv:2: keep needs video_id"),
        (
            "merge,1,2,,\nmerge,2,3,,\napart,1,3,,\n",
            "people.csv:4: apart 1 3 contradicts the merges that join them into 1",
        ),
    ],
)
def test_bad_lines_name_file_and_line(text, message):
    with pytest.raises(model.CorrectionsError) as exc:
        parse(text)
    assert str(exc.value).startswith(message), str(exc.value)


def test_bad_header():
    with pytest.raises(model.CorrectionsError, match=r"people\.csv:1: header must be"):
        cfile.parse_text("id,name\n1,Ana\n", "people.csv")


def test_cli_edits_replace_a_name_and_unhide_removes_the_row(tmp_path):
    rows = [model.Correction("name", 1, name="Ana"), model.Correction("hide", 2)]
    rows = model.with_correction(rows, model.Correction("name", 1, name="Ana B"))
    rows = model.with_correction(rows, model.Correction("hide", 2), remove=True)
    rows = model.with_correction(rows, model.Correction("apart", 4, other_id=1))
    rows = model.with_correction(rows, model.Correction("merge", 1, other_id=4))
    rows = model.with_correction(rows, model.Correction("merge", 1, other_id=4))
    path = tmp_path / "people.csv"
    cfile.write_file(path, rows, None)
    assert path.read_text() == ",".join(model.FIELDS) + "\nname,1,,,Ana B,,\nmerge,1,4,,,,\n"
    assert cfile.read_file(path).corrections == [
        model.Correction("name", 1, name="Ana B", line=2),
        model.Correction("merge", 1, other_id=4, line=3),
    ]


def test_match_keeps_ids_whatever_the_new_numbering():
    prev = np.array([4, 4, 4, 7, 7, -1, -1])
    groups = np.array([2, 2, 2, 1, 1, 3, 3])  # the clustering numbers them afresh
    assert apply.match_ids(groups, prev, issued_max=9).tolist() == [4, 4, 4, 7, 7, 10, 10]


def test_match_largest_overlap_keeps_the_id_and_ids_are_never_reused():
    # id 4 splits: the bigger part keeps 4, the smaller gets a new id above every id issued
    prev = np.array([4, 4, 4, 4, 4])
    groups = np.array([1, 1, 2, 2, 2])
    got = apply.match_ids(groups, prev, issued_max=12)
    assert got.tolist() == [13, 13, 4, 4, 4]
    assert apply.id_events(prev, got) == [(13, "created", None), (13, "split_from", 4)]


def test_match_ties_go_to_the_lower_id_and_the_other_is_merged():
    prev = np.array([5, 5, 3, 3, -1])
    groups = np.array([1, 1, 1, 1, -1])
    got = apply.match_ids(groups, prev, issued_max=5)
    assert got.tolist() == [3, 3, 3, 3, -1]
    assert apply.id_events(prev, got) == [(5, "merged_into", 3)]


def test_ids_from_before_the_history_are_recorded_once():
    prev = np.array([1, 1, 2, 2, -1, -1])
    after = np.array([1, 1, 2, 2, 3, 3])
    assert apply.id_events(prev, after, recorded=set()) == [
        (1, "created", None),
        (2, "created", None),
        (3, "created", None),
    ]
    assert apply.id_events(prev, after, recorded={1, 2}) == [(3, "created", None)]


def test_match_is_deterministic_for_new_people():
    groups = np.array([1, 2, 2, 1, 2])
    a = apply.match_ids(groups, np.full(5, -1), issued_max=0)
    assert a.tolist() == [2, 1, 1, 2, 1]  # more faces first
    assert apply.id_events(np.full(5, -1), a) == [(1, "created", None), (2, "created", None)]


def test_plan_merge_and_split():
    prev = np.array([1, 1, 2, 2, 2, 3])
    vids = np.array(["a", "b", "c", "d", "d", "e"])
    cs = [
        model.Correction("merge", 1, other_id=2, line=2),
        model.Correction("split", 1, video_id="d", line=3),
        model.Correction("name", 8, name="Gone", line=4),
        model.Correction("split", 3, video_id="zz", line=5),
    ]
    p = apply.plan(cs, prev, vids)
    # 2 is merged into 1; video d is split out of that person
    assert [g.tolist() for g in p.must_link] == [[0, 1, 2]]
    assert [(a.tolist(), b.tolist()) for a, b in p.cannot_link] == [([3, 4], [0, 1, 2])]
    assert p.match_prev.tolist() == [1, 1, 1, -1, -1, 3]
    assert len(p.stale) == 2 and "line 4" in p.stale[0] and "line 5" in p.stale[1]


def test_plan_apart_and_keep_and_what_they_answer():
    prev = np.array([1, 1, 1, 2, 2, 3])
    vids = np.array(["a", "b", "v", "c", "d", "e"])
    cs = [
        model.Correction("apart", 1, other_id=2, line=2),
        model.Correction("keep", 1, video_id="v", line=3),
        model.Correction("apart", 3, other_id=9, line=4),
        model.Correction("keep", 2, video_id="a", line=5),
    ]
    p = apply.plan(cs, prev, vids)
    # different: every face of 1 against every face of 2; one person: 1's faces stay together
    assert [(a.tolist(), b.tolist()) for a, b in p.cannot_link] == [([0, 1, 2], [3, 4])]
    assert [g.tolist() for g in p.must_link] == [[0, 1, 2]]
    # the review does not ask about 1 in video v again
    assert [g.tolist() for g in p.tied] == [[2]]
    assert [s.split(":")[0] for s in p.stale] == ["line 4", "line 5"]


def test_one_person_answers_never_tie_back_a_video_split_out_of_that_person():
    """split 1 --video v and keep 1 --video w: the keep must-links 1's faces without v's
    (which the split cannot-links), so the clustering gets no contradiction to refuse."""
    prev = np.array([1, 1, 1, 1])
    vids = np.array(["a", "v", "w", "w"])
    cs = [
        model.Correction("split", 1, video_id="v", line=2),
        model.Correction("keep", 1, video_id="w", line=3),
    ]
    p = apply.plan(cs, prev, vids)
    assert [(a.tolist(), b.tolist()) for a, b in p.cannot_link] == [([1], [0, 2, 3])]
    for group in p.must_link:
        assert 1 not in group.tolist()
    # merge and keep through one id do not tie the split video back either
    merged = [model.Correction("merge", 1, other_id=2, line=4), *cs]
    p = apply.plan(merged, np.array([1, 2, 1, 2]), vids)
    for group in p.must_link:
        assert 1 not in group.tolist()


def test_a_rebuilt_warehouse_gets_ids_back_from_anchors_spread_over_whole_people():
    # Faces of a new warehouse: nobody carries an id yet. A clustering without corrections
    # finds three people: g1 (f0-f2), g2 (f3-f5), g3 (f6, f7).
    face_ids = [f"f{k}" for k in range(8)]
    groups = np.array([1, 1, 1, 2, 2, 2, 3, 3])
    prev = np.full(8, -1)
    cs = [
        model.Correction("merge", 7, other_id=9, face=("f0",), other_face=("f3",), line=2),
        model.Correction("name", 4, name="Cy", face=("f6",), line=3),
    ]
    assert apply.missing_anchored(cs, prev, face_ids)
    only_faces = apply.with_anchors(cs, prev, face_ids)
    assert only_faces.tolist() == [7, -1, -1, 9, -1, -1, 4, -1]
    whole = apply.with_anchors(cs, prev, face_ids, groups)
    assert whole.tolist() == [7, 7, 7, 9, 7, 7, 4, 4]  # the rest of 9's group: its root, 7
    # the merge then joins both whole people, under the kept id
    p = apply.plan(cs, whole, np.array(list("aabbccdd")))
    assert [g.tolist() for g in p.must_link] == [[0, 1, 2, 3, 4, 5]]
    # a group holding two people's anchors gives neither the other's faces
    two = [
        model.Correction("name", 5, name="Cleo", face=("f0",), line=2),
        model.Correction("name", 7, name="Bea", face=("f1",), line=3),
    ]
    assert apply.with_anchors(two, prev, face_ids, groups).tolist()[:3] == [5, 7, -1]
    # an id a face carries now is never moved by an anchor
    live = np.array([5, 5, 5, -1, -1, -1, 4, 4])
    assert not apply.missing_anchored(cs[1:], live, face_ids)
    assert apply.with_anchors(cs, live, face_ids, groups).tolist() == [5, 5, 5, 9, 7, 7, 4, 4]
    # a returning person's group that also holds anchors of someone still here stays unspread
    back = [
        model.Correction("name", 8, name="Di", face=("f6",), line=2),
        model.Correction("name", 4, name="Cy", face=("f7",), line=3),
    ]
    came_back = np.array([4, 4, 4, 4, 4, 4, -1, -1])  # 4 is here; f6, f7 came back
    assert apply.with_anchors(back, came_back, face_ids, groups)[6:].tolist() == [8, -1]


def test_anchors_pick_sharp_faces_one_per_video_and_check_a_file():
    face_ids = ["a1", "a2", "b1", "b2", "c1"]
    ids = np.array([1, 1, 1, 1, 2])
    vids = np.array(["a", "a", "b", "b", "c"])
    sharp = np.array([5.0, 9.0, 1.0, 2.0, 3.0])
    assert apply.pick_faces(face_ids, ids, vids, sharp, 1) == ("a2", "b2", "a1")
    keep = apply.anchor(model.Correction("keep", 1, video_id="b"), face_ids, ids, vids, sharp)
    assert (keep.face, keep.other_face) == (("a2", "a1"), ("b2", "b1"))
    merged = apply.anchor(model.Correction("merge", 1, other_id=2), face_ids, ids, vids, sharp)
    assert merged.anchored and merged.other_face == ("c1",)
    # a row whose faces are someone else's here was written for another warehouse
    assert apply.disagreeing_anchors([merged], ids, face_ids) == ([], 1)
    wrong = model.Correction("name", 2, name="Bo", face=("a1", "b1"))
    assert apply.disagreeing_anchors([wrong], ids, face_ids) == ([(wrong, 1)], 1)


def test_check_unknown_id_and_contradiction():
    prev = np.array([1, 1, 2, 2])
    vids = np.array(["a", "b", "c", "c"])
    with pytest.raises(model.CorrectionsError, match=r"people\.csv:2: unknown influencer 9"):
        apply.check_corrections(
            [model.Correction("hide", 9, line=2)], "people.csv", {1, 2}, prev, vids
        )
    both = [
        model.Correction("merge", 1, other_id=2, line=2),
        model.Correction("split", 1, video_id="c", line=3),
    ]
    with pytest.raises(
        model.CorrectionsError, match=r"people\.csv:2 and line 3: merge 1 2 and split"
    ):
        apply.check_corrections(both, "people.csv", {1, 2}, prev, vids)
    # a split of another of 2's videos is no contradiction
    apply.check_corrections(
        [both[0], model.Correction("split", 1, video_id="b", line=3)],
        "people.csv",
        {1, 2},
        prev,
        vids,
    )


def _two_people(rng: np.random.Generator) -> FaceTable:
    """Four videos, 6 faces each in distinct frames: A in v0, v1; B in v2, v3 (far apart)."""
    d = 64
    a, b = rng.normal(size=d), rng.normal(size=d)
    rows, vids = [], []
    for k, base in enumerate([a, a, b, b]):
        for _ in range(6):
            rows.append(base + 0.15 * rng.normal(size=d))
            vids.append(f"v{k}")
    emb = np.asarray(rows, dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return FaceTable(np.array(vids), np.tile(np.arange(6), 4), emb)


def test_must_link_and_cannot_link_bind_the_clustering():
    faces = _two_people(np.random.default_rng(0))
    s = ClusterSettings(center=False)
    free = cluster_faces(faces, s).cluster_id
    assert len(set(free[:12])) == 1 and len(set(free[12:])) == 1 and free[0] != free[12]
    # a must-link between A's faces and B's makes them one person, far apart as they are
    merged = cluster_faces(faces, s, must_link=[np.r_[0:24]]).cluster_id
    assert len(set(merged.tolist())) == 1
    # it binds tracks, not people: v0 with v3 only, and the rest clusters as it may
    pair = cluster_faces(faces, s, must_link=[np.r_[0:6, 18:24]]).cluster_id
    assert len(set(pair[0:6].tolist() + pair[18:24].tolist())) == 1
    # a cannot-link keeps v1 away from v0, though they are the same person
    split = cluster_faces(faces, s, cannot_link=[(np.r_[6:12], np.r_[0:6])]).cluster_id
    assert split[0] != split[6] and split[12] == split[18]
    # a must-link overrides the automatic within-video brake (two tracks of one video)
    both = dataclasses.replace(
        faces,
        video_id=np.array(["v0"] * 12 + ["v2"] * 6 + ["v3"] * 6),
        frame_index=np.r_[0:12, 0:6, 0:6],
    )
    s1 = dataclasses.replace(s, track_threshold=0.05)  # every face its own track in stage 1
    s1 = dataclasses.replace(s1, min_track_faces=1)
    got = cluster_faces(both, s1, must_link=[np.r_[0:12]]).cluster_id
    assert len(set(got[:12].tolist())) == 1
    with pytest.raises(ValueError, match="must-link group contains a cannot-linked pair"):
        cluster_faces(faces, s, must_link=[np.r_[0:12]], cannot_link=[(np.r_[0:6], np.r_[6:12])])


def _tiny_warehouse(db: Path) -> None:
    """raw tables with two people: 1 in videos a, b; 2 in video c."""
    con = store.connect(db, 512)
    for k, vid in enumerate("abc"):
        con.execute(
            "insert into raw.videos (video_id, row_number, source_url, status) "
            "values (?, ?, ?, 'ok')",
            [vid, k + 1, f"{vid}.mp4"],
        )
        for f in range(3):
            con.execute(
                "insert into raw.faces (face_id, video_id, frame_index, embedder) "
                "values (?, ?, ?, 'facenet')",
                [f"{vid}_f{f}_0", vid, f],
            )
            con.execute(
                "insert into raw.face_clusters (face_id, cluster_id) values (?, ?)",
                [f"{vid}_f{f}_0", 2 if vid == "c" else 1],
            )
    con.execute(
        "insert into raw.influencer_id_history values (1, 'created', null, now()), "
        "(2, 'created', null, now())"
    )
    con.close()


def test_people_cli_writes_the_file_and_refuses_bad_input(tmp_path, capsys):
    db, path = tmp_path / "w.duckdb", tmp_path / "people.csv"
    _tiny_warehouse(db)
    base = ["people"]
    opts = ["--db", str(db), "--file", str(path)]
    assert main([*base, "name", *opts, "1", "Ana"]) == 0
    assert main([*base, "hide", *opts, "2"]) == 0
    assert main([*base, "list", *opts]) == 0
    out = capsys.readouterr().out
    assert "   1  Ana" in out and "   2  Person 2" in out and "yes" in out
    assert main([*base, "unhide", *opts, "2"]) == 0
    assert main([*base, "split", *opts, "1", "--video", "b"]) == 0
    assert main([*base, "merge", *opts, "1", "2"]) == 0
    identity = cfile.identity_line(store.warehouse_id_of(db))
    # Each row anchored on its faces: one per video first (sharpness unknown here: by id).
    assert path.read_text() == (
        f"{identity}\n{','.join(model.FIELDS)}\n"
        "name,1,,,Ana,a_f0_0 b_f0_0 a_f1_0,\n"
        "split,1,,b,,a_f0_0 a_f1_0 a_f2_0,b_f0_0 b_f1_0 b_f2_0\n"
        "merge,1,2,,,a_f0_0 b_f0_0 a_f1_0,c_f0_0 c_f1_0 c_f2_0\n"
    )
    before = path.read_text()
    capsys.readouterr()
    assert main([*base, "name", *opts, "7", "Nobody"]) == 2
    assert "unknown influencer 7" in capsys.readouterr().err
    assert main([*base, "split", *opts, "1", "--video", "zz"]) == 2
    assert main([*base, "merge", *opts, "1", "1"]) == 2
    assert path.read_text() == before
    assert main([*base, "list", "--db", str(tmp_path / "none.duckdb")]) == 2
    (tmp_path / "not_a.duckdb").write_text("not a warehouse")
    capsys.readouterr()
    assert main([*base, "list", "--db", str(tmp_path / "not_a.duckdb")]) == 2
    assert "cannot read people from" in capsys.readouterr().err


def test_answers_are_rows_replace_their_opposite_and_can_be_taken_back(tmp_path, capsys):
    db, path = tmp_path / "w.duckdb", tmp_path / "people.csv"
    _tiny_warehouse(db)
    opts = ["--db", str(db), "--file", str(path)]
    assert main(["people", "apart", *opts, "1", "2"]) == 0
    assert main(["people", "keep", *opts, "1", "--video", "b"]) == 0
    assert main(["people", "name", *opts, "2", "Bo"]) == 0
    got = cfile.read_file(path).corrections
    assert [(c.action, c.influencer_id, c.other_id, c.video_id) for c in got] == [
        ("apart", 1, 2, None),
        ("keep", 1, None, "b"),
        ("name", 2, None, None),
    ]
    assert got[1].face == ("a_f0_0", "a_f1_0", "a_f2_0")
    assert got[1].other_face == ("b_f0_0", "b_f1_0", "b_f2_0")
    capsys.readouterr()
    assert main(["people", "answers", *opts]) == 0
    out = capsys.readouterr().out
    assert "   1  different people" in out and "apart 1 2" in out
    assert "   2  one person" in out and "keep 1 --video b" in out
    assert "Bo" not in out  # a name is no answer
    # The opposite answer replaces the first, in place: same person after all.
    assert main(["people", "merge", *opts, "2", "1"]) == 0
    got = cfile.read_file(path).corrections
    assert [c.describe() for c in got] == ["merge 2 1", "keep 1 --video b", "name 2 'Bo'"]
    assert main(["people", "answers", "--undo", "2", *opts]) == 0
    assert [c.describe() for c in cfile.read_file(path).corrections] == ["merge 2 1", "name 2 'Bo'"]
    capsys.readouterr()
    assert main(["people", "answers", "--undo", "5", *opts]) == 2
    assert "no answer 5: 1 answers" in capsys.readouterr().err
    assert main(["people", "keep", *opts, "2", "--video", "a"]) == 2
    assert "no faces of influencer 2 in video a" in capsys.readouterr().err
    assert main(["people", "apart", *opts, "2", "2"]) == 2
    # An id merged away (no face carries it) cannot be answered "different" any more.
    con = duckdb.connect(str(db))
    con.execute("insert into raw.influencer_id_history values (3, 'merged_into', 1, now())")
    con.close()
    capsys.readouterr()
    assert main(["people", "apart", *opts, "1", "3"]) == 2
    assert "influencer 3 has no faces" in capsys.readouterr().err
    # ...but a merge applied before (3's faces are 1's now) can still be taken back.
    f = cfile.read_file(path)
    rows = [*f.corrections, model.Correction("merge", 1, other_id=3)]
    cfile.write_file(path, rows, f.warehouse_id)
    assert main(["people", "answers", "--undo", "2", *opts]) == 0
    assert [c.describe() for c in cfile.read_file(path).corrections] == [
        "merge 2 1",
        "name 2 'Bo'",
    ]


def test_recluster_refuses_a_bad_file_before_writing(tmp_path, capsys):
    db, path = tmp_path / "w.duckdb", tmp_path / "people.csv"
    _tiny_warehouse(db)
    bound = cfile.identity_line(str(store.warehouse_id_of(db))) + "\n"
    path.write_text(bound + HEADER + "name,1,,,Ana\nhide,99,,,\n")
    assert main(["recluster", "--db", str(db), "--people", str(path)]) == 2
    assert f"{path}:4: unknown influencer 99" in capsys.readouterr().err
    con = duckdb.connect(str(db), read_only=True)
    assert (
        con.execute("select count(*) from raw.face_clusters where cluster_id >= 1").fetchone()[0]
        == 9
    )
    con.close()


def test_a_rerun_under_the_same_corrections_ends_where_the_last_one_did():
    """After a run, the must-link group is every face that carries the merged id (including
    tracks that joined it on their own); clustering again under that group changes nothing."""
    rng = np.random.default_rng(3)
    d = 64
    people_ = [rng.normal(size=d) for _ in range(4)]
    rows, vids = [], []
    for k, who in enumerate([0, 0, 1, 1, 0, 2, 3, 3, 2]):
        for _ in range(5):
            rows.append(people_[who] + 0.2 * rng.normal(size=d))
            vids.append(f"v{k}")
    emb = np.asarray(rows, dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    faces = FaceTable(np.array(vids), np.tile(np.arange(5), 9), emb)
    s = ClusterSettings()
    first = cluster_faces(faces, s, must_link=[np.r_[0:10]]).cluster_id
    grown = np.flatnonzero(first == first[0])
    assert len(grown) > 10  # other tracks of person 0 joined the merged pair on their own
    again = cluster_faces(faces, s, must_link=[grown]).cluster_id
    assert apply.match_ids(again, first, issued_max=int(first.max())).tolist() == first.tolist()


def test_a_must_link_merges_like_average_linkage_would():
    """Forced merges go through the same update: the merged group's spread is its members' real
    spread (0.3), not the prior for one track (0.15), so item 2 at 0.5 joins it as it would
    had 0 and 1 merged on their own (0.5 <= 2.5 x 0.3), and a cannot-link is overridden."""
    dist = np.array([[0, 0.3, 0.5], [0.3, 0, 0.5], [0.5, 0.5, 0]])
    kw = {"max_ratio": 2.5, "spread_prior": 0.15}
    assert constrained_average_linkage(dist, 0.55, **kw).tolist() == [0, 0, 0]
    blocked = np.zeros((3, 3), dtype=bool)
    blocked[0, 1] = blocked[1, 0] = True
    # kept apart, 0 and 1 are single items: 0.5 > 2.5 x 0.15, so 2 joins neither
    assert constrained_average_linkage(dist, 0.55, blocked, **kw).tolist() == [0, 1, 2]
    got = constrained_average_linkage(dist, 0.55, blocked, must_link=[np.array([0, 1])], **kw)
    assert got.tolist() == [0, 0, 0]
    far = dist * 2  # beyond the threshold: only the forced pair merges
    assert constrained_average_linkage(far, 0.55, must_link=[np.array([0, 2])], **kw).tolist() == [
        0,
        1,
        0,
    ]
