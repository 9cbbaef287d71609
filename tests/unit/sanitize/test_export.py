"""Capture exchanges as HAR entries: what the HAR reader reads back is what the capture held."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from stickyforensics.ingest.har import read_har
from stickyforensics.model import BodyInfo, Endpoint, Timing
from stickyforensics.sanitize import har_io
from stickyforensics.sanitize.export import capture_entries, har_frame, transaction_entry
from tests.conftest import treq, tresp, ttx


def _tx():  # type: ignore[no-untyped-def]
    request = replace(
        treq(
            "POST",
            "http://127.0.0.2:8080/login?next=%2Fapp",
            [("Host", "127.0.0.2:8080"), ("Cookie", "SERVERID=web1; sid=abc"), ("Content-Type", "text/plain")],
        ),
        body=BodyInfo(size=5000, prefix=b"hello", complete=True),
    )
    response = replace(
        tresp(
            302,
            [
                ("Set-Cookie", "SERVERID=web2; path=/; HttpOnly"),
                ("Set-Cookie", "sid=def; Expires=Thu, 01 Jan 2037 00:00:00 GMT; Secure"),
                ("Location", "/login"),
            ],
            reason="Found",
        ),
        body=BodyInfo(size=3, prefix=b"\xff\xfe\x00", complete=True),
    )
    tx = ttx(3, request=request, response=response, client="127.0.0.1", server="127.0.0.2")
    timing = Timing(
        started=1_700_000_000.25,
        request_done=1_700_000_000.26,
        response_started=1_700_000_000.3,
        finished=1_700_000_000.5,
    )
    return replace(tx, timing=timing, server=Endpoint("127.0.0.2", 8080))


def test_entry_carries_the_capture_facts() -> None:
    entry = transaction_entry(_tx())
    assert entry["_clientIPAddress"] == "127.0.0.1" and entry["_serverPort"] == 8080
    assert entry["_frames"] == {"request": [16], "response": [18]} and entry["_tcpStream"] == 3
    names = [h["name"] for h in entry["response"]["headers"]]
    assert names.count("Set-Cookie") == 2
    assert [c["name"] for c in entry["response"]["cookies"]] == ["SERVERID", "sid"]
    assert entry["response"]["cookies"][1]["expires"].startswith("2037-01-01T00:00:00")
    assert entry["response"]["content"]["encoding"] == "base64"
    assert entry["request"]["queryString"] == [{"name": "next", "value": "%2Fapp"}]


def test_the_har_reader_reads_back_the_same_exchange(tmp_path: Path) -> None:
    tx = _tx()
    path = tmp_path / "x.har"
    har_io.write_har(str(path), har_frame("x.pcap", sanitized=False), capture_entries([tx]))
    back = read_har(str(path)).transactions[0]
    assert back.request.headers == tx.request.headers and back.response is not None and tx.response is not None
    assert back.response.headers == tx.response.headers and back.response.status == 302
    assert back.request.url == tx.request.url and back.request.target == tx.request.target
    assert back.server == tx.server and back.request.body.size == 5000
    assert back.response.body.prefix == tx.response.body.prefix
    for field in ("started", "request_done", "response_started", "finished"):
        assert abs(getattr(back.timing, field) - getattr(tx.timing, field)) < 1e-5


def test_unanswered_exchanges_and_order() -> None:
    late, early = replace(_tx(), response=None, error="no response"), ttx(1, at=1_600_000_000.0)
    entries = capture_entries([late, early])
    assert entries[0]["_transactionId"] == early.id
    assert entries[1]["response"]["status"] == 0 and entries[1]["_error"] == "no response"
    assert json.loads(json.dumps(entries))  # plain JSON values only
