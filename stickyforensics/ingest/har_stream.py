"""Streaming access to a HAR file: one ``log.entries`` item at a time.

Theory of operation:

* A HAR can be hundreds of MB (bodies are base64 text). ``json.load`` or
  haralyzer build the whole tree (4-6x the file size in RSS, see
  docs/decisions/0001-har-reader.md); ``ijson.items(f, "log.entries.item")``
  builds one entry at a time, so memory is bounded by the largest entry.
* The file is opened twice. A *head pass* walks parse events up to the start of
  ``log.entries`` to check the shape (``log`` is an object, ``entries`` an array)
  and to pick up ``log.creator`` (the producer). The *entry pass* then yields the
  entries. The head pass normally stops within the first KB.
* Byte positions: the parser is fed through ``_CountingReader``, so on a parse
  error we know which chunk broke. For files up to ``EXACT_POSITION_LIMIT`` the
  exact byte is then found with the standard ``json`` module; beyond that the
  position is the end of the chunk ("near byte N").
* Slow path: yajl cannot take a number beyond 64 bits ("integer overflow",
  "floating point overflow") or a lone low-surrogate escape (``"\\udc80"``,
  from a tool that cut a string between the halves of a pair). The stream is
  then read again with ijson's pure-Python parser, which can (with ``Decimal``
  numbers, since it rejects ``1e999`` as a float). yajl2_c runs with
  ``use_float=True``: without it, it takes big integers but segfaults on one of
  more than 4300 digits.
* Encodings: gzip, xz and bzip2 (by magic), a UTF-8 BOM, and UTF-16 with a BOM
  (transcoded to UTF-8 on the fly; positions then count transcoded bytes).
* Bounds on crafted files (``har_limits``): the nesting depth and the bytes read for one entry
  are checked before the parser sees them, and compressed data may expand only so far
  (``sniff.decompressed_limit``). Past a bound reading stops there, as after a read error, with
  ``JsonBreak.limit`` set; the entries before it are kept.
"""

from __future__ import annotations

import codecs
import io
import json
import lzma
import os
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import ijson

from stickyforensics.errors import InputError
from stickyforensics.ingest.har_fast import FastPathUnavailable, fast_entries
from stickyforensics.ingest.har_limits import MAX_ENTRY_BYTES, HarLimitExceeded, NestingGuard, too_deep, too_large
from stickyforensics.ingest.sniff import InputLimitExceeded, compression, open_decompressed

CHUNK = 64 * 1024
"""Bytes handed to the JSON parser per read."""

_RAW_PIECE = 16 * 1024
"""Raw read size: small enough that a truncated gzip loses little before its EOFError."""

EXACT_POSITION_LIMIT = 16 * 1024 * 1024
"""Up to this many (decompressed) bytes, a parse error position is located exactly."""

READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, UnicodeDecodeError)
"""What reading a damaged gzip / xz / bzip2 / UTF-16 stream raises (gzip.BadGzipFile is an OSError)."""


class _Raw(Protocol):
    """The opened file: plain, or a bounded decompressor over it."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def ijson_backend() -> str:
    """The ijson backend in use; ``yajl2_c`` is about 10x faster than the pure-Python one."""
    return str(getattr(ijson, "backend", "unknown"))


_progress: Callable[[int], None] | None = None
"""Told the bytes read so far by every reader of this process, while ``reading_progress`` holds."""
PROGRESS_BYTES = 4 << 20


@contextmanager
def reading_progress(callback: Callable[[int], None] | None) -> Iterator[None]:
    """While it holds, ``callback`` is told (every ``PROGRESS_BYTES``) how far the current reader has got."""
    global _progress
    previous, _progress = _progress, callback
    try:
        yield
    finally:
        _progress = previous


def quiet_progress() -> None:
    """In a forked reader: nothing to tell (the parent's bar is the parent's)."""
    global _progress
    _progress = None


class _CountingReader:
    """A binary ``read()`` that skips a leading BOM, transcodes UTF-16 and counts bytes.

    ``guarded`` (the parser's reads): the nesting depth and the bytes per entry are bounded
    (``har_limits``); past a bound, the bytes before it are handed over and the next read raises.
    """

    def __init__(self, raw: _Raw, *, guarded: bool = True) -> None:
        self._raw = raw
        self._guard = NestingGuard() if guarded else None
        self.entry_mark = 0
        """``consumed`` when the last entry was complete (``mark_entry``)."""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pending = b""
        self._error: BaseException | None = None
        self.consumed = 0
        """Bytes handed to the parser so far (BOM excluded)."""
        self._tick_at = PROGRESS_BYTES
        self.encoding = "utf-8"
        self.bom_len = 0
        """Length of a skipped UTF-8 BOM, added back when reporting file positions."""
        start = raw.read(4)
        if start.startswith(codecs.BOM_UTF8):
            self._pending = start[3:]
            self.bom_len = 3
        elif start.startswith(codecs.BOM_UTF16_LE):
            self._init_utf16("utf-16-le", start[2:])
        elif start.startswith(codecs.BOM_UTF16_BE):
            self._init_utf16("utf-16-be", start[2:])
        else:
            self._pending = start

    def _init_utf16(self, codec: str, rest: bytes) -> None:
        self.encoding = codec
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._pending = self._decoder.decode(rest).encode("utf-8")

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; a read error after some data is deferred to the next call.

        Deferring matters for a truncated gzip: ``GzipFile.read`` raises EOFError and
        drops what it decompressed in that call, so the raw stream is read in small
        pieces and whatever came before the error is handed to the parser first.
        """
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        want = CHUNK if size is None or size < 0 else size
        if want == 0:
            return b""
        if self._guard is not None and self.consumed - self.entry_mark > MAX_ENTRY_BYTES:
            raise too_large()
        parts = [self._pending]
        got = len(self._pending)
        self._pending = b""
        while got < want:
            try:
                raw = self._raw.read(min(want, _RAW_PIECE))
            except READ_ERRORS as exc:
                if not got:
                    raise
                self._error = exc
                break
            if self._decoder is not None:
                final = not raw
                piece = self._decoder.decode(raw, final).encode("utf-8")
                parts.append(piece)
                got += len(piece)
                if final:
                    break
            else:
                if not raw:
                    break
                parts.append(raw)
                got += len(raw)
        out = b"".join(parts)
        if len(out) > want:
            out, self._pending = out[:want], out[want:]
        if self._guard is not None:
            deep = self._guard.feed(out)
            if deep is not None:
                out, self._pending, self._error = out[:deep], b"", too_deep()
        self.consumed += len(out)
        if self.consumed >= self._tick_at:
            self._tick()
        return out

    def _tick(self) -> None:
        self._tick_at = self.consumed + PROGRESS_BYTES
        if _progress is not None:
            _progress(self.consumed + self.bom_len)

    def read_large(self, size: int) -> bytes:
        """Up to ``size`` bytes for the fast reader, unguarded: straight from a plain file, else as ``read``."""
        if self._decoder is not None or self._guard is not None or not isinstance(self._raw, io.BufferedReader):
            return self.read(size)
        out, self._pending = self._pending, b""
        out += self._raw.read(max(0, size - len(out)))
        self.consumed += len(out)
        if self.consumed >= self._tick_at:
            self._tick()
        return out

    def mark_entry(self) -> None:
        """An entry was complete: the per-entry byte bound starts again from here."""
        self.entry_mark = self.consumed


def _open_raw(path: str) -> _Raw:
    if os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path):
        # The file is opened twice (head pass, entry pass): a pipe would be empty the second time.
        raise InputError(path, "not a regular file (a pipe or a device): save the HAR to a file first")
    try:
        fh: io.BufferedReader = open(path, "rb")  # noqa: SIM115 - returned open, closed by the caller
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a HAR file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        kind = compression(fh.read(8))
        fh.seek(0)
    except OSError as exc:
        fh.close()
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if kind is not None:
        fh.close()
        return open_decompressed(path, kind)
    return fh


def open_har_stream(path: str, *, guarded: bool = True) -> tuple[_Raw, _CountingReader]:
    """The raw handle (to close) and the counting, BOM-skipping reader over it (see ``_CountingReader``)."""
    raw = _open_raw(path)
    try:
        return raw, _CountingReader(raw, guarded=guarded)
    except READ_ERRORS as exc:
        raw.close()
        raise InputError(path, f"cannot read: {exc}") from None


@dataclass(slots=True)
class HarHead:
    """What precedes ``log.entries``: the producer, for messages about sanitized exports."""

    creator: str | None = None
    creator_version: str | None = None
    browser: str | None = None

    @property
    def producer(self) -> str | None:
        """``Chrome 120.0`` style label from ``creator`` / ``browser``, or None."""
        name = self.creator or self.browser
        if not name:
            return None
        return f"{name} {self.creator_version}" if self.creator_version else name


@dataclass(frozen=True, slots=True)
class JsonBreak:
    """Where and why the JSON stopped being readable."""

    offset: int
    message: str
    exact: bool
    limit: bool = False
    """A bound was reached (nesting, entry size, decompressed size), the JSON itself may be fine."""

    @property
    def where(self) -> str:
        return f"byte {self.offset}" if self.exact else f"near byte {self.offset}"


def read_head(path: str) -> HarHead:
    """Check the HAR shape up to ``log.entries`` and collect the producer.

    Raises ``InputError`` when the file is not JSON, not a HAR (no ``log`` object,
    no ``entries`` array) or breaks before the entries start.
    """
    try:
        return _read_head(path, ijson)
    except _SlowPath:
        return _read_head(path, ijson.get_backend("python"))


class _SlowPath(Exception):
    """The head pass needs the pure-Python parser (see the module docstring)."""


def _read_head(path: str, backend: Any) -> HarHead:
    head = HarHead()
    raw, reader = open_har_stream(path)
    seen_log = False
    try:
        events = backend.parse(reader, buf_size=CHUNK, use_float=backend is ijson)
        first = True
        for prefix, event, value in events:
            if first:
                first = False
                if event != "start_map":
                    raise InputError(path, f"not a HAR file: the top level is a JSON {_kind(event)}, not an object")
            if prefix == "log" and event not in ("map_key", "end_map"):
                if event != "start_map":
                    raise InputError(path, f'not a HAR file: "log" is a JSON {_kind(event)}, not an object')
                seen_log = True
            elif prefix == "log.entries" and event != "map_key":
                if event != "start_array":
                    raise InputError(path, f'not a HAR file: "log.entries" is a JSON {_kind(event)}, not an array')
                return head
            elif event == "string":
                _note_creator(head, prefix, value)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        if backend is ijson and _slow_path_reason(exc, reader) is not None:
            raise _SlowPath() from None
        if isinstance(exc, ijson.JSONError):
            brk = locate_break(path, reader, exc)
        else:
            brk = _read_break(reader, exc)
        raise InputError(path, f"invalid JSON at {brk.where}: {brk.message}", position=brk.where) from None
    except (ValueError, ArithmeticError) as exc:
        where = f"near byte {reader.consumed + reader.bom_len}"
        raise InputError(path, f"unreadable number at {where}: {exc}", position=where) from None
    except InputLimitExceeded as exc:
        brk = _read_break(reader, exc)
        raise InputError(path, f"reading stopped at {brk.where}: {brk.message}", position=brk.where) from None
    except READ_ERRORS as exc:
        where = f"near byte {reader.consumed + reader.bom_len}"
        raise InputError(path, f"cannot read at {where}: {exc}", position=where) from None
    finally:
        raw.close()
    if not seen_log:
        raise InputError(path, 'not a HAR file: no "log" object')
    raise InputError(path, 'not a HAR file: "log" has no "entries" array')


_TAIL = 64 * 1024
_CREATOR = re.compile(rb'"creator"\s*:\s*\{([^{}]*)\}')
_FIELD = re.compile(rb'"(name|version)"\s*:\s*("(?:[^"\\]|\\.)*")')


def creator_from_tail(path: str, head: HarHead) -> None:
    """Fill ``head.creator`` from the end of an uncompressed file (Fiddler writes it after the entries)."""
    try:
        with open(path, "rb") as fh:
            if compression(fh.read(8)) is not None:
                return
            fh.seek(max(0, fh.seek(0, io.SEEK_END) - _TAIL))
            tail = fh.read(_TAIL)
    except OSError:
        return
    found = _CREATOR.search(tail)
    if found is None:
        return
    for key, raw in _FIELD.findall(found.group(1)):
        try:
            value = str(json.loads(raw.decode("utf-8", "replace")))[:200]
        except ValueError:
            continue
        if key == b"name":
            head.creator = value
        else:
            head.creator_version = value


def _note_creator(head: HarHead, prefix: str, value: Any) -> None:
    text = str(value)[:200]
    if prefix == "log.creator.name":
        head.creator = text
    elif prefix == "log.creator.version":
        head.creator_version = text
    elif prefix == "log.browser.name":
        head.browser = text


def _kind(event: str) -> str:
    return {
        "start_array": "array",
        "start_map": "object",
        "string": "string",
        "number": "number",
        "boolean": "boolean",
        "null": "null",
    }.get(event, event)


def iter_entries(
    path: str, notes: list[str] | None = None, *, fast: bool = True, span: list[int] | None = None
) -> Iterator[Any]:
    """Yield each ``log.entries`` item; on a break, raise ``HarBreak`` after the good ones.

    The entries come from ``har_fast`` (msgspec) as long as it can take the file;
    past any point it cannot, ijson reads it again from the start, skipping the
    entries already yielded. When yajl meets what only the pure-Python parser
    reads (see the module docstring), the same happens again with the latter, and
    a note is appended to ``notes``. ``fast=False``: ijson from the start (the reference). ``span``: filled
    as ``har_fast.fast_entries`` fills it when the fast path read the whole file, else left empty.
    """
    yielded = 0
    if fast:
        raw, reader = open_har_stream(path, guarded=False)
        try:
            for item in fast_entries(reader.read_large, MAX_ENTRY_BYTES // 2, span=span):
                yielded += 1
                yield item
            return
        except (FastPathUnavailable, *READ_ERRORS):
            pass  # read again the exact way below, past the entries already yielded
        finally:
            raw.close()
    backend: Any = ijson
    while True:
        raw, reader = open_har_stream(path)
        try:
            items = backend.items(reader, "log.entries.item", buf_size=CHUNK, use_float=backend is ijson)
            for index, item in enumerate(items):
                reader.mark_entry()
                if index >= yielded:
                    yielded += 1
                    yield item
            return
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            reason = _slow_path_reason(exc, reader) if backend is ijson else None
            if reason is None:
                if isinstance(exc, ijson.JSONError):
                    raise HarBreak(locate_break(path, reader, exc)) from None
                raise HarBreak(_read_break(reader, exc)) from None
            backend = ijson.get_backend("python")
            if notes is not None:
                where = reader.consumed + reader.bom_len
                notes.append(f"{reason} near byte {where}: the file was read again with the slower pure-Python parser")
        except (ValueError, ArithmeticError) as exc:
            # The pure-Python parser: an integer of more than 4300 digits, an exponent out of range.
            raise HarBreak(JsonBreak(reader.consumed + reader.bom_len, f"unreadable number: {exc}", False)) from None
        except READ_ERRORS as exc:
            raise HarBreak(_read_break(reader, exc)) from None
        finally:
            raw.close()


def _read_break(reader: _CountingReader, exc: BaseException) -> JsonBreak:
    offset = reader.consumed + reader.bom_len
    if isinstance(exc, InputLimitExceeded):
        return JsonBreak(offset, str(exc), exact=isinstance(exc, HarLimitExceeded) and exc.exact, limit=True)
    return JsonBreak(offset, f"cannot read: {exc}", exact=False)


def _slow_path_reason(exc: BaseException, reader: _CountingReader) -> str | None:
    """Why the pure-Python parser should take over, or None when it would fail the same way."""
    if isinstance(exc, UnicodeDecodeError):
        return "a string escape the fast JSON parser cannot decode" if reader.encoding == "utf-8" else None
    if "overflow" in str(exc):
        return "a number the fast JSON parser cannot hold (beyond 64 bits)"
    return None


class HarBreak(Exception):
    """The entry stream ended at a JSON or read error (entries before it are good)."""

    def __init__(self, brk: JsonBreak) -> None:
        super().__init__(brk.message)
        self.brk = brk


def locate_break(path: str, reader: _CountingReader, exc: Exception) -> JsonBreak:
    """Turn a parser error into a byte position (in the file, or in the decompressed data) and a reason."""
    text = str(exc).strip()
    if text.startswith(("b'", 'b"')):
        # yajl2_c hands some messages over as the repr of bytes.
        text = text[2:].replace("\\n", "\n")
    first_line = text.splitlines()[0].strip() if text else type(exc).__name__
    truncated = "premature EOF" in first_line
    consumed = reader.consumed
    brk: JsonBreak | None = None
    if consumed <= EXACT_POSITION_LIMIT:
        exact = _exact_break(path)
        if exact is not None:
            brk = JsonBreak(exact.offset + reader.bom_len, exact.message, exact=True)
    if brk is None:
        brk = JsonBreak(consumed + reader.bom_len, first_line.removeprefix("parse error: "), exact=False)
    if truncated:
        brk = JsonBreak(brk.offset, f"{brk.message} (the file ends early: it is truncated)", brk.exact)
    return brk


def _exact_break(path: str) -> JsonBreak | None:
    """Re-parse a small file with ``json`` to get the exact byte of the error."""
    try:
        raw, reader = open_har_stream(path, guarded=False)  # json.loads meets deep nesting as RecursionError
    except InputError:
        return None
    try:
        data = reader.read(EXACT_POSITION_LIMIT + 1)
    except READ_ERRORS:
        return None
    finally:
        raw.close()
    if len(data) > EXACT_POSITION_LIMIT:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return JsonBreak(bad.start, f"invalid UTF-8 byte 0x{data[bad.start]:02x} (a HAR must be UTF-8)", exact=True)
    text = data.decode("utf-8", "surrogateescape")
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        offset = len(text[: err.pos].encode("utf-8", "surrogateescape"))
        # json says "Unterminated string starting at"; the position follows in our message.
        message = err.msg.removesuffix(" starting at").removesuffix(" at").lower()
        return JsonBreak(offset, message, exact=True)
    except (ValueError, RecursionError):
        return None
    return None
