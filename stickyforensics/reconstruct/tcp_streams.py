"""The state TCP reassembly keeps per connection and per direction, and the interfaces it feeds.

``TcpConnection`` is one Wireshark ``tcp.stream`` (its index, endpoints, who is the client, its
state); ``Half`` is one direction's reassembly state (base and next sequence numbers, the
out-of-order buffer, the delivered history used to compare retransmissions); ``Piece`` is one
buffered out-of-order segment. ``StreamConsumer`` and ``ConnectionHandler`` are what the HTTP layer
implements to receive the bytes. The algorithm that drives them is in ``stickyforensics.reconstruct.tcp``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from stickyforensics.reconstruct.segments import FIN, RST, SYN

SEQ_MOD = 1 << 32
SEQ_MASK = SEQ_MOD - 1
SEQ_HALF = 1 << 31

SLOW_FLAGS = SYN | FIN | RST

OPEN = 0
CLOSED = 1
"""Ended by FIN both ways or port reuse: late data is ignored."""
RESET = 2
"""Ended by RST: new data reopens the connection."""
IDLE = 3
"""Ended by the idle timeout: new data reopens the connection."""

Address = tuple[str, int]


class StreamConsumer(Protocol):
    """Receives one direction's bytes in order."""

    def begin(self, at_start: bool) -> None:
        """Called once before the first delivery: True when the first byte is the stream's first."""

    def data(self, chunk: bytes, frame: int, ts: float) -> None:
        """In-order bytes, carried by ``frame``."""

    def gap(self, nbytes: int, frame: int, ts: float) -> None:
        """``nbytes`` bytes are missing here (not captured); ``frame`` is where that was noticed."""

    def end(self, frame: int, ts: float) -> None:
        """The FIN was reached in order: no more bytes in this direction."""


class ConnectionHandler(Protocol):
    """What a connection's bytes are handed to (the HTTP layer)."""

    def consumer(self, from_a: bool) -> StreamConsumer:
        """The consumer of the ``a -> b`` direction (``from_a``) or of ``b -> a``."""

    def closed(self, reason: str, ts: float) -> None:
        """The connection ended (``fin``, ``reset``, ``port_reused``, ``idle``, ``end_of_input``)."""


HandlerFactory = Callable[["TcpConnection"], ConnectionHandler]


class TcpConnection:
    """One TCP connection: one Wireshark ``tcp.stream``.

    ``a`` is the sender of the connection's first packet. The handler may set ``skip`` (the
    connection is not worth reassembling, e.g. not HTTP) and keeps its own counters in ``depth``.
    """

    __slots__ = (
        "a",
        "ab",
        "b",
        "ba",
        "client_is_a",
        "depth",
        "entombed",
        "first_frame",
        "handler",
        "handshake",
        "last_ts",
        "non_http",
        "skip",
        "state",
        "stream",
        "waiting",
    )

    def __init__(
        self,
        stream: int,
        a: Address,
        b: Address,
        client_is_a: bool,
        handshake: bool,
        frame: int,
        *,
        history: bool = True,
    ) -> None:
        self.stream = stream
        self.a = a
        self.b = b
        self.client_is_a = client_is_a
        """Who opened the connection: known from SYN / SYN-ACK when ``handshake``, else a port-based guess."""
        self.handshake = handshake
        self.first_frame = frame
        self.state = OPEN
        self.waiting = False
        """A direction holds out-of-order bytes (the fast path is off until they are delivered)."""
        self.skip = False
        """Set by the handler: stop delivering bytes (e.g. not HTTP); reassembly state is dropped."""
        self.non_http = False
        """Set by the handler when the connection is known not to carry HTTP/1.x."""
        self.depth = 0
        """Handler-owned counter that survives a reopen (next exchange index)."""
        self.last_ts = 0.0
        self.entombed = False
        """In the reassembler's tombstone queue (once: a connection reopened and ended again keeps its place)."""
        self.handler: ConnectionHandler | None = None
        self.ab = Half(self, True, history)
        self.ba = Half(self, False, history)

    @property
    def client(self) -> Address:
        return self.a if self.client_is_a else self.b

    @property
    def server(self) -> Address:
        return self.b if self.client_is_a else self.a


class Piece:
    """A buffered out-of-order piece: bytes ``[off, off + wire)``, of which ``payload`` is captured."""

    __slots__ = ("frame", "off", "payload", "ts", "wire")

    def __init__(self, off: int, payload: bytes, wire: int, frame: int, ts: float) -> None:
        self.off = off
        self.payload = payload
        self.wire = wire
        self.frame = frame
        self.ts = ts


NO_HISTORY: deque[tuple[int, bytes]] = deque(maxlen=0)
"""Shared by ended connections: keeps nothing, so a tombstone costs no history buffer."""


class Half:
    """One direction of a connection: the reassembly state."""

    __slots__ = (
        "anchored",
        "base_seq",
        "base_set",
        "begun",
        "conn",
        "consumer",
        "ended",
        "fin_off",
        "from_a",
        "hist",
        "next_off",
        "next_seq",
        "ooo",
        "ooo_bytes",
        "ready",
        "sink",
        "start_known",
    )

    def __init__(self, conn: TcpConnection, from_a: bool, history: bool = True) -> None:
        self.conn = conn
        self.from_a = from_a
        self.base_seq = 0
        self.base_set = False
        self.ready = False
        """Both directions' base sequence numbers are known: the fast path may take this half."""
        self.anchored = False
        self.start_known = False
        self.begun = False
        self.next_seq = -1
        """Sequence number of the next expected byte; -1 (never equal to a seq) until anchored."""
        self.next_off = 0
        self.fin_off: int | None = None
        self.ended = False
        self.ooo: list[Piece] = []
        self.ooo_bytes = 0
        self.hist: deque[tuple[int, bytes]] = deque(maxlen=16) if history else NO_HISTORY
        """The last delivered (offset, payload) pairs, to compare retransmitted bytes with (none for a
        connection that delivers nothing: a numbering pass makes one per connection of the capture)."""
        self.consumer: StreamConsumer | None = None
        self.sink: Callable[[bytes, int, float], None] | None = None

    def anchor(self, seq: int, start_known: bool) -> None:
        self.next_seq = seq & SEQ_MASK
        self.next_off = 0
        self.anchored = True
        self.start_known = start_known

    def offset_of(self, seq: int) -> int:
        """Stream offset of ``seq`` (signed 32-bit distance from the next expected byte)."""
        delta = (seq - self.next_seq) & SEQ_MASK
        if delta >= SEQ_HALF:
            delta -= SEQ_MOD
        return self.next_off + delta


class Tomb:
    """An ended connection as a numbering pass keeps it (``TcpReassembler(numbering_only=True)``): only what
    a late packet on its 4-tuple reads or sets. A numbering pass keeps every connection of the capture for
    an hour of capture time, and a ``TcpConnection`` with its two ``Half`` objects is about three times this.

    It stands in for the connection (``TcpReassembler`` casts it): a numbering pass's connections never carry
    bytes (``skip``, ``non_http``) and an ended one is never reopened, so every path that reaches a tomb
    returns before touching reassembly state.
    """

    __slots__ = ("a_ip", "a_port", "ab", "b_ip", "b_port", "ba", "last_ts", "state", "stream")
    waiting = False
    skip = True
    non_http = True

    def __init__(self, conn: TcpConnection) -> None:
        self.stream = conn.stream
        self.state = conn.state
        self.last_ts = conn.last_ts
        (self.a_ip, self.a_port), (self.b_ip, self.b_port) = conn.a, conn.b
        self.ab = TombHalf(conn.ab, self)
        self.ba = TombHalf(conn.ba, self)

    @property
    def a(self) -> Address:
        return (self.a_ip, self.a_port)

    @property
    def b(self) -> Address:
        return (self.b_ip, self.b_port)


class TombHalf:
    """One direction of a ``Tomb``: the base sequence number that tells a new conversation on the same 4-tuple."""

    __slots__ = ("base_seq", "base_set", "conn", "from_a", "ready")
    ooo: tuple[()] = ()
    """Never buffers (class attribute, read by ``TcpReassembler._feed_slow``)."""

    def __init__(self, half: Half, conn: Tomb) -> None:
        self.conn = conn
        self.from_a = half.from_a
        self.base_seq = half.base_seq
        self.base_set = half.base_set
        self.ready = half.ready


_HTTP_PORTS = frozenset({80, 81, 591, 631, 1900, 2869, 3128, 3132, 5985, 8000, 8008, 8080, 8081, 8088, 8888, 9000})


def guess_client_is_src(src_port: int, dst_port: int) -> bool:
    """Without a handshake: the side on a well-known (or the lower) port is the server."""
    if dst_port in _HTTP_PORTS and src_port not in _HTTP_PORTS:
        return True
    if src_port in _HTTP_PORTS and dst_port not in _HTTP_PORTS:
        return False
    return src_port >= dst_port


def subtract(pieces: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Remove ``[lo, hi)`` from a list of half-open intervals."""
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        if b <= lo or a >= hi:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo))
        if b > hi:
            out.append((hi, b))
    return out


def fmt_address(addr: Address) -> str:
    ip, port = addr
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
