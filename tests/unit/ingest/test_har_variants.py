"""read_har over one small HAR per producer variant (tests/data/har/).

Each row names the file, what the whole result must be (transaction count,
cookie_data, diagnostic codes) and a check of the variant's particular trait.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.har import read_har
from stickyforensics.model import DiagLevel, Endpoint

DATA = Path(__file__).resolve().parents[2] / "data" / "har"
INPUT_INDEX = 3


def _codes(res: IngestResult) -> set[str]:
    return {d.code for d in res.diagnostics}


def _diag(res: IngestResult, code: str) -> list[str]:
    return [d.message for d in res.diagnostics if d.code == code]


def check_chrome_sanitized(res: IngestResult) -> None:
    (message,) = _diag(res, "har.cookie_data_absent")
    assert message.startswith("cookie data absent: stickiness cannot be judged")
    assert "WebInspector" in message and "Export HAR (with sensitive data)" in message
    first, second = res.transactions
    assert first.request.headers.get(":authority") == "app.example.com"
    assert [n for n, _ in first.request.headers][:4] == [":authority", ":method", ":path", ":scheme"]
    assert first.request.version == "HTTP/2"
    assert first.server == Endpoint("2001:db8::10", 443)
    assert first.connection == "53418"
    assert first.response is not None and first.response.from_cache is None
    assert second.response is not None and second.response.from_cache == "memory"


def check_joined_set_cookie(res: IngestResult) -> None:
    resp = res.transactions[0].response
    assert resp is not None
    lines = resp.headers.get_all("Set-Cookie")
    assert lines == (
        "NSC_web=ffffffff0909141b45525d5f4f58455e445a4a423660;expires=Fri, 01-Mar-2024 10:30:00 GMT;"
        "path=/;secure;httponly",
        "JSESSIONID=A1B2C3; Path=/; HttpOnly",
        "lang=en; Path=/",
    )
    # The split lines keep their place: after Content-Type, raw name casing kept.
    assert [n for n, _ in resp.headers] == ["Content-Type", "set-cookie", "set-cookie", "set-cookie"]
    second = res.transactions[1]
    assert second.request.target == "/api/me?x=1" and second.request.path == "/api/me"
    assert second.request.headers.get_all("cookie") == (
        "NSC_web=ffffffff0909141b45525d5f4f58455e445a4a423660; JSESSIONID=A1B2C3; lang=en",
    )


def check_firefox(res: IngestResult) -> None:
    first, second = res.transactions
    assert first.request.version == "HTTP/3"
    assert first.connection == "443"
    assert first.timing.started == pytest.approx(1709287200.123)
    assert first.response is not None
    assert first.response.body.prefix == b"hello world" and "har.bad_base64" in first.notes
    assert second.response is not None and second.response.body.prefix == b"\x89PNG"
    assert second.response.body.size == 4 and second.response.body.complete
    assert second.request.version == "HTTP/1.1"
    (fold,) = [d for d in res.diagnostics if d.code == "har.http_version_unknown"]
    assert fold.count == 1 and fold.position == "entry 1"


def check_charles_arrays(res: IngestResult) -> None:
    login, home = res.transactions
    assert login.request.method == "POST"
    assert login.response is not None
    assert login.response.headers.get_all("Set-Cookie") == (
        "BIGipServerpool_web=1677787402.36895.0000; Path=/; Domain=app.example.com; "
        "Expires=Sat, 02 Mar 2024 10:00:00 GMT; Secure; HttpOnly; SameSite=Lax",
        "JSESSIONID=X9; Path=/; HttpOnly",
    )
    assert home.request.headers.items == (
        ("Host", "app.example.com"),
        ("Cookie", "BIGipServerpool_web=1677787402.36895.0000; JSESSIONID=X9"),
    )
    assert login.notes == ("har.cookies_from_array",) and home.notes == ("har.cookies_from_array",)
    positions = sorted(d.position or "" for d in res.diagnostics if d.code == "har.cookies_from_array")
    assert positions == ["entry 0", "entry 1"]


def check_proxyman(res: IngestResult) -> None:
    slow, aborted, ok = res.transactions
    assert slow.response is None and slow.error == "no response recorded"
    assert aborted.response is None and aborted.error is not None and "net::ERR_ABORTED" in aborted.error
    assert ok.response is not None and ok.response.headers.get_all("set-cookie") == ("AWSALB=def456; Path=/",)
    (fold,) = [d for d in res.diagnostics if d.code == "har.no_response"]
    assert fold.count == 2


def check_http2(res: IngestResult) -> None:
    (tx,) = res.transactions
    assert tx.request.headers.get_all("cookie") == ("AWSALB=abc", "sid=42")
    assert tx.request.headers.get(":path") == "/dash"
    assert tx.response is not None
    assert tx.response.from_cache == "disk"
    # The rebuilt line follows the export's lower-case header style.
    assert tx.response.headers.items[-1] == ("set-cookie", "AWSALB=def; Path=/; Expires=Fri, 08 Mar 2024 10:00:00 GMT")
    assert tx.response.headers.get(":status") == "200"


def check_truncated_body(res: IngestResult) -> None:
    big, up = res.transactions
    assert big.response is not None
    body = big.response.body
    assert body.size == 600000 and not body.complete
    assert body.prefix.startswith(b"BAD SESSION ") and len(body.prefix) == 112
    assert "har.body_truncated" in big.notes
    assert big.request.version == "HTTP/1.1"
    assert up.request.body.size == 3 and up.request.body.prefix == b"a=1" and up.request.body.complete


def check_mismatch(res: IngestResult) -> None:
    (tx,) = res.transactions
    assert tx.request.headers.items == (("Cookie", "SERVERID=s2"), ("Cookie", "JSESSIONID=J1"))
    assert tx.response is not None
    assert tx.response.headers.get_all("Set-Cookie") == ("SERVERID=s2; Path=/", "lb=n3; Path=/app; Secure")
    messages = _diag(res, "har.cookie_array_mismatch")
    assert len(messages) == 2
    assert "JSESSIONID" in messages[0] and "lb" in messages[1]
    assert all("J1" not in m and "n3" not in m for m in messages), "diagnostics must not leak cookie values"


def check_redacted(res: IngestResult) -> None:
    (message,) = _diag(res, "har.cookie_values_redacted")
    assert "6 of 7 cookie values are placeholders" in message
    assert "stickiness cannot be judged" in message


def check_stripped(res: IngestResult) -> None:
    (message,) = _diag(res, "har.cookie_data_partial")
    assert "app.example.com" in message and "Export HAR (with sensitive data)" in message


def check_dates(res: IngestResult) -> None:
    base = 1709287200.0
    starts = [tx.timing.started for tx in res.transactions]
    assert starts == pytest.approx([base, base + 0.5, base + 0.25, base + 0.123456, base + 1, base + 1, base + 2])
    assert all(tx.timing.finished == pytest.approx(tx.timing.started + 0.1) for tx in res.transactions)
    assert res.transactions[5].notes == ("har.bad_time",)
    (naive,) = [d for d in res.diagnostics if d.code == "har.time_no_zone"]
    assert naive.position == "entry 4" and naive.level is DiagLevel.INFO


def check_invalid_entries(res: IngestResult) -> None:
    assert [tx.provenance.har_entry for tx in res.transactions] == [0, 9, 10]
    invalid = {d.position or "": d.message for d in res.diagnostics if d.code == "har.entry_invalid"}
    assert sorted(invalid) == ["entry 1", "entry 2", "entry 3", "entry 4", "entry 5", "entry 7", "entry 8"]
    assert "no request object" in invalid["entry 1"]
    assert "request.method" in invalid["entry 3"]
    assert "request.headers is a JSON string" in invalid["entry 4"]
    assert "no host" in invalid["entry 7"]
    assert "response is a JSON array" in invalid["entry 8"]
    assert [d.position for d in res.diagnostics if d.code == "har.entry_not_http"] == ["entry 6"]
    kept = res.transactions[1]
    assert kept.request.headers.items == (("Cookie", "SERVERID=s1"), ("X-Pair", "kept"))
    assert kept.notes == ("har.header_invalid",)


def check_safari(res: IngestResult) -> None:
    first, second = res.transactions
    assert first.response is not None and first.response.from_cache is None
    assert second.response is not None and second.response.from_cache == "Memory Cache"
    assert first.server == Endpoint("203.0.113.10", 443)


def check_edge(res: IngestResult) -> None:
    portal, cached = res.transactions
    assert portal.response is not None and len(portal.response.headers.get_all("set-cookie")) == 2
    assert portal.connection == "8812"
    assert cached.response is not None and cached.response.from_cache == "memory"


def check_playwright(res: IngestResult) -> None:
    (tx,) = res.transactions
    assert tx.server == Endpoint("198.51.100.7", 8443)
    assert tx.request.host == "app.example.com"
    assert tx.request.url == "https://app.example.com:8443/a"


def check_ie11(res: IngestResult) -> None:
    (tx,) = res.transactions
    assert tx.request.headers.get_all("Cookie") == ("BIGipServerapp=1677787402.20480.0000",)


def check_truncated_json(res: IngestResult) -> None:
    (brk,) = [d for d in res.diagnostics if d.code == "har.truncated"]
    assert brk.level is DiagLevel.ERROR
    size = os.path.getsize(DATA / "truncated.har")
    assert brk.position is not None and brk.position.startswith("byte ")
    offset = int(brk.position.split()[1])
    # The break is the unterminated string at the end of the file.
    assert size - 40 < offset < size
    assert "truncated" in brk.message and "2 entries" in brk.message


Check = Callable[[IngestResult], None]
CASES: list[tuple[str, int, str, set[str], Check]] = [
    ("chrome_sanitized.har", 2, "absent", {"har.cookie_data_absent"}, check_chrome_sanitized),
    ("chromehar_joined_setcookie.har", 2, "present", set(), check_joined_set_cookie),
    ("firefox_untitled.har", 2, "present", {"har.bad_base64", "har.http_version_unknown"}, check_firefox),
    ("charles_cookie_arrays.har", 2, "present", {"har.cookies_from_array"}, check_charles_arrays),
    ("proxyman_no_response.har", 3, "present", {"har.no_response"}, check_proxyman),
    ("http2_pseudo_headers.har", 1, "present", {"har.cookies_from_array"}, check_http2),
    (
        "httptoolkit_truncated_body.har",
        2,
        "present",
        {"har.body_truncated", "har.http_version_unknown"},
        check_truncated_body,
    ),
    ("cookie_array_mismatch.har", 1, "present", {"har.cookie_array_mismatch"}, check_mismatch),
    ("redacted_values.har", 2, "partial", {"har.cookie_values_redacted"}, check_redacted),
    ("stripped_request_cookies.har", 4, "partial", {"har.cookie_data_partial"}, check_stripped),
    ("dates.har", 7, "present", {"har.bad_time", "har.time_no_zone"}, check_dates),
    (
        "invalid_entries.har",
        3,
        "present",
        {"har.entry_invalid", "har.entry_not_http", "har.header_invalid"},
        check_invalid_entries,
    ),
    ("safari_cache.har", 2, "present", set(), check_safari),
    ("edge_devtools.har", 2, "present", set(), check_edge),
    ("playwright_server_port.har", 1, "present", set(), check_playwright),
    ("ie11_cookie_object.har", 1, "present", {"har.cookies_from_array"}, check_ie11),
    ("truncated.har", 2, "present", {"har.truncated"}, check_truncated_json),
]


@pytest.mark.parametrize(("name", "count", "cookie_data", "codes", "check"), [pytest.param(*c, id=c[0]) for c in CASES])
def test_variant(name: str, count: int, cookie_data: str, codes: set[str], check: Check) -> None:
    path = str(DATA / name)
    res = read_har(path, input_index=INPUT_INDEX)
    assert (res.format, res.engine, res.path) == ("har", "har", path)
    assert len(res.transactions) == count
    assert res.cookie_data == cookie_data
    assert _codes(res) == codes
    check(res)


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_identity_and_provenance(name: str) -> None:
    path = str(DATA / name)
    res = read_har(path, input_index=INPUT_INDEX)
    for tx in res.transactions:
        entry = tx.provenance.har_entry
        assert entry is not None
        assert tx.id == f"{INPUT_INDEX}.e{entry}"
        assert (tx.provenance.kind, tx.provenance.source, tx.input) == ("har", path, path)
        assert tx.client_label == name and tx.client is None
        assert tx.request.host == tx.request.host.lower() and ":" not in tx.request.host
        assert tx.request.target.startswith("/")
        assert tx.request.scheme in {"http", "https"}
    entries = [tx.provenance.har_entry or 0 for tx in res.transactions]
    assert entries == sorted(entries)


def test_every_data_file_is_in_the_table() -> None:
    assert {p.name for p in DATA.glob("*.har")} == {c[0] for c in CASES}


def test_same_input_gives_same_result() -> None:
    path = str(DATA / "chromehar_joined_setcookie.har")
    assert read_har(path) == read_har(path)


def test_every_set_cookie_survives_where_haralyzer_keeps_one() -> None:
    """haralyzer's header accessor returns the first Set-Cookie only (peers.md §12)."""
    from haralyzer import HarParser

    path = DATA / "edge_devtools.har"
    parser = HarParser(json.loads(path.read_text(encoding="utf-8")))
    (entry,) = [e for page in parser.pages for e in page.entries if e.url.endswith("/portal")]
    first_only = entry.response.get_header_value("Set-Cookie")
    assert first_only == "ARRAffinity=3f5c;Path=/;HttpOnly;Domain=app.example.com"

    tx = read_har(str(path)).transactions[0]
    assert tx.response is not None
    assert tx.response.headers.get_all("Set-Cookie") == (
        "ARRAffinity=3f5c;Path=/;HttpOnly;Domain=app.example.com",
        "ARRAffinitySameSite=3f5c;Path=/;HttpOnly;SameSite=None;Secure;Domain=app.example.com",
    )
