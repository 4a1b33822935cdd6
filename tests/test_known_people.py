"""Face search and known-people naming end to end on the demo corpus (`ingest demo`'s recipe):
real models, ingest, `dbt build` with the UDF plugin, then `ingest sql`.

Reference photos are photos of the demo's people that its videos do not show
(truth_photos.csv), plus a person the videos never show."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from ingest.demo.synth import SynthConfig, read_truth, synthesize
from ingest.pipeline.runner import run
from ingest.settings import Settings
from tools.known_people import unused_photos, write_references

try:
    from tests import warehouse_fixture as wf
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import warehouse_fixture as wf

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
N_NAMED = 4  # demo people given reference photos; the other two must stay unnamed
N_REFS = 3  # reference photos per known person


@pytest.fixture(scope="module")
def demo(shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    # `ingest demo`'s defaults (ingest/cli.py): 16 videos, 6 people, seed 11, >= 15 photos
    synthesize(
        shared / "faces",
        root / "corpus",
        SynthConfig(n_videos=16, n_identities=6, n_two_person=2, n_empty=2, seed=11, min_photos=15),
    )
    db = root / "warehouse.duckdb"
    run(
        root / "corpus" / "videos.csv",
        db,
        Settings(cache_dir=root / "cache", faces_dir=root / "faces"),
        progress=False,
    )
    videos, _ = read_truth(root / "corpus")
    unused = unused_photos(root / "corpus", shared / "faces")
    people = sorted(unused)
    assert people == sorted({p for v in videos for p in v.people})
    named = people[:N_NAMED]
    known = root / "known_people"
    assert write_references({p: unused[p] for p in named}, known, N_REFS) == N_NAMED * N_REFS
    stranger = next(
        p for p in sorted(x.name for x in (shared / "faces").iterdir()) if p not in people
    )
    write_references({stranger: sorted((shared / "faces" / stranger).glob("*.jpg"))}, known, N_REFS)
    (known / "Nobody").mkdir()
    (known / "Nobody" / "notes.jpg").write_text("not a photo")  # a bad reference is skipped
    result = wf.run_dbt(db, root, "build", "--vars", f"{{known_people_dir: '{known}'}}")
    assert result.returncode == 0, result.stdout[-6000:]
    return db, videos, people, named, stranger, unused


def _person_of_influencer(db: Path, videos) -> dict[int, str]:
    """Each influencer's person: the truth person common to its videos."""
    truth = {v.name: set(v.people) for v in videos}
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select influencer_id, source_url from main.influencer_videos").fetchall()
    con.close()
    votes: dict[int, Counter] = defaultdict(Counter)
    for iid, url in rows:
        for p in truth[url.rsplit("/", 1)[-1]]:
            votes[iid][p] += 1
    return {iid: c.most_common(1)[0][0] for iid, c in votes.items()}


def test_known_people_name_the_right_influencers_and_no_others(demo):
    db, videos, people, named, stranger, _ = demo
    person = _person_of_influencer(db, videos)
    assert set(person.values()) == set(people)  # the demo clusters into its six people
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "select influencer_id, influencer_name, suggested_name, "
        "suggested_similarity from main.influencers"
    ).fetchall()
    n_refs = con.execute(
        "select count(*), count(embedding) from intermediate.int_known_photos_embedded"
    ).fetchone()
    con.close()
    assert n_refs == ((N_NAMED + 1) * N_REFS + 1, (N_NAMED + 1) * N_REFS)
    for iid, name, suggested, sim in rows:
        p = person[iid]
        if p in named:
            assert suggested == p.replace("_", " ") and name == suggested, (iid, p, suggested)
            assert sim >= wf_threshold()
        else:
            assert suggested is None and name == f"Person {iid}", (iid, p, suggested, sim)
    assert stranger.replace("_", " ") not in {r[2] for r in rows}


def wf_threshold() -> float:
    from bench.face_search import dbt_threshold

    t = dbt_threshold(Settings().embedding.embedder)  # the demo's embedder
    assert t is not None
    return t


def test_face_search_from_sql_puts_the_person_first(demo, shared):
    """The README's query through `ingest sql -c`, with a photo the videos never showed."""
    db, videos, people, _, stranger, unused = demo
    person = _person_of_influencer(db, videos)
    target = people[-1]  # not among the known people: search needs no reference folder
    photo = unused[target][-1]
    query = (
        "select influencer_id, array_cosine_similarity(centroid, embed_face('{}')) as sim, "
        "sim >= same_person_threshold as same_person from influencer_embeddings "
        "order by sim desc limit 3"
    )
    out = subprocess.run(
        [sys.executable, "-m", "ingest", "sql", "--db", str(db), "-c", query.format(photo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ranked = [
        line.split("│")[1:4]
        for line in out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip().isdigit()
    ]
    assert len(ranked) == 3, out
    first = int(ranked[0][0])
    assert person[first] == target, out
    assert ranked[0][2].strip() == "true" and ranked[1][2].strip() == "false", out
    # a person the videos never show matches nobody
    con = duckdb.connect(str(db), read_only=True)
    from ingest.warehouse.udf import register

    register(con)
    other = min((shared / "faces" / stranger).glob("*.jpg"))
    best = con.execute(
        "select max(array_cosine_similarity(centroid, embed_face(?))) from influencer_embeddings",
        [str(other)],
    ).fetchone()[0]
    con.close()
    assert best < wf_threshold()
