"""The HAR nesting guard follows JSON depth exactly like a byte-by-byte walk, however the text is chunked."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.ingest.har_limits import NestingGuard

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\/[]{}\n\u00e9', max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet='k"\\[', max_size=4), inner, max_size=4),
    max_leaves=30,
)


def _walk_depth(data: bytes) -> int:
    depth, in_string, escape = 0, False, False
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
    return depth


@settings(max_examples=300, deadline=None)
@given(_json, st.lists(st.integers(min_value=1, max_value=7), max_size=40), st.integers(min_value=0, max_value=6))
def test_depth_matches_a_byte_walk(value: object, cuts: list[int], unclosed: int) -> None:
    text = json.dumps(value, ensure_ascii=False).encode() + b"[" * unclosed
    guard = NestingGuard()
    pos = 0
    for cut in cuts:
        assert guard.feed(text[pos : pos + cut]) is None
        pos += cut
    assert guard.feed(text[pos:]) is None
    assert guard.depth == _walk_depth(text) == unclosed
