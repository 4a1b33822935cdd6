"""The chance that a "Check these" suggestion is right (issue #47).

A logistic model per kind of suggestion, fitted by scikit-learn on the labelled calibration
corpora of every bench recipe (``python -m bench.chance``, ``make bench-chance``) and shipped
as ``chance_model.json`` beside this module: standardised signals in, a probability out. Here
it is only applied, so ingest needs neither scikit-learn's fit nor the corpora.

Signals (ingest.people.review computes them, in these names):

* ``margin``: how far past the point of acting the pair or video sits (same_person: linkage
  distance minus the merge threshold; two_people: the video's distance minus ``split_cut``).
* ``ratio``: that distance over the spread of the people involved (a person filmed in many
  lights sits far from themselves too).
* ``faceres``: the same distance in the second face model's descriptors.
* ``shared``: log(1 + videos the two share, never in one frame); same_person only.
* ``tracks``: log(tracks) of the smaller side (same_person) or of the video (two_people).
* ``videos``: log(videos) of the influencer; two_people only.
* ``face_px``: log of the median face size (shorter box side, px) of the smaller side.
* ``sharp``: log(1 + median sharpness) of the same faces.

A signal that is unknown (no faceres descriptors, faces without a box size) takes its mean on
the calibration corpora, so it moves nothing."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("chance_model.json")

SIGNALS: dict[str, tuple[str, ...]] = {
    "same_person": ("margin", "ratio", "faceres", "shared", "tracks", "face_px", "sharp"),
    "two_people": ("margin", "ratio", "faceres", "tracks", "videos", "face_px", "sharp"),
}


@dataclass(frozen=True)
class KindModel:
    """One kind's fitted logistic model, on standardised signals."""

    signals: tuple[str, ...]
    mean: tuple[float, ...]  # per signal, on the calibration rows; also the fill for unknown
    scale: tuple[float, ...]  # per signal, standard deviation (1 where constant)
    coef: tuple[float, ...]
    intercept: float
    floor: float  # a suggestion under this chance is not shown by default

    def chance(self, values: Mapping[str, float | None]) -> float:
        """P(right | signals): the logistic of the standardised signals."""
        z = self.intercept
        for name, m, s, c in zip(self.signals, self.mean, self.scale, self.coef, strict=True):
            v = values.get(name)
            if v is None or not math.isfinite(v):
                v = m
            z += c * (v - m) / s
        # Either form alone overflows at one end (a signal far outside anything fitted on).
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        return math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class ChanceModel:
    """Both kinds' models, the embedder whose distances they read, and what they were fitted
    on (for the record)."""

    kinds: dict[str, KindModel]
    fitted_on: str  # the corpora, in words
    embedder: str = "facenet"  # distances of another embedder mean something else

    def to_json(self) -> str:
        return json.dumps(
            {
                "embedder": self.embedder,
                "fitted_on": self.fitted_on,
                "kinds": {
                    k: {
                        "signals": list(m.signals),
                        "mean": list(m.mean),
                        "scale": list(m.scale),
                        "coef": list(m.coef),
                        "intercept": m.intercept,
                        "floor": m.floor,
                    }
                    for k, m in self.kinds.items()
                },
            },
            indent=2,
        )

    @staticmethod
    def from_json(text: str) -> ChanceModel:
        raw = json.loads(text)
        kinds = {
            k: KindModel(
                signals=tuple(v["signals"]),
                mean=tuple(float(x) for x in v["mean"]),
                scale=tuple(float(x) for x in v["scale"]),
                coef=tuple(float(x) for x in v["coef"]),
                intercept=float(v["intercept"]),
                floor=float(v["floor"]),
            )
            for k, v in raw["kinds"].items()
        }
        for k, m in kinds.items():
            if set(m.signals) - set(SIGNALS.get(k, ())):
                raise ValueError(f"{k}: signals {m.signals} are not all in {SIGNALS.get(k)}")
        return ChanceModel(kinds, str(raw.get("fitted_on", "")), str(raw["embedder"]))


@cache
def shipped_model(path: Path = MODEL_PATH) -> ChanceModel | None:
    """The model shipped with the code; None before one was fitted."""
    if not path.is_file():
        return None
    return ChanceModel.from_json(path.read_text())


def model_for(embedder: str) -> ChanceModel | None:
    """The shipped model where it was fitted on ``embedder``'s distances, else None: then the
    suggestions have no chance and every one is shown (an opt-in embedder's distances were
    never labelled)."""
    model = shipped_model()
    return model if model is not None and model.embedder == embedder else None
