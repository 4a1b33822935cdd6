"""`ingest people ...`: list people and write the corrections file (ingest/people/corrections.py).

Each command edits only the file; the next `make build` (or `ingest recluster` then `make dbt`)
applies it, so a correction is reviewable in git before it changes anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.cli_args import db_arg
from ingest.people import corrections as people
from ingest.settings import PEOPLE_FILE

HOW_TO_APPLY = "apply it with `make build` (or `ingest recluster` and `make dbt`)"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "people",
        help="list people; name, merge, split, hide them",
        description="People are influencers with stable ids. These commands write "
        f"the corrections file (default {PEOPLE_FILE}, a dbt seed you can edit "
        f"and review); {HOW_TO_APPLY}.",
    )
    ps = p.add_subparsers(dest="people_command", required=True)

    def cmd(name: str, help_: str) -> argparse.ArgumentParser:
        c = ps.add_parser(name, help=help_, description=help_)
        db_arg(c)
        c.add_argument(
            "--file", type=Path, default=PEOPLE_FILE, help="corrections CSV (default: %(default)s)"
        )
        return c

    cmd("list", "one line per person: id, name, videos, faces, hidden")
    c = cmd("show", "one person's videos (video ids for `people split`)")
    c.add_argument("id", type=int, help="influencer id")
    c = cmd("name", "give a person a name (replaces an earlier one)")
    c.add_argument("id", type=int, help="influencer id")
    c.add_argument("name", help="the name, quoted if it has spaces")
    c = cmd("merge", "one person seen as two: OTHER_ID's videos become ID's")
    c.add_argument("id", type=int, help="influencer id that stays")
    c.add_argument("other_id", type=int, help="influencer id merged into it")
    c = cmd(
        "split", "a video wrongly given to a person: its faces of ID form or join another person"
    )
    c.add_argument("id", type=int, help="influencer id")
    c.add_argument("--video", required=True, help="video_id (see `ingest people show ID`)")
    c = cmd("hide", "keep a person (crew, bystander) out of rankings; still listed")
    c.add_argument("id", type=int, help="influencer id")
    c = cmd("unhide", "rank a hidden person again")
    c.add_argument("id", type=int, help="influencer id")


def run(args: argparse.Namespace) -> int:
    try:
        corrections = people.read_corrections(args.file)
    except people.CorrectionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import duckdb

    from ingest.warehouse import store

    try:
        got = store.person_faces(Path(args.db))
    except duckdb.Error as exc:  # not a warehouse, or one from before stable ids
        print(
            f"error: cannot read people from {args.db} ({exc}); run `make build` first",
            file=sys.stderr,
        )
        return 2
    if got is None:
        print(f"error: no warehouse at {args.db}; run `make build` first", file=sys.stderr)
        return 2
    ids, vids, issued = got
    if args.people_command == "list":
        rows = people.people_table(ids, vids, corrections)
        print(f"{'id':>4}  {'name':<28} {'videos':>6} {'faces':>6}  hidden")
        for p in rows:
            print(
                f"{p.influencer_id:>4}  {p.name:<28} {p.n_videos:>6} {p.n_faces:>6}  "
                f"{'yes' if p.hidden else ''}"
            )
        return 0
    for iid in (args.id, getattr(args, "other_id", None)):
        if iid is not None and iid not in issued:
            print(
                f"error: unknown influencer {iid} in {args.db} (`ingest people list`)",
                file=sys.stderr,
            )
            return 2
    if args.people_command == "show":
        return _show(args)
    new = {
        "name": lambda: people.Correction("name", args.id, name=args.name.strip()),
        "merge": lambda: people.Correction("merge", args.id, other_id=args.other_id),
        "split": lambda: people.Correction("split", args.id, video_id=args.video),
        "hide": lambda: people.Correction("hide", args.id),
        "unhide": lambda: people.Correction("hide", args.id),
    }[args.people_command]()
    if args.people_command == "split" and args.video not in set(vids.tolist()):
        print(
            f"error: no faces of video {args.video} in {args.db} (`ingest people show {args.id}`)",
            file=sys.stderr,
        )
        return 2
    updated = people.with_correction(corrections, new, remove=args.people_command == "unhide")
    try:
        people.write_corrections(args.file, updated)
    except people.CorrectionsError as exc:
        print(f"error: not written: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: {args.people_command} {args.id} recorded; {HOW_TO_APPLY}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ingest.warehouse import store

    rows = store.person_videos(Path(args.db), args.id)
    print(f"influencer {args.id}: {len(rows)} videos")
    for vid, row, url, n in rows:
        print(f"  {vid}  row {row:>4}  {n:>4} faces  {url}")
    return 0
