"""HAR limits: nesting depth, bytes per entry, decompressed size. Memory stays bounded on crafted files.

Before the depth bound, 200 KB of ``[`` made ijson build one prefix string per level per event and
exhausted memory (the process was killed); these tests use 5,000 levels, which cost about 60 MB
without the bound, so a regression fails on the assertions rather than by exhausting memory.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.errors import InputError
from stickyforensics.ingest import har_limits, har_stream
from stickyforensics.ingest.har import read_har
from stickyforensics.ingest.har_limits import MAX_DEPTH, NestingGuard
from tests.unit.ingest.bombs import MIB, bomb

ENTRY = {
    "startedDateTime": "2024-03-01T10:00:00Z",
    "time": 5,
    "request": {"method": "GET", "url": "http://app.example/", "headers": [{"name": "Cookie", "value": "s=1"}]},
    "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "s=1"}]},
}
GOOD = json.dumps(ENTRY).encode()
START = b'{"log": {"version": "1.2", "entries": ['


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _reference_depths(data: bytes) -> list[int]:
    """Depth after every byte, walked the slow obvious way."""
    depth, in_string, escape, out = 0, False, False, []
    for byte in data:
        if escape:
            escape = False
        elif byte == 0x5C:
            escape = True
        elif in_string:
            in_string = byte != 0x22
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
        out.append(depth)
    return out


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=1200).map(lambda b: bytes(b'[[]{{}"\\ a'[x % 10] for x in b)),
    cuts=st.lists(st.integers(0, 1200), max_size=6),
    limit=st.sampled_from([2, 6, 20, MAX_DEPTH]),
)
def test_guard_follows_the_depth_across_any_chunking(data: bytes, cuts: list[int], limit: int) -> None:
    bounds = [0, *sorted(c for c in cuts if c < len(data)), len(data)]
    depths = _reference_depths(data)
    crossing = next((i for i, d in enumerate(depths) if d > limit), None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(har_limits, "MAX_DEPTH", limit)
        guard = NestingGuard()
        for lo, hi in itertools.pairwise(bounds):
            found = guard.feed(data[lo:hi])
            if crossing is not None and lo <= crossing < hi:
                assert found == crossing - lo
                return
            assert found is None
            if hi > lo:
                assert guard.depth == depths[hi - 1]
    assert crossing is None


def test_guard_finds_the_crossing_inside_a_deep_chunk() -> None:
    deep = b'{"s": "[[[\\"[[", "a": ' + _nested(MAX_DEPTH + 10) + b"}"
    assert NestingGuard().feed(deep) == deep.index(b"[", 20) + MAX_DEPTH - 1


def test_deep_nesting_with_nothing_before_is_a_one_line_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "deep.har", START + b'{"a": ' + _nested(5000) + b"}]}}")
    with pytest.raises(InputError) as caught:
        read_har(path)
    at = len(START) + 6 + MAX_DEPTH - 4  # four levels (root, log, entries, entry) are already open
    assert caught.value.position == f"byte {at}"
    assert f"JSON nested deeper than {MAX_DEPTH} levels" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_entries_before_deep_nesting_are_kept(tmp_path: Path) -> None:
    # Brackets and escaped quotes inside strings do not count.
    tricky = json.dumps({**ENTRY, "comment": '[[[[{{{{ \\" ]]]'}).encode()
    data = START + GOOD + b", " + tricky + b', {"x": ' + _nested(5000) + b"}, " + GOOD + b"]}}"
    res = read_har(_write(tmp_path, "deep-after.har", data))
    assert len(res.transactions) == 2
    diag = next(d for d in res.diagnostics if d.code == "har.limit_exceeded")
    first_bracket = data.index(b'{"x": ') + 6
    assert diag.position == f"byte {first_bracket + MAX_DEPTH - 4}"
    assert "the 2 entries before it are analyzed" in diag.message


def test_real_depths_are_read(tmp_path: Path) -> None:
    # Chrome's async initiator stacks: one object per parent, 32 parents at most; we allow far more.
    stack: dict[str, object] = {"callFrames": []}
    for _ in range(MAX_DEPTH - 20):
        stack = {"callFrames": [{"functionName": "f"}], "parent": stack}
    entry = {**ENTRY, "_initiator": {"type": "script", "stack": stack}}
    res = read_har(_write(tmp_path, "initiator.har", START + json.dumps(entry).encode() + b"]}}"))
    assert len(res.transactions) == 1
    assert not [d for d in res.diagnostics if d.code == "har.limit_exceeded"]


def test_an_oversized_entry_stops_reading_and_keeps_the_ones_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(har_stream, "MAX_ENTRY_BYTES", MIB)
    huge = json.dumps({**ENTRY, "comment": "x" * (3 * MIB)}).encode()
    res = read_har(_write(tmp_path, "huge.har", START + GOOD + b", " + huge + b", " + GOOD + b"]}}"))
    assert len(res.transactions) == 1
    diag = next(d for d in res.diagnostics if d.code == "har.limit_exceeded")
    assert "MiB of JSON in one entry" in diag.message and diag.position is not None


def test_the_entry_bound_restarts_at_every_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(har_stream, "MAX_ENTRY_BYTES", 200_000)  # the parser reads 64 KB at a time
    data = START + b", ".join([GOOD] * 3000) + b"]}}"  # about 800 KB in all
    res = read_har(_write(tmp_path, "many.har", data))
    assert len(res.transactions) == 3000
    assert not [d for d in res.diagnostics if d.code == "har.limit_exceeded"]


@pytest.mark.parametrize("kind", ["bzip2", "xz"])
def test_a_decompression_bomb_keeps_the_entries_before_it(tmp_path: Path, kind: str) -> None:
    data = bomb(kind, START + GOOD + b", " + GOOD + b", ", b" " * MIB, 80, b"{}]}}")
    path = _write(tmp_path, f"bomb.har.{kind}", data)
    assert len(data) < 64 * 1024
    res = read_har(path)
    assert len(res.transactions) == 2
    diag = next(d for d in res.diagnostics if d.code == "har.limit_exceeded")
    assert "decompression bomb" in diag.message and "the 2 entries before it are analyzed" in diag.message


def test_a_bomb_with_nothing_usable_is_a_one_line_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.har.bz2", bomb("bzip2", START, b" " * MIB, 80, b"]}}"))
    with pytest.raises(InputError) as caught:
        read_har(path)
    message = str(caught.value)
    assert message.startswith(path) and "reading stopped at near byte" in message and "\n" not in message


def test_an_empty_chunk_keeps_a_pending_escape() -> None:
    guard = NestingGuard()
    for chunk in (b'["\\', b"", b'"', b'"]'):  # the escaped quote does not end the string
        assert guard.feed(chunk) is None
    assert (guard.depth, guard.in_string, guard.escape) == (0, False, False)
