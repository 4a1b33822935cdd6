"""The corrections file survives the editors people use (issue #51): each way a spreadsheet or
editor saves the same corrections reads as the same rows, a write keeps the format it found,
and every failure is one line naming the file and line. The same cases with the real models,
through `ingest run`, are in tests/test_hostile.py (`make reliability`)."""

from __future__ import annotations

import os

import pytest

from ingest.corrections import file as cfile
from ingest.corrections import model
from ingest.textfile import TextFormat

WID = "0b3c2d4e-1111-4222-8333-944455556666"
ROWS = [
    ("name", "1", "", "", "José Müller"),
    ("name", "2", "", "", 'Ana "the host", Lda'),
    ("hide", "3", "", "", ""),
]
EXPECTED = [("name", 1, "José Müller"), ("name", 2, 'Ana "the host", Lda'), ("hide", 3, None)]


def _csv(rows, sep=",", quote_all=False, header=model.OLD_FIELDS) -> str:
    def cell(c: str) -> str:
        if quote_all or any(ch in c for ch in f'{sep}"\n'):
            return '"' + c.replace('"', '""') + '"'
        return c

    return "\n".join(sep.join(cell(c) for c in r) for r in [header, *rows]) + "\n"


def _bound(body: str) -> str:
    return cfile.identity_line(WID) + "\n" + body


def _got(f: cfile.CorrectionsFile):
    return [(c.action, c.influencer_id, c.name) for c in f.corrections]


SAVED = {
    # name: (bytes, binding expected)
    "UTF-8, CRLF": (_bound(_csv(ROWS)).replace("\n", "\r\n").encode(), WID),
    "cp1252 (Windows spreadsheet)": (_bound(_csv(ROWS)).encode("cp1252"), WID),
    "UTF-16": (_bound(_csv(ROWS)).encode("utf-16"), WID),
    "UTF-16 LE without a mark": (_bound(_csv(ROWS)).encode("utf-16-le"), WID),
    "UTF-8 with a byte-order mark": (_bound(_csv(ROWS)).encode("utf-8-sig"), WID),
    "semicolons (European spreadsheet)": (_bound(_csv(ROWS, ";")).encode("cp1252"), WID),
    "semicolons, binding line lost": (_csv(ROWS, ";").encode("utf-8"), None),
    "every cell quoted, binding a quoted first cell padded to the width": (
        (
            f'"{cfile.identity_line(WID)}","","","",""\r\n'
            + _csv(ROWS, quote_all=True).replace("\n", "\r\n")
        ).encode("utf-8-sig"),
        WID,
    ),
    "tabs": (_bound(_csv(ROWS, "\t")).encode(), WID),
    "a trailing empty line and an empty row in the middle": (
        _bound(_csv(ROWS)).replace("\nhide", "\n,,,,\n\nhide").encode() + b"\n\n",
        WID,
    ),
    "rows padded with empty cells": (
        _bound("".join(line + ",,\n" for line in _csv(ROWS).splitlines())).encode(),
        WID,
    ),
    "anchored (seven columns)": (
        _bound(_csv([(*r, "v_f1_0", "") for r in ROWS], header=model.FIELDS)).encode(),
        WID,
    ),
}


@pytest.mark.parametrize("case", list(SAVED))
def test_every_way_of_saving_reads_the_same_corrections(case, tmp_path):
    data, binding = SAVED[case]
    path = tmp_path / "w.people.csv"
    path.write_bytes(data)
    f = cfile.read_file(path)
    assert _got(f) == EXPECTED, case
    assert f.warehouse_id == binding


@pytest.mark.parametrize(
    "case, encoding, sep, newline",
    [
        ("UTF-8, CRLF", "utf-8", ",", "\r\n"),
        ("cp1252 (Windows spreadsheet)", "cp1252", ",", "\n"),
        ("UTF-16", "utf-16", ",", "\n"),
        ("UTF-8 with a byte-order mark", "utf-8-sig", ",", "\n"),
        ("semicolons (European spreadsheet)", "cp1252", ";", "\n"),
    ],
)
def test_a_write_keeps_the_format_it_found(case, encoding, sep, newline, tmp_path):
    path = tmp_path / "w.people.csv"
    path.write_bytes(SAVED[case][0])
    f = cfile.read_file(path)
    assert f.fmt == TextFormat(encoding, newline, sep)
    rows = model.with_correction(f.corrections, model.Correction("name", 4, name="Zoë"))
    assert cfile.write_file(path, rows, f.warehouse_id) is None
    again = cfile.read_file(path)
    assert again.fmt == f.fmt and again.warehouse_id == WID
    assert _got(again) == [*EXPECTED, ("name", 4, "Zoë")]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert (b"\r\n" in raw.replace(b"\x00", b"")) == (newline == "\r\n")


def test_a_name_its_encoding_cannot_hold_is_written_as_utf8_and_said_once(tmp_path):
    path = tmp_path / "w.people.csv"
    path.write_bytes(SAVED["cp1252 (Windows spreadsheet)"][0])
    f = cfile.read_file(path)
    name = "李小龍 🙂 Zoë"
    rows = model.with_correction(f.corrections, model.Correction("name", 5, name=name))
    note = cfile.write_file(path, rows, WID)
    assert note is not None and "Windows-1252" in note and "UTF-8 with a byte-order mark" in note
    again = cfile.read_file(path)
    assert again.fmt.encoding == "utf-8-sig" and ("name", 5, name) in _got(again)
    assert cfile.write_file(path, again.corrections, WID) is None  # said once


def test_a_crash_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.people.csv"
    path.write_bytes(SAVED["UTF-16"][0])
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        cfile.write_file(path, [model.Correction("hide", 9)], WID)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.people.csv"]  # no leftovers


@pytest.mark.parametrize(
    "data, message",
    [
        (bytes(range(256)) * 16, "the file is binary, not text"),
        (
            ("\u200b" + _bound(_csv(ROWS))).encode(),
            "1: a first line starting with # must be `# warehouse: <id>` (a zero-width space",
        ),
        (
            _bound(_csv(ROWS, header=("action", "influencer\u00a0id", *model.OLD_FIELDS[2:]))),
            "2: a non-breaking space in the header cell",
        ),
        (_bound(_csv([("name", "1\u00a02", "", "", "Ana")])), "3: a non-breaking space inside"),
        (_bound(_csv([("name", "1", "", "", "Ana", "x", "y", "z")])), "3: expected 5 fields"),
        (_bound("id;name\n1;Ana\n"), "2: header must be action,influencer_id"),
        (_bound(_csv([("rename", "1", "", "", "Ana")])), "3: unknown action 'rename'"),
        (
            _bound(_csv([], header=model.FIELDS) + "name,3,,,Smith, John\n"),
            "3: 'John' is not a face id",
        ),
    ],
)
def test_failures_are_one_line_with_file_and_line(data, message, tmp_path):
    path = tmp_path / "w.people.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(model.CorrectionsError) as exc:
        cfile.read_file(path)
    text = str(exc.value)
    assert text.startswith((f"{path}:{message}", f"{path}: {message}")), text
    assert "\n" not in text
