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

Spill records (little-endian; one file per shard, written and read by the same program version):

- ``A``: a new address string (``B`` length + ASCII), numbered from 0 in order of appearance;
- ``S``: a segment: frame, tcp.stream, time, seq, ack, ports, flags, truncated, address numbers,
  wire and captured payload lengths, then the payload;
- ``W``: an idle sweep at a capture time; ``E``: the end of the capture with its last time.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stickyforensics.errors import InputError
from stickyforensics.ingest.pcapread import open_capture
from stickyforensics.model import Diagnostic
from stickyforensics.reconstruct.segments import TcpSegment
from stickyforensics.reconstruct.shard import owner_of
from stickyforensics.reconstruct.tcp import ConnectionHandler, TcpConnection, TcpReassembler

_SEGMENT = struct.Struct("<BIIdIIHHBBIIII")
_ADDRESS = struct.Struct("<BB")
_MARKER = struct.Struct("<Bd")
SEGMENT, ADDRESS, SWEEP, END = b"SAWE"
FLUSH_BYTES = 1 << 20
READ_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class Partition:
    """A capture split into one spill file per shard, and what the pass learnt of the file itself."""

    path: str
    format: str
    spill_files: tuple[str, ...]
    tcp_streams: int
    frames: int
    tcp_segments: int
    truncated_frames: int
    tls_client_hellos: int
    tls_servers: tuple[tuple[str, int, str | None], ...]
    reader_diagnostics: tuple[Diagnostic, ...]
    numbering_diagnostics: tuple[Diagnostic, ...]


class SpillWriter:
    """Appends records to one shard's spill file through a bounded buffer."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed by ``close``, kept open across the pass
        self._buf = bytearray()
        self._addresses: dict[str, int] = {}

    def segment(self, seg: TcpSegment, stream: int) -> None:
        addresses = self._addresses
        src = addresses.get(seg.src_ip)
        if src is None:
            src = self._address(seg.src_ip)
        dst = addresses.get(seg.dst_ip)
        if dst is None:
            dst = self._address(seg.dst_ip)
        payload = seg.payload
        buf = self._buf
        buf += _SEGMENT.pack(
            SEGMENT, seg.frame, stream, seg.ts, seg.seq, seg.ack, seg.src_port, seg.dst_port, seg.flags,
            seg.truncated, src, dst, seg.wire_len, len(payload),
        )
        buf += payload
        if len(buf) >= FLUSH_BYTES:
            self._flush()

    def marker(self, kind: int, ts: float) -> None:
        self._buf += _MARKER.pack(kind, ts)

    def _address(self, text: str) -> int:
        number = self._addresses[text] = len(self._addresses)
        raw = text.encode("ascii")
        self._buf += _ADDRESS.pack(ADDRESS, len(raw))
        self._buf += raw
        return number

    def _flush(self) -> None:
        self._file.write(self._buf)
        self._buf.clear()

    def close(self) -> None:
        if not self._file.closed:
            self._flush()
            self._file.close()


def partition_capture(
    path: str,
    shards: int,
    directory: str,
    *,
    input_index: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Partition:
    """Split ``path`` into ``shards`` spill files in ``directory``; ``progress`` gets the bytes read.

    Raises ``InputError`` when the file cannot be read as a capture, or the spill cannot be written.
    """
    info, reader = open_capture(path)
    routes = array("H")  # shard of each tcp.stream, by index: numbering gives them in order

    def route(conn: TcpConnection) -> None:
        routes.append(owner_of(conn.client[0], shards))

    diagnostics: list[Diagnostic] = []
    tcp = TcpReassembler(path, _never, diagnostics, numbering_only=True, on_connection=route)
    files = tuple(os.path.join(directory, f"input{input_index}.shard{k}.spill") for k in range(shards))
    writers: list[SpillWriter] = []
    try:
        writers = [SpillWriter(f) for f in files]
        feed = tcp.feed
        sweeps = 0
        for seg in reader:
            stream = feed(seg)
            writers[routes[stream]].segment(seg, stream)
            if tcp.sweeps != sweeps:
                sweeps = tcp.sweeps
                for writer in writers:
                    writer.marker(SWEEP, tcp.last_sweep)
                if progress is not None:
                    progress(reader.file_position)
        for writer in writers:
            writer.marker(END, tcp.now)
            writer.close()
    except OSError as exc:
        raise InputError(path, f"cannot write the spill files in {directory}: {exc.strerror or exc} "
                         "(set TMPDIR to a directory with room for about the capture's size)") from None
    finally:
        reader.close()
        for writer in writers:
            writer.close()
    return Partition(
        path=path,
        format=info.format,
        spill_files=files,
        tcp_streams=tcp.streams,
        frames=reader.frames,
        tcp_segments=reader.tcp_segments,
        truncated_frames=reader.truncated_frames,
        tls_client_hellos=reader.tls_client_hellos,
        tls_servers=tuple(reader.tls_servers),
        reader_diagnostics=tuple(reader.diagnostics),
        numbering_diagnostics=tuple(diagnostics),
    )


def _never(conn: TcpConnection) -> ConnectionHandler:
    raise AssertionError("a numbering pass reassembles no connection")


def read_spill(
    path: str, on_sweep: Callable[[float], None], on_end: Callable[[float], None]
) -> Iterator[TcpSegment]:
    """The segments of one spill file in capture order; markers go to the callbacks between them."""
    addresses: list[str] = []
    seg_size = _SEGMENT.size
    unpack_segment = _SEGMENT.unpack_from
    with open(path, "rb") as f:
        buf = b""
        pos = 0
        while True:
            chunk = f.read(READ_BYTES)
            buf = buf[pos:] + chunk if pos < len(buf) else chunk
            pos = 0
            n = len(buf)
            while pos < n:
                kind = buf[pos]
                if kind == SEGMENT:
                    if pos + seg_size > n:
                        break
                    _, frame, stream, ts, seq, ack, sport, dport, flags, cut, src, dst, wire, size = unpack_segment(
                        buf, pos
                    )
                    start = pos + seg_size
                    end = start + size
                    if end > n:
                        break
                    yield TcpSegment(
                        frame, ts, addresses[src], addresses[dst], sport, dport, seq, ack, flags, buf[start:end],
                        bool(cut), wire, stream,
                    )
                    pos = end
                elif kind == ADDRESS:
                    if pos + 2 > n or pos + 2 + buf[pos + 1] > n:
                        break
                    addresses.append(buf[pos + 2 : pos + 2 + buf[pos + 1]].decode("ascii"))
                    pos += 2 + buf[pos + 1]
                elif kind in (SWEEP, END):
                    if pos + _MARKER.size > n:
                        break
                    (on_sweep if kind == SWEEP else on_end)(_MARKER.unpack_from(buf, pos)[1])
                    pos += _MARKER.size
                else:
                    raise InputError(path, f"spill file damaged at byte {f.tell() - n + pos}")
            if not chunk:
                if pos < n:
                    raise InputError(path, "spill file ends inside a record")
                return
