"""The fast HAR entry reader: each ``log.entries`` item cut out of the stream and decoded by msgspec.

ijson (yajl2_c) plus the nesting guard costs about 3 µs per KB of HAR; msgspec decodes the same
entries in a third of that (docs/decisions/0005-har-fast-reader.md). msgspec has no streaming API, so
the stream is read into a window and each entry is found in two steps: msgspec skips the value
without building it (``Raw``), and the offset in its "trailing characters" error is the separator
after the entry; that slice is then decoded. The cut needs no trust in the message: a slice that
decodes whole, followed by ``,`` or ``]``, is exactly one array element (JSON values are
self-delimiting).

The result must be what the ijson path (``har_stream.iter_entries``) yields, so anything this reader
does not handle the same way raises ``FastPathUnavailable`` and the caller reads the file again the
exact way, skipping the entries already taken: invalid JSON anywhere (the ijson path locates it), an
encoding error, a number msgspec will not take, nesting past ``MAX_DEPTH``, a value longer than
``value_limit`` (the caller passes half of ``MAX_ENTRY_BYTES``: near the bound the exact path decides),
a ``log`` or ``entries`` key that is not the plain first one. Read errors propagate (the caller falls
back on them too, and the exact path meets them where they are).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from stickyforensics.ingest.har_limits import MAX_DEPTH

WINDOW = 256 << 10
"""Bytes read into the window at a time. An entry cut by a read is skipped over again from its start
(entries are 1-120 KB: ~2% more skipping), and the reader holds about three windows at most."""

ENTRIES_DEPTH = 3
"""Nesting levels above an entry's own: the document, ``log``, ``entries``."""

TAIL_LIMIT = 1 << 20
"""Most bytes after the entries array checked here (usually ``]}}``); beyond, the exact path does it."""

WALK_FROM = 16 << 10
"""Entries larger than this are depth-checked by walking their decoded containers rather than counting
their bytes' brackets (on bench/data/session-300.har: -11% of the entry reading)."""

_CONTAINERS = (dict, list)
_ALL_BUT_OPENERS = bytes(range(256)).translate(None, b"{[")
"""``bytes.translate``'s delete argument that leaves only the ``{`` and ``[`` bytes."""

CUT_MARGIN = 64
"""An error this close to the window's end may be the cut, not the JSON: read on and try again."""

_AT_BYTE = re.compile(r"\(byte (\d+)\)")
_TRAILING = re.compile(r"JSON is malformed: trailing characters \(byte (\d+)\)\Z")
_WS = frozenset(b" \t\r\n")
_COMMA, _COLON, _OPEN_ARRAY, _CLOSE_ARRAY, _OPEN_MAP = b",:[]{"


class FastPathUnavailable(Exception):
    """This file (from this point on) needs the exact ijson path."""


class _Window:
    """The bytes of the stream from ``base`` on, read ``WINDOW`` at a time."""

    def __init__(self, read: Callable[[int], bytes], value_limit: int) -> None:
        self._read = read
        self.value_limit = value_limit
        """Most bytes of one value, or of whitespace between two."""
        self.data = b""
        self.base = 0
        """Stream offset of ``data[0]``."""
        self.eof = False

    def grow(self, keep_from: int) -> None:
        """Read more, dropping the bytes before ``keep_from`` (a window index)."""
        if self.eof:
            raise FastPathUnavailable("the stream ended inside a value")
        # At least double what is kept, so a long value is not skipped over again and again.
        more = self._read(max(WINDOW, len(self.data) - keep_from))
        if not more:
            self.eof = True
        self.base += keep_from
        self.data = b"".join((memoryview(self.data)[keep_from:], more))

    def skip_ws(self, pos: int) -> int:
        """The index of the first non-whitespace byte from ``pos`` (reading on); the window may shift."""
        skipped = 0
        while True:
            data = self.data
            start = pos
            while pos < len(data) and data[pos] in _WS:
                pos += 1
            if pos < len(data):
                return pos
            skipped += pos - start
            if self.eof or skipped > self.value_limit:
                raise FastPathUnavailable("the stream ended early, or a long run of whitespace")
            self.grow(pos)
            pos = 0


class _Cutter:
    """Finds where each JSON value in the window ends."""

    def __init__(self, window: _Window) -> None:
        self.window = window
        self._skip = msgspec.json.Decoder(msgspec.Raw)

    def value_end(self, pos: int) -> tuple[int, int]:
        """``(start, end)`` of the value at ``pos``: ``end`` is the first non-whitespace byte after it.

        The window may shift (so ``start`` is returned anew); a value longer than ``value_limit`` or one
        msgspec will not skip is ``FastPathUnavailable``.
        """
        window = self.window
        while True:
            try:
                self._skip.decode(memoryview(window.data)[pos:])
            except msgspec.DecodeError as exc:
                text = str(exc)
                found = _TRAILING.match(text)
                if found is not None:
                    return pos, pos + int(found.group(1)) - 1
                # A value cut by the window's end reads as truncated, or (a number: "12.", "1e", "-")
                # as malformed at its very end; anything earlier is the JSON's own fault.
                at = _AT_BYTE.search(text)
                if at is not None and pos + int(at.group(1)) < len(window.data) - CUT_MARGIN:
                    raise FastPathUnavailable(text) from None
                if at is None and text != "Input data was truncated":
                    raise FastPathUnavailable(text) from None
            except RecursionError:
                raise FastPathUnavailable("nested too deep for msgspec") from None
            # Truncated, or complete up to the window's end: the separator is still unread.
            if len(window.data) - pos > window.value_limit:
                raise FastPathUnavailable("a value larger than the entry bound")
            window.grow(pos)
            pos = 0


SKIPPED = object()
"""Yielded by ``fast_entries`` for an entry before ``decode_from``: cut, not decoded."""


def fast_entries(
    read: Callable[[int], bytes],
    value_limit: int,
    *,
    decode_from: int = 0,
    stop_before: int | None = None,
    span: list[int] | None = None,
) -> Iterator[Any]:
    """Yield each ``log.entries`` item of the stream ``read`` gives (BOM skipped, UTF-8) as
    ``iter_entries`` would; ``FastPathUnavailable`` when it cannot.

    Two processes can share a file (``har.read_har``'s split): an entry that starts before the stream
    byte ``decode_from`` is only cut, and ``SKIPPED`` stands for it; with ``stop_before``, the reading
    ends without a word before the first entry that starts at or after that byte (the rest is not checked).
    ``span``: once the whole stream was read, it holds the stream offsets just after the entries' ``[``
    and of their ``]`` (the document without its entries is what lies outside, ``sanitize.har_io.frame``).
    """
    window = _Window(read, value_limit)
    cutter = _Cutter(window)
    decode = msgspec.json.Decoder().decode
    pos = _entries_start(cutter)
    opened_at = window.base + pos
    pos = window.skip_ws(pos)
    if window.data[pos] != _CLOSE_ARRAY:
        while True:
            if stop_before is not None and window.base + pos >= stop_before:
                return
            start, end = cutter.value_end(pos)
            data = window.data
            separator = data[end]
            if separator != _COMMA and separator != _CLOSE_ARRAY:
                raise FastPathUnavailable("no separator after an entry")
            if window.base + start < decode_from:
                yield SKIPPED
            else:
                try:
                    entry = decode(memoryview(data)[start:end])
                except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
                    raise FastPathUnavailable(str(exc)) from None
                if _too_deep(data, start, end, entry):
                    raise FastPathUnavailable("nested deeper than the bound")
                yield entry
            if separator == _CLOSE_ARRAY:
                pos = end + 1
                break
            pos = window.skip_ws(end + 1)
    else:
        pos += 1
    closed_at = window.base + pos - 1
    _check_tail(window, pos)
    if span is not None:
        span[:] = [opened_at, closed_at]


def _too_deep(data: bytes, start: int, end: int, entry: Any) -> bool:
    """The entry ``data[start:end]`` nests past ``MAX_DEPTH``? A large entry (mostly body text) is walked:
    its containers are few. A small one is counted first: its ``{`` and ``[`` bytes bound its depth (one
    C-level pass that deletes every other byte: half the time of two counts), and only one with many is
    walked."""
    limit = MAX_DEPTH - ENTRIES_DEPTH
    if end - start <= WALK_FROM and len(data[start:end].translate(None, _ALL_BUT_OPENERS)) <= limit:
        return False
    return _deeper_than(entry, limit)


def _entries_start(cutter: _Cutter) -> int:
    """The window index just after the ``[`` of ``log.entries`` (the first ``log``, its first ``entries``)."""
    window = cutter.window
    pos = _expect(window, 0, _OPEN_MAP)
    in_log = False
    while True:
        key, pos = _key(cutter, pos)
        if not in_log and key == "log":
            pos = _expect(window, pos, _OPEN_MAP)
            in_log = True
            continue
        if in_log and key == "entries":
            return _expect(window, pos, _OPEN_ARRAY)
        pos = _skip_value(cutter, pos, 2 if in_log else 1)
        if window.data[pos] != _COMMA:
            # The object closed before ``log.entries``: the exact path knows what that means.
            raise FastPathUnavailable("no log.entries where expected")
        pos += 1


def _skip_value(cutter: _Cutter, pos: int, level: int) -> int:
    """The index after a value nested ``level`` deep, checked as the exact path checks it (decoded, depth)."""
    start, end = cutter.value_end(pos)
    try:
        value = msgspec.json.decode(memoryview(cutter.window.data)[start:end])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        raise FastPathUnavailable(str(exc)) from None
    if level + nesting_depth(value) > MAX_DEPTH:
        raise FastPathUnavailable("nested deeper than the bound")
    return end


def _key(cutter: _Cutter, pos: int) -> tuple[str, int]:
    """The object key at ``pos`` and the index after its colon."""
    window = cutter.window
    pos = window.skip_ws(pos)
    start, end = cutter.value_end(pos)
    try:
        key = msgspec.json.decode(memoryview(window.data)[start:end])
    except msgspec.DecodeError as exc:
        raise FastPathUnavailable(str(exc)) from None
    if not isinstance(key, str) or window.data[end] != _COLON:
        raise FastPathUnavailable("not an object key")
    return key, end + 1


def _expect(window: _Window, pos: int, byte: int) -> int:
    pos = window.skip_ws(pos)
    if window.data[pos] != byte:
        raise FastPathUnavailable(f"expected {chr(byte)!r}")
    return pos + 1


def _check_tail(window: _Window, pos: int) -> None:
    """The rest of the document after the entries' ``]`` must be valid JSON that yields no more entries."""
    tail = window.data[pos:]
    while not window.eof and len(tail) <= TAIL_LIMIT:
        window.grow(len(window.data))
        tail += window.data
    if len(tail) > TAIL_LIMIT:
        raise FastPathUnavailable("a long tail after the entries")
    # Another "log" or "entries" key (or one spelt with escapes) could hold more entries for ijson.
    if b"log" in tail or b"entries" in tail or b"\\" in tail:
        raise FastPathUnavailable("keys after the entries")
    try:
        rest = msgspec.json.decode(b'{"log":{"entries":[]' + tail)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        raise FastPathUnavailable(str(exc)) from None
    if nesting_depth(rest) > MAX_DEPTH:
        raise FastPathUnavailable("nested deeper than the bound after the entries")


def nesting_depth(value: Any) -> int:
    """Levels of dicts and lists in a decoded JSON value (a scalar is 0), walked level by level."""
    depth = 0
    level = [value] if type(value) in _CONTAINERS else []
    while level:
        depth += 1
        level = _below(level)
    return depth


def _deeper_than(value: Any, limit: int) -> bool:
    """``nesting_depth(value) > limit``, stopping at the first level past ``limit``."""
    depth = 0
    level = [value] if type(value) in _CONTAINERS else []
    while level:
        depth += 1
        if depth > limit:
            return True
        level = _below(level)
    return False


def _below(level: list[Any]) -> list[Any]:
    # msgspec decodes JSON objects and arrays to exactly dict and list: type() is enough, and faster.
    below = []
    for item in level:
        for child in item.values() if type(item) is dict else item:
            if type(child) in _CONTAINERS:
                below.append(child)
    return below
