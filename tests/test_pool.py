"""The process pool (one worker per core by default) writes the same warehouse as one worker."""

from pathlib import Path

import duckdb
import numpy as np
import pytest

from ingest.demo.synth import SynthConfig, synthesize
from ingest.pipeline.runner import run
from ingest.settings import Settings

pytestmark = pytest.mark.slow


def _faces(db: Path):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select f.face_id, f.x1, f.y1, f.x2, f.y2, f.embedding, c.cluster_id, v.status "
            "from raw.faces f join raw.face_clusters c using (face_id) "
            "join raw.videos v using (video_id) order by f.face_id"
        ).fetchall()
    finally:
        con.close()


def test_two_workers_write_what_one_writes(shared, tmp_path):
    corpus = tmp_path / "corpus"
    synthesize(
        shared / "faces",
        corpus,
        SynthConfig(n_videos=4, n_identities=2, n_two_person=1, n_empty=0, seed=9),
    )
    out = {}
    for workers in (1, 2):
        work = tmp_path / f"w{workers}"
        s = Settings(workers=workers, cache_dir=work / "cache", faces_dir=work / "faces")
        summary = run(corpus / "videos.csv", work / "warehouse.duckdb", s, progress=False)
        assert summary.statuses["ok"] == 4, summary.failures
        out[workers] = _faces(work / "warehouse.duckdb")
    one, two = out[1], out[2]
    assert len(one) == len(two) > 0
    for a, b in zip(one, two):
        assert a[0] == b[0] and a[6] == b[6] and a[7] == b[7]  # same faces, clusters, status
        assert np.allclose(a[1:5], b[1:5], atol=1e-3)
        assert float(np.dot(a[5], b[5])) > 1 - 1e-4  # thread counts may move the last digits
