"""TCP reassembly: ``TcpSegment``s in capture order -> ordered byte streams per connection direction.

Theory of operation
-------------------
A *connection* is what Wireshark calls a TCP conversation and numbers with ``tcp.stream``.
Its index is given the way Wireshark 4.0 gives it (``packet-tcp.c``), so evidence can point
at ``tcp.stream eq N``:

- the first packet of an unknown 4-tuple (either direction) opens a new connection, numbered
  in order of first packet;
- every direction remembers a *base sequence number* from its first packet (the SYN's ``seq``,
  or ``seq - 1`` for any other first packet);
- a SYN without ACK whose ``seq`` differs from its direction's base opens a new connection on
  the same 4-tuple ("TCP port numbers reused"), whatever state the old one was in; a SYN with
  the same ``seq`` is a retransmission.

Each direction (``Half``, in ``tcp_streams``) keeps the stream offset of the next expected byte (``next_off``) and
the matching 32-bit sequence number (``next_seq``); a segment's offset is found from the signed
32-bit distance between its ``seq`` and ``next_seq``, so sequence wrap-around needs no special case.
A direction is *anchored* at its SYN (ISN + 1), at the ``ack`` of a SYN-ACK for the other
direction, or else at its first data segment (the stream's start was not captured; the consumer
is told so and resynchronises).

- **In order** (the fast path): the payload goes straight to the consumer; no copy, no sort.
- **Ahead** (out of order): kept in a bounded, offset-sorted buffer of non-overlapping pieces;
  when the buffer is full the hole before its first piece is declared missing.
- **Behind** (retransmission / overlap): the first copy wins. Overlapping bytes are compared
  with the last delivered segments (or buffered pieces); a difference is a
  ``tcp.overlap_conflict`` diagnostic.
- **Missing bytes** reach the consumer as ``gap(nbytes)`` and a ``tcp.missing_segments``
  diagnostic; snaplen-truncated payloads become gaps too (``tcp.truncated_segments``).

A connection ends on RST, when both FINs are reached in order, on port reuse, after
``idle_timeout`` seconds without packets, or at the end of input. Its buffers and consumers are
then dropped; a small *tombstone* (the connection object with its base sequence numbers, a few
hundred bytes) stays so late packets keep Wireshark's stream index. Tombstones go after
``tombstone_ttl`` seconds of capture time and beyond ``max_tombstones`` (oldest first; that one
is reported, since a late packet of a forgotten connection would get a new index). A connection
that ended by RST or idleness and then carries new data is reopened under the same index with
fresh consumers that resynchronise.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import cast

from stickyforensics.model import DiagLevel, Diagnostic
from stickyforensics.reconstruct.segments import ACK, FIN, RST, SYN, TcpSegment
from stickyforensics.reconstruct.tcp_streams import (
    CLOSED,
    IDLE,
    NO_HISTORY,
    OPEN,
    RESET,
    SEQ_MASK,
    SLOW_FLAGS,
    Address,
    ConnectionHandler,
    Half,
    HandlerFactory,
    Piece,
    StreamConsumer,
    TcpConnection,
    Tomb,
    fmt_address,
    guess_client_is_src,
    subtract,
)

__all__ = [
    "CLOSED",
    "IDLE",
    "OPEN",
    "RESET",
    "Address",
    "ConnectionHandler",
    "HandlerFactory",
    "StreamConsumer",
    "TcpConnection",
    "TcpReassembler",
]


SWEEP_EVERY = 50_000
"""Segments between two sweeps for idle connections and old tombstones."""


class TcpReassembler:
    """Sans-IO TCP reassembly with Wireshark ``tcp.stream`` numbering.

    Feed every TCP segment of the input in capture order with ``feed`` (it returns the segment's
    ``tcp.stream``), then call ``finish``. Bytes go to the handler the factory makes for each
    connection; anomalies are appended to ``diagnostics``.
    """

    def __init__(
        self,
        source: str,
        factory: HandlerFactory,
        diagnostics: list[Diagnostic],
        *,
        idle_timeout: float = 600.0,
        max_ooo_bytes: int = 1 << 20,
        max_ooo_pieces: int = 256,
        max_tombstones: int = 100_000,
        tombstone_ttl: float = 3600.0,
        sweep_every: int | None = None,
        numbering_only: bool = False,
        on_connection: Callable[[TcpConnection], None] | None = None,
        compact_tombstones: bool = True,
    ) -> None:
        self.source = source
        self.numbering_only = numbering_only
        """Number connections without reassembling any (``ingest.partition``): ``tcp.stream`` only."""
        self.compact_tombstones = compact_tombstones and numbering_only
        """Keep a numbering pass's ended connections as ``Tomb`` objects (False: as they were, for the tests
        that check the two number alike)."""
        self.on_connection = on_connection
        """Told of every new connection (its index, addresses and the client's side)."""
        self._factory = factory
        self.diagnostics = diagnostics
        self.idle_timeout = idle_timeout
        self.max_ooo_bytes = max_ooo_bytes
        self.max_ooo_pieces = max_ooo_pieces
        self.max_tombstones = max_tombstones
        self.tombstone_ttl = tombstone_ttl
        if sweep_every is None:
            sweep_every = SWEEP_EVERY
        self._sweep_every = sweep_every if sweep_every > 0 else 1 << 62
        """Segments between sweeps for idle connections (None: ``SWEEP_EVERY``); 0: only when ``sweep`` is called."""
        self._countdown = self._sweep_every
        self.sweeps = 0
        self.last_sweep = 0.0
        """How many sweeps ran, and the capture time of the last (``ingest.partition`` relays them)."""
        self._halves: dict[tuple[str, int, str, int], Half] = {}
        self._open: dict[int, TcpConnection] = {}
        self._tombs: deque[TcpConnection] = deque()
        self._now = 0.0
        self._numbering_warned = False
        self.streams = 0
        """How many ``tcp.stream`` indices were given."""
        self.retransmitted_segments = 0
        self.gaps = 0
        self.missing_bytes = 0

    # -- the hot path -------------------------------------------------------------------------

    def feed(self, seg: TcpSegment) -> int:
        """Take one segment (capture order); returns its Wireshark ``tcp.stream`` index."""
        half = self._halves.get((seg.src_ip, seg.src_port, seg.dst_ip, seg.dst_port))
        if half is None or seg.flags & SLOW_FLAGS or seg.truncated or not half.ready:
            return self._feed_slow(seg, half)
        conn = half.conn
        if conn.waiting or (conn.stream != seg.stream and seg.stream >= 0):
            return self._feed_slow(seg, half)
        conn.last_ts = seg.ts
        payload = seg.payload
        if payload:
            if conn.skip:
                if conn.state != OPEN and not conn.non_http:
                    return self._feed_slow(seg, half)
            elif seg.seq == half.next_seq:
                n = len(payload)
                half.hist.append((half.next_off, payload))
                half.next_off += n
                half.next_seq = (half.next_seq + n) & SEQ_MASK
                half.sink(payload, seg.frame, seg.ts)  # type: ignore[misc]
            else:
                self._insert(half, seg.seq, payload, len(payload), seg.frame, seg.ts)
        self._countdown -= 1
        if self._countdown <= 0:
            self._sweep(seg.ts)
        return conn.stream

    def number(self, src: str, sport: int, dst: str, dport: int, flags: int, truncated: int, ts: float) -> int:
        """``feed``'s fast path for a numbering pass (``numbering_only``), without building the segment:
        the ``tcp.stream`` of a segment that only moves its connection's clock, or -1 when the segment
        needs ``feed`` (a new connection, SYN/FIN/RST, or a connection not yet anchored)."""
        half = self._halves.get((src, sport, dst, dport))
        if half is None or flags & SLOW_FLAGS or truncated or not half.ready:
            return -1
        conn = half.conn
        if conn.waiting or not conn.non_http:  # non_http: what numbering_only sets on every connection
            return -1
        conn.last_ts = ts
        self._countdown -= 1
        if self._countdown <= 0:
            self._sweep(ts)
        return conn.stream

    # -- everything else ----------------------------------------------------------------------

    def _feed_slow(self, seg: TcpSegment, half: Half | None) -> int:
        stream = self._take_slow(seg, half)
        # Every segment counts towards the next sweep, the ones an ended connection ignores too: a numbering
        # pass (which never reopens) and a full reassembly must sweep at the same segments, or they forget
        # tombstones at different moments.
        self._countdown -= 1
        if self._countdown <= 0:
            self._sweep(seg.ts)
        return stream

    def _take_slow(self, seg: TcpSegment, half: Half | None) -> int:
        """``_feed_slow`` without the sweep: the segment's ``tcp.stream``."""
        flags = seg.flags
        syn_only = flags & (SYN | ACK) == SYN
        if half is not None and seg.stream >= 0 and seg.stream != half.conn.stream:
            # A given index (``ingest.partition``) that is not this 4-tuple's: the numbering
            # pass saw a new conversation here (port reuse, or the old one was forgotten).
            self._close(half.conn, CLOSED, "port_reused", seg.ts)
            half = None
        if half is None:
            half = self._new_connection(seg)
        elif syn_only and half.base_set and seg.seq != half.base_seq and seg.stream < 0:
            # Wireshark: a SYN with another ISN on a known 4-tuple is a new conversation.
            self._close(half.conn, CLOSED, "port_reused", seg.ts)
            half = self._new_connection(seg)
        conn = half.conn
        other = conn.ba if half.from_a else conn.ab
        if not half.ready:
            # Wireshark's base sequence numbers: the first packet's seq (minus one unless SYN), or
            # for the reverse direction the first ACK's ack minus one.
            if not half.base_set:
                half.base_seq = seg.seq if flags & SYN else (seg.seq - 1) & SEQ_MASK
                half.base_set = True
            if flags & ACK and not other.base_set:
                other.base_seq = (seg.ack - 1) & SEQ_MASK
                other.base_set = True
            if other.base_set:
                half.ready = other.ready = True
        conn.last_ts = seg.ts
        if seg.ts > self._now:
            self._now = seg.ts
        payload = seg.payload
        wire = max(seg.wire_len, len(payload))
        if conn.state != OPEN:
            if (
                conn.state == CLOSED
                or conn.non_http
                or not (wire or flags & SYN)
                or (payload and half.anchored and half.offset_of(seg.seq) + wire <= half.next_off)
            ):
                return conn.stream  # nothing to reopen for (or an old retransmission)
            self._reopen(conn)
        seq = seg.seq
        if flags & SYN:
            if not half.anchored:
                self._anchor(half, seq + 1, True)
            if flags & ACK and not other.anchored:
                self._anchor(other, seg.ack, True)
            seq = (seq + 1) & SEQ_MASK
        if other.ooo and flags & ACK and not conn.skip:
            self._acked_hole(other, seg.ack, seg.ts)
        if wire and not conn.skip and not flags & RST:  # an RST's payload is a diagnostic text, not stream data
            self._insert(half, seq, payload, wire, seg.frame, seg.ts)
        if flags & FIN and not conn.skip:
            self._fin(half, (seq + wire) & SEQ_MASK, seg.frame, seg.ts)
        if flags & RST:
            self._close(conn, RESET, "reset", seg.ts)
        elif conn.skip and conn.state == OPEN and flags & FIN:
            self._fin_skipped(half, seg.ts)
        return conn.stream

    def _new_connection(self, seg: TcpSegment) -> Half:
        flags = seg.flags
        if flags & SYN:
            client_is_a, handshake = not (flags & ACK), True
        else:
            client_is_a, handshake = guess_client_is_src(seg.src_port, seg.dst_port), False
        a = (seg.src_ip, seg.src_port)
        b = (seg.dst_ip, seg.dst_port)
        stream = self.streams
        if seg.stream >= 0:
            stream = seg.stream
            self._numbering_warned = True  # the index is given: forgetting a tombstone cannot change it
        conn = TcpConnection(stream, a, b, client_is_a, handshake, seg.frame, history=not self.numbering_only)
        self.streams = max(self.streams, stream + 1)
        conn.last_ts = seg.ts
        if self.numbering_only:
            conn.skip = conn.non_http = True  # keep only what numbering needs, as for a non-HTTP stream
        else:
            self._attach(conn)
        if self.on_connection is not None:
            self.on_connection(conn)
        self._halves[(a[0], a[1], b[0], b[1])] = conn.ab
        self._halves[(b[0], b[1], a[0], a[1])] = conn.ba
        self._open[conn.stream] = conn
        return conn.ab

    def _attach(self, conn: TcpConnection) -> None:
        handler = self._factory(conn)
        conn.handler = handler
        for half in (conn.ab, conn.ba):
            consumer = handler.consumer(half.from_a)
            half.consumer = consumer
            half.sink = consumer.data
            half.begun = False

    def _reopen(self, conn: TcpConnection) -> None:
        """New data on a connection that ended by RST or idleness: same index, fresh consumers."""
        conn.state = OPEN
        conn.skip = False
        conn.handshake = False
        for half in (conn.ab, conn.ba):
            half.ended = False
            half.fin_off = None
            half.start_known = False
            half.hist = deque(maxlen=16)
        self._attach(conn)
        self._open[conn.stream] = conn
        for half in (conn.ab, conn.ba):
            if half.anchored:
                self._begin(half)

    def _anchor(self, half: Half, seq: int, start_known: bool) -> None:
        half.anchor(seq, start_known)
        if half.consumer is not None:
            self._begin(half)

    def _begin(self, half: Half) -> StreamConsumer:
        consumer = half.consumer
        assert consumer is not None
        if not half.begun:
            half.begun = True
            consumer.begin(half.start_known and half.next_off == 0)
        return consumer

    def _insert(self, half: Half, seq: int, payload: bytes, wire: int, frame: int, ts: float) -> None:
        if not half.anchored:
            self._anchor(half, seq, False)
        off = half.offset_of(seq)
        end = off + wire
        nxt = half.next_off
        if end <= nxt:
            if wire == 1 and end == nxt:
                return  # a keep-alive probe: one byte below the next expected seq, often garbage
            self.retransmitted_segments += 1
            self._compare(half, off, payload, frame)
            return
        if off < nxt:
            cut = nxt - off
            self._compare(half, off, payload[:cut], frame)
            payload = payload[cut:]
            wire -= cut
            off = nxt
        if off == nxt and not half.ooo:
            self._deliver(half, payload, wire, frame, ts)
        else:
            self._buffer(half, off, payload, wire, frame, ts)
            self._drain(half)
            while half.ooo and (len(half.ooo) > self.max_ooo_pieces or half.ooo_bytes > self.max_ooo_bytes):
                self._skip_hole(half)
                self._drain(half)
            self._update_waiting(half.conn)
        self._check_end(half, frame, ts)

    def _acked_hole(self, half: Half, ack: int, ts: float) -> None:
        """The peer acknowledged bytes of ``half`` that are not here, before buffered ones: they were
        received but not captured, and will not be re-sent. Declare the hole now instead of waiting
        for the buffer to fill (Wireshark: "ACKed segment that wasn't captured")."""
        ack_off = half.offset_of(ack)
        if ack_off > half.next_off:
            first = half.ooo[0]
            hole = min(ack_off, first.off) - half.next_off
            if hole > 0:
                self._gap(half, hole, first.frame, first.ts)
                self._drain(half)
                self._check_end(half, first.frame, ts)
        self._update_waiting(half.conn)

    def _update_waiting(self, conn: TcpConnection) -> None:
        conn.waiting = bool(conn.ab.ooo or conn.ba.ooo)

    def _deliver(self, half: Half, payload: bytes, wire: int, frame: int, ts: float) -> None:
        consumer = self._begin(half)
        if payload:
            n = len(payload)
            half.hist.append((half.next_off, payload))
            half.next_off += n
            half.next_seq = (half.next_seq + n) & SEQ_MASK
            consumer.data(payload, frame, ts)
            if half.conn.skip:
                return
        missing = wire - len(payload)
        if missing > 0:
            self._diag(
                "tcp.truncated_segments",
                f"tcp.stream {half.conn.stream}: frame {frame} was cut by the snaplen; "
                f"{missing} payload bytes were not captured",
                frame,
            )
            self._gap(half, missing, frame, ts, report=False)

    def _gap(self, half: Half, nbytes: int, frame: int, ts: float, *, report: bool = True) -> None:
        consumer = self._begin(half)
        if report:
            src, dst = (half.conn.a, half.conn.b) if half.from_a else (half.conn.b, half.conn.a)
            self.gaps += 1
            self._diag(
                "tcp.missing_segments",
                f"tcp.stream {half.conn.stream}: {nbytes} bytes from {fmt_address(src)} to {fmt_address(dst)} were not "
                f"captured before frame {frame}",
                frame,
            )
        self.missing_bytes += nbytes
        half.next_off += nbytes
        half.next_seq = (half.next_seq + nbytes) & SEQ_MASK
        consumer.gap(nbytes, frame, ts)

    def _buffer(self, half: Half, off: int, payload: bytes, wire: int, frame: int, ts: float) -> None:
        """Keep an out-of-order segment; bytes already buffered win (first copy)."""
        end = off + wire
        pieces = [(off, end)]
        for p in half.ooo:
            p_end = p.off + p.wire
            if p.off >= end:
                break
            if p_end <= off:
                continue
            lo, hi = max(off, p.off), min(end, p_end)
            mine = payload[lo - off : hi - off]
            theirs = p.payload[lo - p.off : hi - p.off]
            common = min(len(mine), len(theirs))
            if mine[:common] != theirs[:common]:
                self._conflict(half, lo, frame)
            pieces = subtract(pieces, p.off, p_end)
            if not pieces:
                self.retransmitted_segments += 1
                return
        for lo, hi in pieces:
            piece = Piece(lo, payload[lo - off : hi - off], hi - lo, frame, ts)
            i = len(half.ooo)
            while i > 0 and half.ooo[i - 1].off > lo:
                i -= 1
            half.ooo.insert(i, piece)
            half.ooo_bytes += len(piece.payload)

    def _drain(self, half: Half) -> None:
        ooo = half.ooo
        while ooo and ooo[0].off <= half.next_off and not half.conn.skip:
            p = ooo.pop(0)
            half.ooo_bytes -= len(p.payload)
            nxt = half.next_off
            end = p.off + p.wire
            if end <= nxt:
                self._compare(half, p.off, p.payload, p.frame)
                continue
            payload, wire = p.payload, p.wire
            if p.off < nxt:
                cut = nxt - p.off
                self._compare(half, p.off, payload[:cut], p.frame)
                payload, wire = payload[cut:], wire - cut
            self._deliver(half, payload, wire, p.frame, p.ts)
        if half.conn.skip:
            self._drop_buffers(half)

    def _skip_hole(self, half: Half) -> None:
        """Declare the bytes before the first buffered piece missing."""
        first = half.ooo[0]
        hole = first.off - half.next_off
        if hole > 0:
            self._gap(half, hole, first.frame, first.ts)

    def _compare(self, half: Half, off: int, data: bytes, frame: int) -> None:
        """Compare re-sent bytes with the delivered copy still in the history."""
        end = off + len(data)
        for h_off, h_payload in half.hist:
            h_end = h_off + len(h_payload)
            if h_end <= off or h_off >= end:
                continue
            lo, hi = max(off, h_off), min(end, h_end)
            if data[lo - off : hi - off] != h_payload[lo - h_off : hi - h_off]:
                self._conflict(half, lo, frame)
                return

    def _conflict(self, half: Half, off: int, frame: int) -> None:
        self._diag(
            "tcp.overlap_conflict",
            f"tcp.stream {half.conn.stream}: frame {frame} re-sends bytes at stream offset {off} with "
            "different content; the first copy was kept",
            frame,
        )

    def _fin(self, half: Half, fin_seq: int, frame: int, ts: float) -> None:
        if not half.anchored:
            self._anchor(half, fin_seq, False)
        fin_off = half.offset_of(fin_seq)
        if half.fin_off is None or fin_off < half.fin_off:
            half.fin_off = max(fin_off, half.next_off)
        self._check_end(half, frame, ts)

    def _fin_skipped(self, half: Half, ts: float) -> None:
        half.ended = True
        other = half.conn.ba if half.from_a else half.conn.ab
        if other.ended:
            self._close(half.conn, CLOSED, "fin", ts)

    def _check_end(self, half: Half, frame: int, ts: float) -> None:
        if half.fin_off is None or half.ended or half.ooo or half.next_off < half.fin_off:
            return
        half.ended = True
        conn = half.conn
        if not conn.skip:
            self._begin(half).end(frame, ts)
        other = conn.ba if half.from_a else conn.ab
        if other.ended:
            self._close(conn, CLOSED, "fin", ts)

    def _flush(self, half: Half) -> None:
        """Hand over everything still buffered, declaring holes missing."""
        while half.ooo and not half.conn.skip:
            self._skip_hole(half)
            self._drain(half)
        self._update_waiting(half.conn)
        if half.fin_off is not None and half.fin_off > half.next_off and half.anchored and not half.conn.skip:
            self._gap(half, half.fin_off - half.next_off, -1, self._now)

    def _drop_buffers(self, half: Half) -> None:
        half.ooo.clear()
        half.ooo_bytes = 0
        half.hist = NO_HISTORY
        self._update_waiting(half.conn)

    def _close(self, conn: TcpConnection, state: int, reason: str, ts: float) -> None:
        if conn.state != OPEN:
            return
        for half in (conn.ab, conn.ba):
            self._flush(half)
        handler = conn.handler
        conn.state = state
        conn.skip = True
        if handler is not None:
            handler.closed(reason, ts)
        conn.handler = None
        for half in (conn.ab, conn.ba):
            self._drop_buffers(half)
            half.consumer = None
            half.sink = None
        self._open.pop(conn.stream, None)
        if self.compact_tombstones:
            self._tombs.append(self._entomb(conn))
        elif not conn.entombed:
            # Once: a connection reopened and ended again keeps its first place. Queued twice, it would fill
            # the queue sooner than in a numbering pass, which never reopens, and the two would forget
            # different connections at the ``max_tombstones`` bound.
            conn.entombed = True
            self._tombs.append(conn)
        while len(self._tombs) > self.max_tombstones:
            self._forget(self._tombs.popleft(), warn=True)

    def _entomb(self, conn: TcpConnection) -> TcpConnection:
        """A numbering pass's ended connection, in its compact form (``Tomb``), in place of its halves:
        676 instead of 1,206 bytes a connection (a 2 GB capture has 55k: the numbering process was the run's peak)."""
        tomb = Tomb(conn)
        a, b = conn.a, conn.b
        for half, compact, (x, y) in ((conn.ab, tomb.ab, (a, b)), (conn.ba, tomb.ba, (b, a))):
            key = (x[0], x[1], y[0], y[1])
            if self._halves.get(key) is half:
                self._halves[key] = cast(Half, compact)  # the dict keeps its key object: no new tuple
        # The connection and its halves refer to each other, and a partitioning pass runs without the cyclic
        # collector: without this, every ended connection would stay in memory beside its tomb.
        del conn.ab, conn.ba
        return cast(TcpConnection, tomb)

    def _forget(self, conn: TcpConnection, *, warn: bool) -> None:
        for half, (x, y) in ((conn.ab, (conn.a, conn.b)), (conn.ba, (conn.b, conn.a))):
            key = (x[0], x[1], y[0], y[1])
            if self._halves.get(key) is half:
                del self._halves[key]
        if self.compact_tombstones:
            del conn.ab, conn.ba  # a tomb and its halves refer to each other (see ``_entomb``)
        if warn and not self._numbering_warned:
            self._numbering_warned = True
            self._diag(
                "tcp.stream_numbering_approximate",
                f"more than {self.max_tombstones} ended connections: the oldest were forgotten, so a late packet "
                "of one of them gets a new tcp.stream index where Wireshark would reuse the old one",
                None,
                level=DiagLevel.INFO,
            )

    def sweep(self, ts: float) -> None:
        """Close connections idle for ``idle_timeout`` at capture time ``ts`` and forget old tombstones."""
        self._sweep(ts)

    @property
    def now(self) -> float:
        """The latest capture time the reassembler has acted on."""
        return self._now

    def advance(self, ts: float) -> None:
        """Capture time has reached ``ts`` (``finish`` closes what is open at the latest time seen)."""
        if ts > self._now:
            self._now = ts

    def _sweep(self, ts: float) -> None:
        self._countdown = self._sweep_every
        now = max(ts, self._now)
        self._now = now
        self.sweeps += 1
        self.last_sweep = now
        for conn in [c for c in self._open.values() if now - c.last_ts > self.idle_timeout]:
            self._close(conn, IDLE, "idle", now)
        tombs = self._tombs
        while tombs and now - tombs[0].last_ts > self.tombstone_ttl:
            self._forget(tombs.popleft(), warn=False)

    def finish(self) -> None:
        """End of input: flush and close every open connection."""
        for conn in list(self._open.values()):
            self._close(conn, IDLE, "end_of_input", self._now)

    def _diag(self, code: str, message: str, frame: int | None, *, level: DiagLevel = DiagLevel.WARNING) -> None:
        position = f"frame {frame}" if frame is not None and frame > 0 else None
        self.diagnostics.append(Diagnostic(code, message, self.source, position, level))
