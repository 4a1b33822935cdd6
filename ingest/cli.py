"""Command line: `ingest run`, `demo`, `recluster`, `people ...`, `sql`, `export-csv`,
`migrate-storage` (each with --help)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest import people_cli
from ingest.cli_args import db_arg
from ingest.embedders import EMBEDDERS
from ingest.errors import IngestError
from ingest.settings import Settings, available_cores


def _settings(args: argparse.Namespace) -> Settings:
    from ingest.warehouse import store  # lazily: duckdb and pandas, not for --help

    db_dir = Path(args.db).parent
    merge_ratio = args.merge_ratio
    if merge_ratio is not None and merge_ratio <= 0:
        merge_ratio = float("inf")  # 0 (or less) turns the relative merge test off
    # A warehouse keeps its embedder unless --embedder switches it (which re-extracts every
    # video): a bare `ingest recluster` must not look for another model's faces.
    return Settings().with_overrides(
        embedder=args.embedder or store.embedder_of(Path(args.db)),
        facenet_weights=args.facenet_weights or None,
        arcface_weights=args.arcface_weights or None,
        age_model_dir=args.age_model_dir or None,
        cluster_threshold=args.cluster_threshold,
        track_threshold=args.track_threshold,
        merge_ratio=merge_ratio,
        merge_within_video=args.merge_within_video,
        faceres_veto=None if args.faceres_veto is None else max(args.faceres_veto, 0.0),
        frames_per_second=args.fps,
        max_frames=args.max_frames,
        timeout_s=args.download_timeout,
        deadline_s=args.download_deadline,
        device=args.device,
        workers=args.workers,
        engine=getattr(args, "engine", "local"),
        ray_address=getattr(args, "address", None),
        retry_failed=getattr(args, "retry_failed", None) or None,
        lock_wait_s=args.lock_wait,
        cache_dir=Path(args.cache_dir) if args.cache_dir else db_dir / "cache",
        faces_dir=Path(args.faces_dir) if args.faces_dir else db_dir / "faces",
        people_file=Path(args.people) if args.people else _people_file(Path(args.db)),
    )


def recluster_settings(db: Path, argv: list[str]) -> Settings:
    """The settings `ingest recluster --db DB ARGV...` would cluster with. Flags that only
    extraction takes (``--engine``, ``--retry-failed``, ...) are ignored, so the same
    INGEST_ARGS serve `make build` and `make review`; a bad value exits as the CLI does."""
    args, _ = build_parser().parse_known_args(["recluster", "--db", str(db), *argv])
    return _settings(args)


def _people_file(db: Path) -> Path:
    from ingest.corrections.room import default_file

    return default_file(db)


def _bind_note(s: Settings, db: str) -> None:
    """After a run that applied a file from before warehouse identities: how to bind it."""
    from ingest.corrections import file, room

    if s.people_file is not None and s.people_file.is_file():
        try:
            note = room.bind_note(file.read_file(s.people_file), Path(db))
        except IngestError:
            return
        if note:
            print(note, file=sys.stderr)


def _common(p: argparse.ArgumentParser) -> None:
    d = Settings()
    db_arg(p)
    p.add_argument(
        "--embedder",
        choices=list(EMBEDDERS),
        help=f"face embedder (default: the warehouse's, else {d.embedding.embedder}; facenet and "
        "arcface need weights, see README; switching re-extracts every video). The threshold "
        "defaults below are facenet's; dlib and arcface have their own (ingest/settings.py "
        "DLIB_CLUSTER, ARCFACE_CLUSTER)",
    )
    p.add_argument(
        "--facenet-weights",
        help="InceptionResnetV1 vggface2 state_dict file (or env FACENET_WEIGHTS)",
    )
    p.add_argument(
        "--arcface-weights",
        help="ArcFace ONNX file, 112 px aligned input (or env ARCFACE_WEIGHTS; `make "
        "models-arcface` fetches InsightFace's, licensed for non-commercial research only)",
    )
    p.add_argument(
        "--device", default=d.device, help="torch device for MTCNN/facenet (default: %(default)s)"
    )
    p.add_argument(
        "--workers",
        type=int,
        help=f"parallel extraction processes, one torch thread each (default: one per core, here {available_cores()}; with --engine ray, one per CPU of the cluster)",
    )
    p.add_argument(
        "--fps",
        type=float,
        help=f"sampled frames per second (default: {d.sampling.frames_per_second})",
    )
    p.add_argument(
        "--max-frames",
        type=int,
        help="cap on sampled frames per video; long videos then get under --fps (default: none)",
    )
    p.add_argument(
        "--cluster-threshold",
        type=float,
        help=f"cosine distance to merge people across videos (default: {d.cluster.cluster_threshold})",
    )
    p.add_argument(
        "--merge-ratio",
        type=float,
        help=f"people merge only if no farther apart than this times the looser one's spread; 0 = off (default: {d.cluster.merge_ratio})",
    )
    p.add_argument(
        "--track-threshold",
        type=float,
        help=f"cosine distance to group faces within a video (default: {d.cluster.track_threshold})",
    )
    p.add_argument(
        "--merge-within-video",
        action=argparse.BooleanOptionalAction,
        help=f"let stage 2 merge two tracks of one video that never share a frame (default: {'yes' if d.cluster.merge_within_video else 'no'})",
    )
    p.add_argument(
        "--faceres-veto",
        type=float,
        help=f"cosine distance between centred faceres descriptors above which two people never merge; 0 = off (default: {d.cluster.faceres_veto:g})",
    )
    p.add_argument(
        "--age-model-dir",
        help=f"folder with faceres.json/.bin, the age and descriptor model (or env AGE_MODEL_DIR; default: {d.embedding.age_model_dir}, filled by `make models`)",
    )
    p.add_argument("--cache-dir", help="download + extraction cache (default: <db folder>/cache)")
    p.add_argument("--faces-dir", help="face thumbnails (default: <db folder>/faces)")
    p.add_argument(
        "--download-timeout",
        type=float,
        help=f"seconds without data before a download attempt gives up (default: {d.download.timeout_s:g})",
    )
    p.add_argument(
        "--download-deadline",
        type=float,
        help=f"seconds for one URL, all attempts together (default: {d.download.deadline_s:g})",
    )
    p.add_argument(
        "--lock-wait",
        type=float,
        help=f"seconds to wait for another process holding the warehouse before stopping (default: {d.lock_wait_s:g})",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--people",
        help="corrections CSV: names, merges, splits, hidden people (`ingest people --help`; default: the warehouse's own, <db>.people.csv beside it, written on the first run)",
    )


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ingest",
        description="Influencer Lens ingest: videos CSV -> faces -> influencers -> DuckDB (schema raw).",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser(
        "run",
        help="process a videos CSV into the warehouse",
        description="Read CSV (score + URL columns), download (cached), sample "
        "frames, detect, embed and cluster faces; write raw.* tables. Re-running "
        "skips videos already processed with the same settings.",
    )
    r.add_argument(
        "csv", type=Path, help="CSV with a performance column and a video URL/path column"
    )
    r.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="where extraction runs: local processes, or Ray actors, one per worker "
        "(--workers, default one per cluster CPU); needs `make install-ray` (default: %(default)s)",
    )
    r.add_argument(
        "--address",
        help="with --engine ray: the cluster to join, e.g. HEAD_IP:6379 "
        "(default: start a local Ray on this machine)",
    )
    r.add_argument(
        "--retry-failed",
        action="store_true",
        help="try again the rows whose download or decode failed on an earlier run (by default "
        "a failure recorded for the same CSV cells is kept, not fetched again)",
    )
    _common(r)
    c = sub.add_parser(
        "recluster",
        help="re-cluster faces already in the warehouse",
        description="Re-run only the clustering step (e.g. with another threshold).",
    )
    _common(c)
    d = sub.add_parser(
        "demo",
        help="synthesize a small labelled demo corpus",
        description="Compose short labelled videos from a folder of face photos "
        "(<faces>/<Identity>/*.jpg) and write <out>/videos.csv.",
    )
    d.add_argument(
        "--faces",
        type=Path,
        default=Path("../shared/faces"),
        help="face photo folders (default: %(default)s)",
    )
    d.add_argument(
        "--out", type=Path, default=Path("data/demo"), help="output folder (default: %(default)s)"
    )
    d.add_argument("--videos", type=int, default=16, help="number of videos (default: %(default)s)")
    d.add_argument("--people", type=int, default=6, help="number of people (default: %(default)s)")
    d.add_argument("--seed", type=int, default=11, help="random seed (default: %(default)s)")
    d.add_argument(
        "--min-photos",
        type=int,
        default=15,
        help="only people with this many photos, so each video shows them anew (default: %(default)s)",
    )
    e = sub.add_parser(
        "export-csv",
        help="write the influencers CSV report from the marts",
        description="After dbt: one row per influencer (id, name) with average "
        "performance, distinct videos, the representative face image path and "
        "whether the person is hidden (listed last).",
    )
    db_arg(e)
    e.add_argument(
        "--out",
        type=Path,
        default=Path("out/influencers.csv"),
        help="CSV to write (default: %(default)s)",
    )
    m = sub.add_parser(
        "migrate-storage",
        help="rewrite a warehouse so DuckDB 1.x clients open it",
        description="Warehouses written by older versions of this tool use DuckDB "
        "2.x's newest storage format, which the DuckDB CLI 1.x, DBeaver and "
        "Evidence cannot read. This rewrites such a file in the format every "
        "DuckDB >= 1.4 opens (ingest run also does it on its own).",
    )
    db_arg(m)
    q = sub.add_parser(
        "sql",
        help="query the warehouse with the face UDFs (embed_face, detect_faces)",
        description="Open the warehouse with embed_face(path) and detect_faces(path) "
        "loaded (ingest/warehouse/udf.py): run one query with -c, otherwise an interactive "
        "prompt. Face search: select influencer_id, array_cosine_similarity(centroid, "
        "embed_face('photo.jpg')) as sim from influencer_embeddings order by sim desc",
    )
    db_arg(q)
    q.add_argument(
        "-c", "--command", dest="query", help="run this SQL and exit (exit code 1 if it fails)"
    )
    q.add_argument("--write", action="store_true", help="open read-write (default: read-only)")
    people_cli.add_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "recluster":
        return _recluster(args)
    if args.command == "export-csv":
        return _export_csv(args)
    if args.command == "migrate-storage":
        return _migrate_storage(args)
    if args.command == "sql":
        return _sql(args)
    if args.command == "people":
        return people_cli.run(args)
    return _run(args)


def _demo(args) -> int:
    from ingest.demo.synth import SynthConfig, synthesize

    if not args.faces.is_dir():
        print(
            f"error: no face photos at {args.faces}. Pass VIDEOS=your.csv to make build, or "
            "point --faces (make: SHARED=...) at a folder of <Identity>/*.jpg.",
            file=sys.stderr,
        )
        return 2
    config = args.out / ".config"
    if (
        (args.out / "videos.csv").is_file()
        and config.is_file()
        and config.read_text() == repr(vars(args))
    ):
        print(f"demo corpus already in {args.out}")
        return 0
    n_two = max(1, args.videos // 8)
    n_empty = max(1, args.videos // 8)
    cfg = SynthConfig(
        n_videos=args.videos,
        n_identities=args.people,
        n_two_person=n_two,
        n_empty=n_empty,
        seed=args.seed,
        min_photos=args.min_photos,
    )
    truth = synthesize(args.faces, args.out, cfg)
    (args.out / ".config").write_text(repr(vars(args)))
    people = sorted({p for t in truth for p in t.people})
    print(
        f"demo corpus: {len(truth)} videos of {len(people)} people in {args.out} "
        f"(CSV: {args.out / 'videos.csv'}; truth: truth_videos.csv)"
    )
    return 0


def _sql(args) -> int:
    import duckdb

    from ingest.warehouse import sql_shell

    if not Path(args.db).is_file():
        print(f"error: no warehouse at {args.db}; run `make build` (or pass --db)", file=sys.stderr)
        return 2
    try:
        con = sql_shell.connect(Path(args.db), args.write)
    except duckdb.Error as exc:
        print(f"error: cannot open {args.db} ({exc})", file=sys.stderr)
        return 2
    try:
        if args.query is not None:
            return 0 if sql_shell.run_query(con, args.query, sys.stdout) else 1
        return sql_shell.interactive(con)
    finally:
        con.close()


def _export_csv(args) -> int:
    import duckdb

    from ingest.warehouse import store

    try:
        df = store.influencers_for_csv(Path(args.db))
    except duckdb.Error as exc:
        print(
            f"error: cannot read main.influencers from {args.db} ({exc}); run `make dbt` first",
            file=sys.stderr,
        )
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False)
    print(f"wrote {len(df)} influencers to {args.out}")
    return 0


def _migrate_storage(args) -> int:
    import duckdb

    from ingest.settings import WAREHOUSE_STORAGE_VERSION
    from ingest.warehouse import store

    db = Path(args.db)
    if not db.is_file():
        print(f"error: no warehouse at {db}", file=sys.stderr)
        return 2
    try:
        old = store.migrate_storage(db)
    except duckdb.Error as exc:
        print(
            f"error: cannot rewrite {db} ({exc}); if another program holds it, close that "
            "and retry",
            file=sys.stderr,
        )
        return 2
    if old:
        print(f"{db}: rewrote DuckDB storage format {old} as {WAREHOUSE_STORAGE_VERSION}")
    else:
        print(f"{db}: already in a format DuckDB >= 1.4 opens ({store.storage_version(db)})")
    return 0


def _recluster(args) -> int:
    from ingest.pipeline.runner import recluster_warehouse

    s = _settings(args)
    try:
        n, k, u, stale, notes = recluster_warehouse(Path(args.db), s)
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{n} faces -> {k} influencers ({u} faces unassigned)")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    _print_stale(stale)
    _bind_note(s, args.db)
    return 0


def _print_stale(stale: list[str]) -> None:
    if stale:
        print(f"  {len(stale)} corrections kept but matching nothing now:")
        for line in stale:
            print(f"    {line}")


def _run(args) -> int:
    from ingest.pipeline.runner import run

    s = _settings(args)
    try:
        summary = run(args.csv, Path(args.db), s, progress=not args.no_progress)
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Downloads and extractions done so far are cached; the warehouse is written in
        # transactions, so a re-run picks up from here.
        print("interrupted: run again to continue (finished downloads are cached)", file=sys.stderr)
        return 130
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    print_summary(summary, args.db)
    _print_stale(summary.stale_corrections)
    _bind_note(s, args.db)
    if summary.stopped:
        print(f"error: {summary.stopped}", file=sys.stderr)
        return 2
    return 0


def print_summary(sm, db: str) -> None:
    from ingest.warehouse.store import STATUSES

    st = sm.statuses
    print()
    print(f"Ingested {sm.n_rows} CSV rows into {db}")
    print("  " + ", ".join(f"{k}: {st.get(k, 0)}" for k in STATUSES))
    if sm.partial:
        shown = ", ".join(f"row {r} {share:.0%}" for r, share in sm.partial[:8])
        print(
            f"  {len(sm.partial)} videos decoded only in part, kept (raw.videos.decoded_share): "
            f"{shown}{' ...' if len(sm.partial) > 8 else ''}"
        )
    print(
        f"  faces: {sm.n_faces} -> influencers: {sm.n_influencers} "
        f"({sm.n_unassigned_faces} faces left unassigned); unchanged videos skipped: {sm.n_skipped}"
    )
    if sm.n_failed_kept:
        print(
            f"  {sm.n_failed_kept} rows failed on an earlier run and were not tried again "
            "(--retry-failed tries them)"
        )
    if sm.timings:
        print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(sm.timings.items())))
    if sm.failures:
        reasons: dict[tuple[str, str], list[int]] = {}
        for row, status, reason in sm.failures:
            reasons.setdefault((status, reason), []).append(row)
        print(f"  {len(sm.failures)} rows not processed (reason: rows):")
        for (status, reason), rows in sorted(reasons.items(), key=lambda kv: -len(kv[1]))[:10]:
            shown = ", ".join(map(str, rows[:8])) + (" ..." if len(rows) > 8 else "")
            print(f"    [{status}] {reason}: {len(rows)} ({shown})")
        if len(reasons) > 10:
            print(f"    ... {len(reasons) - 10} more reasons; see raw.videos.error")
