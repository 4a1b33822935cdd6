"""`make bench-face-search`: calibrate face search's "same person" threshold on ../shared/faces,
for each embedder a warehouse can hold (FaceNet and dlib always; ArcFace where its weights are
installed), since each embeds into its own space with its own spread of similarities.

Face search and known-people naming compare one photo's embedding (``embed_face``) with an
influencer's centroid (the mean of its faces' embeddings, ``influencer_embeddings``) by raw
cosine similarity. The calibration measures exactly that: up to PER_PERSON photos per person,
embedded by ``embed_face``'s own code (``ingest.warehouse.udf.ImageFaces``); each photo against its own
person's centroid over that person's *other* photos (same person) and against every other
person's centroid (strangers).

Rule: the lowest similarity, on a 0.01 grid, at which at most MAX_FALSE_MATCH of the stranger
comparisons pass. A wrong name is worse than no name (a user can always name by hand), so the
rule bounds false matches and reports what that costs in misses. Writes docs/face_search.md;
the thresholds are the dbt var ``face_match_threshold`` (dbt_project/dbt_project.yml), one per
embedder."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from numpy.typing import NDArray

from bench import OPT_IN, installed_opt_ins, publish
from ingest.settings import EmbedderName, Settings
from ingest.vectors import l2_normalize
from ingest.warehouse.udf import ImageFaces

PER_PERSON = 10  # photos per person, the first by name (deterministic)
MAX_FALSE_MATCH = 0.001  # share of stranger comparisons allowed over the threshold
GRID = np.round(np.arange(0.0, 1.0001, 0.01), 2)
# Embedders the project installs (`make install`); ArcFace is opt-in (bench.OPT_IN).
ALWAYS: tuple[EmbedderName, ...] = ("facenet", "dlib")
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


def photo_vs_centroid(
    emb: NDArray[np.float32], labels: NDArray[np.str_]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Cosine similarity of each photo (rows of emb, (n, d), unit) with centroids.

    Returns (same (m,), strangers (m, k-1), best_stranger (m,)): for each of the m photos whose
    person has at least one other photo, its similarity to the mean of that person's other
    photos, to each of the k-1 other people's means (all their photos), and the largest of
    those."""
    people = sorted(set(labels.tolist()))
    idx = {p: np.flatnonzero(labels == p) for p in people}
    sums = {p: emb[i].sum(axis=0) for p, i in idx.items()}
    full = l2_normalize(np.stack([sums[p] / len(idx[p]) for p in people]))
    same, strangers = [], []
    for n in range(len(emb)):
        p = labels[n]
        if len(idx[p]) < 2:
            continue
        own = (sums[p] - emb[n]) / (len(idx[p]) - 1)
        own = own / max(float(np.linalg.norm(own)), 1e-12)
        same.append(float(emb[n] @ own))
        others = [j for j, q in enumerate(people) if q != p]
        strangers.append(full[others] @ emb[n])
    st = np.asarray(strangers, dtype=np.float64)
    return np.asarray(same, dtype=np.float64), st, st.max(axis=1)


def pick_threshold(strangers: NDArray[np.float64], max_false_match: float) -> float:
    """Lowest grid similarity at which at most ``max_false_match`` of strangers pass (>=)."""
    flat = strangers.ravel()
    for t in GRID:
        if float((flat >= t).mean()) <= max_false_match:
            return float(t)
    return 1.0


def dbt_threshold(embedder: str, path: Path = DBT_PROJECT) -> float | None:
    """The var face_match_threshold in dbt_project.yml for ``embedder``, or None.

    The var maps embedder -> threshold; a single number (a user's override) holds for all."""
    value = (yaml.safe_load(path.read_text()).get("vars") or {}).get("face_match_threshold")
    if isinstance(value, dict):
        value = value.get(embedder)
    return None if value is None else float(value)


@dataclass(frozen=True)
class Calibrated:
    embedder: str
    n_photos: int  # photos with a face
    same: NDArray[np.float64]  # (m,) each photo against its own person's other photos
    strangers: NDArray[np.float64]  # (m, k-1) against every other person
    best: NDArray[np.float64]  # (m,) the nearest stranger
    threshold: float  # the rule's

    @property
    def n_people(self) -> int:
        return self.strangers.shape[1] + 1


def calibrate(
    embedder: EmbedderName, files: list[tuple[str, Path]], settings: Settings
) -> Calibrated:
    """Embed ``files`` (person, photo) by ``embed_face``'s code with ``embedder`` and apply the
    rule."""
    found = ImageFaces(settings.for_embedder(embedder)).faces([str(f) for _, f in files])
    labels = np.array([name for (name, _), r in zip(files, found) if isinstance(r, list) and r])
    emb = np.stack([r[0].embedding for r in found if isinstance(r, list) and r])
    same, strangers, best = photo_vs_centroid(emb, labels)
    return Calibrated(
        embedder, len(labels), same, strangers, best, pick_threshold(strangers, MAX_FALSE_MATCH)
    )


def var_words(c: Calibrated) -> str:
    in_dbt = dbt_threshold(c.embedder)
    if in_dbt is None:
        return "not set (SET IT)"
    return f"{in_dbt:g}" + (" (matches)" if abs(in_dbt - c.threshold) < 1e-9 else " (DIFFERS)")


def report(cals: list[Calibrated], n_files: int, per_person: int, missing: list[str]) -> list[str]:
    lines = [
        "# Face search: the same-person threshold",
        "",
        f"Generated by `make bench-face-search` on {dt.date.today().isoformat()}: up to "
        f"{per_person} photos per person (the first by name) of the people in `../shared/faces`, "
        f"{n_files} photos, embedded by `embed_face`'s code with each embedder (largest face). "
        "Each photo is compared (cosine similarity) with its own person's centroid over their "
        "other photos and with every other person's centroid, as face search compares a photo "
        "with an influencer's centroid. Each embedder has its own threshold: a warehouse's "
        "SQL uses the one of the embedder it was built with.",
        "",
        f"Rule: the lowest similarity (0.01 grid) at which at most {100 * MAX_FALSE_MATCH:g}% of "
        "stranger comparisons pass.",
        "",
        "| embedder | photos with a face | threshold by the rule | dbt var face_match_threshold "
        "| false matches | misses (own centroid under it) |",
        "|---|---|---|---|---|---|",
    ]
    for c in cals:
        t = c.threshold
        lines.append(
            f"| {c.embedder} | {c.n_photos} of {n_files} | **{t:.2f}** | {var_words(c)} | "
            f"{100 * float((c.strangers >= t).mean()):.3f}% | "
            f"{100 * float((c.same < t).mean()):.2f}% |"
        )
    for name in missing:
        lines.append(f"| {name} | not measured: weights not installed | | | | |")
    for c in cals:
        t = c.threshold
        lines += [
            "",
            f"## {c.embedder}",
            "",
            f"{len(c.same)} same-person comparisons, {c.strangers.size} stranger comparisons "
            f"({c.n_people} people).",
            "",
            "| threshold | false matches (stranger comparisons passing) | photos with a stranger "
            "passing | misses (own centroid under it) |",
            "|---|---|---|---|",
        ]
        # Steps of the grid around the pick: coarse ones say the trade, fine ones show dlib's,
        # whose similarities crowd into a few hundredths.
        steps = (-0.1, -0.05, -0.02, -0.01, 0.0, 0.01, 0.02, 0.05, 0.1)
        for g in sorted({round(t + k, 2) for k in steps if 0.0 <= round(t + k, 2) <= 1.0}):
            mark = " **(chosen)**" if abs(g - t) < 1e-9 else ""
            lines.append(
                f"| {g:.2f}{mark} | {100 * float((c.strangers >= g).mean()):.3f}% | "
                f"{100 * float((c.best >= g).mean()):.2f}% | "
                f"{100 * float((c.same < g).mean()):.2f}% |"
            )
        lines += [
            "",
            f"Same-person similarity: median {np.median(c.same):.3f}, 5th percentile "
            f"{np.percentile(c.same, 5):.3f}; nearest stranger per photo: median "
            f"{np.median(c.best):.3f}, 95th percentile {np.percentile(c.best, 95):.3f}.",
        ]
    lines += [
        "",
        "Known-people naming (`int_influencers_matched`) averages this similarity over a name's "
        "reference photos and proposes a name only when exactly one name passes the threshold, "
        "so a photo that passes for two people names nobody. An influencer's centroid in a "
        "warehouse averages many video faces, usually of several photos or scenes, so it sits "
        "nearer its own person than a centroid of a few photos does here: the misses above are "
        "an upper bound for well-seen influencers.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.face_search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--faces",
        type=Path,
        default=Path("../shared/faces"),
        help="photo folders <Identity>/*.jpg (default: %(default)s)",
    )
    ap.add_argument(
        "--per-person",
        type=int,
        default=PER_PERSON,
        help="photos per person (default: %(default)s)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("docs/face_search.md"),
        help="report (default: %(default)s)",
    )
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no photos at {args.faces} (pass --faces DIR)", file=sys.stderr)
        return 2
    settings = Settings()
    files = [
        (d.name, f)
        for d in sorted(args.faces.iterdir())
        if d.is_dir()
        for f in sorted(d.glob("*.jpg"))[: args.per_person]
    ]
    opt_ins = installed_opt_ins(settings)
    names = [*ALWAYS, *opt_ins]
    cals = []
    for name in names:
        print(f"face search: embedding {len(files)} photos with {name}", flush=True)
        cals.append(calibrate(name, files, settings))
    missing = [n for n in OPT_IN if n not in opt_ins]
    publish(args.out, report(cals, len(files), args.per_person, missing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
