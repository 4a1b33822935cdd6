"""The precision margin on real footage (`make bench-margin`, and part of `make bench`).

The real clips of ../shared/videos and ../shared/videos-talking are ingested together, as ONE
corpus (centring and every merge see all of them at once, as a user's `make build` would), and
each face is given its true person: videos-talking names one person per clip (INFO.csv,
``person``); in ../shared/videos the single-person clips are named here (checked by eye on
their face thumbnails), and the SimpleFR dinner by its hand labels (bench/labels). Everyone
else (crowds, audiences, a newsroom) is someone unknown of that clip, who must merge with no
named person and with nobody of another clip, except where the same person may be in both
(``MAY_SHARE``).

"Check these" is scored on the same faces at the defaults (bench/suggestions.py): the named
people's fragments listed with their person, and the suggestions right or wrong.

Then stage 2 is re-run on the same faces (no re-extraction) with ``cluster_threshold`` swept
upward from the default, every other setting fixed, until two different people share an
influencer; the step is then bisected. Stage 2's merges come in one order whatever the
threshold (the threshold only says where to stop), so a merge made at one threshold stays made
at every higher one, and the first wrong merge has one exact height. The margin is that height
minus the default: how much looser the default could be before the first two strangers merge.

    python -m bench.margin --shared ../shared --cache-dir /work/cache-shared
"""

from __future__ import annotations

import argparse
import csv as csvmod
import dataclasses
import sys
import time
from collections.abc import Callable, Iterable
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.corpora import cluster, ingest, load_table
from bench.evaluate import LABEL_FRAME_TOLERANCE, LABELS_DIR, label_by_centre, read_clip_labels
from bench.real import OBAMA, TRUMP_ALLOWED
from bench.suggestions import SuggestionScore, score_table
from ingest.people.cluster import FaceTable
from ingest.settings import ClusterSettings, Settings

FOLDERS = ("videos", "videos-talking")  # under ../shared, ingested together
# Clips of ../shared/videos in which every kept face is one person (checked by eye on the
# thumbnails of an extraction at the defaults). The rest hold several people, unnamed.
SOLO = {
    **dict.fromkeys(OBAMA, "Barack Obama"),
    "hieubkvn123__biden.mp4": "Joe Biden",
    "hieubkvn123__stanwin.mp4": "stanwin presenter",
    "1ZLAB__face.mp4": "1ZLAB woman",
    "single-face-tracking-demo__my_video.mp4": "selfie man",
}
# Clips whose unnamed faces may be a named person, or the unnamed faces of another clip: Obama
# sits in the Hamilton audience, and Trump is in both of his clips.
MAY_SHARE = {
    "ageitgey__short_hamilton_clip.mp4": frozenset({"Barack Obama"}),
    **{clip: frozenset(TRUMP_ALLOWED - {clip}) for clip in TRUMP_ALLOWED},
}
# Swept upward from the default in these steps, up to SWEEP_TOP, then bisected to RESOLUTION.
STEP = 0.01
SWEEP_TOP = 1.0
RESOLUTION = 0.001
# The margin the defaults must hold (docs/decisions.md, "Precision first"): no two real people
# merge at the default plus this.
MARGIN = 0.05


@dataclasses.dataclass(frozen=True)
class Person:
    """Who a face is: a named person, or someone unnamed in one clip."""

    name: str | None
    clip: str

    @property
    def key(self) -> str:
        return self.name or f"someone in {self.clip}"


def read_people(shared: Path) -> dict[str, str | None]:
    """Clip file name -> its one person's name (None: several people, unnamed) for every clip
    of FOLDERS; videos-talking's INFO.csv names one person per clip."""
    out: dict[str, str | None] = {}
    for folder in FOLDERS:
        with (shared / folder / "INFO.csv").open() as fh:
            for row in csvmod.DictReader(fh):
                out[row["file"]] = row.get("person") or SOLO.get(row["file"])
    return out


def corpus_csv(shared: Path, out: Path) -> tuple[Path, int]:
    """Write the one CSV of every clip of FOLDERS (local paths, made-up scores); (path, clips)."""
    paths = []
    for folder in FOLDERS:
        with (shared / folder / "INFO.csv").open() as fh:
            paths += [(shared / folder / r["file"]).resolve() for r in csvmod.DictReader(fh)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        w = csvmod.writer(fh)
        w.writerow(["Performance", "Video URL"])
        for i, p in enumerate(paths):
            w.writerow([f"{1.0 + 0.1 * i:.1f}", str(p)])
    return out, len(paths)


def face_people(df, people: dict[str, str | None]) -> list[Person]:
    """Each face's person (df: source_url, frame_index, x1, y1, x2, y2 per face): its clip's
    person, else its hand label (bench/labels), else someone unnamed in its clip."""
    labels = {p.stem + ".mp4": read_clip_labels(p) for p in LABELS_DIR.glob("*.csv")}
    out = []
    for url, fi, *box in zip(df.source_url, df.frame_index, df.x1, df.y1, df.x2, df.y2):
        clip = Path(url).name
        name = people.get(clip)
        if name is None and clip in labels:
            name = label_by_centre(labels[clip], int(fi), tuple(box), LABEL_FRAME_TOLERANCE)
        out.append(Person(name, clip))
    return out


def conflict(a: Person, b: Person) -> bool:
    """Whether one influencer holding both is a wrong merge."""
    if a.name and b.name:
        return a.name != b.name
    if a.name or b.name:
        named, other = (a, b) if a.name else (b, a)
        # An unnamed face of the named person's own clip is not judged (a turned face of the
        # dinner), nor one of a clip they may be in.
        return named.clip != other.clip and named.name not in MAY_SHARE.get(other.clip, ())
    return a.clip != b.clip and b.clip not in MAY_SHARE.get(a.clip, ())


def wrong_pairs(cluster_id: np.ndarray, people: list[Person]) -> set[tuple[str, str]]:
    """The pairs of different people (sorted keys) that share an influencer."""
    members: dict[int, set[Person]] = {}
    for k, p in zip(cluster_id, people):
        if k >= 1:
            members.setdefault(int(k), set()).add(p)
    out = set()
    for ps in members.values():
        for a, b in combinations(ps, 2):
            if conflict(a, b) and a.key != b.key:
                out.add(tuple(sorted((a.key, b.key))))
    return out


def _steps(start: float, stop: float, step: float) -> Iterable[float]:
    """start, start + step, ... to stop (either way), rounded so the steps stay on the grid."""
    n = int(round((stop - start) / step))
    return (round(start + i * step, 6) for i in range(n + 1))


def looser_threshold(cs: ClusterSettings, delta: float) -> ClusterSettings:
    """Stage 2's threshold ``delta`` looser, every other setting as it is."""
    return dataclasses.replace(cs, cluster_threshold=cs.cluster_threshold + delta)


def looser_limits(cs: ClusterSettings, delta: float) -> ClusterSettings:
    """Every distance limit of stage 2 ``delta`` looser (cosine distance): the threshold, the
    faceres veto, and the ratio test's allowance for a person seen once (``merge_ratio`` x
    ``spread_prior``; groups with a measured spread of their own move less)."""
    ratio = cs.merge_ratio
    return dataclasses.replace(
        cs,
        cluster_threshold=cs.cluster_threshold + delta,
        spread_prior=cs.spread_prior + (delta / ratio if np.isfinite(ratio) else 0.0),
        faceres_veto=cs.faceres_veto + delta if cs.faceres_veto > 0 else 0.0,
    )


# What a margin loosens: the stage-2 threshold alone (the measure), and every limit of
# stage 2 at once. The second is the one that counts: on the real clips the closest strangers
# sit under the threshold and are held apart by the ratio test alone (docs/decisions.md).
LOOSENINGS: dict[str, Callable[[ClusterSettings, float], ClusterSettings]] = {
    "stage-2 threshold": looser_threshold,
    "every stage-2 limit": looser_limits,
}


@dataclasses.dataclass(frozen=True)
class Margin:
    """How much looser stage 2 could be before the first two different people merge."""

    loosened: str  # a key of LOOSENINGS
    default: float  # the stage-2 threshold of the settings measured
    wrong_at_default: list[tuple[str, str]]
    # The smallest loosening (cosine distance) with a wrong merge; negative: the settings
    # themselves merge strangers, and this much tighter they stop; None: none up to top.
    margin: float | None
    first_pairs: list[tuple[str, str]]  # the pairs that merge first
    # The pairs that merge at it and in the next few steps: pair -> the first loosening seen.
    pair_first: dict[tuple[str, str], float]
    top: float  # the largest loosening tried

    @property
    def first_wrong(self) -> float | None:
        """The stage-2 threshold of the first wrong merge."""
        return None if self.margin is None else self.default + self.margin


def sweep_margin(
    table: FaceTable,
    people: list[Person],
    cs: ClusterSettings,
    loosened: str = "stage-2 threshold",
    top: float = SWEEP_TOP,
) -> Margin:
    """The smallest loosening of ``cs`` (LOOSENINGS[loosened]) with a wrong merge on these
    faces: stepped up from ``cs`` (down, tighter, if ``cs`` merges strangers already), then
    bisected. ``top``: the highest stage-2 threshold tried."""
    loosen = LOOSENINGS[loosened]
    seen: dict[float, set[tuple[str, str]]] = {}

    def wrong(delta: float) -> set[tuple[str, str]]:
        if delta not in seen:
            c = cluster(table, loosen(cs, delta))
            seen[delta] = wrong_pairs(c.cluster_id, people)
        return seen[delta]

    span = top - cs.cluster_threshold
    at_default = wrong(0.0)
    lo, hi = 0.0, None  # lo: no wrong merge; hi: one
    if at_default:
        lo, hi = -cs.cluster_threshold, 0.0
        for d in _steps(0.0, -cs.cluster_threshold, -STEP):
            if not wrong(d):
                lo = d
                break
            hi = d
    else:
        for d in _steps(0.0, span, STEP):
            if wrong(d):
                hi = d
                break
            lo = d
    if hi is None:
        return Margin(loosened, cs.cluster_threshold, [], None, [], {}, span)
    while hi - lo > RESOLUTION:
        mid = round((lo + hi) / 2, 6)
        lo, hi = (lo, mid) if wrong(mid) else (mid, hi)
    # The next pairs to merge, each at the first step that shows it.
    pair_first: dict[tuple[str, str], float] = {}
    for d in sorted({hi, *_steps(round(hi, 2), min(span, hi + 5 * STEP), STEP)}):
        for p in sorted(wrong(d)):
            pair_first.setdefault(p, d)
    return Margin(
        loosened, cs.cluster_threshold, sorted(at_default), hi, sorted(wrong(hi)), pair_first, span
    )


@dataclasses.dataclass(frozen=True)
class MarginCheck:
    """The margins on the combined real corpus, with what it took."""

    settings: ClusterSettings  # what was measured
    margins: list[Margin]  # one per LOOSENINGS, in its order
    n_clips: int
    n_faces: int
    n_named: int  # distinct named people with a face
    n_influencers: int  # at the settings
    ingest_seconds: float
    sweep_seconds: float
    target: float = MARGIN
    # "Check these" at the defaults, judged against the named people (crowds are not judged)
    suggestions: SuggestionScore | None = None

    @property
    def wrong_at_default(self) -> list[tuple[str, str]]:
        return self.margins[0].wrong_at_default

    @property
    def ok(self) -> bool:
        """No wrong merge at the settings, none within the target margin."""
        return not self.wrong_at_default and all(
            m.margin is None or m.margin >= self.target - 1e-9 for m in self.margins
        )


def measure(
    table: FaceTable, people: list[Person], cs: ClusterSettings, top: float = SWEEP_TOP
) -> list[Margin]:
    """Each LOOSENINGS margin of ``cs`` on these faces."""
    return [sweep_margin(table, people, cs, name, top) for name in LOOSENINGS]


def check_margin(shared: Path, root: Path, settings: Settings) -> MarginCheck:
    """Ingest the real clips of FOLDERS as one corpus into root/real_all.duckdb at
    ``settings`` (extraction cached in its cache_dir) and measure the margins."""
    print("real clips, all folders together: ingest", flush=True)
    csv, n_clips = corpus_csv(shared, root / "real_all_videos.csv")
    summary, ingest_s = ingest(csv, root / "real_all.duckdb", settings)
    df, table = load_table(root / "real_all.duckdb")
    people = face_people(df, read_people(shared))
    print("real clips, all folders together: stage-2 sweeps", flush=True)
    t0 = time.perf_counter()
    margins = measure(table, people, settings.cluster)
    sweep_seconds = time.perf_counter() - t0
    names = np.array([p.name for p in people], dtype=object)
    suggestions = score_table(
        table, names, settings.cluster, settings.review, settings.embedding.embedder
    )
    return MarginCheck(
        settings=settings.cluster,
        margins=margins,
        n_clips=n_clips,
        n_faces=len(df),
        n_named=len({p.name for p in people if p.name}),
        n_influencers=summary.n_influencers,
        ingest_seconds=ingest_s,
        sweep_seconds=sweep_seconds,
        suggestions=suggestions,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.margin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--shared", type=Path, default=Path("../shared"), help="holds videos/ and videos-talking/"
    )
    ap.add_argument(
        "--work", type=Path, default=Path("data/bench/margin"), help="CSV and warehouse"
    )
    ap.add_argument(
        "--cache-dir", type=Path, default=None, help="extraction cache (default: WORK/cache)"
    )
    ap.add_argument(
        "--cluster-threshold",
        type=float,
        default=None,
        help="the stage-2 threshold to start from (default: the default)",
    )
    ap.add_argument(
        "--spread-prior",
        type=float,
        default=None,
        help="the ratio test's spread prior to measure (default: the default)",
    )
    args = ap.parse_args(argv)
    missing = [f for f in FOLDERS if not (args.shared / f / "INFO.csv").is_file()]
    if missing:
        print(
            f"error: no {', '.join(missing)} with INFO.csv under {args.shared} (--shared)",
            file=sys.stderr,
        )
        return 2
    settings = Settings().with_overrides(
        cache_dir=args.cache_dir or args.work / "cache",
        faces_dir=args.work / "faces",
        cluster_threshold=args.cluster_threshold,
        spread_prior=args.spread_prior,
    )
    from bench.render import margin_md  # render imports this module

    check = check_margin(args.shared, args.work, settings)
    print(margin_md(check), end="")
    return 0 if check.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
