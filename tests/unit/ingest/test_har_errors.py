"""read_har on files that are not HARs, broken JSON, gzip, BOMs and UTF-16."""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import os
from pathlib import Path
from typing import Any

import pytest

from stickyforensics.errors import InputError
from stickyforensics.ingest.har import read_har
from stickyforensics.model import DiagLevel

DATA = Path(__file__).resolve().parents[2] / "data" / "har"


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _minimal(n: int = 2) -> dict[str, object]:
    entries = [
        {
            "startedDateTime": f"2024-03-01T10:00:0{i}Z",
            "time": 5,
            "request": {
                "method": "GET",
                "url": f"http://app.example/{i}",
                "headers": [{"name": "Cookie", "value": "s=1"}],
            },
            "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "s=1"}]},
        }
        for i in range(n)
    ]
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}


@pytest.mark.parametrize(
    ("data", "message", "position"),
    [
        pytest.param(b'{"log": {"entries": [}', "invalid JSON at byte 21: expecting value", "byte 21", id="bad-token"),
        pytest.param(b"\n\n  {not json", "invalid JSON at byte 5:", "byte 5", id="not-json"),
        pytest.param(
            b'{"log": {"creator": {"name": "x"}, "entries": [{"request": {"url": "ht',
            "invalid JSON at byte 67: unterminated string (the file ends early: it is truncated)",
            "byte 67",
            id="truncated-before-first-entry",
        ),
        pytest.param(
            codecs.BOM_UTF8 + b'{"log": {"entries": [{"req',
            "invalid JSON at byte 25",
            "byte 25",
            id="bom-counted-in-position",
        ),
    ],
)
def test_unreadable_json_is_an_input_error_with_byte_position(
    tmp_path: Path, data: bytes, message: str, position: str
) -> None:
    path = _write(tmp_path, "bad.har", data)
    with pytest.raises(InputError) as err:
        read_har(path)
    assert err.value.path == path
    assert err.value.position == position
    assert err.value.detail.startswith(message)


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        pytest.param(b"[1, 2]", "the top level is a JSON array", id="array"),
        pytest.param(b'{"log": [2, 1, 3]}', '"log" is a JSON array, not an object', id="log-array"),
        pytest.param(b'{"foo": {"entries": []}}', 'no "log" object', id="no-log"),
        pytest.param(b'{"log": {"version": "1.2", "pages": []}}', '"log" has no "entries" array', id="no-entries"),
        pytest.param(b'{"log": {"entries": {"a": 1}}}', '"log.entries" is a JSON object', id="entries-object"),
    ],
)
def test_json_that_is_not_a_har(tmp_path: Path, doc: bytes, reason: str) -> None:
    path = _write(tmp_path, "x.har", doc)
    with pytest.raises(InputError, match="not a HAR file") as err:
        read_har(path)
    assert reason in err.value.detail


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_har(str(tmp_path / "nope.har"))
    with pytest.raises(InputError, match="folder"):
        read_har(str(tmp_path))


def test_pipe_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "x.har"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_har(str(fifo))


def test_break_after_entries_keeps_them(tmp_path: Path) -> None:
    text = json.dumps(_minimal(3))
    third = '{"startedDateTime": "2024-03-01T10:00:02Z",'
    cut = text.index(third) + len(third)
    path = _write(tmp_path, "cut.har", text[:cut].encode())
    res = read_har(path)
    assert [tx.id for tx in res.transactions] == ["0.e0", "0.e1"]
    (brk,) = [d for d in res.diagnostics if d.code == "har.truncated"]
    assert brk.level is DiagLevel.ERROR
    assert brk.position == f"byte {cut}"
    assert "2 entries before it are analyzed" in brk.message


def test_garbage_after_entries_is_reported_not_fatal(tmp_path: Path) -> None:
    text = json.dumps(_minimal(2))
    path = _write(tmp_path, "tail.har", (text[:-2] + "] oops").encode())
    res = read_har(path)
    assert len(res.transactions) == 2
    assert [d.code for d in res.diagnostics if d.level is DiagLevel.ERROR] == ["har.truncated"]


def test_break_after_only_invalid_entries_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.har", b'{"log": {"entries": [{"request": 1}, ]}}')
    with pytest.raises(InputError, match=r"1 unusable entry before it"):
        read_har(path)


def test_gzip_har(tmp_path: Path) -> None:
    plain = (DATA / "chromehar_joined_setcookie.har").read_bytes()
    path = _write(tmp_path, "capture.har.gz", gzip.compress(plain))
    res = read_har(path)
    plain_res = read_har(str(DATA / "chromehar_joined_setcookie.har"))
    assert [(t.request, t.response, t.timing) for t in res.transactions] == [
        (t.request, t.response, t.timing) for t in plain_res.transactions
    ]
    assert len(res.transactions) == 2
    assert res.transactions[0].client_label == "capture.har.gz"


def test_xz_and_bzip2_har(tmp_path: Path) -> None:
    plain = json.dumps(_minimal(3)).encode()
    for name, data in [("a.har.xz", lzma.compress(plain)), ("a.har.bz2", bz2.compress(plain))]:
        res = read_har(_write(tmp_path, name, data))
        assert [tx.id for tx in res.transactions] == ["0.e0", "0.e1", "0.e2"], name


def test_truncated_gzip_keeps_entries_read(tmp_path: Path) -> None:
    doc = _minimal(400)
    data = gzip.compress(json.dumps(doc).encode())
    path = _write(tmp_path, "cut.har.gz", data[: len(data) // 2])
    res = read_har(path)
    assert 0 < len(res.transactions) < 400
    assert any(d.code == "har.truncated" for d in res.diagnostics)


def test_bom_and_utf16(tmp_path: Path) -> None:
    text = json.dumps(_minimal(2), ensure_ascii=False)
    for name, data in [
        ("bom.har", codecs.BOM_UTF8 + text.encode("utf-8")),
        ("le.har", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        ("be.har", codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
    ]:
        res = read_har(_write(tmp_path, name, data))
        assert [tx.request.url for tx in res.transactions] == ["http://app.example/0", "http://app.example/1"], name
        assert res.cookie_data == "present"


def test_empty_entries_is_absent_cookie_data(tmp_path: Path) -> None:
    res = read_har(_write(tmp_path, "empty.har", b'{"log": {"entries": []}}'))
    assert res.transactions == ()
    assert res.cookie_data == "absent"
    assert [d.code for d in res.diagnostics] == ["har.no_entries"]


def test_entry_diagnostics_are_bounded(tmp_path: Path) -> None:
    """100 broken entries give 10 listed diagnostics and one aggregated with the rest."""
    doc = _minimal(1)
    doc["log"]["entries"] += [{"request": {"method": "GET"}} for _ in range(100)]  # type: ignore[index]
    res = read_har(_write(tmp_path, "many.har", json.dumps(doc).encode()))
    invalid = [d for d in res.diagnostics if d.code == "har.entry_invalid"]
    assert len(invalid) == 11
    assert sum(d.count for d in invalid) == 100
    assert invalid[-1].count == 90 and invalid[-1].position == "entry 11 .. entry 100"


def test_creator_after_entries_is_found(tmp_path: Path) -> None:
    """Fiddler writes log.creator after log.entries; the producer still shows in messages."""
    text = '{"log": {"entries": [], "creator": {"name": "Fiddler", "version": "5.0"}}}'
    res = read_har(_write(tmp_path, "f.har", text.encode()))
    assert dict(res.extra)["producer"] == "Fiddler 5.0"


def test_hostile_values_do_not_raise(tmp_path: Path) -> None:
    entry: dict[str, Any] = {
        "startedDateTime": ["x"],
        "time": "NaN",
        "timings": "fast",
        "connection": {"id": 1},
        "serverIPAddress": 12,
        "request": {
            "method": "GET",
            "url": "http://[::1]:99999/x",
            "headers": {"Cookie": ["a=1", "b=2"], "X": None},
            "cookies": "a=1",
            "postData": {"text": 5, "encoding": ["base64"]},
        },
        "response": {"status": "200", "headers": [], "content": "none", "cookies": [1, {"name": 2}]},
    }
    good = dict(entry, request=dict(entry["request"], url="http://[::1]:8080/x"))
    doc = {"log": {"entries": [entry, good]}}
    res = read_har(_write(tmp_path, "h.har", json.dumps(doc).encode()))
    (tx,) = res.transactions
    assert tx.request.host == "::1" and tx.request.headers.get_all("cookie") == ("a=1", "b=2")
    assert tx.response is not None and tx.response.status == 200
    codes = {d.code for d in res.diagnostics}
    assert {"har.entry_invalid", "har.bad_time", "har.cookie_array_invalid"} <= codes


def test_lone_surrogate_escapes_do_not_lose_entries(tmp_path: Path) -> None:
    """yajl cannot decode a lone low surrogate; the pure-Python parser takes over from the start."""
    doc = _minimal(3)
    entries = doc["log"]["entries"]  # type: ignore[index]
    entries[1]["request"]["headers"] = [{"name": "X-Cut", "value": "\udc80tail \ud83d\ude00"}]
    entries[1]["response"]["statusText"] = "\ud800"
    path = _write(tmp_path, "sur.har", json.dumps(doc).encode())  # ASCII with \u escapes
    res = read_har(path)
    assert [tx.id for tx in res.transactions] == ["0.e0", "0.e1", "0.e2"]
    tx = res.transactions[1]
    assert tx.request.headers.get("X-Cut") == "\ufffdtail \U0001f600"
    assert tx.response is not None
    assert tx.response.reason.encode("utf-8")  # encodable: a report can write it
    assert [d.code for d in res.diagnostics if d.code == "har.json_slow_path"] == ["har.json_slow_path"]


def test_invalid_utf8_byte_position(tmp_path: Path) -> None:
    text = json.dumps(_minimal(2)).encode()
    bad = text.index(b"http://app.example/1") + 7
    path = _write(tmp_path, "latin.har", text[:bad] + b"\xff" + text[bad + 1 :])
    res = read_har(path)
    assert len(res.transactions) == 1
    (brk,) = [d for d in res.diagnostics if d.code == "har.truncated"]
    assert brk.position == f"byte {bad}" and "invalid UTF-8 byte 0xff" in brk.message


@pytest.mark.parametrize(
    ("number", "kept", "slow"),
    [
        pytest.param(b"9" * 30, 3, False, id="beyond-64-bits"),  # msgspec (har_fast) takes it
        pytest.param(b"1e999", 3, True, id="float-overflow"),
        pytest.param(b"1e" + b"9" * 5000, 1, True, id="exponent-beyond-digit-limit"),
        pytest.param(b"1." + b"9" * 5000, 3, False, id="long-fraction"),
        pytest.param(b"9" * 5000, 1, True, id="beyond-int-digit-limit"),  # yajl2_c segfaults without use_float
    ],
)
def test_numbers_yajl_cannot_hold(tmp_path: Path, number: bytes, kept: int, slow: bool) -> None:
    entry = b'{"request": {"method": "GET", "url": "http://a.example/"}, "time": %s}'
    data = b'{"log": {"entries": [%s, %s, %s]}}' % (entry % b"1", entry % number, entry % b"2")
    res = read_har(_write(tmp_path, "n.har", data))
    assert len(res.transactions) == kept
    codes = [d.code for d in res.diagnostics]
    assert ("har.json_slow_path" in codes) is slow
    assert ("har.truncated" in codes) is (kept == 1)


def test_url_rebuilt_without_credentials_or_fragment(tmp_path: Path) -> None:
    doc = _minimal(1)
    doc["log"]["entries"][0]["request"]["url"] = "https://user:secret@App.Example.com:8443/p?q=1#frag"  # type: ignore[index]
    (tx,) = read_har(_write(tmp_path, "u.har", json.dumps(doc).encode())).transactions
    assert tx.request.url == "https://App.Example.com:8443/p?q=1"
    assert (tx.request.host, tx.request.path, tx.request.target) == ("app.example.com", "/p", "/p?q=1")


def test_reading_a_har_loads_neither_haralyzer_nor_scapy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from stickyforensics.ingest.har import read_har; from stickyforensics.ingest.sniff import sniff; "
        f"p = {str(DATA / 'edge_devtools.har')!r}; sniff(p); read_har(p); "
        "print(sorted(m for m in ('haralyzer', 'scapy', 'pyshark') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
