"""Put a freshly built report in place of the published one, whole (`make report`'s last step).

`make report` has Evidence build the site beside the published one (``--next``, a fresh folder;
reports/patch-build-dir.mjs points Evidence's final copy there). This script then:

1. checks the new site is complete (its home page is there);
2. copies the site's shell (``index.html``: the site renders in the browser, see
   reports/svelte.config.js) to the folder of every page, one per current person for
   ``influencers/[influencer_id]``, so that a plain static server opens every address;
3. gives each person merged into another since an address of their own: a small page at
   ``/influencers/<old id>`` saying whom they are now part of (their old figures are gone);
4. swaps the new folder with the published one in one step (``renameat2`` with
   ``RENAME_EXCHANGE`` where the kernel has it; else two renames a moment apart), and deletes
   the old one.

A build that fails or is killed never reaches step 4, so the published site stays whole, and no
page, face or data file of a person who no longer exists survives a build: the new folder holds
only what this build wrote.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import html
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb

AT_FDCWD = -100
RENAME_EXCHANGE = 2
REPORT_DIR = Path(__file__).resolve().parent
PAGES = REPORT_DIR / "pages"
# The one page parameter the report has; its values are the current people's ids.
PERSON_PARAM = "[influencer_id]"


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


def people(db: Path | None) -> tuple[dict[int, str], list[tuple[int, int]]]:
    """(current id -> name, the merges in the order they happened) of the warehouse; empty
    without one (or before its first build)."""
    if db is None:
        return {}, []
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return {}, []

    def rows(sql: str) -> list[tuple]:
        try:
            return con.execute(sql).fetchall()
        except duckdb.Error:  # a warehouse from before the table: nothing of it
            return []

    try:
        names = rows("select influencer_id, influencer_name from main.influencers")
        events = rows(
            "select influencer_id, other_id from raw.influencer_id_history "
            "where event = 'merged_into' order by recorded_at"
        )
    finally:
        con.close()
    return {int(i): str(n) for i, n in names}, [(int(a), int(b)) for a, b in events]


def merged_away(db: Path) -> dict[int, tuple[int, str]]:
    """Old id -> (the current influencer it is now part of, their name), for every id merged
    into another that no longer exists, followed through later merges."""
    return merged_into(*people(db))


def merged_into(names: dict[int, str], merges: list[tuple[int, int]]) -> dict[int, tuple[int, str]]:
    into = dict(merges)
    out = {}
    for old in into:
        if old in names:
            continue  # back again (its videos returned)
        seen, cur = {old}, into[old]
        while cur not in names and cur in into and cur not in seen:
            seen.add(cur)
            cur = into[cur]
        if cur in names:
            out[old] = (cur, names[cur])
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


def routes(pages: Path, ids: list[int]) -> list[str]:
    """Every page address of the site, as folders under it ('' is the home page)."""
    out = []
    for md in sorted(pages.rglob("*.md")):
        parts = list(md.relative_to(pages).with_suffix("").parts)
        if parts[-1] == "index":
            parts.pop()
        if PERSON_PARAM in parts:
            at = parts.index(PERSON_PARAM)
            out += ["/".join([*parts[:at], str(i), *parts[at + 1 :]]) for i in ids]
        elif not any(p.startswith("[") for p in parts):
            out.append("/".join(parts))
    return out


def write_pages(new: Path, db: Path | None, pages: Path) -> int:
    """Steps 2 and 3 on the folder ``new``; returns the number of merged-away pages."""
    names, merges = people(db)
    shell = (new / "index.html").read_bytes()
    for route in routes(pages, sorted(names)):
        if not route:
            continue
        folder = new / route
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_bytes(shell)
    n = 0
    for old, (cur, name) in merged_into(names, merges).items():
        page = new / "influencers" / str(old)
        if (page / "index.html").exists() or (page.with_suffix(".html")).exists():
            continue
        page.mkdir(parents=True, exist_ok=True)
        (page / "index.html").write_text(merged_page(old, cur, name), encoding="utf-8")
        n += 1
    return n


def publish(new: Path, site: Path, db: Path | None, pages: Path = PAGES) -> int:
    """Steps 1-4 of the module docstring; returns the number of merged-away pages written."""
    if not (new / "index.html").is_file():
        raise SystemExit(f"error: {new} holds no built site (no index.html); {site} left as it was")
    n = write_pages(new, db, pages)
    swap_in(new, site)
    return n


# Folders of the site that hold the data or follow it: everything else is the bundle, which
# only `make report` rebuilds.
DATA_FOLDERS = ("data", "faces", "thumbs", "data_docs")


def _link_copy(src: str, dst: str) -> None:
    # The bundle is shared by hard links: a refresh never writes into a file, it replaces it.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def copy_data(sources_out: Path, target: Path) -> None:
    """Evidence's source output (``.evidence/template/static/data``) into a site's ``data``
    folder the way `evidence build` lays it out: each parquet file under a folder named by its
    md5, so that a browser never mixes a cached file with a new manifest."""
    shutil.copytree(sources_out, target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    for files in manifest["renderedFiles"].values():
        for i, url in enumerate(files):
            disk = "/".join(url.split("/")[-3:])  # <source>/<table>/<table>.parquet
            path = target / disk
            if not path.is_file():
                continue
            digest = hashlib.md5(path.read_bytes()).hexdigest()
            moved = path.parent / digest / path.name
            moved.parent.mkdir()
            path.rename(moved)
            files[i] = url.replace(disk, f"{Path(disk).parent.as_posix()}/{digest}/{path.name}")
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def refresh(
    site: Path, sources_out: Path, static: Path, db: Path | None, pages: Path = PAGES
) -> int:
    """A new site from the published one with new data, swapped in whole: the bundle (``_app``,
    ``api``) kept, the data, faces, thumbnails, check results and page folders replaced.
    ``sources_out``: `evidence sources`' output; ``static``: the report's static folder as
    reports/export_warehouse.py left it. Returns the number of merged-away pages."""
    if not (site / "index.html").is_file():
        raise SystemExit(f"error: no site at {site} to refresh; run `make report` first")
    new = site.with_name(".refresh-next")
    shutil.rmtree(new, ignore_errors=True)
    page_roots = {r.split("/")[0] for r in routes(pages, [0]) if r}
    skip = {*DATA_FOLDERS, *page_roots}
    shutil.copytree(
        site,
        new,
        copy_function=_link_copy,
        ignore=lambda d, names: [n for n in names if Path(d) == site and n in skip],
    )
    copy_data(sources_out, new / "data")
    for folder in DATA_FOLDERS[1:]:
        if (static / folder).is_dir():
            shutil.copytree(static / folder, new / folder)
    n = write_pages(new, db, pages)
    swap_in(new, site)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--next", type=Path, required=True, help="the freshly built site")
    ap.add_argument("--site", type=Path, required=True, help="the published site it replaces")
    ap.add_argument(
        "--db", type=Path, help="the warehouse (its people's and merged-away addresses)"
    )
    ap.add_argument("--pages", type=Path, default=PAGES, help="the report's pages (%(default)s)")
    args = ap.parse_args(argv)
    n = publish(args.next, args.site, args.db, args.pages)
    print(f"published {args.site} ({n} merged-away addresses)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
