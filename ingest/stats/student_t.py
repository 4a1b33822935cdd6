"""Student-t quantiles for the influencer intervals (DuckDB has no t quantile function).

Used by the dbt Python model ``int_student_t_quantiles``; the SQL joins on degrees of freedom.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def two_sided_t_quantiles(confidence_level: float, max_df: int) -> pd.DataFrame:
    """One row per ``df`` in 1..``max_df``: ``t_quantile`` = t.ppf((1 + level) / 2, df), the
    multiplier of s / sqrt(n) in a two-sided interval at ``confidence_level`` (df = n - 1)."""
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    if max_df < 1:
        raise ValueError(f"max_df must be >= 1, got {max_df}")
    df = np.arange(1, max_df + 1, dtype=np.int32)
    return pd.DataFrame(
        {
            "confidence_level": np.full(max_df, confidence_level, dtype=float),
            "df": df,
            "t_quantile": stats.t.ppf(0.5 + confidence_level / 2.0, df),
        }
    )
