"""One pass over a capture that splits its TCP segments by client into spill files (``--jobs``).

A capture analysed on several processes is read once, here: every TCP connection is numbered as
Wireshark numbers it (``tcp.stream``, by a ``TcpReassembler`` that reassembles nothing), given to
the shard of its client's address (``reconstruct.shard.owner_of``), and each segment is appended,
decoded and with its index, to its shard's spill file. A worker then reassembles one shard from
its spill file alone (``native.read_spill_part``): the capture is not re-read per shard, so the
number of shards can grow with the capture and each one stays small.

The numbering pass also relays its idle sweeps (and the last capture time) to every shard as
markers, so a worker closes idle connections at the same moments as one process reading the whole
capture would.

The pass is a pipeline of two stages: the *reader* decodes the capture into segment records
(``encode_segments``), the *numberer* numbers and routes them (``_number``). With ``pipelined`` the
reader runs in a forked process feeding a pipe, so the two stages share the two cores that the
workers use afterwards (the reader is about 60% of the pass: bench/README.md); without it, the same
records pass through memory in one process.

Records (little-endian; written and read by the same program version). A record starts with its kind:

- ``A``: an address: its number (``I``, numbered from 0 in order of appearance in the capture), then
  ``B`` length + ASCII; a spill file holds those of its own segments, before their first use;
- ``U`` (reader to numberer) and ``S`` (spill file, with its ``tcp.stream`` as an ``I`` after the
  kind): a segment: frame, time, seq, ack, ports, flags, truncated, address numbers, wire and
  captured payload lengths, then the payload;
- ``W``: an idle sweep at a capture time; ``E``: the end of the capture with its last time;
- reader to numberer only: ``P`` the bytes of the file read so far (progress); ``F`` the reader's
  facts at the end (``I`` length + pickle); ``X`` the reader failed (``B`` its error was an input
  error, ``I`` length + UTF-8 text).
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import struct
import traceback
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from stickyforensics.errors import InputError, StickyError
from stickyforensics.ingest.pcapread import open_capture
from stickyforensics.ingest.segment_reader import ReaderFacts, SegmentReader
from stickyforensics.model import Diagnostic
from stickyforensics.reconstruct.segments import TcpSegment
from stickyforensics.reconstruct.shard import owner_of
from stickyforensics.reconstruct.tcp import ConnectionHandler, TcpConnection, TcpReassembler

_BODY = struct.Struct("<IdIIHHBBIIII")
"""A segment after its kind (and stream): frame, ts, seq, ack, sport, dport, flags, cut, src, dst, wire, size."""
_U = struct.Struct("<B" + _BODY.format[1:])
_S_HEAD = struct.Struct("<BI")
_S = struct.Struct("<BI" + _BODY.format[1:])
_ADDRESS = struct.Struct("<BIB")
_MARKER = struct.Struct("<Bd")
_POSITION = struct.Struct("<BQ")
_LENGTH = struct.Struct("<BI")
_FAILED = struct.Struct("<BBI")
SEGMENT, ADDRESS, SWEEP, END = b"SAWE"
UNNUMBERED, PROGRESS, FACTS, FAILED = b"UPFX"
FLUSH_BYTES = 1 << 20
SPILL_BUFFER_BYTES = 8 << 20
"""What the spill writers of one pass buffer together at most: a pass with many shards flushes each sooner.
(32 MB made the partitioning process the tree's peak at -j 2; 8 MB: same pass time, bench/README.md.)"""
READ_BYTES = 4 << 20
PROGRESS_BYTES = 8 << 20
"""File bytes between two progress records."""
_ENCODED = TcpSegment(0, 0.0, "", "", 0, 0, 0, 0, 0, b"")
"""What the reader yields for a segment ``encode_segments`` has already encoded."""


@dataclass(frozen=True, slots=True)
class Partition:
    """A capture split into one spill file per shard, and what the pass learnt of the file itself."""

    path: str
    format: str
    spill_files: tuple[str, ...]
    tcp_streams: int
    reader: ReaderFacts
    numbering_diagnostics: tuple[Diagnostic, ...]
    spread: frozenset[str] = frozenset()
    """Client addresses with more than ``SPREAD_AFTER`` connections (a proxy, a NAT): their later connections
    went to shards by connection, not by address, so their transactions must be grouped again by client
    (``sharded``)."""


SPREAD_AFTER = 256
"""Connections of one client address kept in its shard; beyond, they are spread by connection. A browser
opens a few dozen in a long session; a proxy in front of thousands of users opens far more, and in one
shard they would be the whole capture."""


class SpillWriter:
    """Appends records to one shard's spill file through a bounded buffer."""

    def __init__(self, path: str, flush_bytes: int = FLUSH_BYTES) -> None:
        self.path = path
        self.flush_bytes = flush_bytes
        self._file = open(path, "wb")  # noqa: SIM115 - closed by ``close``, kept open across the pass
        self._buf = bytearray()
        self._known: set[int] = set()
        """The addresses this file has announced."""

    def _address(self, number: int, raw: bytes) -> None:
        """Announce address ``number`` (a record before the first segment that uses it)."""
        self._known.add(number)
        self._buf += _ADDRESS.pack(ADDRESS, number, len(raw))
        self._buf += raw

    def copy(self, stream: int, record: memoryview, src: int, dst: int, addresses: list[bytes]) -> None:
        """Append a reader's ``U`` record (``record`` without its kind byte) as segment of ``stream``."""
        known = self._known
        if src not in known:
            self._address(src, addresses[src])
        if dst not in known:
            self._address(dst, addresses[dst])
        buf = self._buf
        buf += _S_HEAD.pack(SEGMENT, stream)
        buf += record
        if len(buf) >= self.flush_bytes:
            self._flush()

    def marker(self, kind: int, ts: float) -> None:
        self._buf += _MARKER.pack(kind, ts)

    def _flush(self) -> None:
        self._file.write(self._buf)
        self._buf.clear()

    def close(self) -> None:
        if not self._file.closed:
            self._flush()
            self._file.close()


# -- stage 1: the reader ------------------------------------------------------------------------


def encode_segments(reader: SegmentReader) -> Iterator[bytes]:
    """The reader's segments as ``U`` records (``A`` before a new address), in chunks of about
    ``FLUSH_BYTES``; ``P`` records as the file is read; an ``F`` record with the reader's facts last."""
    numbers: dict[str, int] = {}
    buf = bytearray()
    extend = buf.extend
    pack = _U.pack

    def number(text: str) -> int:
        raw = text.encode("ascii")
        new = numbers[text] = len(numbers)
        extend(_ADDRESS.pack(ADDRESS, new, len(raw)))
        extend(raw)
        return new

    def encode(
        frame: int, ts: float, src_ip: str, dst_ip: str, src_port: int, dst_port: int, seq: int, ack: int,
        flags: int, payload: bytes, truncated: bool = False, wire_len: int = 0,
    ) -> TcpSegment:  # fmt: skip
        src = numbers.get(src_ip)
        if src is None:
            src = number(src_ip)
        dst = numbers.get(dst_ip)
        if dst is None:
            dst = number(dst_ip)
        extend(pack(UNNUMBERED, frame, ts, seq, ack, src_port, dst_port, flags, truncated, src, dst, wire_len,
                    len(payload)))  # fmt: skip
        extend(payload)
        return _ENCODED

    reader.fast_segment = encode  # the walker's common path encodes in place
    next_progress = PROGRESS_BYTES
    for seg in reader:
        if seg is not _ENCODED:  # a segment of the walker's general path
            encode(seg.frame, seg.ts, seg.src_ip, seg.dst_ip, seg.src_port, seg.dst_port, seg.seq, seg.ack,
                   seg.flags, seg.payload, seg.truncated, seg.wire_len)  # fmt: skip
        if len(buf) >= FLUSH_BYTES:
            position = reader.file_position
            if position >= next_progress:
                next_progress = position + PROGRESS_BYTES
                extend(_POSITION.pack(PROGRESS, position))
            yield bytes(buf)
            buf.clear()
    facts = pickle.dumps(reader.facts(), protocol=pickle.HIGHEST_PROTOCOL)
    extend(_POSITION.pack(PROGRESS, reader.file_position))
    extend(_LENGTH.pack(FACTS, len(facts)) + facts)
    yield bytes(buf)


def _failure(exc: BaseException) -> bytes:
    expected = isinstance(exc, StickyError)
    text = (str(exc) if expected else "".join(traceback.format_exception(exc))).encode("utf-8", "replace")
    return _FAILED.pack(FAILED, expected, len(text)) + text


def _reader_process(reader: SegmentReader) -> Iterator[bytes]:
    """Run ``encode_segments`` in a process forked now; its records come back through a pipe."""
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError):  # fewer, larger transfers where the system allows it
        import fcntl

        fcntl.fcntl(write_end, 1031, FLUSH_BYTES)  # F_SETPIPE_SZ
    pid = os.fork()
    if pid == 0:  # the reader: never returns into the caller
        code = 1
        try:
            os.close(read_end)
            try:
                for chunk in encode_segments(reader):
                    _write_all(write_end, chunk)
                code = 0
            except BaseException as exc:  # the numberer raises it (if the pipe still takes it)
                _write_all(write_end, _failure(exc))
        finally:
            os._exit(code)
    os.close(write_end)
    return _pipe_chunks(read_end, pid)


def _pipe_chunks(read_end: int, pid: int) -> Iterator[bytes]:
    try:
        while True:
            chunk = os.read(read_end, READ_BYTES)
            if not chunk:
                return
            yield chunk
    finally:
        os.close(read_end)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# -- stage 2: the numberer ----------------------------------------------------------------------


def partition_capture(
    path: str,
    shards: int,
    directory: str,
    *,
    input_index: int = 0,
    progress: Callable[[int], None] | None = None,
    pipelined: bool = False,
    spread_after: int | None = None,
) -> Partition:
    """Split ``path`` into ``shards`` spill files in ``directory``; ``progress`` gets the bytes read.

    ``pipelined``: read the capture in a forked process (see the module's docstring); only where
    forking is safe (no threads), as in ``sharded``'s partitioning child. ``spread_after``: connections of
    one address kept in its shard (``SPREAD_AFTER`` for ``sharded``, which groups the rest again by client);
    None: every connection goes to its address's shard.

    Raises ``InputError`` when the file cannot be read as a capture, or the spill cannot be written.
    """
    info, reader = open_capture(path)
    routes = array("H")  # shard of each tcp.stream, by index: numbering gives them in order
    connections: dict[str, int] = {}
    spread: set[str] = set()

    def route(conn: TcpConnection) -> None:
        ip = conn.client[0]
        seen = connections.get(ip, 0) + 1
        connections[ip] = seen
        if spread_after is None or seen <= spread_after:
            routes.append(owner_of(ip, shards))
        else:
            spread.add(ip)
            routes.append(owner_of(f"{ip}:{conn.client[1]}:{conn.stream}", shards))

    diagnostics: list[Diagnostic] = []
    tcp = TcpReassembler(path, _never, diagnostics, numbering_only=True, on_connection=route)
    files = tuple(os.path.join(directory, f"input{input_index}.shard{k}.spill") for k in range(shards))
    writers: list[SpillWriter] = []
    try:
        flush = max(64 << 10, min(FLUSH_BYTES, SPILL_BUFFER_BYTES // max(shards, 1)))
        writers = [SpillWriter(f, flush) for f in files]
        chunks = _reader_process(reader) if pipelined else encode_segments(reader)
        facts = _number(path, chunks, tcp, routes, writers, progress)
        for writer in writers:
            writer.marker(END, tcp.now)
            writer.close()
    except OSError as exc:
        hint = (
            "too many spill files open at once: give fewer shards a larger --shard-mb"
            if exc.errno in (errno.EMFILE, errno.ENFILE)
            else "set TMPDIR to a directory with room for about the capture's size"
        )
        raise InputError(path, f"cannot write the spill files in {directory}: {exc.strerror or exc} ({hint})") from None
    finally:
        reader.close()
        for writer in writers:
            writer.close()
    return Partition(
        path=path,
        format=info.format,
        spill_files=files,
        tcp_streams=tcp.streams,
        reader=facts,
        numbering_diagnostics=tuple(diagnostics),
        spread=frozenset(spread),
    )


def _number(
    path: str,
    chunks: Iterable[bytes],
    tcp: TcpReassembler,
    routes: array[int],
    writers: list[SpillWriter],
    progress: Callable[[int], None] | None,
) -> ReaderFacts:
    """Number the reader's records and append each to its shard's spill file; the reader's facts."""
    addresses: list[bytes] = []
    texts: list[str] = []
    unpack = _U.unpack_from
    head = _U.size
    number = tcp.number
    sweeps = 0
    buf = b""
    pos = 0
    for chunk in chunks:
        buf = buf[pos:] + chunk if pos < len(buf) else chunk
        view = memoryview(buf)
        pos = 0
        n = len(buf)
        while pos < n:
            kind = buf[pos]
            if kind == UNNUMBERED:
                if pos + head > n:
                    break
                _, frame, ts, seq, ack, sport, dport, flags, cut, src, dst, wire, size = unpack(buf, pos)
                end = pos + head + size
                if end > n:
                    break
                stream = number(texts[src], sport, texts[dst], dport, flags, cut, ts)
                if stream < 0:
                    stream = tcp.feed(
                        TcpSegment(frame, ts, texts[src], texts[dst], sport, dport, seq, ack, flags,
                                   buf[pos + head : end], bool(cut), wire)
                    )  # fmt: skip
                writers[routes[stream]].copy(stream, view[pos + 1 : end], src, dst, addresses)
                pos = end
                if tcp.sweeps != sweeps:
                    sweeps = tcp.sweeps
                    for writer in writers:
                        writer.marker(SWEEP, tcp.last_sweep)
            elif kind == ADDRESS:
                if pos + _ADDRESS.size > n:
                    break
                _, _, size = _ADDRESS.unpack_from(buf, pos)
                end = pos + _ADDRESS.size + size
                if end > n:
                    break
                raw = buf[pos + _ADDRESS.size : end]
                addresses.append(raw)
                texts.append(raw.decode("ascii"))
                pos = end
            elif kind == PROGRESS:
                if pos + _POSITION.size > n:
                    break
                if progress is not None:
                    progress(_POSITION.unpack_from(buf, pos)[1])
                pos += _POSITION.size
            elif kind in (FACTS, FAILED):
                shape = _LENGTH if kind == FACTS else _FAILED
                if pos + shape.size > n:
                    break
                size = shape.unpack_from(buf, pos)[-1]
                if pos + shape.size + size > n:
                    break
                data = buf[pos + shape.size : pos + shape.size + size]
                if kind == FAILED:
                    text = data.decode("utf-8", "replace")
                    if buf[pos + 1]:
                        raise StickyError(text)
                    raise RuntimeError(f"the capture reader failed: {text.strip().splitlines()[-1]}")
                view.release()
                facts: ReaderFacts = pickle.loads(data)
                return facts
            else:
                raise AssertionError(f"reader record of kind {kind} at {pos}")
        view.release()
    raise InputError(path, "the capture reader process ended before the end of the capture (out of memory?)")


def _never(conn: TcpConnection) -> ConnectionHandler:
    raise AssertionError("a numbering pass reassembles no connection")


def read_spill(path: str, on_sweep: Callable[[float], None], on_end: Callable[[float], None]) -> Iterator[TcpSegment]:
    """The segments of one spill file in capture order; markers go to the callbacks between them."""
    import mmap  # here: only the workers reading a spill file need it

    addresses: dict[int, str] = {}
    seg_size = _S.size
    unpack_segment = _S.unpack_from
    with open(path, "rb") as f:
        n = os.fstat(f.fileno()).st_size
        if n == 0:
            return
        # Mapped, not read in chunks: every chunk read was a fresh buffer, copied and page-faulted
        # afresh. The pages already parsed are given back as the reading goes (file-backed: the
        # resident size stays that of one window).
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        with buf:
            release = getattr(buf, "madvise", None)
            released = 0
            window = READ_BYTES & ~(mmap.PAGESIZE - 1)
            pos = 0
            while pos < n:
                kind = buf[pos]
                if kind == SEGMENT:
                    if pos + seg_size > n:
                        break
                    _, stream, frame, ts, seq, ack, sport, dport, flags, cut, src, dst, wire, size = unpack_segment(
                        buf, pos
                    )
                    start = pos + seg_size
                    end = start + size
                    if end > n:
                        break
                    yield TcpSegment(
                        frame,
                        ts,
                        addresses[src],
                        addresses[dst],
                        sport,
                        dport,
                        seq,
                        ack,
                        flags,
                        buf[start:end],
                        cut != 0,
                        wire,
                        stream,
                    )
                    pos = end
                    if pos - released > window and release is not None:
                        release(mmap.MADV_DONTNEED, released, window)
                        released += window
                elif kind == ADDRESS:
                    if pos + _ADDRESS.size > n:
                        break
                    _, number, size = _ADDRESS.unpack_from(buf, pos)
                    end = pos + _ADDRESS.size + size
                    if end > n:
                        break
                    addresses[number] = buf[pos + _ADDRESS.size : end].decode("ascii")
                    pos = end
                elif kind in (SWEEP, END):
                    if pos + _MARKER.size > n:
                        break
                    (on_sweep if kind == SWEEP else on_end)(_MARKER.unpack_from(buf, pos)[1])
                    pos += _MARKER.size
                else:
                    raise InputError(path, f"spill file damaged at byte {pos}")
            if pos < n:
                raise InputError(path, "spill file ends inside a record")
