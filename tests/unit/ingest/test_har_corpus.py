"""read_har over every real HAR of ../shared/corpus (Chrome, Firefox, Firebug, IE11, Fiddler,
Playwright, mitmproxy, Charles, WebPageTest, chrome-har), checked against the raw JSON.

The expectations are computed here from ``json.load`` of the file, independently of
the reader: which entries are usable, and how many Set-Cookie lines each entry has.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from stickyforensics.errors import InputError
from stickyforensics.ingest.har import read_har
from stickyforensics.ingest.sniff import sniff
from tests.conftest import CORPUS, shared_or_skip

HARS = [
    "haralyzer__haralyzer__tests__data__cnn-chrome.har",
    "haralyzer__haralyzer__tests__data__cnn.har",
    "janodvarko__harviewer__selenium__tests__hars__issue-61__ie11.har",
    "janodvarko__harviewer__selenium__tests__hars__noPages.har",
    "microsoft__playwright__tests__assets__har-redirect.har",
    "mitmproxy__mitmproxy__test__mitmproxy__data__flows__websocket.har",
    "mitmproxy__mitmproxy__test__mitmproxy__data__har_files__charles.har",
    "mitmproxy__mitmproxy__test__mitmproxy__data__har_files__firefox.har",
    "mitmproxy__mitmproxy__test__mitmproxy__data__har_files__with-bom.har",
    "sitespeedio__pagexray__test__files__aftonbladet.se-redirecting-to-www.har",
    "sitespeedio__pagexray__test__files__contentTypes__ferguson.har",
    "sitespeedio__pagexray__test__files__redirect__mytoys.de.har",
    "sitespeedio__pagexray__test__files__requests__expressen.har",
    "sitespeedio__pagexray__test__files__responseCodes__304.har",
]
BROKEN = "mitmproxy__mitmproxy__test__mitmproxy__data__corrupted_har__brokenfile.har"


def _items(value: Any) -> list[Any]:
    return [value] if isinstance(value, dict) else value if isinstance(value, list) else []


def _usable(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        return False
    req = entry["request"]
    url = req.get("url")
    if not isinstance(req.get("method"), str) or not req["method"].strip() or not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss"} and bool(parts.hostname)


def _set_cookie_count(entry: dict[str, Any]) -> int:
    """Header items (``\\n``-joined ones split into lines) plus array cookies no header names."""
    resp = entry.get("response")
    if not isinstance(resp, dict) or not isinstance(resp.get("status"), int) or resp["status"] <= 0:
        return 0
    lines: list[str] = []
    for h in _items(resp.get("headers")):
        if isinstance(h, dict) and str(h.get("name", "")).lower() == "set-cookie":
            value = str(h.get("value", ""))
            # A header is one item (even empty); a "\n"-joined one is one item per line.
            lines.extend([line for line in value.split("\n") if line.strip()] if "\n" in value else [value])
    names = {line.split(";")[0].split("=")[0].strip() for line in lines}
    array = [c for c in _items(resp.get("cookies")) if isinstance(c, dict) and isinstance(c.get("name"), str)]
    return len(lines) + sum(1 for c in array if not lines or c["name"] not in names)


@pytest.mark.parametrize("name", HARS)
def test_corpus_har(name: str) -> None:
    path = shared_or_skip(CORPUS / name)
    with open(path, encoding="utf-8-sig") as fh:
        raw = json.load(fh)["log"]["entries"]
    assert sniff(str(path)) == "har"
    res = read_har(str(path), input_index=1)

    usable = [i for i, e in enumerate(raw) if _usable(e)]
    assert [tx.provenance.har_entry for tx in res.transactions] == usable
    assert not [d for d in res.diagnostics if d.code in {"har.entry_invalid", "har.truncated"}]
    for tx in res.transactions:
        assert tx.provenance.har_entry is not None
        entry = raw[tx.provenance.har_entry]
        got = len(tx.response.headers.get_all("set-cookie")) if tx.response is not None else 0
        assert got == _set_cookie_count(entry), f"entry {tx.provenance.har_entry}"
        assert tx.client_label == path.name
        assert tx.request.method == entry["request"]["method"]


def test_corpus_cookie_data_states() -> None:
    """Files without any cookie (a Charles capture, a Firefox page, a WebInspector export) say so."""
    absent = {
        "mitmproxy__mitmproxy__test__mitmproxy__data__har_files__charles.har",
        "mitmproxy__mitmproxy__test__mitmproxy__data__har_files__firefox.har",
        "mitmproxy__mitmproxy__test__mitmproxy__data__har_files__with-bom.har",
    }
    for name in HARS:
        path = shared_or_skip(CORPUS / name)
        res = read_har(str(path))
        assert res.cookie_data == ("absent" if name in absent else "present"), name


def test_corpus_broken_file_is_a_clean_input_error() -> None:
    path = shared_or_skip(CORPUS / BROKEN)
    with pytest.raises(InputError) as err:
        read_har(str(path))
    assert err.value.path == str(path)
    assert "not a HAR file" in str(err.value) and str(path) in str(err.value)


def test_corpus_chrome_har_request_cookies_only_in_array() -> None:
    """chrome-har left the Cookie header out of two entries; the array fills it in."""
    path = shared_or_skip(CORPUS / "sitespeedio__pagexray__test__files__contentTypes__ferguson.har")
    res = read_har(str(path))
    rebuilt = [d.position for d in res.diagnostics if d.code == "har.cookies_from_array"]
    assert rebuilt == ["entry 16", "entry 64"]
    tx = res.transactions[16]
    assert "DYN_USER_ID=" in (tx.request.headers.get("cookie") or "")
