"""One large HAR read by two processes: the first half of the entries here, the second in a forked child.

A HAR is one client, so ``--jobs`` cannot split it by client as it splits captures; but its entries map
to transactions independently, apart from three pieces of per-file state, which the split keeps exact:

* the diagnostics log and the cookie survey are ordered: this process writes its half to them, the
  child records its calls to the log (``_RecordingLog``, replayed here after our half) and surveys its
  half apart (``CookieSurvey.later_part``, merged here after ours: recording every entry's cookie values
  held 250 MB in each reader of a 1.1 GB HAR), so both end as one process reading the entries in order
  would leave them; when the split fails, both are put back as they were before it;
* an entry whose ``startedDateTime`` is unreadable takes the previous entry's time: when that happens
  in the child before its first readable time, the child's half depends on ours and is read again here;
* the fast reader (``har_fast``) must take the whole file: anything it declines on either side, or any
  failure of the child, and the file is read the ordinary way from the start.

The child sends its transactions in chunks as it reads them (``_ChunkWriter``): each chunk is pickled into
an unlinked spool file and announced on a pipe, which nobody reads while we read our half (a thread
draining the pipe meanwhile slowed our half by a fifth: it takes the GIL at every 64 KB). Once our half is
read, the caller's ``EarlyFeed`` is given it, then each chunk as it is announced: the client is tracked
while the child still reads (``track.early``), which is why our share is less than half.

The halves meet at a byte (``OUR_SHARE`` of the file): the entries that start before it are ours, the
others the child's. The child cuts through our half without decoding it (``har_fast.SKIPPED``, about 0.03 s
per 10 MB) to learn the index of its first entry.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stickyforensics.ingest.har_cookie_data import CookieSurvey
from stickyforensics.ingest.har_diag import DiagnosticLog
from stickyforensics.ingest.har_entry import EntryContext
from stickyforensics.ingest.har_fast import SKIPPED, FastPathUnavailable, fast_entries
from stickyforensics.ingest.har_limits import MAX_ENTRY_BYTES
from stickyforensics.ingest.har_stream import READ_ERRORS, open_har_stream, quiet_progress, reading_progress
from stickyforensics.ingest.sniff import compression
from stickyforensics.model import DiagLevel, Transaction

SPLIT_MIN_BYTES = 16_000_000
"""Below this, forking and sending the child's half back costs about what it saves."""

OUR_SHARE = 0.54
"""Where the halves meet, as a share of the file: the child also cuts through our part and pickles its
transactions (0.54 against 0.5: -7% of the reading time on bench/data's 300 MB files)."""

OUR_SHARE_TRACKING = 0.47
"""The same, when this process also tracks the transactions as they come (an ``EarlyFeed``): once its half
is read, it loads the track and detect layers (kept out of the start so the child begins sooner), tracks
its half, then the child's chunks as they come; the child also cuts through our half and pickles. Less
``AFTER_OUR_HALF_MB`` (``_our_share``). It was 0.5 until bodies were measured instead of built (session 10):
reading got cheaper against tracking, and on session-300.har 0.47 ended 4% sooner (10 alternating pairs)."""

AFTER_OUR_HALF_MB = 6
"""The fixed part of what this process does after its half (loading the layers and the cookie catalogs), as
the MB of the file the child reads meanwhile (measured: the halves end together with it): 0.45 of a 300 MB
file is ours, 0.27 of a 30 MB one. On 30 MB HARs (session 9, with a base of 0.5), 0.76-0.81 s -> 0.54-0.56 s
against a fixed 0.46."""

MIN_SHARE = 0.1
"""At least this much is ours: the split pays for the fork only if both processes read."""

CHUNK = 500
"""Transactions per chunk the child sends: what is left to track once the child ends (about 30 ms here)."""

_TRANSACTIONS, _HALF = b"T", b"H"
"""The kinds of frame the child writes: a chunk of transactions, then its ``_Half``."""

_NOTICE = 9
"""Bytes of a frame's notice on the pipe: its kind, then its size (8 bytes, big-endian)."""


class EarlyFeed(Protocol):
    """Told the transactions as soon as they are final, in the file's order (``track.early.EarlyTracking``)."""

    def feed(self, batch: Sequence[Transaction], /) -> None: ...

    def abandon(self) -> None:
        """The split failed: the file is read again, and what was fed is not its transactions."""


class TransactionSink(Protocol):
    """Where ``map_entries`` puts transactions: a list, or ``har_partition``'s per-shard spill files."""

    def append(self, tx: Transaction, /) -> None: ...

    def __len__(self) -> int: ...


class SplitSink(TransactionSink, Protocol):
    """A sink both processes of a split write to: each half to its own files, read back ours then theirs."""

    first_notes: tuple[str, ...] | None
    """The notes of the first transaction appended since ``use_half``."""
    count: int
    """Transactions appended (the child's half added when the split succeeds)."""

    def use_half(self, which: int) -> None:
        """From now on, append to half ``which`` (0: this process's, 1: the child's)."""

    def close(self) -> None: ...

    def reset(self) -> None:
        """Forget both halves (the file is about to be read the ordinary way, into half 0)."""


MapEntries = Callable[[Iterator[tuple[int, Any]], EntryContext, TransactionSink], None]
"""``har``'s loop: each (index, entry) to a transaction (or a diagnostic) under ``ctx``."""


@dataclass(slots=True)
class _RecordingLog(DiagnosticLog):
    """The child's log: every call kept, in order, to be replayed into the parent's."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def add(self, code: str, message: str, position: str | None = None, level: DiagLevel = DiagLevel.WARNING) -> None:
        self.calls.append(("add", (code, message, position, level)))

    def tally(self, code: str, message: str, position: str | None = None, level: DiagLevel = DiagLevel.INFO) -> None:
        self.calls.append(("tally", (code, message, position, level)))


@dataclass(frozen=True, slots=True)
class _Half:
    """What the child sends back."""

    transactions: list[Transaction]
    """Empty when they went to a sink, or to us in chunks."""
    entries: int
    """Entries up to the end of the half (the other half's included)."""
    first_notes: tuple[str, ...] | None
    """The notes of the half's first transaction (None: it has none)."""
    appended: int
    """Its transactions (in ``transactions`` or in the sink)."""
    log_calls: list[tuple[str, tuple[Any, ...]]]
    """The child's calls to the log (ours go straight to it)."""
    survey: CookieSurvey | None
    """The child's survey of its half (ours goes straight to the file's)."""


def splittable(path: str) -> bool:
    """A plain (uncompressed) file large enough, and a system that forks."""
    if not hasattr(os, "fork"):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return False
    # UTF-16 is transcoded as it is read: stream bytes are not file bytes (UTF-8 with a BOM is fine).
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    return size >= SPLIT_MIN_BYTES and compression(head) is None and not utf16


def read_split(
    path: str,
    ctx: EntryContext,
    map_entries: MapEntries,
    sink: SplitSink | None = None,
    early: EarlyFeed | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Transaction], int] | None:
    """Map the file's entries into ``ctx`` on two processes: (transactions, entries), or None when the
    file must be read the ordinary way (``ctx``'s log and survey are untouched then, and ``sink`` empty).
    With ``sink``, the transactions go there (each process to its half) and the list is empty; else
    ``early``, when given, is fed them as they come (ours, then each chunk of the child's), and
    ``progress`` is told how far the child has read as its chunks come (our half tells it as it reads)."""
    before = (copy.deepcopy(ctx.log), copy.deepcopy(ctx.survey))  # little yet: the file's head
    result = _read_split(path, ctx, map_entries, sink, early if sink is None else None, progress)
    if result is None:
        for now, then in zip((ctx.log, ctx.survey), before, strict=True):
            for name in _fields_of(now):
                setattr(now, name, getattr(then, name))
        if sink is not None:
            sink.reset()
        if early is not None:
            early.abandon()
    return result


def _fields_of(state: object) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(state))  # type: ignore[arg-type]


def _read_split(
    path: str,
    ctx: EntryContext,
    map_entries: MapEntries,
    sink: SplitSink | None,
    early: EarlyFeed | None,
    progress: Callable[[int], None] | None,
) -> tuple[list[Transaction], int] | None:
    size = os.path.getsize(path)
    middle = int(size * _our_share(size, tracking=early is not None))
    try:
        with tempfile.TemporaryFile(prefix="stickyforensics-har-split-") as spool:
            return _read_split_spooled(path, ctx, map_entries, sink, early, progress, middle, spool.fileno())
    except OSError:
        return None  # no writable temporary directory, no fork, no pipe: one process reads the file


def _our_share(size: int, *, tracking: bool) -> float:
    """Where the halves meet, as a share of a file of ``size`` bytes."""
    if not tracking:
        return OUR_SHARE
    return max(MIN_SHARE, OUR_SHARE_TRACKING - AFTER_OUR_HALF_MB * 1_000_000 / max(size, 1))


def _read_split_spooled(
    path: str,
    ctx: EntryContext,
    map_entries: MapEntries,
    sink: SplitSink | None,
    early: EarlyFeed | None,
    progress: Callable[[int], None] | None,
    middle: int,
    spool: int,
) -> tuple[list[Transaction], int] | None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller
        code = 1
        try:
            os.close(read_end)
            quiet_progress()
            if sink is not None:
                sink.use_half(1)
            frames = _FrameWriter(spool, write_end)
            stream = _ChunkWriter(frames) if sink is None else None
            with reading_progress(stream.reached if stream is not None else None):
                half = _read_half(path, ctx, map_entries, decode_from=middle, sink=sink, stream=stream, later=True)
            if sink is not None:
                sink.close()
            if half is not None:
                frames.write(_HALF, pickle.dumps(half, protocol=pickle.HIGHEST_PROTOCOL))
                code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    ours = theirs = None
    received: list[Transaction] = []
    try:
        ours = _read_half(path, ctx, map_entries, stop_before=middle, sink=sink)
        if ours is not None:
            if early is not None:
                early.feed(ours.transactions)
            theirs = _receive(read_end, spool, received, early, progress)
    finally:
        if theirs is None:  # the file is read the ordinary way (or we are failing): the child's half is moot
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    if ours is None or theirs is None or status != 0:
        return None
    if theirs.first_notes is not None and "har.bad_time" in theirs.first_notes:
        return None  # its first entry took "the previous entry's time", which was ours to give
    if sink is not None:
        sink.count += theirs.appended
    if theirs.survey is None or not theirs.survey.mergeable:
        return None
    # Ours went straight to ctx: theirs after it, as one process reading the entries in order would leave it.
    for name, args in theirs.log_calls:
        getattr(ctx.log, name)(*args)
    ctx.survey.merge_after(theirs.survey)
    return ours.transactions + received, theirs.entries


def _receive(
    notices: int,
    spool: int,
    received: list[Transaction],
    early: EarlyFeed | None,
    progress: Callable[[int], None] | None = None,
) -> _Half | None:
    """The child's chunks into ``received`` (and ``early``) as they are announced, then its ``_Half``; None if
    it ended without one. ``progress``: told the bytes of the file the child had read at each chunk, when
    more than it was last told."""
    pending = b""
    offset = 0
    told = 0
    while got := os.read(notices, 64 * _NOTICE):
        pending += got
        while len(pending) >= _NOTICE:
            kind, size = pending[:1], int.from_bytes(pending[1:_NOTICE], "big")
            pending = pending[_NOTICE:]
            data = _read_at(spool, size, offset)
            if len(data) < size:
                return None  # announced but not all written: cannot happen unless the spool broke
            offset += size
            if kind == _HALF:
                half: _Half = pickle.loads(data)
                return half
            reached: int
            chunk: list[Transaction]
            reached, chunk = pickle.loads(data)
            if progress is not None and reached > told:
                told = reached
                progress(reached)
            if early is not None and not received and "har.bad_time" in chunk[0].notes:
                early.abandon()  # the half will be refused (see ``_read_split``): no use tracking it
                early = None
            received.extend(chunk)
            if early is not None:
                early.feed(chunk)
    return None


def _read_at(fd: int, size: int, offset: int) -> bytes:
    parts = []
    while size > 0 and (part := os.pread(fd, size, offset)):
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts)


class _FrameWriter:
    """The child's frames: the bytes to the spool file, then a notice on the pipe."""

    __slots__ = ("_notices", "_spool")

    def __init__(self, spool: int, notices: int) -> None:
        self._spool = spool
        self._notices = notices

    def write(self, kind: bytes, data: bytes) -> None:
        _write_all(self._spool, data)
        _write_all(self._notices, kind + len(data).to_bytes(_NOTICE - 1, "big"))


class _ChunkWriter:
    """The child's transactions, sent a chunk at a time as they are read (a ``TransactionSink``), each with
    how far the child had read the file (for the parent's progress bar). The pipe holds about 7,000 notices:
    a half of more chunks than that waits for us to finish our half."""

    __slots__ = ("_frames", "buffer", "first_notes", "read_to", "sent")

    def __init__(self, frames: _FrameWriter) -> None:
        self._frames = frames
        self.buffer: list[Transaction] = []
        self.sent = 0
        self.read_to = 0
        """The bytes of the file read so far, as the reader last told (``reached``; 0: not yet told)."""
        self.first_notes: tuple[str, ...] | None = None
        """The notes of the first transaction (None: none yet)."""

    def append(self, tx: Transaction, /) -> None:
        buffer = self.buffer
        if not buffer and not self.sent:
            self.first_notes = tx.notes
        buffer.append(tx)
        if len(buffer) >= CHUNK:
            self.flush()

    def __len__(self) -> int:
        return self.sent + len(self.buffer)

    def reached(self, read_to: int) -> None:
        """The reader's progress callback (``har_stream.reading_progress``)."""
        self.read_to = read_to

    def flush(self) -> None:
        if self.buffer:
            chunk = (self.read_to, self.buffer)
            self._frames.write(_TRANSACTIONS, pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
            self.sent += len(self.buffer)
            self.buffer = []


def _read_half(
    path: str,
    ctx: EntryContext,
    map_entries: MapEntries,
    *,
    decode_from: int = 0,
    stop_before: int | None = None,
    sink: SplitSink | None = None,
    stream: _ChunkWriter | None = None,
    later: bool = False,
) -> _Half | None:
    """The entries of one half mapped (into ``sink`` or ``stream``, when given); None if the fast reader
    declines. The first half writes to ``ctx``'s log and survey; the ``later`` one records its log calls
    and surveys apart."""
    log = _RecordingLog(ctx.log.source) if later else ctx.log
    survey = CookieSurvey.later_part() if later else ctx.survey
    half_ctx = EntryContext(
        path=ctx.path,
        input_index=ctx.input_index,
        client_label=ctx.client_label,
        log=log,
        survey=survey,
        keep_body_prefix=ctx.keep_body_prefix,
    )
    calls = log.calls if isinstance(log, _RecordingLog) else []
    theirs = survey if later else None
    transactions: list[Transaction] = []
    count = 0
    before = len(sink) if sink is not None else 0
    if sink is not None:
        sink.first_notes = None

    def decoded(entries: Iterator[Any]) -> Iterator[tuple[int, Any]]:
        nonlocal count
        for index, entry in enumerate(entries):
            count = index + 1
            if entry is not SKIPPED:
                yield index, entry

    raw, reader = open_har_stream(path, guarded=False)
    try:
        entries = fast_entries(
            reader.read_large, MAX_ENTRY_BYTES // 2, decode_from=decode_from, stop_before=stop_before
        )
        target: TransactionSink = sink if sink is not None else (stream if stream is not None else transactions)
        map_entries(decoded(entries), half_ctx, target)
        if stream is not None:
            stream.flush()
    except (FastPathUnavailable, *READ_ERRORS):
        return None
    finally:
        raw.close()
    if theirs is not None:
        theirs.shed_memos()  # only the counts are merged
    if stream is not None:
        return _Half(transactions, count, stream.first_notes, len(stream), calls, theirs)
    if sink is not None:
        return _Half(transactions, count, sink.first_notes, len(sink) - before, calls, theirs)
    first_notes = transactions[0].notes if transactions else None
    return _Half(transactions, count, first_notes, len(transactions), calls, theirs)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
