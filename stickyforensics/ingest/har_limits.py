"""Bounds on what the streamed HAR parser is handed, so a crafted HAR cannot exhaust memory.

``ijson`` keeps one prefix string per nesting level and rebuilds it for every event, so memory grows
with the square of the depth: 200 KB of ``[`` (100,000 levels) takes many GB. And the parser holds a
JSON string whole, however long. ``NestingGuard`` follows the depth of the bytes before the parser
sees them; ``har_stream`` also bounds the bytes read for one entry. Both raise ``HarLimitExceeded``
(an ``InputLimitExceeded``, so an ``OSError``): reading stops there, the entries before it are kept.

The guard costs a few C-level passes per 64 KB chunk (about 5% of the reading time); only a chunk
that may cross the limit is walked byte by byte to find the spot.
"""

from __future__ import annotations

import re
from itertools import accumulate

from stickyforensics.ingest.sniff import InputLimitExceeded

MAX_DEPTH = 256
"""Deepest JSON nesting read. A HAR nests about 8 levels; Chrome's async ``_initiator`` stacks add one
per parent (32 at most): far below. ijson's per-level prefixes stay small (a few hundred KB) at this depth."""

MAX_ENTRY_BYTES = 128 << 20
"""Most JSON bytes read for one entry, or between two entries: bounds the largest string held whole.
Browsers keep a few MB of a body at most (Chrome's 10 MB resource buffer, Firefox's 1 MB limit)."""


class HarLimitExceeded(InputLimitExceeded):
    """The HAR is nested too deep or has an entry too large to read."""

    def __init__(self, message: str, *, exact: bool) -> None:
        super().__init__(message)
        self.exact = exact
        """The reading stopped at the very byte that broke the bound (else within the last chunk)."""


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'"[]{}')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_OPEN = (ord("["), ord("{"))
_CLOSE = (ord("]"), ord("}"))


class NestingGuard:
    """Follows the JSON nesting depth across chunks (strings and escapes skipped)."""

    __slots__ = ("depth", "escape", "in_string")

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False
        """The previous chunk ended with a backslash: the first byte of the next one is escaped."""

    def feed(self, data: bytes) -> int | None:
        """Take the next chunk; the index of the byte that goes deeper than ``MAX_DEPTH``, or None."""
        if not data:
            return None  # an empty read: a pending escape still applies to the next byte
        state = (self.depth, self.in_string, self.escape)
        body = data[1:] if self.escape else data
        self.escape = False
        if b"\\" in body:
            body = _ESCAPE.sub(b"", body)
            if body.endswith(b"\\"):
                body = body[:-1]
                self.escape = True
        # Two quotes with no bracket between change nothing (a string, or the gap between two strings).
        parts = body.translate(None, _NOT_STRUCTURAL).replace(b'""', b"").split(b'"')
        brackets = b"".join(parts[1::2] if self.in_string else parts[0::2])
        if len(parts) % 2 == 0:  # an odd number of quotes
            self.in_string = not self.in_string
        opens = brackets.count(b"[") + brackets.count(b"{")
        # Cheap bound first: dropping the empty pairs ("{}", then "[]") lowers the deepest point by one
        # level per pass at most, so the chunk goes no deeper than the openers left, plus two.
        nested = brackets.replace(b"{}", b"").replace(b"[]", b"")
        if self.depth + nested.count(b"[") + nested.count(b"{") + 2 > MAX_DEPTH:
            peak = max(accumulate(map(_STEP.__getitem__, brackets), initial=0))
            if self.depth + peak > MAX_DEPTH:
                at = _crossing(data, *state)
                if at is not None:
                    return at
        self.depth += 2 * opens - len(brackets)
        return None


def _crossing(data: bytes, depth: int, in_string: bool, escape: bool) -> int | None:
    """The byte where the depth first exceeds ``MAX_DEPTH`` (walked one by one: this runs once)."""
    for index, byte in enumerate(data):
        if escape:
            escape = False
        elif byte == 0x5C:
            escape = True
        elif in_string:
            in_string = byte != 0x22
        elif byte == 0x22:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return index
        elif byte in _CLOSE:
            depth -= 1
    return None


def too_deep() -> HarLimitExceeded:
    return HarLimitExceeded(f"JSON nested deeper than {MAX_DEPTH} levels (a HAR nests about 8)", exact=True)


def too_large() -> HarLimitExceeded:
    return HarLimitExceeded(
        f"more than {MAX_ENTRY_BYTES >> 20} MiB of JSON in one entry, or between two (browsers keep a few MB "
        "of a body at most)",
        exact=False,
    )
