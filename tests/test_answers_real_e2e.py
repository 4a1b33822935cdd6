"""Every suggestion can be answered (issue #45), on real footage: the shared real clips
(../shared/videos and videos-talking as one corpus, as `make bench-margin` ingests them) with
the real models at the defaults. Each "Check these" row of the review_suggestions mart is
answered with one of its own two commands, as a person who knows who is who would answer it;
the people are named; after the rebuild nothing is left to check, no two people share an
influencer, every named person is one influencer with the right name. Then the warehouse is
deleted and built again from the same CSV: every name and answer comes back."""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pytest

from bench.margin import Person, corpus_csv, face_people, read_people, wrong_pairs
from ingest.cli import main
from ingest.corrections import file as cfile
from ingest.pipeline.runner import recluster_warehouse, run
from ingest.settings import Settings
from tests.review_marts import build_review_marts, rows

pytestmark = pytest.mark.slow


def _truth(db: Path, shared: Path) -> tuple[dict[str, Person], dict[str, str]]:
    """(face id -> who it is, face id -> its video id)."""
    df = duckdb.connect(str(db), read_only=True)
    try:
        frame = df.execute(
            "select f.face_id, f.video_id, v.source_url, f.frame_index, f.x1, f.y1, f.x2, f.y2 "
            "from raw.faces f join raw.videos v using (video_id)"
        ).df()
    finally:
        df.close()
    people = face_people(frame, read_people(shared))
    return (
        dict(zip(frame.face_id, people, strict=True)),
        dict(zip(frame.face_id, frame.video_id, strict=True)),
    )


def _who(faces: list[str], truth: dict[str, Person]) -> str | None:
    """The person most of ``faces`` are, when that is a named person."""
    if not faces:
        return None
    key, _ = Counter(truth[f].key for f in faces).most_common(1)[0]
    return None if key.startswith("someone in ") else key


def _members(db: Path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for f, c in rows(db, "select face_id, cluster_id from raw.face_clusters where cluster_id >= 1"):
        out.setdefault(int(c), []).append(f)
    return out


def _answer_all(db: Path, truth: dict[str, Person], video_of: dict[str, str]) -> int:
    """Answer every row of the mart with its own command: yes where the truth says so."""
    members = _members(db)
    listed = rows(
        db,
        "select kind, influencer_id, other_id, video_id, command, dismiss_command "
        "from review_suggestions order by kind, suggestion_rank",
    )
    for kind, me, other, video, yes, no in listed:
        mine = members[me]
        if kind == "same_person":
            a, b = _who(mine, truth), _who(members[other], truth)
            right = a is not None and a == b
        else:
            inside = [f for f in mine if video_of[f] == video]
            outside = [f for f in mine if video_of[f] != video]
            right = _who(inside, truth) != _who(outside, truth)
        words = shlex.split(yes if right else no)
        assert words[0] == ".venv/bin/ingest", words
        assert main(words[1:]) == 0, words
    return len(listed)


def test_every_row_answered_on_the_real_clips_leaves_nothing_to_check(
    shared, tmp_path, real_clips_cache
):
    csv, n = corpus_csv(shared, tmp_path / "videos.csv")
    db = tmp_path / "w.duckdb"
    file = cfile.file_for(db)
    s = Settings().with_overrides(
        cache_dir=real_clips_cache, faces_dir=tmp_path / "faces", people_file=file
    )
    summary = run(csv, db, s, progress=False)
    assert summary.statuses["ok"] == n
    truth, video_of = _truth(db, shared)
    build_review_marts(db, tmp_path)
    answered = []
    for _ in range(4):
        k = _answer_all(db, truth, video_of)
        answered.append(k)
        if k == 0:
            break
        recluster_warehouse(db, s)
        build_review_marts(db, tmp_path)
    assert answered[0] > 0, "no row to answer at the defaults"
    assert answered[-1] == 0, f"rows answered per round: {answered}"
    assert rows(db, "select count(*) from review_suggestions") == [(0,)]

    # Name every named person's influencer, then check the names against the faces.
    members = _members(db)
    for iid, faces in members.items():
        who = _who(faces, truth)
        if who is not None:
            assert main(["people", "name", "--db", str(db), str(iid), who]) == 0
    recluster_warehouse(db, s)
    build_review_marts(db, tmp_path)
    named = dict(rows(db, "select influencer_id, influencer_name from influencers"))
    members = _members(db)
    of_face = {f: k for k, faces in members.items() for f in faces}
    ids = np.array([of_face.get(f, -1) for f in truth])
    assert wrong_pairs(ids, list(truth.values())) == set()
    for iid, faces in members.items():
        who = _who(faces, truth)
        if who is not None:
            assert named[iid] == who, (iid, who, named[iid])
    names = [v for v in named.values() if not v.startswith("Person ")]
    assert len(names) == len(set(names)), "a named person is two influencers"
    assert rows(db, "select count(*) from review_suggestions") == [(0,)]

    # Deleted and built again from the same CSV: every name and answer comes back.
    text = file.read_bytes()
    db.unlink()
    run(csv, db, s, progress=False)
    build_review_marts(db, tmp_path)
    assert file.read_bytes() == text
    rebuilt = dict(rows(db, "select influencer_id, influencer_name from influencers"))
    # The people the file names keep their ids and names; the others get new numbers.
    given = {k: v for k, v in named.items() if not v.startswith("Person ")}
    assert {k: v for k, v in rebuilt.items() if not v.startswith("Person ")} == given
    assert len(rebuilt) == len(named)
    assert rows(db, "select count(*) from review_suggestions") == [(0,)]
