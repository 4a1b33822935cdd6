"""`ingest people ...`: list people and write a warehouse's corrections file
(ingest/people/corrections.py; the warehouse side in ingest/pipeline/people_files.py).

Each warehouse has its own file, `<db>.people.csv` beside it, bound to it by the warehouse's
identity on its first line. Each command edits only the file; the next `make build` (or `ingest
recluster` then `make dbt`) applies it, so a correction is reviewable in git before it changes
anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.cli_args import db_arg
from ingest.errors import IngestError
from ingest.people import corrections as people

HOW_TO_APPLY = "apply it with `make build` (or `ingest recluster` and `make dbt`)"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "people",
        help="list people; name, merge, split, hide them; bind, export, import corrections",
        description="People are influencers with stable ids. These commands write "
        "the warehouse's corrections file (<db>.people.csv beside it, a CSV you can edit "
        f"and review, bound to that warehouse by its first line); {HOW_TO_APPLY}.",
    )
    ps = p.add_subparsers(dest="people_command", required=True)

    def cmd(name: str, help_: str) -> argparse.ArgumentParser:
        c = ps.add_parser(name, help=help_, description=help_)
        db_arg(c)
        c.add_argument(
            "--file",
            type=Path,
            help="corrections CSV (default: the warehouse's own, <db>.people.csv beside it)",
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
    cmd(
        "bind",
        "bind a corrections file from before warehouse identities to this warehouse (checked "
        "against it first; without --file: the warehouse's own, else dbt_project/seeds/people.csv, "
        "written to the warehouse's own)",
    )
    c = cmd(
        "export",
        "write this warehouse's corrections and its faces' people to one CSV, for `people import`",
    )
    c.add_argument("--out", type=Path, required=True, help="CSV to write")
    c = cmd(
        "import",
        "add another warehouse's exported corrections to this one's, mapping people by the "
        "faces they share (never by id number)",
    )
    c.add_argument("export", type=Path, help="a CSV written by `ingest people export`")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import duckdb

    from ingest.pipeline import people_files
    from ingest.warehouse import store

    db = Path(args.db)
    if args.people_command == "bind":
        target, n = people_files.bind(db, args.file)
        print(f"{target}: {n} corrections bound to {db}; {HOW_TO_APPLY}")
        return 0
    if args.people_command == "export":
        ex = people_files.export(db, args.file, args.out)
        print(f"{args.out}: {len(ex.corrections)} corrections, {len(ex.faces)} faces of {db}")
        return 0
    if args.people_command == "import":
        target, report = people_files.import_(args.export, db, args.file)
        for line in report:
            print(f"  {line}")
        print(f"{target}: imported; {HOW_TO_APPLY}")
        return 0
    path = args.file or people_files.default_file(db)
    f = people_files.load(db, path)
    corrections = f.corrections
    try:
        got = store.person_faces(db)
    except duckdb.Error as exc:  # not a warehouse, or one from before stable ids
        print(
            f"error: cannot read people from {db} ({exc}); run `make build` first",
            file=sys.stderr,
        )
        return 2
    if got is None:
        print(f"error: no warehouse at {db}; run `make build` first", file=sys.stderr)
        return 2
    ids, vids, issued = got
    if args.people_command == "list":
        note = people.bind_note(f, db)
        if note:
            print(note, file=sys.stderr)
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
                f"error: unknown influencer {iid} in {db} (`ingest people list`)",
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
            f"error: no faces of video {args.video} in {db} (`ingest people show {args.id}`)",
            file=sys.stderr,
        )
        return 2
    updated = people.with_correction(corrections, new, remove=args.people_command == "unhide")
    # Edits go to the warehouse's own file (or --file), bound to it: a file from before
    # identities is bound by its first edit, and the shared one from before is left as it was.
    target = args.file or people.file_for(db)
    try:
        people_files.save(db, target, updated)
    except people.CorrectionsError as exc:
        print(f"error: not written: {exc}", file=sys.stderr)
        return 2
    if target != path:
        print(f"note: {path}'s {len(corrections)} corrections copied to {target}, bound to {db}")
    print(f"{target}: {args.people_command} {args.id} recorded; {HOW_TO_APPLY}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ingest.warehouse import store

    rows = store.person_videos(Path(args.db), args.id)
    print(f"influencer {args.id}: {len(rows)} videos")
    for vid, row, url, n in rows:
        print(f"  {vid}  row {row:>4}  {n:>4} faces  {url}")
    return 0
