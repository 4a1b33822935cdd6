"""reports/review_server.py's door (fast, no browser): what a posted answer may hold, and who
may post one. The real server (uvicorn, on a free loopback port) in front of a warehouse whose
corrections file must stay byte for byte as it was after every refused request."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import load_report_module

review_server = load_report_module("review_server")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"action": "delete", "influencer_id": 1},
        {"action": "merge", "influencer_id": 1},
        {"action": "merge", "influencer_id": 1, "other_id": 1},
        {"action": "merge", "influencer_id": True, "other_id": 2},
        {"action": "merge", "influencer_id": 1.5, "other_id": 2},
        {"action": "merge", "influencer_id": "1", "other_id": 2},
        {"action": "apart", "influencer_id": 0, "other_id": 2},
        {"action": "apart", "influencer_id": 2**31, "other_id": 2},
        {"action": "split", "influencer_id": 1, "video_id": "../../etc/passwd"},
        {"action": "keep", "influencer_id": 1, "video_id": "v 1; rm"},
        {"action": "keep", "influencer_id": 1},
        {"action": "name", "influencer_id": 1, "name": ""},
        {"action": "name", "influencer_id": 1, "name": "   "},
        {"action": "name", "influencer_id": 1, "name": "x" * 101},
        {"action": "name", "influencer_id": 1, "name": "Ann\u200bLee"},
        {"action": "name", "influencer_id": 1, "name": 7},
    ],
)
def test_a_malformed_answer_is_refused(body):
    with pytest.raises(review_server.BadAnswer):
        review_server.parse_answer(body)


def test_answers_become_the_rows_the_commands_write():
    p = review_server.parse_answer
    c, remove = p({"action": "merge", "influencer_id": 3, "other_id": 7})
    assert (c.describe(), remove) == ("merge 3 7", False)
    c, _ = p({"action": "keep", "influencer_id": 3, "video_id": "v_3c342edd4081"})
    assert c.describe() == "keep 3 --video v_3c342edd4081"
    c, _ = p({"action": "name", "influencer_id": 3, "name": "  Ana   Lima "})
    assert c.name == "Ana Lima"
    c, _ = p({"action": "name", "influencer_id": 3, "name": "Ana\u2028Lima\n"})
    assert c.name == "Ana Lima"  # line breaks are spaces: the file keeps one row a line
    c, remove = p({"action": "unhide", "influencer_id": 3})
    assert (c.describe(), remove) == ("hide 3", True)


@contextlib.contextmanager
def serving(review) -> Iterator[None]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", review.port))
    server = uvicorn.Server(uvicorn.Config(review.app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def door(tmp_path) -> Iterator[tuple]:
    site = tmp_path / "reports" / "build"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><html><head><title>x</title></head></html>")
    db = tmp_path / "w.duckdb"
    db.write_bytes(b"not opened: every request here is refused before")
    people = tmp_path / "w.people.csv"
    people.write_text("action,influencer_id,other_id,video_id,name,face,other_face\n")
    refresher = review_server.Refresher(db, tmp_path / "reports")
    review = review_server.Review(refresher, _free_port())
    with serving(review):
        yield review, people, people.read_bytes()


def _request(review, method, path, headers, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", review.port, timeout=10)
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    out = res.status, res.read().decode()
    conn.close()
    return out


def test_the_page_carries_the_token_and_a_foreign_host_gets_nothing(door):
    review, _, _ = door
    status, text = _request(review, "GET", "/check-these/", {"Host": f"127.0.0.1:{review.port}"})
    assert status == 200 and review.token in text  # the shell, for an address of a page
    # DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 asks with its
    # own host name, and would read the token from the page.
    status, text = _request(review, "GET", "/", {"Host": f"evil.example:{review.port}"})
    assert status == 400 and review.token not in text
    status, _ = _request(review, "GET", "/../w.people.csv", {"Host": f"127.0.0.1:{review.port}"})
    assert status == 404


def test_writes_without_the_token_or_from_another_origin_are_refused(door):
    review, people, before = door
    host = f"127.0.0.1:{review.port}"
    body = json.dumps({"action": "name", "influencer_id": 1, "name": "Mallory"})
    good = {
        "Host": host,
        "Origin": f"http://{host}",
        "Content-Type": "application/json",
        review_server.TOKEN_HEADER: review.token,
    }
    cases = [
        {k: v for k, v in good.items() if k != review_server.TOKEN_HEADER},  # no token
        {**good, review_server.TOKEN_HEADER: "guess"},  # a wrong one
        {**good, "Origin": "http://evil.example"},  # another site's page
        {**good, "Origin": f"http://127.0.0.1:{review.port + 1}"},  # another local server
        {k: v for k, v in good.items() if k != "Origin"},  # no origin at all
        {**good, "Content-Type": "text/plain"},  # what a form can send
        {
            **good,
            "Host": f"evil.example:{review.port}",
            "Origin": f"http://evil.example:{review.port}",
        },
    ]
    for headers in cases:
        status, text = _request(review, "POST", "/api/answer", headers, body)
        assert status in (400, 403), (headers, status, text)
        assert people.read_bytes() == before
