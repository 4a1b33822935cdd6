from pathlib import Path

import pytest

from ingest.pipeline.csvin import CsvError, find_columns, parse_score, read_videos_csv


@pytest.mark.parametrize(
    "header, expected",
    [
        (["Performance", "Video URL"], (0, 1)),
        (["video_url", "performance score"], (1, 0)),
        (["URL", "Score"], (1, 0)),
        (["path", " PERFORMANCE "], (1, 0)),
        (["Video_URL"], (None, 0)),
    ],
)
def test_find_columns_is_case_space_underscore_insensitive(header, expected):
    assert find_columns(header) == expected


def test_missing_url_column_is_a_clear_error():
    with pytest.raises(CsvError, match="no video URL column"):
        find_columns(["Performance", "Title"])


@pytest.mark.parametrize(
    "text, value",
    [
        ("1.5", 1.5),
        (" 2 ", 2.0),
        ("1,25", 1.25),
        ("abc", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("inf", None),
        ("-0.5", -0.5),
    ],
)
def test_parse_score(text, value):
    assert parse_score(text) == value


def test_bad_rows_are_kept_with_reasons(tmp_path: Path):
    csv = tmp_path / "v.csv"
    csv.write_text(
        "Performance,Video URL\n"
        "1.0,http://x/a\n"
        "oops,http://x/b\n"
        "2.0,\n"
        "3.0,http://x/a\n"
        "\n"
        "4.0,http://x/c\n"
    )
    rows = read_videos_csv(csv)
    assert [r.row_number for r in rows] == [1, 2, 3, 4, 6]
    by_row = {r.row_number: r for r in rows}
    assert by_row[1].reject_reason is None and by_row[1].performance_score == 1.0
    assert "not a number" in by_row[2].reject_reason
    assert by_row[3].reject_reason == "missing video URL" and by_row[3].video_id == "row_3"
    assert by_row[4].reject_reason == "duplicate URL: same as row 1"
    assert by_row[4].video_id == by_row[1].video_id + "_dup1"
    assert len({r.video_id for r in rows}) == len(rows)
    assert by_row[6].reject_reason is None


def test_ids_are_stable_across_reads(tmp_path: Path):
    csv = tmp_path / "v.csv"
    csv.write_text("score;url\n1;a.mp4\n2;b.mp4\n")
    assert [r.video_id for r in read_videos_csv(csv)] == [r.video_id for r in read_videos_csv(csv)]
    assert [r.performance_score for r in read_videos_csv(csv)] == [1.0, 2.0]


def test_real_dataset_header(shared):
    rows = read_videos_csv(shared / "datasets" / "fuelgrowth_videos.csv")
    assert len(rows) == 268
    assert all(r.source_url.startswith("https://") for r in rows)
