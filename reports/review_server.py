"""`make review`: the built report served on this machine, taking answers from its pages.

Serves reports/build (what `make build` published) on 127.0.0.1 and prints the address. On
"Check these", on every contact-sheet face and beside each person's name the pages then show
buttons (reports/components/Answer.svelte); a click posts the answer here, which writes it to
the warehouse's corrections file (ingest.corrections.room ``edit``: the ids checked, the file
written atomically, one answer at a time), refreshes the figures (reports/refresh.py: seconds,
not a rebuild) and answers; the page then reloads with the new figures. The same site served
by any static server (`python3 -m http.server -d reports/build`) has no buttons: it shows the
commands instead, and nothing can write through it.

Writes are a door into the user's files, so every request is checked:

* the server binds to loopback unless told otherwise;
* a request whose Host is not this server's own name is refused (a DNS-rebinding page names
  its own host), reads included, since the pages carry the token;
* a write must carry the per-run token (in the pages this server sends, never in the static
  site), come from this server's own Origin, and be JSON: a page of another site can neither
  read the token nor send such a request without the browser asking this server first, which
  grants nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shlex
import socket
import sys
import threading
import time
import unicodedata
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refresh import REPO, Refresher, RefreshError

TOKEN_HEADER = "x-influencer-lens-token"
TOKEN_META = "influencer-lens-token"
MAX_BODY = 4096  # bytes: an answer is a few ids
MAX_NAME = 100  # characters
ID_MAX = 2**31 - 1
VIDEO_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
# Kinds of answer the pages send; "unhide" takes a hide back.
ACTIONS = ("merge", "apart", "split", "keep", "name", "hide", "unhide")


class BadAnswer(ValueError):
    pass


def _id(body: dict, key: str) -> int:
    v = body.get(key)
    # bool is an int in Python; JSON numbers with a fraction are floats
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= ID_MAX:
        raise BadAnswer(f"{key} must be a whole number from 1, got {v!r}")
    return v


def parse_answer(body: object):
    """A posted answer -> the Correction it writes (and whether it takes a row away); raises
    BadAnswer for anything else. The ids are checked against the warehouse when written."""
    from ingest.corrections.model import Correction

    if not isinstance(body, dict):
        raise BadAnswer("an answer is a JSON object")
    action = body.get("action")
    if action not in ACTIONS:
        raise BadAnswer(f"action must be one of {', '.join(ACTIONS)}")
    iid = _id(body, "influencer_id")
    if action in ("merge", "apart"):
        other = _id(body, "other_id")
        if other == iid:
            raise BadAnswer(f"{action} needs two different people, got {iid} twice")
        return Correction(action, iid, other_id=other), False
    if action in ("split", "keep"):
        video = body.get("video_id")
        if not isinstance(video, str) or not VIDEO_ID.match(video):
            raise BadAnswer(f"video_id must be a video id such as v_3c342edd4081, got {video!r}")
        return Correction(action, iid, video_id=video), False
    if action == "name":
        name = body.get("name")
        if not isinstance(name, str):
            raise BadAnswer("name must be text")
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise BadAnswer(f"a name has 1 to {MAX_NAME} characters")
        if any(unicodedata.category(ch)[0] == "C" for ch in name):
            raise BadAnswer("a name cannot hold control or invisible characters")
        return Correction("name", iid, name=name), False
    return Correction("hide", iid), action == "unhide"


class Review:
    """The server's state: one warehouse, its site, the token; answers one at a time."""

    def __init__(self, refresher: Refresher, port: int, host: str = "127.0.0.1"):
        self.refresher = refresher
        self.token = secrets.token_urlsafe(32)
        self.lock = threading.Lock()
        self.port = port
        names = {host, "127.0.0.1", "localhost"} if host in ("127.0.0.1", "localhost") else {host}
        self.hosts = sorted(names)
        self.origins = {f"http://{h}:{port}" for h in names}
        self.last: dict = {}

    # -- writes --------------------------------------------------------------------------
    def refused(self, request: Request) -> str | None:
        """Why a write is refused, or None."""
        if request.headers.get("origin") not in self.origins:
            return "this server takes answers only from its own pages"
        token = request.headers.get(TOKEN_HEADER, "")
        if not secrets.compare_digest(token.encode(), self.token.encode()):
            return "missing or wrong token: reload the page (the server was restarted?)"
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return "an answer is sent as application/json"
        return None

    async def answer(self, request: Request) -> Response:
        why = self.refused(request)
        if why:
            return JSONResponse({"error": why}, status_code=403)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": "answer too large"}, status_code=413)
        try:
            new, remove = parse_answer(json.loads(raw))
        except (BadAnswer, json.JSONDecodeError, UnicodeDecodeError) as exc:
            return JSONResponse({"error": f"not written: {exc}"}, status_code=400)
        from starlette.concurrency import run_in_threadpool

        status, body = await run_in_threadpool(self.write_and_refresh, new, remove)
        return JSONResponse(body, status_code=status)

    def write_and_refresh(self, new, remove: bool) -> tuple[int, dict]:
        import duckdb

        from ingest.corrections import room
        from ingest.errors import IngestError

        with self.lock:
            t0 = time.perf_counter()
            try:
                done = room.edit(self.refresher.db, None, new, remove=remove)
            except IngestError as exc:
                return 400, {"error": str(exc)}
            what = ("took back " if remove else "") + new.describe()
            try:
                r = self.refresher.refresh()
            except (RefreshError, IngestError, duckdb.Error, OSError) as exc:
                return 500, {
                    "error": f"{what} is recorded in {done.target.name}, but the figures were "
                    f"not refreshed: {exc}"
                }
            total = time.perf_counter() - t0
            self.last = {
                "answer": what,
                "file": str(done.target),
                "seconds": {k: round(v, 2) for k, v in r.seconds.items()},
                "total_s": round(total, 2),
                "influencers": r.influencers,
                "notes": r.notes,
            }
            return 200, self.last

    # -- reads ---------------------------------------------------------------------------
    def state(self, request: Request) -> Response:
        return JSONResponse({"last": self.last, "busy": self.lock.locked()})

    def page(self, request: Request) -> Response:
        site = self.refresher.site.resolve()
        rel = request.url.path.lstrip("/")
        target = (site / rel).resolve()
        if target != site and site not in target.parents:
            return Response("not found", status_code=404)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if Path(rel).suffix:  # a missing file, not an address of a page
                return Response("not found", status_code=404)
            target = site / "index.html"  # the shell: the page renders in the browser
        if target.suffix == ".html":
            text = target.read_text(encoding="utf-8")
            meta = f'<meta name="{TOKEN_META}" content="{self.token}">'
            text = text.replace("<head>", "<head>" + meta, 1)
            return Response(text, media_type="text/html", headers={"cache-control": "no-store"})
        immutable = rel.startswith("_app/immutable/")
        return FileResponse(
            target,
            headers={"cache-control": "public, max-age=31536000" if immutable else "no-store"},
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/answer", self.answer, methods=["POST"]),
                Route("/api/state", self.state, methods=["GET"]),
                Route("/{path:path}", self.page, methods=["GET", "HEAD"]),
            ],
            middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=self.hosts)],
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="make review",
        description="Serve the built report on this machine and take answers from its pages "
        "(Check these, contact sheets, names); each answer goes to the warehouse's corrections "
        "file and the figures refresh in seconds.",
    )
    ap.add_argument("--db", type=Path, default=REPO / "data" / "warehouse.duckdb")
    ap.add_argument("--report-dir", type=Path, default=REPO / "reports")
    ap.add_argument(
        "--root", type=Path, default=REPO, help="folder the warehouse's face paths are under"
    )
    ap.add_argument("--data-docs", type=Path, default=REPO / "out" / "data_docs")
    ap.add_argument(
        "--ingest-args",
        default="",
        help="the clustering flags the warehouse was built with (`make build`'s INGEST_ARGS, "
        "e.g. '--cluster-threshold 0.5'); an answer re-clusters with them",
    )
    ap.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; another address "
        "lets anyone who can reach it and opens the page answer)",
    )
    ap.add_argument("--port", type=int, default=8765, help="0 picks a free one (%(default)s)")
    args = ap.parse_args(argv)
    db = args.db.resolve()
    site = args.report_dir / "build"
    if not db.is_file():
        print(f"error: no warehouse at {db}; run `make build` first", file=sys.stderr)
        return 2
    if not (site / "index.html").is_file():
        print(f"error: no report at {site}; run `make build` (or `make report`)", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port} ({exc.strerror}); pick another "
            "with REVIEW_PORT=… (make) or --port",
            file=sys.stderr,
        )
        return 2
    # Listening before the address is printed: a browser (or a test) that opens it at once
    # waits in the backlog until uvicorn accepts, rather than being refused.
    sock.listen(128)
    port = sock.getsockname()[1]
    refresher = Refresher(
        db,
        args.report_dir.resolve(),
        args.root.resolve(),
        args.data_docs,
        shlex.split(args.ingest_args),
    )
    review = Review(refresher, port, args.host)
    import duckdb
    import uvicorn

    from ingest.errors import IngestError

    # The corrections file as it is now (answers given with the commands since the last build
    # included), and dbt parsed, before the first answer.
    print("Refreshing the figures from the corrections file first…", flush=True)
    try:
        first = refresher.refresh()
    except (RefreshError, IngestError, duckdb.Error, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"  {first.influencers} influencers, {first.total:.1f} s", flush=True)
    shown = "127.0.0.1" if args.host in ("127.0.0.1", "localhost") else args.host
    print(f"Review the report: open http://{shown}:{port}/check-these/ (Ctrl+C stops)", flush=True)
    server = uvicorn.Server(uvicorn.Config(review.app(), log_level="warning"))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
