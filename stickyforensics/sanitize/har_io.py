"""Reading a HAR as a frame plus streamed entries, and writing one atomically.

Entries are streamed (``ingest.har_stream``: gzip/xz/bzip2, BOM, UTF-16, 64-bit overflow slow
path, byte positions in errors), so memory is bounded by the largest entry, not the file. The
*frame* is everything else (``log.creator``, ``log.pages``, custom fields, keys after the
entries), built from parse events that skip the entries. The output is written to a temporary
file next to the target and renamed at the end: an error never leaves half a HAR behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import ijson
from ijson.common import ObjectBuilder

from stickyforensics.errors import InputError, StickyError
from stickyforensics.ingest.har_stream import (
    CHUNK,
    HarBreak,
    _CountingReader,
    iter_entries,
    locate_break,
    open_har_stream,
    read_head,
)

_ENTRY = "log.entries.item"


def entries(path: str, span: list[int] | None = None) -> Iterator[Any]:
    """Each ``log.entries`` item; a file that breaks anywhere raises ``InputError`` (nothing is half-kept).

    ``span``: where the entries were in the stream, for ``frame`` (see ``ingest.har_fast.fast_entries``).
    """
    read_head(path)
    try:
        yield from iter_entries(path, span=span)
    except HarBreak as exc:
        brk = exc.brk
        raise InputError(path, f"invalid JSON at {brk.where}: {brk.message}", position=brk.where) from None


FRAME_FROM_SPAN_LIMIT = 64 * 2**20
"""Most bytes outside the entries that ``frame`` reads into memory to parse them alone."""


def frame(path: str, span: list[int] | None = None) -> dict[str, Any]:
    """The whole document without the entries (``log.entries`` is an empty list in it).

    ``span``: the entries' place, as ``entries`` found it: only the bytes around them are parsed (the
    parse of a whole 300 MB file, entries skipped event by event, was a sixth of a sanitize run).
    """
    try:
        return _frame(path, ijson, span)
    except (ijson.JSONError, UnicodeDecodeError):
        # The entry pass has read this file: only the fast parser's limits (64-bit numbers,
        # lone surrogate escapes) are left, and the pure-Python parser has none of them.
        return _frame(path, ijson.get_backend("python"), span)


def _outside_entries(path: str, span: list[int] | None) -> bytes | None:
    """The stream's bytes before and after the entries (``[]`` where they were), when ``span`` says where."""
    if span is None or len(span) != 2:
        return None
    opened, closed = span
    raw, reader = open_har_stream(path, guarded=False)
    try:
        head = _read_up_to(reader, opened)
        _read_up_to(reader, closed - opened, keep=False)
        tail = _read_up_to(reader, FRAME_FROM_SPAN_LIMIT - len(head) + 1)
    finally:
        raw.close()
    if len(head) != opened or len(head) + len(tail) > FRAME_FROM_SPAN_LIMIT:
        return None
    return head + tail


def _read_up_to(reader: Any, size: int, *, keep: bool = True) -> bytes:
    """``size`` bytes of ``reader`` (fewer at its end); dropped as they come when not ``keep``."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        chunk = reader.read_large(min(left, CHUNK * 16))
        if not chunk:
            break
        left -= len(chunk)
        if keep:
            parts.append(chunk)
    return b"".join(parts)


def _frame(path: str, backend: Any, span: list[int] | None = None) -> dict[str, Any]:
    outside = _outside_entries(path, span)
    if outside is not None:
        try:
            return _document(path, _events(backend, io.BytesIO(outside), None))
        except ijson.JSONError:
            if backend is ijson:
                raise  # ``frame`` tries the pure-Python parser
            # else the whole file's parse below says where it breaks
    raw, reader = open_har_stream(path)
    try:
        return _document(path, _events(backend, reader, reader))
    except ijson.JSONError as exc:
        if backend is ijson:
            raise
        brk = locate_break(path, reader, exc)
        raise InputError(path, f"invalid JSON at {brk.where}: {brk.message}", position=brk.where) from None
    finally:
        raw.close()


def _events(backend: Any, source: Any, counting: _CountingReader | None) -> Iterator[tuple[str, Any]]:
    """The parse events of everything but the entries' insides."""
    for prefix, event, value in backend.parse(source, buf_size=CHUNK, use_float=backend is ijson):
        if prefix == _ENTRY:
            if event not in ("start_map", "start_array") and counting is not None:
                counting.mark_entry()  # the per-entry byte bound counts from each entry's end, not the file's start
            continue
        if prefix.startswith(_ENTRY + "."):
            continue
        yield event, value


def _document(path: str, events: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    builder = ObjectBuilder()
    for event, value in events:
        builder.event(event, value)
    document = builder.value
    if not isinstance(document, dict) or not isinstance(document.get("log"), dict):
        raise InputError(path, 'not a HAR file: no "log" object')
    return document


def _plain(node: Any) -> Any:
    """JSON-writable numbers: the pure-Python parser's Decimals become int/float (text if infinite)."""
    if isinstance(node, Decimal):
        if node == node.to_integral_value() and node.is_finite():
            return int(node)
        number = float(node)
        return number if math.isfinite(number) else str(node)
    raise TypeError(f"cannot write a {type(node).__name__} to JSON")


def dumps(node: Any) -> str:
    """Compact JSON; non-ASCII kept as is unless the text holds lone surrogates (then escaped)."""
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"), default=_plain)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(node, ensure_ascii=True, separators=(",", ":"), default=_plain)
    return text


def write_har(
    out_path: str,
    document: dict[str, Any],
    items: Iterable[Any],
    transform_frame: Callable[[Any], Any] = lambda node: node,
) -> int:
    """Write ``document`` with ``items`` as ``log.entries`` (at its place in ``log``); returns the count.

    ``transform_frame`` is applied to every other value of the document as it is written.
    """
    folder = os.path.dirname(os.path.abspath(out_path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".sanitize-", suffix=".har.tmp", dir=folder)
    except OSError as exc:
        raise StickyError(f"{out_path}: cannot write: {exc.strerror or exc}") from None
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("{")
            for index, (key, value) in enumerate(document.items()):
                fh.write(("," if index else "") + dumps(key) + ":")
                if key != "log":
                    fh.write(dumps(transform_frame(value)))
                    continue
                log = dict(value)
                log.setdefault("entries", [])
                fh.write("{")
                for log_index, (log_key, log_value) in enumerate(log.items()):
                    fh.write(("," if log_index else "") + dumps(log_key) + ":")
                    if log_key != "entries":
                        fh.write(dumps(transform_frame(log_value)))
                        continue
                    fh.write("[\n")
                    for item in items:
                        fh.write((",\n" if count else "") + dumps(item))
                        count += 1
                    fh.write("\n]")
                fh.write("}")
            fh.write("}\n")
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, out_path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise StickyError(f"{out_path}: cannot write: {exc.strerror or exc}") from None
        raise
    return count


def _umask() -> int:
    """The process umask (read by setting it back), so the output gets a normal file's permissions."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
