"""The per-file caches of the HAR entry mapping change nothing but speed and memory.

``har_entry`` remembers header lines, absolute URLs, server endpoints and connection ids per file,
and the cookie survey memoizes its per-value work; these tests pin the cases where a cache could
hand back a wrong answer (a relative URL under another Host, a joined ``Set-Cookie`` line first
seen in a request, values changed by ``encodable``) and check that equal lines share one object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stickyforensics.ingest.har import read_har
from stickyforensics.ingest.har_cookie_data import CookieSurvey
from stickyforensics.ingest.har_cookies import reconcile_request, reconcile_response
from stickyforensics.model import Headers


def _entry(i: int, *, url: str, req: list[Any], resp: list[Any], cookies: list[Any] | None = None) -> dict[str, Any]:
    return {
        "startedDateTime": f"2024-03-01T10:00:{i:02d}.000Z",
        "time": 5,
        "request": {"method": "GET", "url": url, "headers": req, "cookies": cookies or []},
        "response": {"status": 200, "headers": resp, "content": {"size": 0}},
    }


def _har(tmp_path: Path, entries: list[dict[str, Any]]) -> str:
    path = tmp_path / "session.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t"}, "entries": entries}}))
    return str(path)


def _h(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def test_equal_header_lines_share_one_pair(tmp_path: Path) -> None:
    req = [_h("Host", "app.example"), _h("User-Agent", "UA/1"), _h("Cookie", "s=1")]
    resp = [_h("Set-Cookie", "s=1; Path=/")]
    entries = [_entry(i, url=f"https://app.example/{i}", req=req, resp=resp) for i in range(3)]
    first, second, third = read_har(_har(tmp_path, entries)).transactions
    for a, b in zip(first.request.headers.items, third.request.headers.items, strict=True):
        assert a is b
    assert second.response is not None and third.response is not None
    assert second.response.headers.items[0] is third.response.headers.items[0]


def test_relative_url_is_rebuilt_from_each_entrys_own_host(tmp_path: Path) -> None:
    entries = [
        _entry(0, url="/api", req=[_h("Host", "one.example")], resp=[]),
        _entry(1, url="/api", req=[_h("Host", "two.example")], resp=[]),
        _entry(2, url="https://three.example/api", req=[], resp=[]),
        _entry(3, url="https://three.example/api", req=[_h("Host", "other.example")], resp=[]),
    ]
    hosts = [tx.request.host for tx in read_har(_har(tmp_path, entries)).transactions]
    assert hosts == ["one.example", "two.example", "three.example", "three.example"]


def test_joined_set_cookie_seen_first_in_a_request_is_still_split_in_a_response(tmp_path: Path) -> None:
    joined = _h("Set-Cookie", "a=1; Path=/\nb=2; Path=/")
    entries = [
        _entry(0, url="https://app.example/", req=[joined], resp=[]),
        _entry(1, url="https://app.example/", req=[], resp=[joined]),
        _entry(2, url="https://app.example/", req=[], resp=[joined]),
    ]
    txs = read_har(_har(tmp_path, entries)).transactions
    assert txs[0].request.headers.get_all("set-cookie") == ("a=1; Path=/\nb=2; Path=/",)
    for tx in txs[1:]:
        assert tx.response is not None
        assert tx.response.headers.get_all("set-cookie") == ("a=1; Path=/", "b=2; Path=/")


def test_a_lone_surrogate_header_is_replaced_every_time(tmp_path: Path) -> None:
    bad = _h("X-Bad", "\udc80x")
    entries = [_entry(i, url="https://app.example/", req=[bad], resp=[]) for i in range(2)]
    for tx in read_har(_har(tmp_path, entries)).transactions:
        assert tx.request.headers.get("x-bad") == "\ufffdx"


def test_connection_ids_and_servers_keep_their_values(tmp_path: Path) -> None:
    entries = []
    for i, (conn, ip) in enumerate([(" 7 ", "192.0.2.1"), ("8", "[2001:db8::1]"), (" 7 ", "192.0.2.1"), (9, "x")]):
        entry = _entry(i, url="https://app.example:8443/", req=[], resp=[])
        entry.update(connection=conn, serverIPAddress=ip)
        entries.append(entry)
    txs = read_har(_har(tmp_path, entries)).transactions
    assert [tx.connection for tx in txs] == ["7", "8", "7", "9"]
    assert [str(tx.server) for tx in txs[:3]] == ["192.0.2.1:8443", "[2001:db8::1]:8443", "192.0.2.1:8443"]
    assert txs[3].server is None


def test_reconcile_with_the_callers_cookie_values_gives_the_same_answer() -> None:
    headers = [("Host", "h"), ("Cookie", "a=1; b"), ("cookie", "c=3")]
    cookies = [{"name": "a", "value": "1"}, {"name": "b", "value": ""}, {"name": "d", "value": "4"}]
    assert reconcile_request(headers, cookies) == reconcile_request(headers, cookies, cookie_values=["a=1; b", "c=3"])
    lines = [("Set-Cookie", "a=1; Path=/")]
    arrays = [{"name": "a", "value": "1"}, {"name": "z", "value": "9", "path": "/p"}]
    fixed, fix = reconcile_response(lines, arrays, set_cookie_values=["a=1; Path=/"])
    assert (fixed, fix) == reconcile_response(lines, arrays)
    assert fix is not None and fix.names == ("z",)


def test_observe_and_observe_values_count_alike() -> None:
    by_headers, by_values = CookieSurvey(), CookieSurvey()
    messages = [
        ("a.example", ["s=REDACTED; t=1", ""], ["s=abc; Path=/", "u=; Max-Age=0"]),
        ("a.example", ["s=REDACTED; t=1"], None),
        ("b.example", [], ["v=***"]),
        ("a.example", [], []),
    ]
    for index, (host, cookies, set_cookies) in enumerate(messages):
        request = Headers(tuple(("Cookie", v) for v in cookies))
        response = None if set_cookies is None else Headers(tuple(("Set-Cookie", v) for v in set_cookies))
        by_headers.observe(index, host, request, response)
        by_values.observe_values(index, host, cookies, set_cookies)
    assert by_headers == by_values
    assert by_values.placeholders == 3 and by_values.set_hosts == {"a.example": 0}
