"""The chance of a "Check these" suggestion (issue #47): the shipped model's arithmetic against
scikit-learn's, the ranking and floor it drives, and the bench's burden and reliability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bench.chance import CorpusRows, Row, _answers, burden, fit_kind, reliability
from ingest.people.chance import MODEL_PATH, SIGNALS, ChanceModel, KindModel, shipped_model
from ingest.people.review import Candidate, with_chance


def _rows(n: int, seed: int = 0) -> list[Row]:
    """Same-person rows whose rightness follows the margin and the shared videos, with the
    faceres signal unknown on every fifth row."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        sig = {name: float(rng.normal()) for name in SIGNALS["same_person"]}
        if i % 5 == 0:
            sig["faceres"] = None
        p = 1 / (1 + math.exp(2.0 * sig["margin"] - 1.5 * sig["shared"]))
        out.append(Row("same_person", sig, bool(rng.random() < p), frozenset()))
    return out


def test_the_shipped_arithmetic_is_scikit_learns_predict_proba():
    rows = _rows(400)
    m = fit_kind(rows, "same_person")
    x = np.array(
        [[np.nan if r.signals[k] is None else r.signals[k] for k in m.signals] for r in rows]
    )
    y = np.array([r.right for r in rows])
    ref = make_pipeline(
        SimpleImputer(strategy="mean"), StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)
    ).fit(x, y)
    ours = np.array([m.chance(r.signals) for r in rows])
    assert np.allclose(ours, ref.predict_proba(x)[:, 1], atol=1e-9)
    # the margin lowers the chance and shared videos raise it, as the rows were made
    coef = dict(zip(m.signals, m.coef, strict=True))
    assert coef["margin"] < 0 < coef["shared"]


def test_the_model_survives_its_json_and_refuses_unknown_signals():
    m = fit_kind(_rows(200), "same_person", floor=0.2)
    model = ChanceModel({"same_person": m}, "a test")
    back = ChanceModel.from_json(model.to_json())
    assert back == model
    bad = model.to_json().replace('"margin"', '"moon_phase"')
    with pytest.raises(ValueError, match="moon_phase"):
        ChanceModel.from_json(bad)


def _model(floor: float) -> ChanceModel:
    # the chance rises with the shared videos only: logistic(shared)
    k = KindModel(SIGNALS["same_person"], (0.0,) * 7, (1.0,) * 7, (0, 0, 0, 1, 0, 0, 0), 0.0, floor)
    return ChanceModel({"same_person": k}, "a test")


def test_suggestions_are_ranked_by_chance_and_those_under_the_floor_left_out():
    found = [
        Candidate("same_person", 1, k + 1, None, 0.5, None, 0, "ratio", k, {"shared": s})
        for k, s in enumerate((-2.0, 3.0, 0.0), start=1)
    ]
    out = with_chance(found, _model(floor=0.3))
    assert [c.other_id for c in out] == [3, 4, 2]
    assert [c.rank for c in out] == [1, 2, 3]
    assert [c.shown for c in out] == [True, True, False]  # 0.95, 0.5, 0.12
    assert out[0].chance == pytest.approx(1 / (1 + math.exp(-3.0)))
    # without a model (none fitted yet) nothing changes and everything is shown
    assert with_chance(found, None) == found


def test_answers_to_the_truth_count_shown_rows_then_left_out_ones_until_the_last_find():
    right = [Row("same_person", {}, True, frozenset({2}))]
    wrong = [Row("same_person", {}, False, frozenset())]
    rows = [*wrong, *right, *wrong]
    # by chance: the right row first, then nothing more is needed past the rows shown
    assert _answers(rows, np.array([0.1, 0.9, 0.2]), np.array([False, True, False])) == 1
    assert _answers(rows, np.array([0.1, 0.9, 0.2]), np.array([True, True, True])) == 3
    # the right row last: every row is answered before the fragment is found
    assert _answers(rows, np.array([0.5, 0.1, 0.4]), np.array([True, False, False])) == 3
    # nothing to find: only the shown rows cost
    assert _answers(wrong * 2, np.array([0.5, 0.1]), np.array([True, False])) == 1


def test_burden_counts_fragments_wrong_merges_and_quiet_seeds():
    rows = [
        Row("same_person", {"shared": 2.0}, True, frozenset({2})),
        Row("same_person", {"shared": -2.0}, False, frozenset()),
    ]
    split = CorpusRows("a", 50, 1, rows)
    quiet = CorpusRows("b", 50, 0, [rows[1]])
    everything = burden([split, quiet], None, {})
    assert (everything.n_shown, everything.listed, everything.right, everything.wrong) == (
        3,
        1,
        1,
        2,
    )
    assert (everything.quiet_rows, everything.quiet_videos) == (1, 50)
    floored = burden([split, quiet], _model(0.5), {"same_person": 0.5})
    assert (floored.n_shown, floored.listed, floored.wrong, floored.quiet_rows) == (1, 1, 0, 0)
    assert floored.answers == 1 and everything.answers == 3


def test_a_band_holds_when_its_share_right_fits_its_mean_chance():
    model = _model(0.0)
    sure = [Row("same_person", {"shared": 5.0}, k < 19, frozenset()) for k in range(20)]
    bands = reliability(sure, model)
    assert len(bands) == 1 and bands[0].lo == 0.9 and bands[0].holds
    # the same chance, right half the time: out of its interval
    coin = [Row("same_person", {"shared": 5.0}, k % 2 == 0, frozenset()) for k in range(20)]
    assert not reliability(coin, model)[0].holds


def test_the_shipped_model_has_both_kinds_with_a_floor():
    assert MODEL_PATH.is_file(), "make bench-chance writes it"
    model = shipped_model()
    assert model is not None and set(model.kinds) == set(SIGNALS)
    for kind, m in model.kinds.items():
        assert m.signals == SIGNALS[kind] and 0.0 <= m.floor < 1.0
        assert 0.0 < m.chance({}) < 1.0


def test_a_signal_far_outside_the_fit_gives_a_chance_not_an_overflow():
    m = _model(0.0).kinds["same_person"]
    assert m.chance({"shared": -1e6}) == 0.0
    assert m.chance({"shared": 1e6}) == 1.0
    assert m.chance({"shared": float("nan")}) == 0.5  # unknown: the mean
