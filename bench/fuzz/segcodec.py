"""Fuzz bytes <-> TCP segments and HTTP conversations, in both directions.

Decoding turns any bytes into valid arguments for the sans-IO layers; encoding turns real
captures into seed inputs, so the fuzzer starts from traffic the decoders already understand.

Segment records (``decode_segments`` / ``encode_segments``), for raw TCP reassembly::

    head(1) seq(4) ack(4) length(2) clock(1) payload(length)
    head: 0x01 from the client, 0x02 SYN, 0x04 FIN, 0x08 RST, 0x10 ACK, 0x20 cut by the snaplen,
          0xC0 which of four connections (the fourth is IPv6)
    clock: < 200 -> that many milliseconds later; >= 200 -> (clock - 199) minutes later (idle timeouts)

Conversation records (``decode_conversation`` / ``encode_conversation``), for HTTP over a sane TCP::

    options(1) then records of: head(1) length(2) data(length)
    options: 0x01 the handshake is captured, 0x02 the client closes with FIN, 0x04 the server does,
             0x08 end with a RST
    head: 0x01 from the client, 0x02 a capture gap (``data[0]`` bytes not captured) before the data
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from stickyforensics.reconstruct.segments import ACK, FIN, PSH, RST, SYN, TcpSegment

T0 = 1_700_000_000.0
_SEG_HEAD = struct.Struct(">BIIHB")
_REC_HEAD = struct.Struct(">BH")
CONNECTIONS = (
    (("10.0.0.1", 40001), ("10.0.0.100", 80)),
    (("10.0.0.2", 40002), ("10.0.0.100", 80)),
    (("10.0.0.1", 40003), ("10.0.0.101", 8080)),
    (("fd00::1", 40004), ("fd00::100", 80)),
)
_FLAG_BITS = ((0x02, SYN), (0x04, FIN), (0x08, RST), (0x10, ACK))


def decode_segments(data: bytes) -> list[TcpSegment]:
    """Any bytes -> segments in capture order (a cut final record keeps the payload it has)."""
    out: list[TcpSegment] = []
    pos = 0
    ts = T0
    while pos + _SEG_HEAD.size <= len(data):
        head, seq, ack, length, clock = _SEG_HEAD.unpack_from(data, pos)
        pos += _SEG_HEAD.size
        payload = data[pos : pos + length]
        pos += length
        ts += clock / 1000 if clock < 200 else (clock - 199) * 60.0
        client, server = CONNECTIONS[head >> 6]
        src, dst = (client, server) if head & 0x01 else (server, client)
        flags = PSH if payload else 0
        for bit, flag in _FLAG_BITS:
            if head & bit:
                flags |= flag
        cut = bool(head & 0x20)
        out.append(
            TcpSegment(
                frame=len(out) + 1,
                ts=ts,
                src_ip=src[0],
                dst_ip=dst[0],
                src_port=src[1],
                dst_port=dst[1],
                seq=seq,
                ack=ack,
                flags=flags,
                payload=payload,
                truncated=cut,
                wire_len=len(payload) + (10 if cut else 0),
            )
        )
    return out


def encode_segments(segments: Iterable[TcpSegment], limit: int) -> bytes:
    """Real segments -> records (the first four connections only), at most ``limit`` bytes."""
    slots: dict[frozenset[tuple[str, int]], tuple[int, tuple[str, int]]] = {}
    out = bytearray()
    last = None
    for seg in segments:
        src, dst = (seg.src_ip, seg.src_port), (seg.dst_ip, seg.dst_port)
        key = frozenset((src, dst))
        if key not in slots:
            if len(slots) == len(CONNECTIONS):
                continue
            slots[key] = (len(slots), src)  # the first sender is taken as the client
        slot, client = slots[key]
        head = slot << 6 | (0x01 if src == client else 0) | (0x20 if seg.truncated else 0)
        for bit, flag in _FLAG_BITS:
            if seg.flags & flag:
                head |= bit
        delta = 0.0 if last is None else max(0.0, seg.ts - last)
        last = seg.ts
        clock = min(199, round(delta * 1000)) if delta < 60 else min(255, 199 + round(delta / 60))
        record = _SEG_HEAD.pack(head, seg.seq & 0xFFFFFFFF, seg.ack & 0xFFFFFFFF, len(seg.payload), clock)
        if len(out) + len(record) + len(seg.payload) > limit:
            break
        out += record + seg.payload
    return bytes(out)


def decode_conversation(data: bytes) -> list[TcpSegment]:
    """Any bytes -> one well-formed TCP connection carrying the records' bytes (HTTP fuzzing)."""
    options = data[0] if data else 0
    client, server = CONNECTIONS[0]
    seq = {True: 1000, False: 5000}
    out: list[TcpSegment] = []

    def add(from_client: bool, flags: int, payload: bytes = b"") -> None:
        src, dst = (client, server) if from_client else (server, client)
        out.append(
            TcpSegment(
                frame=len(out) + 1,
                ts=T0 + len(out) * 0.001,
                src_ip=src[0],
                dst_ip=dst[0],
                src_port=src[1],
                dst_port=dst[1],
                seq=seq[from_client] & 0xFFFFFFFF,
                ack=seq[not from_client] & 0xFFFFFFFF,
                flags=flags,
                payload=payload,
                wire_len=len(payload),
            )
        )
        seq[from_client] += len(payload) + (1 if flags & (SYN | FIN) else 0)

    if options & 0x01:
        add(True, SYN)
        add(False, SYN | ACK)
        add(True, ACK)
    pos = 1
    while pos + _REC_HEAD.size <= len(data):
        head, length = _REC_HEAD.unpack_from(data, pos)
        pos += _REC_HEAD.size
        chunk = data[pos : pos + length]
        pos += length
        from_client = bool(head & 0x01)
        if head & 0x02 and chunk:
            seq[from_client] += chunk[0] + 1
            chunk = chunk[1:]
        if chunk:
            add(from_client, ACK | PSH, chunk)
    if options & 0x08:
        add(True, RST | ACK)
        return out
    if options & 0x02:
        add(True, FIN | ACK)
    if options & 0x04:
        add(False, FIN | ACK)
    return out


def encode_conversation(chunks: Iterable[tuple[bool, bytes]], limit: int, *, handshake: bool = True) -> bytes:
    """(from client, bytes) pieces in order -> a conversation input of at most ``limit`` bytes."""
    out = bytearray([0x07 if handshake else 0x06])
    for from_client, chunk in chunks:
        for i in range(0, len(chunk), 0xFFFF):
            piece = chunk[i : i + 0xFFFF]
            record = _REC_HEAD.pack(0x01 if from_client else 0, len(piece))
            if len(out) + len(record) + len(piece) > limit:
                return bytes(out)
            out += record + piece
    return bytes(out)
