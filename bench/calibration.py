"""The calibration sweeps (`make bench-calibrate`) and the rules that picked the defaults in
ingest/settings.py from them.

The calibration corpora are extracted twice: at the lowest swept face-size floor for the floor
sweep (each floor keeps its subset of those faces), and as a run at the defaults extracts them
for every other sweep, which re-clusters those faces. ``calibrate`` returns what was scored, and prints each rule's verdict
as it comes; bench/render.py writes the tables."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.corpora import CALIBRATION, EMBEDDER, CorpusGroup, cluster, ingest_group
from bench.descriptors import TrackPairs, corpus_pairs
from bench.metrics import Report, f_beta
from ingest.extract.embed import population_mean
from ingest.settings import ClusterSettings, EmbedderName, Settings

# Stage-2 settings swept: (cluster_threshold, merge_ratio, spread_prior).
SWEEP = [
    (t, r, p)
    for t in (0.5, 0.55, 0.6, 0.65)
    for r in (float("inf"), 1.5, 2.0, 2.5, 3.0)
    for p in ((0.2,) if r == float("inf") else (0.15, 0.2, 0.25))
]
# Stage-1 (within-video) thresholds (cosine distance).
TRACKS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
# Faces a track needs to be kept (stage 1).
TRACK_FACES = (1, 2, 3)
# Face-size floors (px, shorter box side). The corpora are extracted once at the lowest floor; a
# higher floor keeps a subset of the same faces.
FLOORS = (40.0, 45.0, 50.0, 55.0, 60.0)
# Faceres vetoes (centred cosine distance; 0 = off).
VETOS = (0.0, 0.65, 0.7, 0.75, 0.8, 0.85)
# An opt-in embedder's own settings (its distances are its own): stage 1, stage-2 threshold and
# the ratio test swept together, then the faceres veto at the pick.
EMBEDDER_SWEEP = [
    (t1, t2, r)
    for t1 in (0.4, 0.45, 0.5, 0.55)
    for t2 in (0.65, 0.7, 0.75, 0.8, 0.85)
    for r in (float("inf"), 2.0)
]
EMBEDDER_VETOS = (0.0, 0.7, 0.75, 0.8)
GRIDS = {  # stage-2 threshold candidates per method (cosine distance on centred centroids)
    "agglomerative": [0.4, 0.5, 0.55, 0.56, 0.6, 0.65, 0.7],
    "hdbscan": [0.0, 0.2, 0.4, 0.5, 0.6],
    "dbscan": [0.3, 0.4, 0.5, 0.55, 0.6],
}


def lowest_floor(settings: Settings) -> float:
    """The floor to extract at: every swept floor and the default are subsets of its faces."""
    return min(*FLOORS, settings.detection.min_face_px)


def cal_score(rs: list[Report]) -> float:
    """What calibration maximises: mean BCubed F0.5 over the corpora. Precision counts twice
    as much as recall: a person split in two still gets two fair averages, two people merged
    get one average that is neither's (and the published approaches fail by merging)."""
    return float(np.mean([f_beta(r.bcubed_p, r.bcubed_r, 0.5) for r in rs]))


def pick_best(results: list[tuple[float, float, float]], prefer: Callable[[float], float]) -> float:
    """results: (calibration score, mean score error, value) per swept value. The highest
    score (``cal_score``) to the 3 decimals reported; on ties the lowest score error to 3
    decimals (the figure a marketer reads: F barely sees a face or a small person lost, a
    person's video set does); then the value ``prefer`` ranks highest."""
    return max(results, key=lambda x: (round(x[0], 3), -round(x[1], 3), prefer(x[2])))[2]


def pick_floor(results: list[tuple[float, float, float]]) -> float:
    """``pick_best`` over (mean F, mean score error, floor px); last, the largest floor: the
    fewest small faces, which in real, compressed footage are where strangers merge."""
    return pick_best(results, lambda px: px)


def pick_track(results: list[tuple[float, float, float]]) -> float:
    """``pick_best`` over (score, mean score error, stage-1 threshold); last, the strictest:
    stage 2 can join again what stage 1 splits (it merges the tracks of one video), but never
    splits what stage 1 merged."""
    return pick_best(results, lambda t: -t)


def pick_track_faces(results: list[tuple[float, float, float]]) -> float:
    """``pick_best`` over (score, mean score error, faces a track needs); last, the fewest:
    the fewest faces left out that reach that score."""
    return pick_best(results, lambda n: -n)


def pick_veto(results: list[tuple[float, float, float]]) -> float:
    """``pick_best`` over (mean F, mean score error, faceres veto; 0 = off); last, the loosest
    veto (off counts as the loosest): the least brake that reaches them."""
    return pick_best(results, lambda v: v if v > 0 else float("inf"))


def pick_setting(
    results: list[tuple[float, tuple[float, float, float]]],
) -> tuple[float, float, float]:
    """results: (calibration score, (threshold, merge ratio, spread prior)) per stage-2 setting.
    The highest score to the 3 decimals reported, as every other rule (finer, the pick chased
    differences of 0.0002 between corpora sets); on ties the lowest threshold, then the largest
    ratio and prior (the least brake that reaches that score)."""
    return max(results, key=lambda x: (round(x[0], 3), -x[1][0], x[1][1], x[1][2]))[1]


def rule_line(picked: str, default: str, same: bool, plural: bool = False) -> str:
    """The sentence saying whether a calibration rule still picks the default."""
    the, verb = ("the defaults", "are") if plural else ("the default", "is")
    return f"The rule picks {picked}" + (
        f", {the}." if same else f"; {the} {verb} {default}: re-calibrate ingest/settings.py."
    )


def within_words(cs: ClusterSettings) -> str:
    if not cs.merge_within_video:
        return "no merges within a video"
    if cs.ratio_test_within_video:
        return "merges within a video, ratio test too"
    return "merges within a video without the ratio test"


def brake_variants(cs: ClusterSettings) -> list[tuple[str, ClusterSettings]]:
    """The defaults and each stage-2 rule taken away or flipped: (name, settings)."""
    flipped = dataclasses.replace(cs, merge_within_video=not cs.merge_within_video)
    ratio = dataclasses.replace(cs, ratio_test_within_video=not cs.ratio_test_within_video)
    return [
        (f"defaults (faceres veto, ratio test, {within_words(cs)})", cs),
        ("without the faceres veto", dataclasses.replace(cs, faceres_veto=0.0)),
        ("without the ratio test", dataclasses.replace(cs, merge_ratio=float("inf"))),
        (f"with {within_words(flipped)}", flipped),
        (f"with {within_words(ratio)}", ratio),
        (
            "neither veto nor ratio test",
            dataclasses.replace(cs, faceres_veto=0.0, merge_ratio=float("inf")),
        ),
    ]


def plain_method(cs: ClusterSettings, method: str) -> ClusterSettings:
    """``cs`` with stage 2 done by ``method`` alone. The density methods take no constraints, so
    they run without the ratio test and the veto; so does the plain agglomerative row, to show
    what those add."""
    return dataclasses.replace(cs, method=method, merge_ratio=float("inf"), faceres_veto=0.0)


@dataclasses.dataclass(frozen=True)
class Scored:
    """One setting scored on every corpus of the group."""

    name: str  # the setting as its table row names it
    reports: list[Report]

    @property
    def score(self) -> float:
        return cal_score(self.reports)

    @property
    def score_error(self) -> float:
        return float(np.mean([r.score_mae for r in self.reports]))


@dataclasses.dataclass(frozen=True)
class Sweep:
    rows: list[Scored]
    verdict: str  # rule_line: whether the rule still picks the default


def sweep_one(
    values,
    default: float,
    name: Callable[[float], str],
    pick: Callable[[list[tuple[float, float, float]]], float],
    reports: Callable[[float], list[Report]],
    unit: str = "",
) -> Sweep:
    """Score each value of one setting on the calibration corpora and let ``pick`` choose from
    (calibration score, mean score error, value). Prints the verdict."""
    rows, scored = [], []
    for v in values:
        row = Scored(name(v) + (" (default)" if v == default else ""), reports(v))
        scored.append((row.score, row.score_error, v))
        rows.append(row)
    picked = pick(scored)
    line = rule_line(name(picked) + unit, name(default), picked == default)
    print(line, flush=True)
    return Sweep(rows, line)


def sweep_stage2(cs: ClusterSettings, reports: Callable[[ClusterSettings], list[Report]]) -> Sweep:
    """Every (threshold, merge ratio, spread prior) of SWEEP at the other settings of ``cs``;
    ``pick_setting`` chooses. Prints the verdict."""
    defaults = (cs.cluster_threshold, cs.merge_ratio, cs.spread_prior)
    rows, scored = [], []
    for th, ratio, prior in SWEEP:
        name = f"{th}, {'off' if ratio == float('inf') else ratio}, {prior}"
        rs = reports(
            dataclasses.replace(cs, cluster_threshold=th, merge_ratio=ratio, spread_prior=prior)
        )
        row = Scored(name + (" (default)" if (th, ratio, prior) == defaults else ""), rs)
        scored.append((row.score, (th, ratio, prior)))
        rows.append(row)
    picked = pick_setting(scored)
    line = rule_line(str(picked), str(defaults), picked == defaults, plural=True)
    print(line, flush=True)
    return Sweep(rows, line)


@dataclasses.dataclass(frozen=True)
class Calibration:
    group: CorpusGroup
    lowest_floor: float  # px the corpora were extracted at
    floor: Sweep
    track: Sweep
    track_faces: Sweep
    stage2: Sweep
    veto: Sweep
    brakes: list[Scored]  # brake_variants at the defaults
    pairs: list[TrackPairs]  # per corpus, for the descriptor comparison
    # Scores any settings on the corpora at the default floor. Cached: the sweeps and the brake
    # table meet at the defaults (and with the veto off).
    score: Callable[[ClusterSettings], list[Report]] = dataclasses.field(repr=False)


def calibrate(
    faces: Path, work: Path, settings: Settings, group: CorpusGroup = CALIBRATION
) -> Calibration:
    """Ingest ``group`` twice, at the lowest floor for the floor sweep and as a run extracts
    it for every other sweep, and run every sweep around ``settings``' defaults."""
    cs = settings.cluster
    floor_px = settings.detection.min_face_px
    low = dataclasses.replace(
        settings,
        detection=dataclasses.replace(settings.detection, min_face_px=lowest_floor(settings)),
    )
    low_group = dataclasses.replace(group, key=f"{group.key}_low_floor")
    raw = ingest_group(low_group, faces, work, low)
    floor = sweep_one(
        FLOORS,
        floor_px,
        lambda px: f"{px:g}",
        pick_floor,
        lambda px: [c.at_floor(px).score(cs) for c in raw],
        unit=" px",
    )
    # Detection runs on frames shrunk to the floor (DetectionSettings.floor_detect_px), so the
    # faces extracted at a lower floor and filtered are not quite the ones a run keeps: the
    # other sweeps score the faces a run at the defaults extracts.
    corpora = ingest_group(group, faces, work, settings)

    @functools.cache
    def score(s: ClusterSettings) -> list[Report]:
        return [c.score(s) for c in corpora]

    track = sweep_one(
        TRACKS,
        cs.track_threshold,
        lambda t: f"{t:g}",
        pick_track,
        lambda t: score(dataclasses.replace(cs, track_threshold=t)),
    )
    track_faces = sweep_one(
        TRACK_FACES,
        cs.min_track_faces,
        lambda n: f"{n:g}",
        pick_track_faces,
        lambda n: score(dataclasses.replace(cs, min_track_faces=int(n))),
    )
    stage2 = sweep_stage2(cs, score)
    brakes = [Scored(name, score(v)) for name, v in brake_variants(cs)]
    veto = sweep_one(
        VETOS,
        cs.faceres_veto,
        lambda v: "off" if v == 0 else f"{v:g}",
        pick_veto,
        lambda v: score(dataclasses.replace(cs, faceres_veto=v)),
    )
    priors = {EMBEDDER: population_mean(EMBEDDER), "faceres": population_mean("faceres")}
    pairs = [
        corpus_pairs(
            c.df, c.table, c.corpus_dir, cluster(c.table, cs).track_id, cs, priors, EMBEDDER
        )
        for c in corpora
    ]
    return Calibration(
        group=group,
        lowest_floor=lowest_floor(settings),
        floor=floor,
        track=track,
        track_faces=track_faces,
        stage2=stage2,
        veto=veto,
        brakes=brakes,
        pairs=pairs,
        score=score,
    )


def method_thresholds(cal: Calibration, cs: ClusterSettings) -> dict[str, float]:
    """Each clustering method's stage-2 threshold (``plain_method``), the best of its GRIDS
    by ``cal_score`` on the calibration corpora."""
    out = {}
    for method, grid in GRIDS.items():
        plain = plain_method(cs, method)
        out[method] = max(
            grid,
            key=lambda t: cal_score(cal.score(dataclasses.replace(plain, cluster_threshold=t))),
        )
    return out


def pick_embedder_setting(
    results: list[tuple[float, tuple[float, float, float]]],
) -> tuple[float, float, float]:
    """results: (calibration score, (stage 1, stage 2, merge ratio)) per setting. The highest
    score to the 3 decimals reported; on ties no ratio test over one (fewer rules), then the
    lower stage-2 threshold, then the lower stage-1 threshold (the stricter setting)."""
    return max(results, key=lambda x: (round(x[0], 3), x[1][2], -x[1][1], -x[1][0]))[1]


@dataclasses.dataclass(frozen=True)
class EmbedderCalibration:
    embedder: str
    stage: Sweep  # EMBEDDER_SWEEP
    veto: Sweep  # EMBEDDER_VETOS at the pick


def calibrate_embedder(
    name: EmbedderName,
    faces: Path,
    work: Path,
    settings: Settings,
    group: CorpusGroup = CALIBRATION,
) -> EmbedderCalibration:
    """Ingest ``group`` with embedder ``name`` and pick its settings by the same score as the
    default's; prints whether the rules still pick ``cluster_settings_for(name)``."""
    s = settings.for_embedder(name)
    cs = s.cluster
    corpora = ingest_group(dataclasses.replace(group, key=f"{group.key}_{name}"), faces, work, s)
    default = (cs.track_threshold, cs.cluster_threshold, cs.merge_ratio)
    rows, scored = [], []
    for t1, t2, r in EMBEDDER_SWEEP:
        cand = dataclasses.replace(
            cs, track_threshold=t1, cluster_threshold=t2, merge_ratio=r, faceres_veto=0.0
        )
        label = f"{t1:g}, {t2:g}, {'off' if r == float('inf') else r}"
        row = Scored(
            label + (" (default)" if (t1, t2, r) == default else ""),
            [c.score(cand) for c in corpora],
        )
        scored.append((row.score, (t1, t2, r)))
        rows.append(row)
    picked = pick_embedder_setting(scored)
    line = rule_line(str(picked), str(default), picked == default, plural=True)
    print(f"{name}: {line}", flush=True)
    at = dataclasses.replace(
        cs, track_threshold=picked[0], cluster_threshold=picked[1], merge_ratio=picked[2]
    )
    veto = sweep_one(
        EMBEDDER_VETOS,
        cs.faceres_veto,
        lambda v: "off" if v == 0 else f"{v:g}",
        pick_veto,
        lambda v: [c.score(dataclasses.replace(at, faceres_veto=v)) for c in corpora],
    )
    return EmbedderCalibration(name, Sweep(rows, line), veto)
