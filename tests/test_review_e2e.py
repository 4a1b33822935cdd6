"""The "Check these" loop on real models (issue #37): a suggestion listed in the
review_suggestions mart, applied with its own command, is gone after the rebuild, and the two
influencers are one. Six short synthesized videos of two people, clustered at a tight
threshold so that people come out split, as the precision-first defaults leave them."""

from __future__ import annotations

import dataclasses
import shlex

import pytest

from ingest.cli import main
from ingest.demo.synth import SynthConfig, synthesize
from ingest.pipeline.runner import recluster_warehouse, run
from ingest.settings import ReviewSettings, SamplingSettings, Settings
from tests.review_marts import build_review_marts, rows

pytestmark = pytest.mark.slow


def test_a_listed_merge_applied_by_its_command_is_gone_after_the_rebuild(shared, tmp_path):
    corpus = tmp_path / "corpus"
    synthesize(
        shared / "faces",
        corpus,
        SynthConfig(
            n_videos=6,
            n_identities=2,
            n_two_person=0,
            n_empty=0,
            seed=5,
            min_photos=15,
            min_duration_s=2.0,
            max_duration_s=3.0,
        ),
    )
    db, file = tmp_path / "warehouse.duckdb", tmp_path / "people.csv"
    base = Settings(
        cache_dir=tmp_path / "cache",
        faces_dir=tmp_path / "faces",
        people_file=file,
        sampling=SamplingSettings(max_frames=8),
    )
    # Tight: each look of a person stays apart. Every pair is listed, and every video as maybe
    # someone else, unless a hand correction answered it.
    s = dataclasses.replace(
        base.with_overrides(cluster_threshold=0.15),
        review=ReviewSettings(same_band=1.5, fragment_band=1.5, max_per_person=0, split_cut=-1.0),
    )
    run(corpus / "videos.csv", db, s, progress=False)
    build_review_marts(db, tmp_path)
    listed = rows(
        db,
        "select influencer_id, other_id, command from review_suggestions "
        "where kind = 'same_person' order by suggestion_rank limit 1",
    )
    assert listed, "no same-person suggestion at a tight threshold"
    [(keep, other, command)] = listed
    words = shlex.split(command)
    assert words[:5] == [".venv/bin/ingest", "people", "merge", str(keep), str(other)]
    assert words[5:] == ["--db", str(db)]
    videos_before = {
        k: set(v)
        for k, v in rows(
            db, "select influencer_id, list(video_id) from influencer_video_faces group by 1"
        )
    }

    assert main([*words[1:], "--file", str(file)]) == 0
    recluster_warehouse(db, s)
    build_review_marts(db, tmp_path)

    after = {
        k: set(v)
        for k, v in rows(
            db, "select influencer_id, list(video_id) from influencer_video_faces group by 1"
        )
    }
    assert other not in after
    assert videos_before[keep] | videos_before[other] <= after[keep]
    about = rows(
        db,
        "select kind, influencer_id, other_id, video_id from review_suggestions "
        f"where {other} in (influencer_id, other_id)",
    )
    assert about == []
    split_again = [
        v
        for (v,) in rows(
            db,
            "select video_id from review_suggestions "
            f"where kind = 'two_people' and influencer_id = {keep}",
        )
        if v in videos_before[other]
    ]
    assert split_again == []
