"""Each warehouse has its own corrections (issue 38): the file beside it, bound by the
warehouse's identity; a foreign file refused before anything is written; a file from before
identities kept working and bound by a command; export and import carrying corrections across
by faces. Small warehouses written with ingest.warehouse.store (no models); the real-model runs
are in tests/test_people_warehouses_e2e.py."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.cli import main
from ingest.corrections import carry, model, room
from ingest.corrections import file as cfile
from ingest.warehouse import store

HEADER = ",".join(model.FIELDS) + "\n"


def tiny(db: Path, people_by_video: dict[str, int]) -> Path:
    """A warehouse with three faces per video, each carrying its video's person id, written
    as ingest writes (store.connect: identity, empty corrections)."""
    con = store.connect(db, 512)
    for k, (vid, iid) in enumerate(people_by_video.items()):
        con.execute(
            "insert into raw.videos (video_id, row_number, source_url, status) "
            "values (?, ?, ?, 'ok')",
            [vid, k + 1, f"{vid}.mp4"],
        )
        for f in range(3):
            face = f"{vid}_f{f}_0"
            con.execute(
                "insert into raw.faces (face_id, video_id, frame_index, embedder) "
                "values (?, ?, ?, 'facenet')",
                [face, vid, f],
            )
            con.execute(
                "insert into raw.face_clusters (face_id, cluster_id) values (?, ?)", [face, iid]
            )
    for iid in sorted(set(people_by_video.values())):
        con.execute(
            "insert into raw.influencer_id_history values (?, 'created', null, now())", [iid]
        )
    con.close()
    return db


def test_each_warehouse_writes_its_own_file_bound_to_it(tmp_path):
    a = tiny(tmp_path / "wA" / "w.duckdb", {"va": 1, "vb": 2})
    b = tiny(tmp_path / "wB" / "w.duckdb", {"vx": 1, "vy": 2})
    assert main(["people", "name", "--db", str(a), "1", "Joe Biden"]) == 0
    assert main(["people", "name", "--db", str(b), "1", "Bea"]) == 0
    fa, fb = (cfile.read_file(cfile.file_for(w)) for w in (a, b))
    assert fa.path == tmp_path / "wA" / "w.people.csv"
    assert (fa.warehouse_id, fb.warehouse_id) == (
        store.warehouse_id_of(a),
        store.warehouse_id_of(b),
    )
    assert fa.warehouse_id != fb.warehouse_id
    assert [c.name for c in fa.corrections] == ["Joe Biden"]
    assert [c.name for c in fb.corrections] == ["Bea"]


def test_a_foreign_file_is_refused_with_both_ids_and_nothing_written(tmp_path, capsys):
    a = tiny(tmp_path / "a.duckdb", {"va": 1, "vb": 2})
    b = tiny(tmp_path / "b.duckdb", {"vx": 1, "vy": 2})
    assert main(["people", "name", "--db", str(a), "1", "Joe Biden"]) == 0
    file_a = cfile.file_for(a)
    id_a, id_b = store.warehouse_id_of(a), store.warehouse_id_of(b)
    csv = tmp_path / "videos.csv"
    csv.write_text("url,score\nhttps://example.invalid/x.mp4,1\n")
    before, text = b.read_bytes(), file_a.read_text()
    capsys.readouterr()
    attempts = [
        ["run", str(csv), "--db", str(b), "--people", str(file_a), "--no-progress"],
        ["recluster", "--db", str(b), "--people", str(file_a)],
        ["people", "name", "--db", str(b), "--file", str(file_a), "2", "Someone"],
        ["people", "list", "--db", str(b), "--file", str(file_a)],
        ["people", "export", "--db", str(b), "--file", str(file_a), "--out", str(tmp_path / "x")],
    ]
    for args in attempts:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(f"error: {file_a} holds the corrections of warehouse {id_a}, "), err
        assert id_b in err and err.count("\n") == 1, err
    # Offered at B's own place, A's file is still A's.
    shutil.copyfile(file_a, cfile.file_for(b))
    assert main(["recluster", "--db", str(b)]) == 2
    assert id_a in capsys.readouterr().err
    assert b.read_bytes() == before and file_a.read_text() == text
    assert not (tmp_path / "x").exists()
    # A new warehouse offered A's file from elsewhere refuses it too: only a warehouse rebuilt
    # from nothing takes the identity of its own file, the one beside it
    # (tests/test_people_e2e.py rebuilds one with the real models).
    new = tmp_path / "new.duckdb"
    assert main(["run", str(csv), "--db", str(new), "--people", str(file_a)]) == 2
    assert "no identity of its own yet" in capsys.readouterr().err and not new.exists()
    rebuilt = tmp_path / "a2" / "a.duckdb"
    rebuilt.parent.mkdir()
    shutil.copyfile(file_a, cfile.file_for(rebuilt))
    assert main(["run", str(csv), "--db", str(rebuilt)]) == 0
    assert store.warehouse_id_of(rebuilt) == id_a and file_a.read_text() == text


def _from_before_identities(db: Path) -> None:
    """As a warehouse built before this change: no identity, no corrections table."""
    con = duckdb.connect(str(db))
    con.execute("drop table raw.warehouse_meta")
    con.execute("drop table raw.people_corrections")
    con.close()


def test_an_old_file_keeps_working_where_it_fits_and_bind_binds_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # cfile.LEGACY_FILE is relative to the repository root
    old = tiny(tmp_path / "old.duckdb", {"va": 1, "vb": 2})
    _from_before_identities(old)
    new = tiny(tmp_path / "new.duckdb", {"vx": 1, "vy": 2})  # built after: has its own
    legacy = cfile.LEGACY_FILE
    legacy.parent.mkdir(parents=True)
    legacy.write_text(HEADER + "name,1,,,Ana\nhide,2,,,\n")
    assert room.default_file(old) == legacy
    assert room.default_file(new) == cfile.file_for(new)
    capsys.readouterr()
    assert main(["people", "list", "--db", str(old)]) == 0
    assert "Ana" in capsys.readouterr().out
    assert main(["people", "list", "--db", str(new)]) == 0
    assert "Ana" not in capsys.readouterr().out
    note = room.bind_note(cfile.read_file(legacy), old)
    assert note is not None and f"`ingest people bind --db {old}`" in note

    assert main(["people", "bind", "--db", str(old)]) == 0
    wid = store.warehouse_id_of(old)
    assert wid is not None
    bound = cfile.read_file(cfile.file_for(old))
    assert bound.warehouse_id == wid and [c.action for c in bound.corrections] == ["name", "hide"]
    assert room.default_file(old) == cfile.file_for(old)
    assert room.bind_note(bound, old) is None
    assert legacy.read_text() == HEADER + "name,1,,,Ana\nhide,2,,,\n"  # left as it was

    # An old file elsewhere is bound in place; one that does not fit is not bound.
    other = tmp_path / "mine.csv"
    other.write_text(HEADER + "name,7,,,Nobody\n")
    assert main(["people", "bind", "--db", str(old), "--file", str(other)]) == 2
    assert "unknown influencer 7" in capsys.readouterr().err
    other.write_text(HEADER + "name,2,,,Bo\n")
    assert main(["people", "bind", "--db", str(old), "--file", str(other)]) == 0
    assert cfile.read_file(other).warehouse_id == wid


def test_a_copied_warehouse_keeps_its_identity_and_a_lost_file_is_noticed(tmp_path, capsys):
    a = tiny(tmp_path / "a.duckdb", {"va": 1, "vb": 2})
    assert main(["people", "name", "--db", str(a), "1", "Ana"]) == 0
    f = cfile.read_file(cfile.file_for(a))
    con = store.connect(a, 512)
    store.write_people_corrections(con, [c.row() for c in f.corrections], str(f.path.resolve()))
    con.close()
    c = tmp_path / "renamed" / "c.duckdb"
    c.parent.mkdir()
    shutil.copyfile(a, c)
    assert store.warehouse_id_of(c) == store.warehouse_id_of(a)
    capsys.readouterr()
    assert main(["people", "list", "--db", str(c)]) == 2  # its file left behind
    err = capsys.readouterr().err
    assert f"last applied 1 corrections from {f.path.resolve()}" in err, err
    shutil.copyfile(f.path, cfile.file_for(c))
    assert main(["people", "list", "--db", str(c)]) == 0
    assert "Ana" in capsys.readouterr().out


def test_export_and_import_carry_corrections_by_faces_not_ids(tmp_path, capsys):
    # The same videos numbered otherwise in B; B also has a video A never saw.
    a = tiny(tmp_path / "a.duckdb", {"va": 1, "vb": 1, "vc": 2, "vd": 3})
    b = tiny(tmp_path / "b.duckdb", {"vc": 1, "va": 2, "vb": 2, "vz": 3, "vd": 4})
    for args in (["name", "1", "Ana"], ["hide", "2"], ["name", "3", "Cy"]):
        assert main(["people", args[0], "--db", str(a), *args[1:]]) == 0
    assert main(["people", "name", "--db", str(b), "4", "Dee"]) == 0  # B's own name for A's 3
    out = tmp_path / "a_export.csv"
    assert main(["people", "export", "--db", str(a), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["people", "import", str(out), "--db", str(b)]) == 0
    report = capsys.readouterr().out
    got = cfile.read_file(cfile.file_for(b))
    assert got.warehouse_id == store.warehouse_id_of(b)
    assert {(c.action, c.influencer_id, c.name) for c in got.corrections} == {
        ("name", 2, "Ana"),
        ("hide", 1, None),
        ("name", 4, "Dee"),
    }
    assert "name 1 'Ana' -> name 2 (6 shared faces)" in report
    assert "name 3 'Cy': not carried (4 is already named 'Dee' here)" in report


def test_map_corrections_merges_splits_and_refuses_a_mostly_other_person():
    # A: person 1 in videos a, b, c (merged from 1 and 5), a split of video d out of 1.
    a_faces = {f"{v}_{k}": 1 for v in "abc" for k in range(3)} | {f"d_{k}": 6 for k in range(3)}
    a_faces |= {f"e_{k}": 2 for k in range(3)}
    ex = carry.Export(
        "A",
        [
            model.Correction("merge", 1, other_id=5),
            model.Correction("split", 1, video_id="d"),
            model.Correction("name", 2, name="Eve"),
        ],
        a_faces,
    )
    # B: A's 1 is two people (7: a, b; 8: c), d is still with 7; A's 2 (video e, 3 faces)
    # sits inside B's 9, which is mostly video f (A never saw it): 9's faces A knows are all 2.
    b_faces = {f"{v}_{k}": (7, v) for v in "abd" for k in range(3)}
    b_faces |= {f"c_{k}": (8, "c") for k in range(3)}
    b_faces |= {f"e_{k}": (9, "e") for k in range(3)} | {f"f_{k}": (9, "f") for k in range(9)}
    out, report = carry.map_corrections(ex, b_faces, [])
    assert out == [
        model.Correction("merge", 7, other_id=8),
        model.Correction("split", 7, video_id="d"),
        model.Correction("name", 9, name="Eve"),
    ], report
    # Now B's 9 also holds most of A's person 3: it is not A's 2's best match both ways.
    ex3 = carry.Export("A", ex.corrections, a_faces | {f"g_{k}": 3 for k in range(6)})
    b3 = b_faces | {f"g_{k}": (9, "g") for k in range(6)}
    out, report = carry.map_corrections(ex3, b3, [])
    assert all(c.influencer_id != 9 for c in out)
    assert "name 2 'Eve': not carried (no person here is its best match by faces)" in report


def test_export_file_round_trips():
    ex = carry.Export(
        "wid-1",
        [model.Correction("name", 1, name="Ana, the host", line=3)],
        {"v_f0_0": 1, "v_f1_0": 1},
    )
    text = carry.format_export(ex)
    assert carry.parse_export(io.StringIO(text), "x.csv") == ex
    with pytest.raises(model.CorrectionsError, match="not a people export"):
        carry.parse_export(io.StringIO(HEADER + "name,1,,,Ana\n"), "x.csv")


def test_a_lost_binding_line_is_named_and_bind_checks_the_faces(tmp_path, capsys):
    """Issue #51: a spreadsheet that drops the `# warehouse:` line: one line saying so and what
    to run; `people bind` binds it only where its rows' anchor faces are their people's here."""
    a = tiny(tmp_path / "a.duckdb", {"va": 1, "vb": 2})
    assert main(["people", "name", "--db", str(a), "1", "Ana"]) == 0
    own = cfile.file_for(a)
    unbound = own.read_text().split("\n", 1)[1]  # the binding line gone
    own.write_text(unbound.replace(",", ";"))  # and saved with semicolons
    capsys.readouterr()
    for args in (["people", "list"], ["recluster"]):
        assert main([*args, "--db", str(a)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no `# warehouse: <id>` first line" in err, err
        assert f"`ingest people bind --db {a}`" in err
    assert main(["people", "bind", "--db", str(a)]) == 0
    f = cfile.read_file(own)
    assert f.warehouse_id == store.warehouse_id_of(a) and f.fmt.delimiter == ";"
    assert main(["people", "list", "--db", str(a)]) == 0 and "Ana" in capsys.readouterr().out

    # The same rows offered to B, whose person 1 holds other faces: bind refuses them.
    b = tiny(tmp_path / "b.duckdb", {"vx": 1, "va": 2})
    stray = tmp_path / "stray.csv"
    stray.write_text(unbound)
    capsys.readouterr()
    assert main(["people", "bind", "--db", str(b), "--file", str(stray)]) == 2
    err = capsys.readouterr().err
    assert "its faces are influencer 2's" in err and "another warehouse" in err, err
    assert stray.read_text() == unbound


def test_a_warehouse_held_by_a_writer_is_said_so_never_taken_for_another(tmp_path, capsys):
    """While a build holds the warehouse, its identity cannot be read: the people commands say
    it is held, and a run waits for it (then says who holds it) rather than calling the
    warehouse's own file foreign."""
    import subprocess
    import sys

    a = tiny(tmp_path / "a.duckdb", {"va": 1, "vb": 2})
    assert main(["people", "name", "--db", str(a), "1", "Ana"]) == 0
    code = (
        f"import duckdb, time; c = duckdb.connect({str(a)!r}); print('held', flush=True); "
        "time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        capsys.readouterr()
        assert main(["people", "apart", "--db", str(a), "1", "2"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "held by another process" in err, err
        csv = tmp_path / "videos.csv"
        csv.write_text("url,score\nhttps://example.invalid/x.mp4,1\n")
        args = ["run", str(csv), "--db", str(a), "--lock-wait", "1", "--no-progress"]
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert "PID" in err and "holds the corrections" not in err, err
    finally:
        holder.kill()
        holder.wait()
    assert [c.action for c in cfile.read_file(cfile.file_for(a)).corrections] == ["name"]


def test_import_never_overrides_an_answer_this_warehouse_gave():
    # A merged its 1 and 2 (all their faces carry 1); B holds them apart and said so.
    faces = {f"{v}_f{k}_0": 1 for v in "vw" for k in range(3)}
    ex = carry.Export("A", [model.Correction("merge", 1, other_id=2)], faces)
    b_faces = {f: (1 if f[0] == "v" else 2, f[0]) for f in faces}
    mine = [model.Correction("apart", 1, other_id=2)]
    out, report = carry.map_corrections(ex, b_faces, mine)
    assert out == mine
    assert report == ["merge 1 2: not carried (answered here otherwise: apart 1 2)"], report


def test_a_file_written_while_a_run_downloads_is_not_replaced(tmp_path):
    """The run opened its ledger with no file; `ingest people name` wrote one while the run
    was downloading: recording the run keeps the name (and says the next run applies it)."""
    import numpy as np

    a = tiny(tmp_path / "a.duckdb", {"va": 1, "vb": 2})
    own = cfile.file_for(a)
    ledger = room.open_ledger(a, own)
    assert not ledger.file.exists
    assert main(["people", "name", "--db", str(a), "1", "Ana"]) == 0
    text = own.read_text()
    con = store.connect(a, 512)
    try:
        empty = np.zeros(0, np.int64)
        notes = room.record(con, ledger, [], empty, empty.astype(str), empty)
    finally:
        con.close()
    assert own.read_text() == text and any("written during the run" in n for n in notes)
