"""Labelled benchmark: clustering quality and speed against known truth."""

from pathlib import Path


def publish(out: Path, lines: list[str]) -> None:
    """Write a markdown report to ``out`` and echo it, so a run's figures show where it ran."""
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
