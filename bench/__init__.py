"""Labelled benchmark: clustering quality and speed against known truth.

`python -m bench` (__main__.py) parses its flags and calls, in order: calibration.py (the sweeps
and the rules that picked the defaults) on corpora.py's synthesized corpora, benchmark.py (the
seed-2026 corpus: our pipeline timed, clustering methods compared, the published approaches
replicated), real.py (the real-clip check), then render.py, which fills templates/ to write
docs/benchmarks.md and the README block."""

import argparse
import re
from pathlib import Path

from ingest.settings import EmbedderName, Settings

# Embedders a user opts into (their weights install by a target of their own); the benches
# measure each beside the default wherever its weights are on the machine.
OPT_IN: tuple[EmbedderName, ...] = ("arcface",)


def folder_args(ap: argparse.ArgumentParser) -> None:
    """--faces, --work and --out as every bench command that writes a docs/benchmarks.md block
    takes them."""
    ap.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    ap.add_argument("--work", type=Path, default=Path("data/bench"))
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))


def installed_opt_ins(settings: Settings) -> tuple[EmbedderName, ...]:
    weights = {"arcface": settings.embedding.arcface_weights}
    return tuple(n for n in OPT_IN if weights[n] and Path(weights[n]).is_file())


# A block another bench command writes into the same file between its two markers.
BLOCK = re.compile(r"<!-- (?P<name>[^>]+?): start -->.*?<!-- (?P=name): end -->", re.S)


def publish(out: Path, lines: list[str]) -> None:
    """Write a markdown report to ``out`` and echo it, so a run's figures show where it ran.
    Blocks that other bench commands wrote into the old file (``BLOCK``) and this report does
    not hold are kept, after it: a full run must not erase what it does not measure."""
    text = "\n".join(lines)
    if out.is_file():
        kept = [
            m.group(0)
            for m in BLOCK.finditer(out.read_text())
            if f"<!-- {m['name']}: start -->" not in text
        ]
        if kept:
            text = text.rstrip("\n") + "\n\n" + "\n\n".join(kept) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


README_START = "<!-- make bench: start -->"
README_END = "<!-- make bench: end -->"


def publish_readme_block(readme: Path, lines: list[str]) -> None:
    """Replace the README's block between the two markers with ``lines``: the README's figures
    come from the last `make bench`, never typed in."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no {README_START} ... {README_END} block")
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(head + README_START + "\n" + "\n".join(lines) + "\n" + README_END + tail)
