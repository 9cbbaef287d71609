"""Test helpers: build TcpSegments for scripted TCP conversations, and write them as a pcap.

``Conversation`` plays both ends of one connection with real sequence/ack numbers, so tests can
split, duplicate, reorder or drop segments and compare what reassembly makes of them. ``write_pcap``
turns segments into an Ethernet/IP/TCP capture that tshark and the native reader can both read.
"""

from __future__ import annotations

import itertools
import socket
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from stickyforensics.reconstruct.segments import ACK, FIN, PSH, RST, SYN, TcpSegment

T0 = 1_700_000_000.0


class Clock:
    """Frame numbers and timestamps shared by several conversations (interleaving)."""

    def __init__(self, start: float = T0, step: float = 0.001) -> None:
        self.frame = 0
        self.ts = start
        self.step = step

    def tick(self) -> tuple[int, float]:
        self.frame += 1
        self.ts += self.step
        return self.frame, self.ts


class Conversation:
    """Both ends of one TCP connection; every call returns the segments it made (and records them)."""

    def __init__(
        self,
        client: tuple[str, int] = ("10.0.0.1", 40000),
        server: tuple[str, int] = ("10.0.0.100", 80),
        *,
        clock: Clock | None = None,
        cisn: int = 1000,
        sisn: int = 5000,
    ) -> None:
        self.client = client
        self.server = server
        self.clock = clock or Clock()
        self.cseq = cisn
        self.sseq = sisn
        self.segments: list[TcpSegment] = []

    def _seg(self, from_client: bool, flags: int, payload: bytes = b"", *, seq: int | None = None) -> TcpSegment:
        frame, ts = self.clock.tick()
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        my_seq = self.cseq if from_client else self.sseq
        ack = self.sseq if from_client else self.cseq
        s = TcpSegment(
            frame=frame,
            ts=ts,
            src_ip=src[0],
            dst_ip=dst[0],
            src_port=src[1],
            dst_port=dst[1],
            seq=(my_seq if seq is None else seq) & 0xFFFFFFFF,
            ack=ack & 0xFFFFFFFF,
            flags=flags,
            payload=payload,
            wire_len=len(payload),
        )
        self.segments.append(s)
        return s

    def handshake(self) -> list[TcpSegment]:
        out = [self._seg(True, SYN)]
        self.cseq += 1
        out.append(self._seg(False, SYN | ACK))
        self.sseq += 1
        out.append(self._seg(True, ACK))
        return out

    def send(self, data: bytes, *, sizes: Sequence[int] | None = None, mss: int = 1460) -> list[TcpSegment]:
        """Client -> server bytes, cut into ``sizes`` (or MSS-sized) segments."""
        return self._data(True, data, sizes, mss)

    def reply(self, data: bytes, *, sizes: Sequence[int] | None = None, mss: int = 1460) -> list[TcpSegment]:
        """Server -> client bytes."""
        return self._data(False, data, sizes, mss)

    def _data(self, from_client: bool, data: bytes, sizes: Sequence[int] | None, mss: int) -> list[TcpSegment]:
        out = []
        for chunk in _cut(data, sizes, mss):
            out.append(self._seg(from_client, ACK | PSH, chunk))
            if from_client:
                self.cseq += len(chunk)
            else:
                self.sseq += len(chunk)
        return out

    def ack(self, from_client: bool = True) -> TcpSegment:
        return self._seg(from_client, ACK)

    def fin(self, from_client: bool = True) -> TcpSegment:
        s = self._seg(from_client, FIN | ACK)
        if from_client:
            self.cseq += 1
        else:
            self.sseq += 1
        return s

    def close(self) -> list[TcpSegment]:
        """FIN both ways and the last ACK."""
        return [self.fin(True), self.fin(False), self.ack(True)]

    def rst(self, from_client: bool = True) -> TcpSegment:
        return self._seg(from_client, RST | ACK)

    def skip(self, from_client: bool, nbytes: int) -> None:
        """Advance a side's sequence number as if ``nbytes`` were sent but not captured."""
        if from_client:
            self.cseq += nbytes
        else:
            self.sseq += nbytes


def _cut(data: bytes, sizes: Sequence[int] | None, mss: int) -> list[bytes]:
    if not data:
        return []
    if sizes is None:
        return [data[i : i + mss] for i in range(0, len(data), mss)]
    out, pos = [], 0
    for n in sizes:
        if pos >= len(data):
            break
        out.append(data[pos : pos + n])
        pos += n
    if pos < len(data):
        out.append(data[pos:])
    return out


def renumber(segments: Iterable[TcpSegment], start: float = T0) -> list[TcpSegment]:
    """Copies with frame numbers 1..n and increasing times, in the given order."""
    out = []
    for i, s in enumerate(segments, 1):
        out.append(
            TcpSegment(
                frame=i,
                ts=start + i * 0.001,
                src_ip=s.src_ip,
                dst_ip=s.dst_ip,
                src_port=s.src_port,
                dst_port=s.dst_port,
                seq=s.seq,
                ack=s.ack,
                flags=s.flags,
                payload=s.payload,
                truncated=s.truncated,
                wire_len=s.wire_len,
            )
        )
    return out


def split_payloads(segments: Iterable[TcpSegment], cuts: dict[int, Sequence[int]]) -> list[TcpSegment]:
    """Split segment i (0-based position) at the offsets in ``cuts[i]``; frames are renumbered later."""
    out: list[TcpSegment] = []
    for i, s in enumerate(segments):
        points = sorted({c for c in cuts.get(i, ()) if 0 < c < len(s.payload)})
        if not points or s.flags & (SYN | FIN | RST):
            out.append(s)
            continue
        bounds = [0, *points, len(s.payload)]
        for lo, hi in itertools.pairwise(bounds):
            part = s.payload[lo:hi]
            out.append(
                TcpSegment(
                    frame=s.frame,
                    ts=s.ts,
                    src_ip=s.src_ip,
                    dst_ip=s.dst_ip,
                    src_port=s.src_port,
                    dst_port=s.dst_port,
                    seq=(s.seq + lo) & 0xFFFFFFFF,
                    ack=s.ack,
                    flags=s.flags,
                    payload=part,
                    wire_len=len(part),
                )
            )
    return out


# -- pcap writing --------------------------------------------------------------------------------


def _mac(n: int) -> bytes:
    return bytes([2, 0, 0, 0, 0, n & 0xFF])


def frame_bytes(s: TcpSegment, snaplen: int | None = None) -> tuple[bytes, int]:
    """Ethernet/IPv4-or-IPv6/TCP bytes of a segment, and the original length."""
    tcp_len = 20
    tcp = struct.pack(
        "!HHIIBBHHH",
        s.src_port,
        s.dst_port,
        s.seq & 0xFFFFFFFF,
        s.ack & 0xFFFFFFFF,
        (tcp_len // 4) << 4,
        s.flags & 0xFF,
        65535,
        0,
        0,
    )
    body = tcp + s.payload
    if ":" in s.src_ip:
        ip = struct.pack("!IHBB", 6 << 28, len(body), 6, 64)
        ip += socket.inet_pton(socket.AF_INET6, s.src_ip) + socket.inet_pton(socket.AF_INET6, s.dst_ip)
        ethertype = 0x86DD
    else:
        total = 20 + len(body)
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            total,
            s.frame & 0xFFFF,
            0x4000,
            64,
            6,
            0,
            socket.inet_aton(s.src_ip),
            socket.inet_aton(s.dst_ip),
        )
        ethertype = 0x0800
    eth = _mac(2) + _mac(1) + struct.pack("!H", ethertype)
    data = eth + ip + body
    orig = len(data)
    if snaplen is not None:
        data = data[:snaplen]
    return data, orig


def write_pcap(path: Path, segments: Iterable[TcpSegment], *, snaplen: int | None = None) -> Path:
    """Write a classic little-endian microsecond pcap (link type Ethernet)."""
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen or 262144, 1))
        for s in segments:
            data, orig = frame_bytes(s, snaplen)
            sec = int(s.ts)
            usec = round((s.ts - sec) * 1_000_000)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            f.write(struct.pack("<IIII", sec, usec, len(data), orig))
            f.write(data)
    return path


# -- running the layers ------------------------------------------------------------------------------


def reconstruct(segments: Iterable[TcpSegment], source: str = "test.pcap", **kwargs: object):
    """Run HTTP reconstruction over segments; returns the ReconstructResult."""
    from stickyforensics.reconstruct.pairing import HttpReconstructor

    rec = HttpReconstructor(source, **kwargs)
    rec.process(segments)
    return rec.finish()


class Recorder:
    """A ConnectionHandler that records what TCP reassembly hands over, per connection."""

    def __init__(self, conn: object) -> None:
        self.conn = conn
        self.events: list[tuple] = []
        self.bytes = {True: bytearray(), False: bytearray()}
        self.closed_reason: str | None = None
        self._consumers = {True: _Side(self, True), False: _Side(self, False)}

    def consumer(self, from_a: bool) -> _Side:
        return self._consumers[from_a]

    def closed(self, reason: str, ts: float) -> None:
        self.closed_reason = reason
        self.events.append(("closed", reason))


class _Side:
    def __init__(self, rec: Recorder, from_a: bool) -> None:
        self.rec = rec
        self.from_a = from_a

    def begin(self, at_start: bool) -> None:
        self.rec.events.append(("begin", self.from_a, at_start))

    def data(self, chunk: bytes, frame: int, ts: float) -> None:
        self.rec.bytes[self.from_a] += chunk
        self.rec.events.append(("data", self.from_a, frame, bytes(chunk)))

    def gap(self, nbytes: int, frame: int, ts: float) -> None:
        self.rec.events.append(("gap", self.from_a, nbytes, frame))

    def end(self, frame: int, ts: float) -> None:
        self.rec.events.append(("end", self.from_a, frame))


def reassemble(segments: Iterable[TcpSegment], **kwargs: object):
    """Run TCP reassembly alone; returns (recorders in stream order, diagnostics, streams per segment)."""
    from stickyforensics.reconstruct.tcp import TcpReassembler

    recorders: list[Recorder] = []

    def factory(conn: object) -> Recorder:
        r = Recorder(conn)
        recorders.append(r)
        return r

    diags: list = []
    tcp = TcpReassembler("test.pcap", factory, diags, **kwargs)
    streams = [tcp.feed(s) for s in segments]
    tcp.finish()
    return recorders, diags, streams, tcp
