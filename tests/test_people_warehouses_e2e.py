"""Two warehouses from two CSVs on the real models, each with its own corrections (issue 38):
`make build DB=X` (ingest run, then dbt) applies X's names and no other's, through rebuilds;
a file from one offered to the other is refused; export and import carry a name across by
the faces the two share. Three real single-person clips, a few frames each: A is Biden's and
Obama's, B Obama's and Trump's."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.cli import main
from ingest.corrections import file as cfile
from ingest.warehouse.schema import run_dbt

pytestmark = pytest.mark.slow

CLIPS = {
    "a.csv": ["hieubkvn123__biden.mp4", "hieubkvn123__obama.mp4"],
    "b.csv": ["hieubkvn123__obama.mp4", "emotion-morphing__trump.mp4"],
}


def ingest(csv_path: Path, db: Path, cache: Path, *extra: str) -> int:
    """`make build DB=db VIDEOS=csv_path`'s ingest step."""
    return main(
        ["run", str(csv_path), "--db", str(db), "--cache-dir", str(cache), "--max-frames", "5"]
        + ["--workers", "1", "--no-progress", *extra]
    )


def dbt(db: Path, work: Path) -> None:
    """`make build`'s dbt step, the influencers mart and what it needs."""
    proc = run_dbt(
        "run", "--select", "+influencers", db=db, target_dir=work / "target", log_dir=work / "logs"
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


def names(db: Path) -> dict[int, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select influencer_id, influencer_name from main.influencers").fetchall()
    finally:
        con.close()
    return dict(rows)


def faces_by_person(db: Path) -> dict[int, set[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select cluster_id, list(face_id) from raw.face_clusters where cluster_id >= 1 "
            "group by 1"
        ).fetchall()
    finally:
        con.close()
    return {int(k): set(v) for k, v in rows}


def person_of(db: Path, clip: str) -> int:
    """The influencer with most faces in the video of ``clip``."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select c.cluster_id from raw.face_clusters c join raw.faces f using (face_id) "
            "join raw.videos v using (video_id) where c.cluster_id >= 1 and v.source_url "
            "like ? group by 1 order by count(*) desc, 1 limit 1",
            [f"%{clip}"],
        ).fetchone()[0]
    finally:
        con.close()


def test_two_warehouses_keep_their_own_names(shared, tmp_path, capsys):
    for name, clips in CLIPS.items():
        rows = [f"{shared / 'videos' / c},{k + 1}" for k, c in enumerate(clips)]
        (tmp_path / name).write_text("url,score\n" + "\n".join(rows) + "\n")
    cache = tmp_path / "cache"
    a, b = tmp_path / "wA" / "w.duckdb", tmp_path / "wB" / "w.duckdb"

    assert ingest(tmp_path / "a.csv", a, cache) == 0
    assert cfile.read_file(cfile.file_for(a)).warehouse_id is not None  # its own, bound
    joe, barack = person_of(a, "biden.mp4"), person_of(a, "obama.mp4")
    assert joe != barack
    assert main(["people", "name", "--db", str(a), str(joe), "Joe Biden"]) == 0
    assert main(["people", "name", "--db", str(a), str(barack), "Barack Obama"]) == 0
    assert ingest(tmp_path / "a.csv", a, cache) == 0

    # B builds from its own CSV (A's file names ids B has too, and is not B's).
    assert ingest(tmp_path / "b.csv", b, cache) == 0
    donald = person_of(b, "trump.mp4")
    assert main(["people", "name", "--db", str(b), str(donald), "Donald Trump"]) == 0
    assert ingest(tmp_path / "b.csv", b, cache) == 0
    assert ingest(tmp_path / "a.csv", a, cache) == 0  # rebuilt, A keeps its names
    dbt(a, tmp_path / "dbt")
    dbt(b, tmp_path / "dbt")
    named_a = {k: v for k, v in names(a).items() if not v.startswith("Person ")}
    named_b = {k: v for k, v in names(b).items() if not v.startswith("Person ")}
    assert named_a == {joe: "Joe Biden", barack: "Barack Obama"}
    assert named_b == {donald: "Donald Trump"}

    # A file from B offered to A: one line, exit 2, nothing written.
    before = a.read_bytes()
    capsys.readouterr()
    assert ingest(tmp_path / "a.csv", a, cache, "--people", str(cfile.file_for(b))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {cfile.file_for(b)} holds the corrections of warehouse "), err
    assert err.count("\n") == 1
    assert a.read_bytes() == before

    # Export from A, import into B: Obama's name goes to B's person with his faces, whatever
    # B's id for him; Biden, whom B never saw, is not carried.
    out = tmp_path / "a_export.csv"
    assert main(["people", "export", "--db", str(a), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["people", "import", str(out), "--db", str(b)]) == 0
    report = capsys.readouterr().out
    assert f"name {joe} 'Joe Biden': not carried" in report, report
    got = cfile.read_file(cfile.file_for(b)).corrections
    assert {(c.influencer_id, c.name) for c in got} == {
        (donald, "Donald Trump"),
        (person_of(b, "obama.mp4"), "Barack Obama"),
    }
