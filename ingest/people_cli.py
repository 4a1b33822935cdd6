"""`ingest people ...`: list people, answer "Check these", and write a warehouse's corrections
file (ingest/corrections/: the file, what rows mean, and the warehouse side in room.py).

Each warehouse has its own file, `<db>.people.csv` beside it, bound to it by the warehouse's
identity on its first line, each row anchored on the faces it is about. Each command edits only
the file; the next `make build` (or `ingest recluster` then `make dbt`) applies it, so a
correction is reviewable in git before it changes anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.cli_args import db_arg
from ingest.errors import IngestError

HOW_TO_APPLY = "apply it with `make build` (or `ingest recluster` and `make dbt`)"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "people",
        help="list people; name, merge, split, hide them; answer Check these; bind, export, import",
        description="People are influencers with stable ids. These commands write "
        "the warehouse's corrections file (<db>.people.csv beside it, a CSV you can edit "
        f"and review, bound to that warehouse by its first line); {HOW_TO_APPLY}. "
        'Answers to "Check these": maybe the same person -> `merge A B` (same) or `apart A B` '
        "(different); maybe two people -> `split A --video V` or `keep A --video V` (one "
        "person). `answers` lists them and takes one back.",
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
    c = cmd("show", "one person's videos (video ids for `people split` and `keep`)")
    c.add_argument("id", type=int, help="influencer id")
    c = cmd("name", "give a person a name (replaces an earlier one)")
    c.add_argument("id", type=int, help="influencer id")
    c.add_argument("name", help="the name, quoted if it has spaces")
    c = cmd("merge", "same person: one person seen as two, OTHER_ID's videos become ID's")
    c.add_argument("id", type=int, help="influencer id that stays")
    c.add_argument("other_id", type=int, help="influencer id merged into it")
    c = cmd(
        "apart",
        "different people: ID and OTHER_ID never merge, and the pair is not suggested again",
    )
    c.add_argument("id", type=int, help="influencer id")
    c.add_argument("other_id", type=int, help="the other influencer id")
    c = cmd(
        "split",
        "someone else: a video wrongly given to a person; its faces of ID form or join another "
        "person",
    )
    c.add_argument("id", type=int, help="influencer id")
    c.add_argument("--video", required=True, help="video_id (see `ingest people show ID`)")
    c = cmd(
        "keep",
        "one person: the video's faces of ID are ID, they stay together, and the video is not "
        "suggested again",
    )
    c.add_argument("id", type=int, help="influencer id")
    c.add_argument("--video", required=True, help="video_id (see `ingest people show ID`)")
    c = cmd("hide", "keep a person (crew, bystander) out of rankings; still listed")
    c.add_argument("id", type=int, help="influencer id")
    c = cmd("unhide", "rank a hidden person again")
    c.add_argument("id", type=int, help="influencer id")
    c = cmd(
        "answers",
        "list the answers in force (merge, apart, split, keep), numbered; --undo N takes one back",
    )
    c.add_argument(
        "--undo", type=int, metavar="N", help="take back answer N: the question is open again"
    )
    cmd(
        "bind",
        "bind a corrections file to this warehouse: one from before warehouse identities, or "
        "one whose `# warehouse:` line an editor dropped (checked against the warehouse first; "
        "without --file: the warehouse's own, else dbt_project/seeds/people.csv, written to "
        "the warehouse's own)",
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
    import duckdb

    try:
        return _run(args)
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:  # not a warehouse, or one from before stable ids
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"error: cannot read people from {args.db} ({first}); run `make build` first, or "
            "close what holds it",
            file=sys.stderr,
        )
        return 2


def _run(args: argparse.Namespace) -> int:
    from ingest.corrections import room
    from ingest.corrections.model import Correction

    db = Path(args.db)
    command = args.people_command
    if command == "bind":
        target, n = room.bind(db, args.file)
        print(f"{target}: {n} corrections bound to {db}; {HOW_TO_APPLY}")
        return 0
    if command == "export":
        ex = room.export(db, args.file, args.out)
        print(f"{args.out}: {len(ex.corrections)} corrections, {len(ex.faces)} faces of {db}")
        return 0
    if command == "import":
        target, report = room.import_(args.export, db, args.file)
        for line in report:
            print(f"  {line}")
        print(f"{target}: imported; {HOW_TO_APPLY}")
        return 0
    if command == "answers":
        return _answers(args, db)
    if command == "show":
        return _show(args)
    if command == "list":
        rows, ledger = room.people(db, args.file)
        note = room.bind_note(ledger.file, db)
        if note:
            print(note, file=sys.stderr)
        print(f"{'id':>4}  {'name':<28} {'videos':>6} {'faces':>6}  hidden")
        for p in rows:
            print(
                f"{p.influencer_id:>4}  {p.name:<28} {p.n_videos:>6} {p.n_faces:>6}  "
                f"{'yes' if p.hidden else ''}"
            )
        return 0
    new = {
        "name": lambda: Correction("name", args.id, name=args.name.strip()),
        "merge": lambda: Correction("merge", args.id, other_id=args.other_id),
        "apart": lambda: Correction("apart", args.id, other_id=args.other_id),
        "split": lambda: Correction("split", args.id, video_id=args.video),
        "keep": lambda: Correction("keep", args.id, video_id=args.video),
        "hide": lambda: Correction("hide", args.id),
        "unhide": lambda: Correction("hide", args.id),
    }[command]()
    if new.other_id == new.influencer_id:
        print(f"error: {command} needs two different ids, got {args.id} twice", file=sys.stderr)
        return 2
    done = room.edit(db, args.file, new, remove=command == "unhide")
    _edited(done, db)
    print(f"{done.target}: {command} {args.id} recorded; {HOW_TO_APPLY}")
    return 0


def _edited(done, db: Path) -> None:
    if done.note:
        print(f"note: {done.note}")
    if done.target != done.source:
        print(
            f"note: {done.source}'s {done.n_before} corrections copied to {done.target}, "
            f"bound to {db}"
        )


def _answers(args: argparse.Namespace, db: Path) -> int:
    from ingest.corrections import room

    if args.undo is not None:
        c, done = room.undo(db, args.file, args.undo)
        _edited(done, db)
        print(f"{done.target}: answer {args.undo} ({c.describe()}) taken back; {HOW_TO_APPLY}")
        return 0
    listed = room.answers(db, args.file)
    if not listed:
        print("no answers yet (`ingest people --help` lists them)")
        return 0
    words = {
        "merge": "same person",
        "apart": "different people",
        "split": "someone else in the video",
        "keep": "one person",
    }
    for k, c in listed:
        print(f"{k:>4}  {words[c.action]:<26} {c.describe()}")
    print(f"undo one with `ingest people answers --undo N --db {db}`")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ingest.warehouse import store

    if not Path(args.db).is_file():
        print(f"error: no warehouse at {args.db}; run `make build` first", file=sys.stderr)
        return 2
    rows = store.person_videos(Path(args.db), args.id)
    print(f"influencer {args.id}: {len(rows)} videos")
    for vid, row, url, n in rows:
        print(f"  {vid}  row {row:>4}  {n:>4} faces  {url}")
    return 0
