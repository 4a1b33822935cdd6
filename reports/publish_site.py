"""Put a freshly built report in place of the published one, whole (`make report`'s last step).

`make report` has Evidence build the site beside the published one (``--next``, a fresh folder;
reports/patch-build-dir.mjs points Evidence's final copy there). This script then:

1. checks the new site is complete (its home page is there);
2. gives each person merged into another since an address of their own: a small page at
   ``/influencers/<old id>`` saying whom they are now part of (their old figures are gone);
3. swaps the new folder with the published one in one step (``renameat2`` with
   ``RENAME_EXCHANGE`` where the kernel has it; else two renames a moment apart), and deletes
   the old one.

A build that fails or is killed never reaches step 3, so the published site stays whole, and no
page, face or data file of a person who no longer exists survives a build: the new folder holds
only what this build wrote.
"""

from __future__ import annotations

import argparse
import ctypes
import html
import os
import shutil
import sys
from pathlib import Path

import duckdb

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one system call; False where the platform cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return rc == 0


def swap_in(new: Path, site: Path) -> None:
    """``new`` becomes ``site``; the old site is deleted."""
    if site.exists() and exchange(new, site):
        shutil.rmtree(new)  # now the old site
        return
    old = site.with_name(site.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if site.exists():
        site.rename(old)
    new.rename(site)
    shutil.rmtree(old, ignore_errors=True)


def merged_away(db: Path) -> dict[int, tuple[int, str]]:
    """Old id -> (the current influencer it is now part of, their name), for every id merged
    into another that no longer exists, followed through later merges."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return {}
    try:
        events = con.execute(
            "select influencer_id, other_id from raw.influencer_id_history "
            "where event = 'merged_into' order by recorded_at"
        ).fetchall()
        names = dict(
            con.execute("select influencer_id, influencer_name from main.influencers").fetchall()
        )
    except duckdb.Error:
        return {}
    finally:
        con.close()
    into = {int(a): int(b) for a, b in events}
    out = {}
    for old in into:
        if old in names:
            continue  # back again (its videos returned)
        seen, cur = {old}, into[old]
        while cur not in names and cur in into and cur not in seen:
            seen.add(cur)
            cur = into[cur]
        if cur in names:
            out[old] = (cur, str(names[cur]))
    return out


def merged_page(old: int, new: int, name: str) -> str:
    who = html.escape(name)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Person {old}: merged into {who}</title>"
        "<meta name=viewport content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family: sans-serif; max-width: 40rem; margin: 3rem auto'>"
        f"<p id=merged-into>Person {old} is no longer a person of their own: they were merged "
        f"into <a href='/influencers/{new}'>{who} (Id {new})</a>, whose page shows their "
        "videos now.</p><p><a href='/'>The overview</a></p></body></html>\n"
    )


def publish(new: Path, site: Path, db: Path | None) -> int:
    """Steps 1-3 of the module docstring; returns the number of merged-away pages written."""
    if not (new / "index.html").is_file():
        raise SystemExit(f"error: {new} holds no built site (no index.html); {site} left as it was")
    n = 0
    for old, (cur, name) in (merged_away(db) if db is not None else {}).items():
        page = new / "influencers" / str(old)
        if (page / "index.html").exists() or (page.with_suffix(".html")).exists():
            continue
        page.mkdir(parents=True, exist_ok=True)
        (page / "index.html").write_text(merged_page(old, cur, name), encoding="utf-8")
        n += 1
    swap_in(new, site)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--next", type=Path, required=True, help="the freshly built site")
    ap.add_argument("--site", type=Path, required=True, help="the published site it replaces")
    ap.add_argument("--db", type=Path, help="the warehouse (for merged-away people's addresses)")
    args = ap.parse_args(argv)
    n = publish(args.next, args.site, args.db)
    print(f"published {args.site} ({n} merged-away addresses)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
