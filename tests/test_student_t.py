"""ingest/stats/student_t.py: the t quantiles behind the influencer intervals."""

from __future__ import annotations

import pytest

from ingest.stats.student_t import two_sided_t_quantiles


def test_quantiles_match_the_former_seed_table():
    table = two_sided_t_quantiles(0.90, 300).set_index("df")["t_quantile"]
    assert len(table) == 300
    assert table[1] == pytest.approx(6.313752, abs=1e-6)  # t(0.95, 1)
    assert table[10] == pytest.approx(1.812461, abs=1e-6)
    assert table[300] == pytest.approx(1.649949, abs=1e-6)  # near the normal 1.644854
    assert table.is_monotonic_decreasing
    assert two_sided_t_quantiles(0.95, 10).set_index("df").loc[10, "t_quantile"] == (
        pytest.approx(2.228139, abs=1e-6)
    )


def test_rejects_levels_and_df_out_of_range():
    with pytest.raises(ValueError):
        two_sided_t_quantiles(90.0, 10)  # a percentage, not a level
    with pytest.raises(ValueError):
        two_sided_t_quantiles(0.9, 0)
