"""Unseen seeds of each corpus recipe (`make bench`): seeds no setting was picked on, ingested
from scratch at the defaults and scored against the targets of general footage (#22), beside
the defaults before that work on the same faces."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from bench.corpora import CorpusFaces, CorpusGroup, ingest_group
from bench.metrics import Report
from bench.suggestions import SuggestionScore, score_suggestions
from ingest.settings import ClusterSettings, EmbedderName, Settings

# The clustering defaults before general footage (#22): a looser stage 1, tracks of two faces
# or more, no merges between two tracks of one video, a ratio test and a faceres veto (and a
# child brake that never fired, since removed). Scored on the same faces, so "no worse than
# before" is measured in every run, not remembered from an old one.
BEFORE_GENERAL_FOOTAGE = ClusterSettings(
    track_threshold=0.5,
    min_track_faces=2,
    cluster_threshold=0.55,
    merge_ratio=2.5,
    spread_prior=0.15,
    spread_prior_weight=1.0,
    merge_within_video=False,
    faceres_veto=0.65,
)


@dataclasses.dataclass(frozen=True)
class Targets:
    """What every recipe's unseen seeds must reach (issue #22)."""

    min_mean_f: float = 0.98  # mean BCubed F over the seeds
    count_within: int = 1  # influencers within this many of the people present...
    count_seeds: float = 0.8  # ...on at least this share of the seeds
    min_exact: float = 0.90  # mean share of people with their exact video set
    max_score_error: float = 0.01  # mean abs error of a person's average score
    min_precision: float = 0.995  # BCubed precision on every seed: merging strangers is worst


TARGETS = Targets()


@dataclasses.dataclass(frozen=True)
class OtherEmbedder:
    """The same seeds ingested again with an opt-in embedder, clustered at its own settings."""

    embedder: str
    reports: list[Report]  # per seed
    seconds: list[float]  # ingest wall time per corpus, from an empty extraction cache


@dataclasses.dataclass(frozen=True)
class Unseen:
    """One recipe's unseen seeds, ingested at the defaults."""

    group: CorpusGroup
    reports: list[Report]  # the defaults, per seed
    before: list[Report]  # BEFORE_GENERAL_FOOTAGE on the same faces
    seconds: list[float]  # ingest wall time per corpus, from an empty extraction cache
    n_videos: list[int]
    others: list[OtherEmbedder] = dataclasses.field(default_factory=list)
    # "Check these" at the defaults, per seed (bench/suggestions.py)
    suggestions: list[SuggestionScore] = dataclasses.field(default_factory=list)


def summary(rs: list[Report], t: Targets = TARGETS) -> dict[str, object]:
    """The figures the targets are about, and whether each is met."""
    within = sum(abs(r.n_influencers - r.n_people) <= t.count_within for r in rs)
    mean_f = float(np.mean([r.bcubed_f for r in rs]))
    exact = float(np.mean([r.exact_video_sets for r in rs]))
    # A seed where nobody was found has no score to be wrong about: the error is over the
    # seeds that found someone, and a seed that found nobody misses the target.
    known = [r.score_mae for r in rs if not np.isnan(r.score_mae)]
    error = float(np.mean(known)) if known else float("nan")
    nobody = len(rs) - len(known)
    if not known:
        error_text = "no person found"
    else:
        error_text = f"{error:.3f}" + (
            f" ({nobody} {'seed' if nobody == 1 else 'seeds'} found nobody)" if nobody else ""
        )
    min_p = float(min(r.bcubed_p for r in rs))
    checks = {
        "f": mean_f >= t.min_mean_f,
        "count": within >= t.count_seeds * len(rs),
        "exact": exact >= t.min_exact,
        "error": bool(known) and not nobody and error <= t.max_score_error,
        "precision": min_p >= t.min_precision,
    }
    return {
        "mean_f": mean_f,
        "within": within,
        "exact": exact,
        "error": error,
        "error_text": error_text,
        "min_p": min_p,
        "checks": checks,
        "met": all(checks.values()),
    }


def ingest_fresh(
    group: CorpusGroup, faces: Path, work: Path, settings: Settings
) -> list[CorpusFaces]:
    """Each corpus of ``group`` ingested with an empty extraction cache of its own, so the wall
    time is a first run's."""
    cache = work / f"cache_{group.key}"
    shutil.rmtree(cache, ignore_errors=True)
    for cfg in group.corpora:
        group.db(work, cfg).unlink(missing_ok=True)
    s = dataclasses.replace(settings, cache_dir=cache, faces_dir=work / f"faces_{group.key}")
    return ingest_group(group, faces, work, s)


def run_unseen(
    group: CorpusGroup,
    faces: Path,
    work: Path,
    settings: Settings,
    others: tuple[EmbedderName, ...] = (),
) -> Unseen:
    """Score the defaults and the rules before #22 on ``group``'s faces, ingested afresh; then
    each embedder of ``others`` at its own calibrated settings, ingested afresh too."""
    corpora = ingest_fresh(group, faces, work, settings)
    runs = []
    for name in others:
        s = settings.for_embedder(name)
        g = dataclasses.replace(group, key=f"{group.key}_{name}")
        theirs = ingest_fresh(g, faces, work, s)
        runs.append(
            OtherEmbedder(name, [c.score(s.cluster) for c in theirs], [c.seconds for c in theirs])
        )
    return Unseen(
        group=group,
        reports=[c.score(settings.cluster) for c in corpora],
        before=[c.score(BEFORE_GENERAL_FOOTAGE) for c in corpora],
        seconds=[c.seconds for c in corpora],
        n_videos=[cfg.n_videos for cfg in group.corpora],
        others=runs,
        suggestions=[score_suggestions(c, settings.cluster, settings.review) for c in corpora],
    )
