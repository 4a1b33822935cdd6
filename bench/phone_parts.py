"""What each of the phone recipe's degradations costs (`make bench-phone-parts`, issue #50).

The phone recipe (bench/corpora.py PHONE) stacks small faces, motion blur on every people shot
and JPEG quality 12-25. At the defaults it finds few of its people, and no setting of the
clustering finds most of them at a precision that holds (`make bench-floors`). This asks which
part of the footage does it: calibration seeds of the recipe synthesized again with one
degradation changed at a time, each extracted once at a 30 px floor and clustered at the
defaults with the faces a 30 and a 50 px floor keep, as `make bench-floors` does.

Beside the clustering's scores, how far FaceNet can link a person across videos at all: the
cosine between the mean embeddings of one person's tracks in two different videos (their
median), and the share of such pairs above the 99.9th percentile of strangers' pairs (tracks of
two different people in two videos). A pair under that line cannot be joined without joining
strangers as often.

Writes its block into docs/benchmarks.md between the markers below."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench import folder_args
from bench.corpora import PHONE, CorpusFaces, corpus, ingest, load_table
from bench.creative import publish_block
from bench.evaluate import label_face, read_truth
from bench.floors import FloorRow, _cells, _wall
from ingest.people.cluster import FaceTable, tracks_within_video
from ingest.settings import ClusterSettings, Settings

# (key, what the footage is, SynthConfig changes from PHONE)
VARIANTS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("recipe", "the recipe: blur 3-9 px, JPEG 12-25", {}),
    ("no_blur", "no motion blur", {"phone_blur_px": (0, 0)}),
    ("jpeg40", "blur 3-9 px, JPEG 40", {"edited_jpeg_quality": (40, 40)}),
    (
        "blur3_jpeg18",
        "blur 3 px, JPEG 18",
        {"phone_blur_px": (3, 3), "edited_jpeg_quality": (18, 18)},
    ),
    (
        "no_blur_jpeg18",
        "no blur, JPEG 18",
        {"phone_blur_px": (0, 0), "edited_jpeg_quality": (18, 18)},
    ),
)
SEEDS = (501, 502)  # the recipe's calibration seeds: nothing here chooses a default
FLOORS = (30.0, 50.0)  # px, the shorter side of a face's box
STRANGERS_QUANTILE = 0.999

START = "<!-- phone parts: start -->"
END = "<!-- phone parts: end -->"


@dataclasses.dataclass(frozen=True)
class Linkability:
    same_median: float  # median cosine of one person's tracks in two different videos
    strangers_line: float  # STRANGERS_QUANTILE of two different people's tracks' cosines
    share_above: float  # share of the same-person pairs above strangers_line
    n_same: int  # same-person pairs


def linkability(
    emb: NDArray[np.float32],
    video: NDArray[np.str_],
    person: NDArray[np.str_],
    corpus: NDArray[np.int64],
) -> Linkability:
    """Over every pair of tracks in two different videos of one corpus: ``emb`` (n, d)
    L2-normalised track means, ``video``, ``person`` and ``corpus`` (n,) each track's. Pairs
    within one video are left out (clustering links those by time, not by face), and so are
    pairs across corpora: the seeds draw their people from one set of photos."""
    sim = emb @ emb.T
    pairs = (
        np.triu(np.ones(sim.shape, bool), 1)
        & (video[:, None] != video[None, :])
        & (corpus[:, None] == corpus[None, :])
    )
    same = pairs & (person[:, None] == person[None, :])
    strangers = pairs & (person[:, None] != person[None, :])
    line = float(np.quantile(sim[strangers], STRANGERS_QUANTILE))
    return Linkability(
        same_median=float(np.median(sim[same])),
        strangers_line=line,
        share_above=float(np.mean(sim[same] > line)),
        n_same=int(same.sum()),
    )


def labelled_tracks(
    table: FaceTable, person: list[str | None], face_px: NDArray[np.float32], s: ClusterSettings
) -> tuple[NDArray[np.float32], NDArray[np.str_], NDArray[np.str_], NDArray[np.float64]]:
    """Each video's tracks (as clustering forms them) with a labelled face: (mean embeddings
    (k, d) L2-normalised, video (k,), person (k,): the label most of its faces carry, median
    face side (k,) px)."""
    means, videos, people, sizes = [], [], [], []
    for v in np.unique(table.video_id):
        idx = np.flatnonzero(table.video_id == v)
        labels = tracks_within_video(table.frame_index[idx], table.embeddings[idx], s)
        for k in sorted(set(labels.tolist()) - {-1}):
            faces = idx[labels == k]
            who = Counter(person[i] for i in faces).most_common(1)[0][0]
            if who is None:
                continue
            m = table.embeddings[faces].mean(axis=0)
            means.append(m / np.linalg.norm(m))
            videos.append(v)
            people.append(who)
            sizes.append(float(np.median(face_px[faces])))
    return (
        np.asarray(means, np.float32),
        np.asarray(videos),
        np.asarray(people),
        np.asarray(sizes),
    )


@dataclasses.dataclass(frozen=True)
class PartRow:
    label: str
    floors: list[FloorRow]  # one per FLOORS, each with a report per seed
    link: Linkability
    median_face_px: float


def measure(
    key: str, changes: dict[str, object], seeds: tuple[int, ...], faces: Path, work: Path
) -> tuple[list[FloorRow], Linkability, float]:
    settings = Settings()
    by_floor: dict[float, list] = {px: [] for px in FLOORS}
    tracks = []
    for seed in seeds:
        root = work / "phone_parts" / key
        cfg = dataclasses.replace(PHONE, seed=seed, **changes)
        corpus_dir = corpus(faces, root, cfg)
        low = dataclasses.replace(
            settings,
            cache_dir=root / "cache",
            faces_dir=root / "faces",
            detection=dataclasses.replace(settings.detection, min_face_px=min(FLOORS)),
        )
        db = root / f"floor{int(min(FLOORS))}_seed{seed}.duckdb"
        print(f"phone parts: {key}, seed {seed}: ingest", flush=True)
        ingest(corpus_dir / "videos.csv", db, low)
        df, table = load_table(db)
        stored = CorpusFaces(corpus_dir, df, table)
        for px in FLOORS:
            by_floor[px].append(stored.at_floor(px).score(settings.cluster))
        _, boxes = read_truth(corpus_dir)
        person = [
            label_face(boxes.get((Path(u).name, fi), []), (x1, y1, x2, y2))
            for u, fi, x1, y1, x2, y2 in zip(
                df.source_url, df.frame_index, df.x1, df.y1, df.x2, df.y2
            )
        ]
        face_px = np.minimum(df.x2 - df.x1, df.y2 - df.y1).to_numpy(np.float32)
        emb, video, who, size = labelled_tracks(table, person, face_px, settings.cluster)
        tracks.append((emb, video, who, np.full(len(video), seed), size))
    emb, video, who, seed_of, size = (np.concatenate([t[i] for t in tracks]) for i in range(5))
    rows = [FloorRow(px, by_floor[px]) for px in FLOORS]
    return rows, linkability(emb, video, who, seed_of), float(np.median(size))


def block(
    rows: list[PartRow], seeds: tuple[int, ...], started: dt.datetime, seconds: float
) -> list[str]:
    """The markdown block of docs/benchmarks.md."""
    seed_list = ", ".join(str(s) for s in seeds)
    lines = [
        "## The phone recipe, one degradation at a time",
        "",
        f"`make bench-phone-parts` ({started:%Y-%m-%d}, {_wall(seconds)} wall time; a run "
        "whose warehouses are already extracted only clusters). The phone recipe's calibration "
        f"seeds ({seed_list}) synthesized again with one part of the footage changed, each "
        f"extracted at {min(FLOORS):g} px and clustered at the defaults with the faces each "
        "floor keeps. *Same person*: the median cosine between one person's tracks in two "
        "different videos (FaceNet, each track's mean); *linkable*: the share of those pairs "
        f"above the {STRANGERS_QUANTILE:.1%} line of strangers' pairs, which no distance rule "
        "can join without joining strangers as often.",
        "",
        "| footage | median face (px) | same person | strangers' line | linkable | floor (px) "
        "| lowest BCubed P | mean BCubed R | people missed | score error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for i, floor in enumerate(row.floors):
            head = (
                f"| {row.label} | {row.median_face_px:.0f} | {row.link.same_median:.2f} "
                f"| {row.link.strangers_line:.2f} | {row.link.share_above:.0%} "
                if i == 0
                else "| | | | | "
            )
            lines.append(f"{head}| {floor.floor_px:g} | {_cells(floor)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.phone_parts", description=__doc__)
    folder_args(ap)
    ap.add_argument(
        "--seeds", type=int, nargs="+", default=list(SEEDS), help="phone calibration seeds"
    )
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no face photos at {args.faces} (SHARED=...)")
        return 2
    seeds = tuple(args.seeds)
    started, t0 = dt.datetime.now(), time.perf_counter()
    rows = []
    for key, label, changes in VARIANTS:
        floors, link, px = measure(key, changes, seeds, args.faces, args.work)
        rows.append(PartRow(label, floors, link, px))
    lines = block(rows, seeds, started, time.perf_counter() - t0)
    publish_block(args.out, lines, START, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
