"""Regenerate seeds/student_t_quantiles.csv (DuckDB has no Student-t quantile function).

Run from the repo root: .venv/bin/python dbt_project/scripts/make_student_t_quantiles.py
"""

from pathlib import Path

from scipy import stats

LEVELS = (0.80, 0.90, 0.95, 0.99)
MAX_DF = 300  # models clamp larger df to this row (t_300 is within 0.5% of the normal quantile)

out = Path(__file__).resolve().parents[1] / "seeds" / "student_t_quantiles.csv"
lines = ["confidence_level,df,t_quantile"]
for level in LEVELS:
    for df in range(1, MAX_DF + 1):
        lines.append(f"{level:.2f},{df},{stats.t.ppf(0.5 + level / 2, df):.6f}")
out.write_text("\n".join(lines) + "\n")
print(f"wrote {out} ({len(lines) - 1} rows)")
