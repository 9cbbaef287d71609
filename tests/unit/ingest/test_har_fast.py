"""The msgspec entry reader: same entries as ijson, and a fallback for everything it does not take."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from stickyforensics.ingest import har_fast
from stickyforensics.ingest.har_fast import FastPathUnavailable, fast_entries, nesting_depth
from stickyforensics.ingest.har_limits import MAX_DEPTH
from stickyforensics.ingest.har_stream import HarBreak, iter_entries


def _entries(data: bytes) -> list[Any]:
    return list(fast_entries(io.BytesIO(data).read, 1 << 20))


def _doc(entries: list[Any], **log: Any) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, **log, "entries": entries}}


ENTRIES = [
    {"startedDateTime": "2024-03-01T10:00:00.000Z", "time": 12.5, "request": {"url": "https://a/\u00e9"}},
    {"n": [1, -2, 3.25, 1e300, True, None, 'x\\y"z'], "deep": {"a": {"b": [[{}]]}}},
    "not an object",
    12345678901234567890,
]


@pytest.mark.parametrize("indent", [None, 0, 2, "\t"])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_same_entries_whatever_the_formatting(indent: Any, ascii_only: bool) -> None:
    data = json.dumps(_doc(ENTRIES, pages=[{"id": "p", "title": "[{"}]), indent=indent, ensure_ascii=ascii_only)
    assert _entries(data.encode()) == ENTRIES


@pytest.mark.parametrize("window", [1, 2, 3, 7, 64])
def test_entries_cut_across_reads(monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    # Tiny reads put every value, key and separator across a window boundary somewhere.
    monkeypatch.setattr(har_fast, "WINDOW", window)
    data = json.dumps(_doc(ENTRIES * 3), indent=1).encode()
    assert _entries(data) == ENTRIES * 3


def test_keys_before_entries_are_skipped_in_any_order() -> None:
    doc = {"zzz": [1, {"log": 2}], "log": {"pages": [{"entries": []}], "browser": {}, "entries": [{"a": 1}]}}
    assert _entries(json.dumps(doc).encode()) == [{"a": 1}]


def test_empty_entries_and_tail_after_them() -> None:
    assert _entries(b'{"log": {"entries": [ ], "pages": [{"id": 1}], "comment": "x"}, "other": 1}\n') == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"log": {"entries": [{"a": 1}]}}}', id="trailing-garbage"),
        pytest.param(b'{"log": {"entries": [{"a": 1}]', id="truncated-tail"),
        pytest.param(b'{"log": {"entries": [{"a": 1}, {"b": ', id="truncated-entry"),
        pytest.param(b'{"log": {"entries": [{"a": 1} {"b": 2}]}}', id="no-separator"),
        pytest.param(b'{"log": {"entries": [{"a": 1e999}]}}', id="float-out-of-range"),
        pytest.param(b'{"log": {"entries": [{"a": "\\udc80"}]}}', id="lone-surrogate"),
        pytest.param(b'{"log": {"entries": [{"a": "\xff"}]}}', id="invalid-utf8"),
        pytest.param(b'{"log": {"entries": [{"a": NaN}]}}', id="nan"),
        pytest.param(b'{"log": {"entries": [1]}, "log": {"entries": [2]}}', id="second-log"),
        pytest.param(b'{"log": {"entries": [1], "entri\\u0065s": [2]}}', id="escaped-key-in-tail"),
        pytest.param(b'{"log": {"version": 1}}', id="no-entries"),
        pytest.param(b'{"log": {"entries": 5}}', id="entries-not-array"),
        pytest.param(b'[{"log": {"entries": []}}]', id="top-level-array"),
    ],
)
def test_what_it_does_not_take_falls_back(data: bytes) -> None:
    with pytest.raises(FastPathUnavailable):
        _entries(data)


def test_nesting_past_the_bound_falls_back_within_it_reads() -> None:
    within = MAX_DEPTH - har_fast.ENTRIES_DEPTH
    ok = b'{"log": {"entries": [' + b"[" * within + b"]" * within + b"]}}"
    assert nesting_depth(_entries(ok)[0]) == within
    deep = b'{"log": {"entries": [' + b"[" * (within + 1) + b"]" * (within + 1) + b"]}}"
    with pytest.raises(FastPathUnavailable):
        _entries(deep)


def test_brackets_in_strings_do_not_count_as_depth() -> None:
    text = "{[" * MAX_DEPTH
    assert _entries(json.dumps(_doc([{"text": text}])).encode()) == [{"text": text}]


def test_nesting_depth() -> None:
    assert nesting_depth(1) == 0
    assert nesting_depth({}) == 1
    assert nesting_depth({"a": [1, {"b": []}], "c": "[[["}) == 4


def _both(path: Path) -> tuple[list[Any], str | None]:
    results = []
    for fast in (True, False):
        got: list[Any] = []
        error = None
        try:
            got.extend(iter_entries(str(path), [], fast=fast))
        except HarBreak as exc:
            error = repr(exc.brk)
        results.append((got, error))
    assert results[0] == results[1]
    return results[0]


@pytest.mark.parametrize(
    "data",
    [
        b'{"log": {"entries": [{"a": 1}, {"b": 2}, {"c": ',
        b'{"log": {"entries": [{"a": 1}, {"b": "\\udc80"}, {"c": 3}]}}',
        b'{"log": {"entries": [{"a": 1}, {"b": 123456789012345678901234567890}, {"c": 3.5}]}}',
        b'{"log": {"entries": [{"a": 1}]}, "log": {"entries": [{"b": 2}]}}',
        b'{"log": {"entries": [{"a": 1}, {"b": [' + b"[" * 300 + b"]" * 300 + b"]}]}}",
        b'\xef\xbb\xbf{"log": {"entries": [{"a": 1}]}}',
    ],
)
def test_iter_entries_gives_the_exact_path_result(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.har"
    path.write_bytes(data)
    entries, _ = _both(path)
    assert entries[0] == {"a": 1}


def test_a_fallback_after_some_entries_keeps_them_once(tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    path.write_bytes(b'{"log": {"entries": [{"a": 1}, {"b": 2}]}}}')
    entries, error = _both(path)
    assert entries == [{"a": 1}, {"b": 2}]
    assert error is not None


def test_a_number_cut_by_a_read_is_read_on_not_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # "12." or "1e" or "-" at the window's end is malformed to msgspec: the reader must read on.
    numbers = [{"t": [12.5, -3, 1e5, 1.5e-3, -0.25, 7]}] * 4
    data = json.dumps(_doc(numbers), separators=(",", ":")).encode()
    for window in range(1, 90):
        monkeypatch.setattr(har_fast, "WINDOW", window)
        assert _entries(data) == numbers, window


def test_an_integer_beyond_64_bits_gives_the_exact_paths_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # yajl sends such a file to ijson's pure-Python parser (Decimal floats); msgspec reads it as it is.
    from functools import partial

    from stickyforensics.ingest import har

    entry = b'{"request": {"method": "GET", "url": "http://a.example/"}, "time": %s}'
    path = tmp_path / "big.har"
    path.write_bytes(b'{"log": {"entries": [%s, %s]}}' % (entry % b"1.5", entry % (b"9" * 30)))
    fast = har.read_har(str(path))
    monkeypatch.setattr(har, "iter_entries", partial(iter_entries, fast=False))
    exact = har.read_har(str(path))
    assert repr(fast.transactions) == repr(exact.transactions)
    assert [d.code for d in exact.diagnostics if d.code not in {d.code for d in fast.diagnostics}] == [
        "har.json_slow_path"
    ]


@pytest.mark.parametrize("padding", [0, har_fast.WALK_FROM])
def test_the_depth_bound_holds_for_small_and_large_entries(padding: int) -> None:
    # A large entry is walked, a small one counted first: the bound is the same.
    within = MAX_DEPTH - har_fast.ENTRIES_DEPTH
    text = json.dumps("{[" * (padding // 2))
    for depth, taken in ((within, True), (within + 1, False)):
        entry = b'{"t": ' + text.encode() + b', "n": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
        data = b'{"log": {"entries": [' + entry + b"]}}"
        if taken:
            assert nesting_depth(_entries(data)[0]) == depth
        else:
            with pytest.raises(FastPathUnavailable):
                _entries(data)
