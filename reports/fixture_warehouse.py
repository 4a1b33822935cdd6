"""A small stand-in warehouse with the mart tables of docs/warehouse.md, for report tests and demos.

Four influencers (real face photos copied from a faces folder such as ../shared/faces; two named
by hand, one hidden), twelve videos (ok, no_faces, download_failed, rejected), one video with two
influencers, regression tables and a few quality results. Everything is written under --root, nothing into the repository.

Run: .venv/bin/python reports/fixture_warehouse.py --root /tmp/fx --faces ../shared/faces
then: make report DB=/tmp/fx/warehouse.duckdb FACES_ROOT=/tmp/fx
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

# influencer_id -> (identity folder in the faces folder, photo file name)
PEOPLE = {
    1: ("Barack_Obama", "ageitgey_obama_small.jpg"),
    2: ("Angelina_Jolie", "lfw_Angelina_Jolie_0007.jpg"),
    3: ("George_Clooney", "lfw_George_Clooney_0008.jpg"),
    4: ("Elton_John", "5celeb_makfordead_train_01.jpg"),
}
# Names given by hand (ingest people name); the rest get the default "Person <id>".
GIVEN_NAMES = {1: "Barack Obama", 3: "George Clooney"}
HIDDEN = {4}  # ingest people hide: listed on its own page, never ranked
EXPECTED_NAMES = [GIVEN_NAMES.get(i, f"Person {i}") for i in PEOPLE]

# video rows: (row_number, status, error, score, duration, w, h, influencers [(id, role)])
VIDEOS = [
    (1, "ok", None, 0.91, 15.0, 1080, 1920, [(1, "lead")]),
    (2, "ok", None, 0.74, 22.0, 1080, 1920, [(1, "lead")]),
    (3, "ok", None, 0.66, 30.0, 1920, 1080, [(1, "lead"), (2, "co-star")]),
    (4, "ok", None, 0.83, 12.0, 1080, 1920, [(1, "lead")]),
    (5, "ok", None, 0.41, 18.0, 1080, 1080, [(2, "lead")]),
    (6, "ok", None, 0.52, 25.0, 1080, 1920, [(2, "lead")]),
    (7, "ok", None, 0.35, 9.0, 1080, 1920, [(3, "lead")]),
    (8, "ok", None, 0.48, 40.0, 1920, 1080, [(3, "lead")]),
    (9, "no_faces", None, 0.22, 11.0, 1080, 1920, []),
    (10, "download_failed", "HTTP 404 Not Found", 0.60, None, None, None, []),
    (11, "rejected", "performance score is not numeric: 'n/a'", None, None, None, None, []),
    (12, "ok", None, 0.95, 14.0, 1080, 1920, [(4, "lead")]),
]


def build(root: Path, faces_src: Path, db_name: str = "warehouse.duckdb") -> Path:
    """Write `root/db_name` and `root/data/faces/*.jpg`; returns the DuckDB path."""
    root.mkdir(parents=True, exist_ok=True)
    face_dir = root / "data" / "faces"
    face_dir.mkdir(parents=True, exist_ok=True)
    face_paths = {}
    for iid, (person, photo) in PEOPLE.items():
        rel = Path("data") / "faces" / f"{person}.jpg"
        shutil.copyfile(faces_src / person / photo, root / rel)
        face_paths[iid] = rel.as_posix()

    db = root / db_name
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA quality")
    con.execute("""CREATE TABLE videos (video_id VARCHAR PRIMARY KEY, row_number INTEGER,
        source_url VARCHAR, status VARCHAR, error VARCHAR, performance_score DOUBLE,
        duration_s DOUBLE, width INTEGER, height INTEGER, orientation VARCHAR, n_faces INTEGER,
        n_influencers INTEGER, lead_influencer_id INTEGER)""")
    con.execute("""CREATE TABLE influencer_videos (influencer_id INTEGER, video_id VARCHAR,
        row_number INTEGER, source_url VARCHAR, performance_score DOUBLE, n_faces INTEGER,
        seconds_on_screen DOUBLE, screen_share DOUBLE, face_height_ratio DOUBLE, role VARCHAR)""")
    for rn, status, error, score, dur, w, h, infl in VIDEOS:
        vid = f"v_fixture{rn:04d}"
        # Mostly URLs; one local path, as the demo corpus has (must not become a site link).
        url = f"videos/clip{rn}.mp4" if rn == 9 else f"https://videos.example.com/clip{rn}"
        orient = (
            None if w is None else ("vertical" if h > w else "horizontal" if w > h else "square")
        )
        n_faces = 6 * len(infl)
        lead = next((i for i, r in infl if r == "lead"), None)
        con.execute(
            "INSERT INTO videos VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                vid,
                rn,
                url,
                status,
                error,
                score,
                dur,
                w,
                h,
                orient,
                n_faces if status in ("ok", "no_faces") else None,
                len(infl),
                lead,
            ],
        )
        for iid, role in infl:
            secs = round(dur * (0.8 if role == "lead" else 0.3), 2)
            con.execute(
                "INSERT INTO influencer_videos VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    iid,
                    vid,
                    rn,
                    url,
                    score,
                    6,
                    secs,
                    secs / dur,
                    0.35 if role == "lead" else 0.15,
                    role,
                ],
            )

    con.execute(f"""CREATE TABLE influencers AS
        WITH s AS (
          SELECT influencer_id, count(DISTINCT video_id) AS n_videos, sum(n_faces) AS n_faces,
                 sum(seconds_on_screen) AS seconds_on_screen,
                 avg(screen_share) AS screen_share,
                 avg(performance_score) AS avg_performance,
                 median(performance_score) AS median_performance,
                 stddev_samp(performance_score) AS std_performance,
                 min(performance_score) AS min_performance,
                 max(performance_score) AS max_performance,
                 arg_min(video_id, row_number) AS first_video_id,
                 arg_max(video_id, row_number) AS last_video_id
          FROM influencer_videos GROUP BY 1)
        SELECT influencer_id,
               CASE influencer_id {" ".join(f"WHEN {i} THEN '{n}'" for i, n in GIVEN_NAMES.items())}
               ELSE 'Person ' || influencer_id END AS influencer_name,
               influencer_id IN ({", ".join(map(str, HIDDEN)) or "NULL"}) AS is_hidden,
               n_videos, n_faces,
               seconds_on_screen, screen_share, avg_performance, median_performance,
               std_performance, min_performance, max_performance,
               avg_performance - 1.645 * coalesce(std_performance, 0.2) / sqrt(n_videos)
                 AS ci90_low,
               avg_performance + 1.645 * coalesce(std_performance, 0.2) / sqrt(n_videos)
                 AS ci90_high,
               0.6 + (avg_performance - 0.6) * n_videos / (n_videos + 2.0)
                 AS shrunk_avg_performance,
               0 AS performance_rank, first_video_id, last_video_id,
               n_videos AS n_scored_videos, n_videos AS n_lead_videos,
               0.6 AS prior_mean_performance,
               avg_performance - 1.645 * coalesce(std_performance, 0.2) / sqrt(n_videos) > 0.6
                 AS beats_average_consistently,
               first_video_id || '_f0_0' AS representative_face_id,
               CASE influencer_id {" ".join(f"WHEN {i} THEN '{p}'" for i, p in face_paths.items())}
               END AS representative_face_path
        FROM s""")
    con.execute("""UPDATE influencers SET performance_rank = r.rk FROM (
        SELECT influencer_id, row_number() OVER (ORDER BY shrunk_avg_performance DESC) AS rk
        FROM influencers WHERE NOT is_hidden) r
        WHERE influencers.influencer_id = r.influencer_id""")
    con.execute("UPDATE influencers SET performance_rank = NULL WHERE is_hidden")

    con.execute("""CREATE TABLE regression_features AS
        SELECT v.video_id, v.performance_score, 0.6 AS lead_loo_mean,
               greatest(coalesce(i.n_videos, 1) - 1, 0) AS lead_n_other_videos, v.n_influencers,
               0.5 AS screen_share, 0.3 AS face_height_ratio, v.duration_s,
               CAST(v.orientation = 'vertical' AS INTEGER) AS is_vertical
        FROM videos v LEFT JOIN influencers i ON i.influencer_id = v.lead_influencer_id
        WHERE v.status IN ('ok', 'no_faces') AND v.performance_score IS NOT NULL""")
    con.execute("""CREATE TABLE regression_results AS
        SELECT video_id, performance_score,
               0.6 + 0.7 * (performance_score - 0.6) AS predicted,
               0.6 AS baseline_predicted, (row_number() OVER (ORDER BY video_id)) % 3 AS fold
        FROM regression_features""")
    con.execute("""CREATE TABLE regression_metrics AS SELECT * FROM (VALUES
        ('model', 9, 3, 0.41, 0.09, 'ridge on standardized features'),
        ('baseline', 9, 3, -0.08, 0.15, 'mean of the training folds'))
        t(model, n_videos, n_folds, cv_r2, cv_mae, note)""")
    con.execute("""CREATE TABLE regression_coefficients AS SELECT * FROM (VALUES
        ('lead_loo_mean', 0.12, 0.04), ('lead_n_other_videos', 0.03, 0.05),
        ('n_influencers', -0.02, 0.06), ('screen_share', 0.05, 0.05),
        ('face_height_ratio', 0.01, NULL), ('duration_s', -0.04, 0.03),
        ('is_vertical', 0.06, 0.04)) t(feature, coefficient, std_error)""")
    con.execute("""CREATE TABLE quality.dbt_results AS SELECT * FROM (VALUES
        ('model.influencer_lens.influencers', 'model', 'success', 'OK', 0),
        ('test.influencer_lens.unique_influencers_influencer_id', 'test', 'pass', NULL, 0),
        ('test.influencer_lens.not_null_videos_video_id', 'test', 'pass', NULL, 0),
        ('test.influencer_lens.screen_share_in_range', 'test', 'warn', 'Got 1 result', 1))
        t(unique_id, resource_type, status, message, failures)""")
    con.execute("""CREATE TABLE quality.gx_results AS SELECT suite, table_name, check_name,
        expectation, column_name, success, severity, observed, NULL::VARCHAR AS kwargs,
        TIMESTAMP '2025-01-01 12:00:00' AS run_at FROM (VALUES
        ('marts', 'influencers', 'influencer id unique', 'expect_column_values_to_be_unique',
         'influencer_id', true, 'critical', '0'),
        ('marts', 'influencers', 'screen share in [0, 1]', 'expect_column_values_to_be_between',
         'screen_share', true, 'critical', '0 unexpected'),
        ('raw', 'videos', 'known statuses', 'expect_column_values_to_be_in_set', 'status', true,
         'critical', '0 unexpected'),
        ('marts', 'videos', 'ok videos with faces have an influencer',
         'expect_column_values_to_not_be_null', 'lead_influencer_id', false, 'warning',
         '1 unexpected'))
        t(suite, table_name, check_name, expectation, column_name, success, severity,
          observed)""")
    con.close()
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        required=True,
        help="folder to write warehouse.duckdb and data/faces/ into; pass it as "
        "export_warehouse.py --root",
    )
    parser.add_argument(
        "--faces",
        type=Path,
        default=Path("../shared/faces"),
        help="folder of <Identity>/*.jpg photos (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    print(build(args.root, args.faces))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
