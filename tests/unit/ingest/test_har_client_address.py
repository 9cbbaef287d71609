"""HAR files exported from a capture name each entry's client (``_clientIPAddress``): read as addresses."""

from __future__ import annotations

import json
from pathlib import Path

from stickyforensics.config import Config
from stickyforensics.ingest.har import read_har
from stickyforensics.model import Endpoint
from stickyforensics.pipeline import analyze


def _entry(client: str | None, port: object = 50000) -> dict[str, object]:
    entry: dict[str, object] = {
        "startedDateTime": "2024-01-01T00:00:00.000Z",
        "time": 1,
        "request": {
            "method": "GET",
            "url": "http://shop.example/",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Cookie", "value": "JSESSIONID=0123456789abcdef0123"}],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "cookies": [],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    if client is not None:
        entry["_clientIPAddress"] = client
        entry["_clientPort"] = port
    return entry


def _write(tmp_path: Path, entries: list[dict[str, object]]) -> str:
    path = tmp_path / "export.har"
    path.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}})
    )
    return str(path)


def test_client_addresses_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [_entry("10.0.0.1"), _entry("[2001:db8::2]", 443), _entry("not an ip"), _entry(None), _entry("10.0.0.3", "x")],
    )
    clients = [tx.client for tx in read_har(path).transactions]
    assert clients == [Endpoint("10.0.0.1", 50000), Endpoint("2001:db8::2", 443), None, None, Endpoint("10.0.0.3", 0)]


def test_an_export_of_two_clients_analyses_as_two_clients(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry("10.0.0.1"), _entry("10.0.0.2")])
    sessions = analyze([path], Config()).sessions
    assert [(s.key.strategy, s.key.value) for s in sessions] == [("ip", "10.0.0.1"), ("ip", "10.0.0.2")]


def test_a_browser_har_is_one_client(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry(None), _entry(None)])
    assert [s.key.strategy for s in analyze([path], Config()).sessions] == ["har-file"]
