"""The fast HAR entry reader against the exact one (ijson), on any JSON and on damaged JSON.

Whatever the bytes, ``iter_entries`` must give the same entries and the same break as
``iter_entries(fast=False)``: the fast reader takes what it can and hands the rest over.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.ingest import har_fast
from stickyforensics.ingest.har_stream import HarBreak, iter_entries

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Integers within 64 bits: beyond, yajl hands the whole file to ijson's pure-Python parser, which
# returns floats as Decimal; msgspec reads such a file as it is (tests/unit/ingest/test_har_fast.py).
_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63) + 1, 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def har_bytes(draw: st.DrawFn) -> bytes:
    entries = draw(st.lists(_json, max_size=6))
    before = draw(st.dictionaries(st.sampled_from(["version", "creator", "pages", "x"]), _json, max_size=3))
    after = draw(st.dictionaries(st.sampled_from(["comment", "pages_", "y"]), _json, max_size=2))
    doc = {"log": {**before, "entries": entries, **after}}
    indent = draw(st.sampled_from([None, 0, 1, 4, "\t"]))
    separators = draw(st.sampled_from([None, (",", ":"), (" , ", " : ")]))
    text = json.dumps(doc, indent=indent, separators=separators, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def _read(path: str, fast: bool) -> tuple[str, str | None]:
    got: list[Any] = []
    error = None
    try:
        got.extend(iter_entries(path, [], fast=fast))
    except HarBreak as exc:
        error = repr(exc.brk)
    return repr(got), error


def _same(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "p.har")
        Path(path).write_bytes(data)
        assert _read(path, True) == _read(path, False)


@pytest.fixture(autouse=True)
def _small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(har_fast, "WINDOW", 37)  # values cut across reads everywhere


@SETTINGS
@given(har_bytes())
def test_valid_json_reads_the_same(data: bytes) -> None:
    _same(data)


@SETTINGS
@given(har_bytes(), st.data())
def test_damaged_json_reads_the_same(data: bytes, draw: st.DataObject) -> None:
    at = draw.draw(st.integers(0, max(0, len(data) - 1)))
    how = draw.draw(st.sampled_from(["cut", "flip", "insert", "drop"]))
    if how == "cut":
        data = data[:at]
    elif how == "flip":
        data = data[:at] + bytes([draw.draw(st.sampled_from(b'"[]{},:\\ 0a\xff'))]) + data[at + 1 :]
    elif how == "insert":
        data = data[:at] + draw.draw(st.sampled_from([b",", b"]", b"}", b'"', b"\\", b"[", b"1e999"])) + data[at:]
    else:
        data = data[:at] + data[at + 1 :]
    _same(data)
