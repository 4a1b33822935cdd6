"""A self-contained results page: inline CSS, no scripts, no CDN (GX Data Docs need the web)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from expectations.runner import CRITICAL, failed_rows, warned_rows

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-bottom:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 2rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} tr.fail td{background:#fde8e8} tr.warn td{background:#fff6dd}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;font-weight:600}
.ok{background:#dff3e4;color:#17692e} .bad{background:#fde8e8;color:#9b1c1c}
.warnb{background:#fff6dd;color:#8a5a00} code{font-size:.85rem}
"""


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return html.escape(str(value))


def _badge(n_failed: int, n_warned: int) -> str:
    if n_failed:
        return f'<span class="badge bad">{n_failed} failed</span>'
    if n_warned:
        return f'<span class="badge warnb">{n_warned} warning(s)</span>'
    return '<span class="badge ok">all passed</span>'


def write_page(
    out_dir: Path, gx_results: pd.DataFrame, dbt_results: pd.DataFrame | None, db_path: str
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = failed_rows(gx_results)
    warned = warned_rows(gx_results)
    run_at = gx_results["run_at"].max() if len(gx_results) else ""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Influencer Lens - data quality</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Data quality</h1>",
        f"<div class='meta'>Warehouse <code>{_cell(db_path)}</code>, checked {_cell(run_at)} UTC. "
        f"Great Expectations: {len(gx_results)} expectations {_badge(len(failed), len(warned))}",
    ]
    if dbt_results is not None:
        bad = dbt_results[~dbt_results["status"].isin(["success", "pass"])]
        parts.append(f" &middot; dbt: {len(dbt_results)} nodes {_badge(len(bad), 0)}")
    parts.append("</div>")

    for suite, group in gx_results.groupby("suite", sort=False):
        n_fail = len(failed_rows(group))
        n_warn = len(warned_rows(group))
        parts.append(f"<h2>Suite <code>{_cell(suite)}</code> {_badge(n_fail, n_warn)}</h2>")
        parts.append(
            "<table><tr><th>check</th><th>expectation</th><th>column</th>"
            "<th>arguments</th><th>result</th><th>observed</th></tr>"
        )
        for row in group.itertuples(index=False):
            css = "" if row.success else ("fail" if row.severity == CRITICAL else "warn")
            status = "pass" if row.success else ("FAIL" if row.severity == CRITICAL else "warning")
            parts.append(
                f"<tr class='{css}'><td>{_cell(row.check_name)}<br><small>{_cell(row.table_name)}"
                f"</small></td><td><code>{_cell(row.expectation)}</code></td>"
                f"<td>{_cell(row.column_name)}</td><td><code>{_cell(row.kwargs)}</code></td>"
                f"<td>{status}</td><td>{_cell(row.observed)}</td></tr>"
            )
        parts.append("</table>")

    if dbt_results is not None:
        parts.append(
            "<h2>dbt build</h2><table><tr><th>node</th><th>type</th><th>status</th>"
            "<th>failures</th><th>message</th><th>seconds</th></tr>"
        )
        for row in dbt_results.itertuples(index=False):
            css = (
                ""
                if row.status in ("success", "pass")
                else ("warn" if row.status == "warn" else "fail")
            )
            seconds = "" if pd.isna(row.execution_time_s) else f"{row.execution_time_s:.2f}"
            parts.append(
                f"<tr class='{css}'><td><code>{_cell(row.unique_id)}</code></td>"
                f"<td>{_cell(row.resource_type)}</td><td>{_cell(row.status)}</td>"
                f"<td>{_cell(row.failures)}</td><td>{_cell(row.message)}</td><td>{seconds}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
