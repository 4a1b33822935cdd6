"""The chance of each "Check these" suggestion (issue #47): fitted, checked and its floor chosen
(`make bench-chance`).

1. **Fit.** Calibration corpora of every recipe (CHANCE_CALIBRATION: studio, look-alike,
   edited and phone seeds) are clustered at the defaults and their suggestions judged against
   the truth (bench/suggestions.py). A same_person row is right when
   both influencers are one person; a two_people row when the video's faces are another
   person. Wrong merges are rare at the defaults, so each corpus's planted wrong merges add
   their two_people rows too. scikit-learn's logistic regression, one per kind, on the
   standardised signals of ingest/people/chance.py, writes ingest/people/chance_model.json.
2. **Floor.** same_person: on the same calibration corpora, the floor with the fewest answers
   to the truth among those that keep 95% of the fragments the full list pairs with their
   person. two_people rows are always shown (TWO_PEOPLE_FLOOR): a wrong merge is the worst
   mistake, and they are few.
3. **Check.** On every recipe's unseen seeds and on the real clips (../shared/videos and
   videos-talking as one corpus): a reliability table (per band of predicted chance, the rows,
   the mean chance and the share right with its 90% interval, which must hold the mean) and
   the user's burden at the floor beside the full list of today.

Answers to the truth: the rows a user answers, going down the list by chance, to reach the
people the whole list would give: every row shown, then left-out rows down to the last right
one that changes the answer. Per 100 videos."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import binomtest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bench import folder_args
from bench.corpora import (
    CALIBRATION,
    EDITED_CALS,
    PHONE_CALS,
    UNSEEN,
    CorpusFaces,
    CorpusGroup,
    corpus,
    ingest,
    load_table,
)
from bench.creative import publish_block
from bench.suggestions import (
    SHORT_TRACK_FACES,
    face_labels,
    planted_clusterings,
    planted_short_clusterings,
    truth_of,
)
from ingest.extract.embed import population_mean
from ingest.people.chance import MODEL_PATH, SIGNALS, ChanceModel, KindModel, model_for
from ingest.people.cluster import FaceTable, cluster_faces
from ingest.people.review import Candidate, review_candidates
from ingest.settings import Settings

START = "<!-- check these chance: start -->"
END = "<!-- check these chance: end -->"
FLOORS = tuple(round(x, 2) for x in np.arange(0.0, 0.61, 0.05))
# Share of the fragments the full list pairs with their person that the same_person floor must
# keep on the calibration corpora.
FLOOR_KEEPS = 0.95
# A "maybe two people" row is always shown, ranked by its chance: a wrong merge left unflagged
# mixes two people's scores where nobody sees it, and these rows are few. (A floor chosen on the
# calibration corpora like same_person's, 0.2, kept every wrong merge there and hid a planted one
# on the edited unseen seeds.)
TWO_PEOPLE_FLOOR = 0.0
BANDS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
# The calibration seeds the model is fitted on: the first of each recipe's (five studio, three
# edited, three phone). Seven signals per kind need a few hundred judged rows, which these give;
# more seeds would add synthesis time (3-9 min a corpus here), not a new recipe. The look-alike
# seeds are left out for now: their roster needs a search over every photo first (about 20 min
# here); the real clips, which hold look-alike pairs, check the model instead.
CHANCE_CALIBRATION = CorpusGroup(
    "calibration", "cal", (*CALIBRATION.corpora[:5], *EDITED_CALS[:3], *PHONE_CALS[:3])
)


@dataclasses.dataclass(frozen=True)
class Row:
    """One suggestion, judged."""

    kind: str
    signals: dict[str, float | None]
    right: bool
    finds: frozenset  # what answering it right gives: fragments, or the (influencer, video)
    planted: bool = False  # from a planted wrong merge's clustering
    short: bool = False  # that merge was one short track's (bench/suggestions.py)


@dataclasses.dataclass(frozen=True)
class CorpusRows:
    """A corpus's judged suggestions and what a perfect answer to all of them finds."""

    name: str
    n_videos: int
    n_fragments: int  # influencers that are not their person's largest
    rows: list[Row]
    n_wrong_merges: int = 0  # (influencer, video) whose faces are another person, at the defaults
    n_planted_short: int = 0  # short tracks planted into another person's influencer


def judged_rows(
    found: Sequence[Candidate], cluster_id: np.ndarray, video_id: np.ndarray, labels: np.ndarray
) -> tuple[list[Row], int, int]:
    """(each suggestion of ``found`` that the truth can judge, as a Row; the fragments; the
    wrong merges)."""
    who, _, fragments, wrong = truth_of(cluster_id, video_id, labels)
    out = []
    for c in found:
        if c.kind == "same_person":
            a, b = who.get(c.influencer_id), who.get(c.other_id)
            if a is None or b is None:
                continue
            pair = {c.influencer_id, int(c.other_id)}
            finds = frozenset(pair & fragments) if a == b else frozenset()
            out.append(Row(c.kind, dict(c.signals), a == b, finds))
        else:
            if who.get(c.influencer_id) is None:
                continue
            key = (c.influencer_id, c.video_id)
            hit = key in wrong
            out.append(Row(c.kind, dict(c.signals), hit, frozenset({key}) if hit else frozenset()))
    return out, len(fragments), len(wrong)


def table_rows(
    table: FaceTable,
    labels: np.ndarray,
    settings: Settings,
    name: str,
    n_videos: int,
    planted_in: CorpusFaces | None = None,
) -> CorpusRows:
    """The judged suggestions of ``table``'s faces clustered at the defaults; with
    ``planted_in`` (the corpus of ``table``), then the two_people rows about each of its planted
    wrong merges: whole influencers (bench/suggestions.py planted_clusterings) and short tracks
    (planted_short_clusterings)."""
    s, r = settings.cluster, settings.review
    pops = population_mean(settings.embedding.embedder), population_mean("faceres")
    clustering = cluster_faces(table, s, *pops)
    found = review_candidates(table, clustering, s, r, *pops)
    rows, n_frag, n_wrong = judged_rows(found, clustering.cluster_id, table.video_id, labels)
    n_short = 0
    if planted_in is not None:
        plants = [
            (m, k, None, False)
            for m, k, _ in planted_clusterings(planted_in, clustering, labels, s)
        ]
        shorts = list(planted_short_clusterings(planted_in, clustering, labels, s))
        plants += [(m, k, video, True) for m, k, video in shorts]
        n_short = len(shorts)
        for merged, new_id, video, short in plants:
            # Only the planted influencer's rows (a short track's: about its video); the rest
            # repeat the natural clustering's.
            again = [
                x
                for x in review_candidates(table, merged, s, r, *pops)
                if x.kind == "two_people"
                and x.influencer_id == new_id
                and video in (None, x.video_id)
            ]
            planted, _, _ = judged_rows(again, merged.cluster_id, table.video_id, labels)
            rows += [dataclasses.replace(x, planted=True, short=short) for x in planted]
    return CorpusRows(name, n_videos, n_frag, rows, n_wrong, n_short)


def _matrix(rows: Sequence[Row], kind: str) -> np.ndarray:
    return np.array(
        [
            [np.nan if x.signals.get(n) is None else float(x.signals[n]) for n in SIGNALS[kind]]
            for x in rows
        ],
        dtype=float,
    ).reshape(len(rows), len(SIGNALS[kind]))


def fit_kind(rows: Sequence[Row], kind: str, floor: float = 0.0) -> KindModel:
    """scikit-learn's logistic regression (L2, C=1) on ``rows`` of ``kind``, standardised,
    unknown signals filled with their mean; exported as a KindModel."""
    mine = [x for x in rows if x.kind == kind]
    x, y = _matrix(mine, kind), np.array([x.right for x in mine])
    model = make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=1000),
    )
    model.fit(x, y)
    scaler, lr = model.steps[1][1], model.steps[2][1]
    # The imputer fills with the column mean, which is also the scaler's mean: a row's unknown
    # signal standardises to 0, as KindModel.chance treats it.
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return KindModel(
        signals=SIGNALS[kind],
        mean=tuple(float(m) for m in scaler.mean_),
        scale=tuple(float(s) for s in scale),
        coef=tuple(float(c) for c in lr.coef_[0]),
        intercept=float(lr.intercept_[0]),
        floor=floor,
    )


def chances(rows: Sequence[Row], model: ChanceModel) -> np.ndarray:
    return np.array([model.kinds[x.kind].chance(x.signals) for x in rows])


@dataclasses.dataclass(frozen=True)
class Burden:
    """A set of corpora's suggestions at one floor per kind."""

    n_videos: int
    n_shown: int
    n_rows: int
    answers: int  # answers to the truth (module docstring)
    fragments: int
    listed: int  # fragments a shown right row lists with its person
    right: int  # shown rows that are right
    wrong: int  # shown rows that are wrong
    wrong_merges: int  # (influencer, video) of another person, at the defaults
    flagged: int  # of those, named by a shown row
    flagged_by_all: int  # of those, named by any row
    quiet_rows: int  # rows shown on corpora with no fragment and no wrong merge
    quiet_videos: int  # videos of those corpora

    def per100(self, n: int, videos: int | None = None) -> float:
        v = self.n_videos if videos is None else videos
        return 100.0 * n / v if v else float("nan")


def _answers(rows: Sequence[Row], p: np.ndarray, shown: np.ndarray) -> int:
    """Rows answered in chance order until every find of the whole list is in hand, and never
    fewer than the rows shown."""
    need = frozenset().union(*(x.finds for x in rows)) if rows else frozenset()
    have: set = set()
    answered = 0
    for i in np.argsort(-p, kind="stable") if need else ():
        have |= rows[i].finds
        answered += 1
        if have >= need:
            break
    return max(answered, int(shown.sum()))


def burden(corpora: Sequence[CorpusRows], model: ChanceModel | None, floors: dict[str, float]):
    """The Burden over ``corpora`` with rows under ``floors`` (per kind) left out; without a
    model every row is shown (the list of today)."""
    tot = Counter()
    for c in corpora:
        natural = [x for x in c.rows if not x.planted]
        p = chances(natural, model) if model else np.ones(len(natural))
        shown = np.array(
            [pi >= floors.get(x.kind, 0.0) for x, pi in zip(natural, p, strict=True)], dtype=bool
        ).reshape(len(natural))
        finds = frozenset().union(*(x.finds for x in natural)) if natural else frozenset()
        shown_finds = (
            frozenset().union(*(x.finds for x, s in zip(natural, shown, strict=True) if s))
            if natural
            else frozenset()
        )
        tot["n_videos"] += c.n_videos
        tot["n_shown"] += int(shown.sum())
        tot["n_rows"] += len(natural)
        tot["answers"] += _answers(natural, p, shown)
        tot["fragments"] += c.n_fragments
        tot["listed"] += len({f for f in shown_finds if not isinstance(f, tuple)})
        tot["right"] += sum(x.right for x, s in zip(natural, shown, strict=True) if s)
        tot["wrong"] += sum(not x.right for x, s in zip(natural, shown, strict=True) if s)
        tot["wrong_merges"] += c.n_wrong_merges
        tot["flagged"] += len({f for f in shown_finds if isinstance(f, tuple)})
        tot["flagged_by_all"] += len({f for f in finds if isinstance(f, tuple)})
        if c.n_fragments == 0 and not c.n_wrong_merges:
            tot["quiet_rows"] += int(shown.sum())
            tot["quiet_videos"] += c.n_videos
    return Burden(**{f.name: int(tot[f.name]) for f in dataclasses.fields(Burden)})


def planted_flagged(
    corpora: Sequence[CorpusRows], model: ChanceModel | None, floor: float, short: bool = False
):
    """(planted wrong merges flagged by a shown row, planted wrong merges named by any row);
    ``short``: the short tracks' (flagged by a shown row, planted)."""
    hits = [x for c in corpora for x in c.rows if x.planted and x.right and x.short == short]
    of = sum(c.n_planted_short for c in corpora) if short else len(hits)
    if model is None:
        return len(hits), of
    m = model.kinds["two_people"]
    return sum(m.chance(x.signals) >= floor for x in hits), of


def choose_floor(corpora: Sequence[CorpusRows], model: ChanceModel) -> float:
    """The same_person floor with the fewest answers to the truth on ``corpora`` among those
    that keep FLOOR_KEEPS of the fragments the full list pairs with their person."""
    full = burden(corpora, None, {})
    best = 0.0, burden(corpora, model, {}).answers
    for f in FLOORS:
        b = burden(corpora, model, {"same_person": f})
        if b.listed >= FLOOR_KEEPS * full.listed and b.answers < best[1]:
            best = f, b.answers
    return best[0]


def fit(corpora: Sequence[CorpusRows], fitted_on: str) -> ChanceModel:
    """Both kinds fitted on ``corpora``, each floor chosen on them (module docstring)."""
    rows = [x for c in corpora for x in c.rows]
    model = ChanceModel({k: fit_kind(rows, k) for k in SIGNALS}, fitted_on)
    floors = {"same_person": choose_floor(corpora, model), "two_people": TWO_PEOPLE_FLOOR}
    return ChanceModel(
        {k: dataclasses.replace(m, floor=floors[k]) for k, m in model.kinds.items()}, fitted_on
    )


@dataclasses.dataclass(frozen=True)
class Band:
    lo: float
    hi: float
    n: int
    mean_chance: float
    right: int

    @property
    def interval(self) -> tuple[float, float]:
        ci = binomtest(self.right, self.n).proportion_ci(confidence_level=0.90, method="exact")
        return float(ci.low), float(ci.high)

    @property
    def holds(self) -> bool:
        lo, hi = self.interval
        return lo <= self.mean_chance <= hi


def reliability(rows: Sequence[Row], model: ChanceModel) -> list[Band]:
    """Per band of predicted chance: rows, mean chance, rows right (bands with rows only)."""
    p = chances(rows, model)
    out = []
    for lo, hi in itertools.pairwise(BANDS):
        m = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= hi))
        if m.any():
            right = sum(x.right for x, k in zip(rows, m, strict=True) if k)
            out.append(Band(lo, hi, int(m.sum()), float(p[m].mean()), int(right)))
    return out


def gather(group: CorpusGroup, faces: Path, work: Path, settings: Settings) -> list[CorpusRows]:
    """``group``'s corpora synthesized and ingested where not yet (warehouses kept in
    ``work``), then judged."""
    out = []
    for cfg in group.corpora:
        corpus_dir = corpus(faces, work, cfg)
        db = group.db(work, cfg)
        if not db.is_file():
            print(f"{group.name} seed {cfg.seed}: ingest", flush=True)
            ingest(corpus_dir / "videos.csv", db, settings)
        c = CorpusFaces(corpus_dir, *load_table(db), embedder=settings.embedding.embedder)
        name = f"{group.name} {cfg.seed}"
        out.append(table_rows(c.table, face_labels(c), settings, name, cfg.n_videos, c))
    return out


def real_rows(shared: Path, work: Path, settings: Settings) -> CorpusRows | None:
    """The real clips (bench/margin.py's corpus), or None where ../shared lacks them."""
    from bench.margin import FOLDERS, corpus_csv, face_people, read_people

    if not all((shared / f / "INFO.csv").is_file() for f in FOLDERS):
        return None
    root = work / "margin"
    csv, n_clips = corpus_csv(shared, root / "real_all_videos.csv")
    db = root / "real_all.duckdb"
    if not db.is_file():
        print("real clips: ingest", flush=True)
        ingest(csv, db, settings)
    df, table = load_table(db)
    names = np.array([p.name for p in face_people(df, read_people(shared))], dtype=object)
    return table_rows(table, names, settings, "real clips", n_clips)


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "-"


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else ("0" if not a else "∞")


def burden_lines(name: str, corpora: Sequence[CorpusRows], model: ChanceModel) -> list[str]:
    floors = {k: m.floor for k, m in model.kinds.items()}
    out = []
    for label, b, mdl in (
        ("every row, by distance (before)", burden(corpora, None, {}), None),
        ("by chance, at the floor", burden(corpora, model, floors), model),
    ):
        got, of = planted_flagged(corpora, mdl, floors["two_people"])
        got_short, of_short = planted_flagged(corpora, mdl, floors["two_people"], short=True)
        quiet = (
            f"{b.per100(b.quiet_rows, b.quiet_videos):.1f} ({b.quiet_rows} rows, {b.quiet_videos} videos)"
            if b.quiet_videos
            else "no such seed"
        )
        out.append(
            f"| {name} | {label} | {b.n_shown} of {b.n_rows} | {b.per100(b.answers):.1f} | "
            f"{_pct(b.listed, b.fragments)} | {b.right} / {b.wrong} | {_ratio(b.wrong, b.right)} | "
            f"{_pct(b.flagged, b.wrong_merges)} | {_pct(got, of)} | "
            f"{_pct(got_short, of_short)} | {quiet} |"
        )
    return out


def band_lines(name: str, rows: Sequence[Row], model: ChanceModel) -> list[str]:
    out = []
    for kind in SIGNALS:
        for b in reliability([x for x in rows if x.kind == kind], model):
            lo, hi = b.interval
            out.append(
                f"| {name} | {kind} | {b.lo:.1f}-{b.hi:.1f} | {b.n} | {b.mean_chance:.2f} | "
                f"{b.right / b.n:.2f} ({lo:.2f}-{hi:.2f}) | {'yes' if b.holds else '**no**'} |"
            )
    return out


def block(
    model: ChanceModel,
    cal: Sequence[CorpusRows] | None,
    checks: Sequence[tuple[str, Sequence[CorpusRows]]],
    command: str,
    started: dt.datetime,
    seconds: float,
) -> list[str]:
    """The docs/benchmarks.md block: burden, then reliability. ``cal``: the corpora the model
    was fitted on, when this run fitted it."""
    floors = ", ".join(f"{k} {m.floor:.2f}" for k, m in model.kinds.items())
    lines = [
        "## Check these: the chance of each row",
        "",
        f"`{command}` ({started:%Y-%m-%d}, {seconds / 60:.0f} min wall time on corpora already "
        "ingested, 2 cores, no GPU; a first run synthesizes and ingests them, about 3-9 min "
        "each). "
        f"The chance model ({model.embedder}) was fitted on {model.fitted_on}, and its floors "
        f"chosen there: {floors}. Checked on corpora no part of it was fitted or chosen on. "
        "Rows from planted wrong merges count in the two_people reliability and in their own "
        "columns only: whole influencers (of those any row names), and short tracks (of "
        f"those planted: a track of at most {SHORT_TRACK_FACES} faces of another person, "
        "forced into the nearest large influencer).",
        "",
        "**Burden** (answers to the truth per 100 videos: rows a user answers, in the page's "
        "order, to reach the people the whole list gives; quiet seeds: no split and no wrong "
        "merge, rows shown per 100 videos):",
        "",
        "| corpora | list | rows shown | answers to the truth per 100 videos | fragments "
        "listed | right / wrong shown | wrong per right | wrong merges flagged | planted "
        "wrong merges flagged | planted short tracks flagged | quiet seeds: rows per 100 "
        "videos |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if cal is not None:
        lines += burden_lines("calibration (fitted on)", cal, model)
    for name, corpora in checks:
        lines += burden_lines(name, corpora, model)
    lines += [
        "",
        "**Reliability** (per band of predicted chance: rows, mean chance, share right with "
        "its 90% interval; holds when the interval holds the mean chance):",
        "",
        "| corpora | kind | band | rows | mean chance | share right (90%) | holds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, corpora in checks:
        lines += band_lines(name, [x for c in corpora for x in c.rows], model)
    return lines


def held_out(faces: Path, work: Path, shared: Path, settings: Settings):
    """(name, judged corpora) of every recipe's unseen seeds and of the real clips: the corpora
    no part of the model was fitted or chosen on (ingested where not yet)."""
    checks = [
        (f"{g.name}, unseen seeds {g.seed_list}", gather(g, faces, work, settings)) for g in UNSEEN
    ]
    real = real_rows(shared, work, settings)
    if real is not None:
        checks.append((f"real clips ({real.n_videos})", [real]))
    return checks


def publish_checks(out: Path, faces: Path, work: Path, shared: Path, settings: Settings) -> None:
    """`make bench`'s part: the shipped model checked on the held-out corpora, its block
    written to ``out`` (nothing when no model is shipped for the default embedder)."""
    model = model_for(settings.embedding.embedder)
    if model is None:
        return
    started, t0 = dt.datetime.now(), time.perf_counter()
    checks = held_out(faces, work, shared, settings)
    lines = block(model, None, checks, "make bench", started, time.perf_counter() - t0)
    publish_block(out, lines, START, END)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.chance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    folder_args(ap)
    ap.add_argument(
        "--shared", type=Path, default=Path("../shared"), help="holds videos/ and videos-talking/"
    )
    ap.add_argument(
        "--model",
        type=Path,
        default=MODEL_PATH,
        help="where the fitted model goes (default: %(default)s)",
    )
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no face photos at {args.faces} (--faces)", file=sys.stderr)
        return 2
    started, t0 = dt.datetime.now(), time.perf_counter()
    settings = dataclasses.replace(
        Settings(), cache_dir=args.work / "cache", faces_dir=args.work / "faces"
    )
    cal = gather(CHANCE_CALIBRATION, args.faces, args.work, settings)
    fitted_on = (
        f"{len(cal)} calibration corpora (seeds {CHANCE_CALIBRATION.seed_list}: studio, "
        "edited and phone recipes)"
    )
    model = fit(cal, fitted_on)
    args.model.write_text(model.to_json() + "\n")
    print(f"wrote {args.model}", flush=True)
    checks = held_out(args.faces, args.work, args.shared, settings)
    lines = block(model, cal, checks, "make bench-chance", started, time.perf_counter() - t0)
    publish_block(args.out, lines, START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
