"""Markdown of `make bench`: docs/benchmarks.md and the README's accuracy and speed block, from
the templates in bench/templates fed by a ``BenchReport``. The table rows are formatted here,
the prose and the layout live in the templates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
from pathlib import Path

import jinja2
import numpy as np

from bench.benchmark import Benchmark
from bench.calibration import Calibration, EmbedderCalibration, Scored
from bench.corpora import CAL, CALS, EMBEDDER, GROWTH_EXTRA, LOOKALIKE_CALS, CorpusGroup
from bench.descriptors import table_rows
from bench.margin import FOLDERS, STEP, MarginCheck
from bench.metrics import Report
from bench.real import RealCheck, RealRow, RealVerdict
from bench.speed import growth_table, speed_lines
from bench.suggestions import MAX_PLANTED, SUGGESTION_TARGETS
from bench.suggestions import summary as suggestion_summary
from bench.unseen import TARGETS, Unseen, summary
from ingest.settings import Settings, cluster_settings_for

EMBEDDER_WORDS = {
    "dlib": "dlib ResNet 128-d",
    "facenet": "FaceNet InceptionResnetV1 512-d (weights converted by make models)",
    "arcface": "ArcFace w600k_mbf 512-d (InsightFace, make models-arcface; non-commercial research only)",
}


@dataclasses.dataclass(frozen=True)
class BenchReport:
    """Everything one `make bench` run found."""

    started: dt.datetime
    settings: Settings
    benchmark: Benchmark
    group: CorpusGroup  # the calibration corpora, named even when not re-run
    calibration: Calibration | None  # None: not re-run (make bench leaves it to bench-calibrate)
    real: RealCheck | None  # None: no clips found
    unseen: list[Unseen] = dataclasses.field(default_factory=list)  # per recipe
    # Opt-in embedders measured beside the default: (embedder, real clips at its settings).
    real_others: list[tuple[str, RealVerdict]] = dataclasses.field(default_factory=list)
    not_measured: list[str] = dataclasses.field(default_factory=list)  # opt-in, no weights here
    margin: MarginCheck | None = None  # None: ../shared lacks one of bench/margin.py's folders


def report_cells(r: Report) -> str:
    """A Report as the cells after the approach in the approaches tables."""
    return (
        f"{r.bcubed_p:.3f} / {r.bcubed_r:.3f} / **{r.bcubed_f:.3f}** | {r.pairwise_f:.3f} | "
        f"{r.n_influencers} / {r.n_people}"
        + (f" (+{r.n_unnamed_clusters} of bystanders)" if r.n_unnamed_clusters else "")
        + f" | {r.exact_video_sets:.0%} | {r.score_mae:.3f} | "
        f"{r.videos_person_no_face} / {r.n_videos_with_people}"
    )


def sweep_row(row: Scored) -> str:
    """One calibration setting scored on every seed."""
    rs = row.reports
    return (
        f"| {row.name} | {' / '.join(f'{r.bcubed_f:.3f}' for r in rs)} | "
        f"{np.mean([r.bcubed_f for r in rs]):.3f} | **{row.score:.3f}** | "
        f"{' / '.join(f'{r.n_influencers - r.n_people:+d}' for r in rs)} | "
        f"{np.mean([r.exact_video_sets for r in rs]):.0%} | {row.score_error:.3f} |"
    )


def unseen_row(name: str, rs: list[Report]) -> str:
    """One set of rules on a recipe's unseen seeds: per seed, then the figures the targets
    are about, each marked when it misses its target."""
    m = summary(rs)
    miss = {k: "" if ok else " (**missed**)" for k, ok in m["checks"].items()}
    return (
        f"| {name} | {' / '.join(f'{r.bcubed_f:.3f}' for r in rs)} | "
        f"**{m['mean_f']:.3f}**{miss['f']} | {m['min_p']:.3f}{miss['precision']} | "
        f"{' / '.join(f'{r.n_influencers}/{r.n_people}' for r in rs)} | "
        f"{m['within']} of {len(rs)}{miss['count']} | {m['exact']:.0%}{miss['exact']} | "
        f"{m['error_text']}{miss['error']} |"
    )


def real_row(row: RealRow) -> str:
    """One clustering of the real clips: faces, influencers, and what the check found."""
    v = row.verdict
    mix = "; ".join(
        f"{clip}: {len(pc.mixed)} of {len(pc.by_influencer)} (BCubed P {pc.bcubed[0]:.2f})"
        for clip, pc in v.purity.items()
    )
    bad = "; ".join(" + ".join(c) for _, c in v.bad) or "-"
    return (
        f"| {row.name} | {row.n_faces} | {len(v.clips)} | {'yes' if v.obama_ok else 'NO'} | "
        f"{len(v.bad)}: {bad} | {mix or '-'} |"
    )


def pair_words(pairs) -> str:
    """Pairs of people as prose: 'A + B; C + D'."""
    return "; ".join(f"{a} + {b}" for a, b in pairs) or "none"


def ranked_pairs(pair_first: dict[tuple[str, str], float], n: int = 5) -> str:
    """The first ``n`` pairs by the loosening that merges them."""
    rows = sorted(pair_first.items(), key=lambda kv: (kv[1], kv[0]))[:n]
    return "; ".join(f"{a} + {b} at {d:+.3f}" for (a, b), d in rows) or "-"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # markdown, not HTML
)
_env.filters.update(
    fmt=format,
    report=report_cells,
    sweep_row=sweep_row,
    real_row=real_row,
    unseen_row=unseen_row,
    summary=summary,
    yes_no=lambda b: "yes" if b else "NO",
    pairs=pair_words,
    ranked=ranked_pairs,
    suggestion_summary=suggestion_summary,
    share=lambda x, spec=".0%": "-" if x is None else format(x, spec),
)
_env.globals.update(
    MARGIN_FOLDERS=" + ".join(FOLDERS),
    MARGIN_STEP=STEP,
    EMBEDDER=EMBEDDER,
    EMBEDDER_WORDS=EMBEDDER_WORDS,
    TARGETS=TARGETS,
    SUGGESTION_TARGETS=SUGGESTION_TARGETS,
    MAX_PLANTED=MAX_PLANTED,
    inf=float("inf"),
)


def _parts():
    return _env.get_template("parts.md.j2").module


def verdict_lines(v: RealVerdict) -> list[str]:
    """The real-clip verdict as the markdown list docs/benchmarks.md shows."""
    return str(_parts().verdict(v)).split("\n")


def margin_md(m: MarginCheck) -> str:
    """The precision margin on the real clips (bench/margin.py), as markdown."""
    return _env.get_template("margin.md.j2").render(m=m, folders=" + ".join(FOLDERS), step=STEP)


def calibration_tables(cal: Calibration, settings: Settings) -> str:
    """The sweeps' tables and verdicts, as `make bench-calibrate` prints them."""
    return _env.get_template("calibration.md.j2").render(
        cal=cal, desc_rows=table_rows(cal.pairs, settings.cluster)
    )


def embedder_calibration_tables(ec: EmbedderCalibration, seeds: str) -> str:
    """An opt-in embedder's sweeps and verdicts, as `make bench-calibrate` prints them."""
    parts = _parts()
    head = f"`--embedder {ec.embedder}`"
    return (
        f"{parts.sweep_table(head + ': stage 1, stage 2, merge ratio', ec.stage.rows, seeds)}\n\n"
        f"{ec.stage.verdict}\n\n"
        f"{parts.sweep_table(head + ': faceres veto at the pick', ec.veto.rows, seeds)}\n\n"
        f"{ec.veto.verdict}\n"
    )


def benchmarks_md(report: BenchReport) -> str:
    b, cal = report.benchmark, report.calibration
    return _env.get_template("benchmarks.md.j2").render(
        r=report,
        b=b,
        s=report.settings,
        cs=report.settings.cluster,
        cal=cal,
        group=report.group,
        real=report.real,
        machine=platform.machine(),
        cores=os.cpu_count(),
        python=platform.python_version(),
        speed_lines=speed_lines(b.ours_run, b.rerun, b.corpus.n_videos),
        growth_lines=growth_table(b.growth),
        desc_rows=table_rows(cal.pairs, report.settings.cluster) if cal else [],
        same_pairs=" / ".join(f"{int(p.same.sum())} of {len(p.same)}" for p in cal.pairs)
        if cal
        else "",
        cal_corpus=CAL,
        lookalike_cals=LOOKALIKE_CALS,
        edited_cals=[c for c in CALS if c.recipe == "edited"],
        studio_cals=[c for c in CALS if c.recipe == "studio" and c not in (CAL, *LOOKALIKE_CALS)],
        growth_extra=GROWTH_EXTRA,
        unseen=report.unseen,
        real_others=report.real_others,
        not_measured=report.not_measured,
        cluster_settings_for=cluster_settings_for,
        margin=report.margin,
    )


def readme_block(report: BenchReport) -> list[str]:
    """The README's accuracy and speed table, from this run: the lines between its markers."""
    text = _env.get_template("readme_block.md.j2").render(
        b=report.benchmark,
        real=report.real,
        started=report.started,
        cores=os.cpu_count(),
        unseen=report.unseen,
        real_others=report.real_others,
        margin=report.margin,
    )
    return text.removesuffix("\n").split("\n")
