"""tshark rows -> transactions and diagnostics for one capture (no process handling here).

Invariants:

- rows arrive in frame order, one per frame (no display filter), so every frame's capture time is kept
  in a flat ``array('d')`` (8 bytes a frame) for the timing of multi-frame messages;
- per TCP connection (``tcp.stream``) that carried TLS or HTTP the engine keeps its TLS facts, its
  HTTP/1 and HTTP/2 state and the last frame each side sent payload in; per any TCP connection, how it
  ended (FIN both ways, RST); nothing else survives a row;
- a row with no TLS or HTTP column set (most frames) costs a split, a join and a flags check; a payload
  row of an HTTP connection also an address parse.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from stickyforensics.ingest.native import aggregate_diagnostics
from stickyforensics.ingest.tshark_build import build_transaction
from stickyforensics.ingest.tshark_fields import AGGREGATOR, FIELDS, C, ints, occurrences
from stickyforensics.ingest.tshark_http1 import Http1Conn
from stickyforensics.ingest.tshark_http2 import Http2Conn
from stickyforensics.ingest.tshark_message import Addr, Diags, Exchange, unanswered
from stickyforensics.ingest.tshark_tls import TlsState, not_decrypted_diagnostic
from stickyforensics.model import DiagLevel, Diagnostic, Endpoint, Transaction
from stickyforensics.reconstruct.segments import FIN, RST

_NFIELDS = len(FIELDS)


@dataclass(slots=True)
class _Conn:
    tcp_stream: int
    first: tuple[Addr, Addr]
    """(src, dst) of the first TLS/HTTP row: the fallback server address when no hello was captured."""
    tls: TlsState = field(default_factory=TlsState)
    h1: Http1Conn | None = None
    h2: Http2Conn | None = None
    last_payload: dict[Addr, int] = field(default_factory=dict)
    """Last frame with TCP payload from each side."""


@dataclass(frozen=True, slots=True)
class CaptureResult:
    transactions: tuple[Transaction, ...]
    diagnostics: tuple[Diagnostic, ...]
    cookie_data: str
    frames: int
    tls_connections: int
    tls_not_decrypted: int
    http2_streams: int


def _flags(cell: str) -> int:
    try:
        return int(cell.partition(AGGREGATOR)[0], 16) if cell else 0
    except ValueError:
        return 0


def _addr(ips: str, port: str) -> Addr:
    """Innermost address of the row (tunnels print the outer one first) and its TCP port."""
    ip = ips.rpartition(AGGREGATOR)[2]
    try:
        return ip, int(port.partition(AGGREGATOR)[0])
    except ValueError:
        return ip, 0


class CaptureAssembler:
    """Feed it tshark's rows with ``feed``; ``finish`` returns the transactions in capture order."""

    def __init__(self, source: str, kind: str, input_index: int, keylog: str | None) -> None:
        self.source = source
        self.kind = kind
        self.input_index = input_index
        self.keylog = keylog
        self.times: array[float] = array("d")
        self.conns: dict[int, _Conn] = {}
        self.diags = Diags(source)
        self.endings: dict[int, str] = {}
        """How each connection ended, in the native engine's words (absent: the capture ended first)."""
        self._fin_senders: dict[int, set[str]] = {}
        self.bad_rows = 0

    @property
    def frames(self) -> int:
        return len(self.times)

    def feed(self, line: str) -> None:
        cells = line.rstrip("\n").split("\t")
        if len(cells) != _NFIELDS:
            self.bad_rows += 1
            return
        try:
            frame = int(cells[C.FRAME])
            when = float(cells[C.TIME])
        except ValueError:
            self.bad_rows += 1
            return
        times = self.times
        while len(times) < frame:
            times.append(when)
        if not cells[C.STREAM]:
            return
        flags = _flags(cells[C.TCP_FLAGS])
        carries = "".join(cells[C.FIRST_TLS :])
        payload = cells[C.TCP_LEN] not in ("", "0")
        if not carries and not payload and not flags & (FIN | RST):
            return
        try:
            tcp_stream = int(cells[C.STREAM].partition(AGGREGATOR)[0])
        except ValueError:
            return
        if flags & (FIN | RST):
            self._ending(tcp_stream, flags, cells)
        conn = self.conns.get(tcp_stream)
        if not carries and conn is None:
            return
        if cells[C.IP_SRC]:
            src, dst = _addr(cells[C.IP_SRC], cells[C.SRCPORT]), _addr(cells[C.IP_DST], cells[C.DSTPORT])
        else:
            src, dst = _addr(cells[C.IP6_SRC], cells[C.SRCPORT]), _addr(cells[C.IP6_DST], cells[C.DSTPORT])
        if conn is None:
            conn = self.conns[tcp_stream] = _Conn(tcp_stream, (src, dst))
        if payload:
            conn.last_payload[src] = frame
        if not carries:
            return
        if cells[C.TLS_CONTENT_TYPE] or cells[C.TLS_OPAQUE_TYPE] or cells[C.TLS_HANDSHAKE]:
            conn.tls.observe(
                src,
                dst,
                occurrences(cells[C.TLS_CONTENT_TYPE]) + occurrences(cells[C.TLS_OPAQUE_TYPE]),
                ints(cells[C.TLS_HANDSHAKE]),
                occurrences(cells[C.TLS_SNI]),
            )
        is_h1 = bool(cells[C.REQ_METHOD] or cells[C.RESP_CODE])
        is_h2 = bool(cells[C.H2_TYPE])
        if not (is_h1 or is_h2):
            return
        frames = [frame]
        for seg in ints(cells[C.TCP_SEGMENTS]) + ints(cells[C.TLS_SEGMENTS]):
            if seg not in frames:
                frames.append(seg)
        if is_h1:
            if conn.h1 is None:
                conn.h1 = Http1Conn(tcp_stream)
            conn.h1.on_row(cells, frame, src, dst, frames, self.diags)
        if is_h2:
            if conn.h2 is None:
                conn.h2 = Http2Conn(tcp_stream)
            conn.h2.on_row(cells, frame, src, dst, frames, self.diags)

    def _ending(self, tcp_stream: int, flags: int, cells: list[str]) -> None:
        """The native engine's rule: closed once both sides sent FIN; reset by an RST before that."""
        if tcp_stream in self.endings:
            return
        if flags & RST:
            self.endings[tcp_stream] = "a TCP reset"
            return
        senders = self._fin_senders.setdefault(tcp_stream, set())
        senders.add(cells[C.IP_SRC] + cells[C.IP6_SRC] + "/" + cells[C.SRCPORT])
        if len(senders) == 2:
            self.endings[tcp_stream] = "the connection closed"

    def finish(self) -> CaptureResult:
        transactions: list[Transaction] = []
        endpoints: dict[Addr, Endpoint] = {}
        undecrypted: list[tuple[int, TlsState, Addr]] = []
        read_servers: set[Addr | str] = set()
        """Servers (address and SNI) of TLS connections HTTP was read from."""
        tls_connections = h2_streams = 0
        for stream in sorted(self.conns):
            conn = self.conns[stream]
            tls = conn.tls.seen
            tls_connections += tls
            found = self._exchanges(conn)
            h2_streams += sum(ex.http2_stream is not None for ex in found)
            found.sort(key=lambda ex: (min(ex.request.frames), ex.http2_stream or 0))
            for depth, ex in enumerate(found):
                transactions.append(
                    build_transaction(
                        ex,
                        depth=depth,
                        tls=tls,
                        source=self.source,
                        kind=self.kind,
                        input_index=self.input_index,
                        times=self.times,
                        endpoints=endpoints,
                    )
                )
            if tls and (conn.h1 is not None or conn.h2 is not None):
                read_servers.update(x for x in (conn.tls.server, conn.tls.sni) if x is not None)
            elif tls and conn.tls.app_data:
                undecrypted.append((stream, conn.tls, conn.first[1]))
        transactions.sort(key=lambda t: (t.timing.started, t.provenance.tcp_stream or 0, t.depth))
        if self.bad_rows:
            self.diags.add("tshark.bad_row", f"{self.bad_rows} tshark output rows could not be read")
        diagnostics = aggregate_diagnostics(self.diags.items)
        cookie_data = "present"
        if undecrypted and not transactions:
            cookie_data = "absent"
        elif any(tls.server in read_servers or tls.sni in read_servers for _, tls, _ in undecrypted):
            cookie_data = "partial"  # some connections to a server we did read were not decrypted
        level = DiagLevel.INFO if cookie_data == "present" else DiagLevel.WARNING
        tls_diag = not_decrypted_diagnostic(self.source, self.keylog, undecrypted, level)
        if tls_diag is not None:
            diagnostics.insert(0, tls_diag)
        return CaptureResult(
            transactions=tuple(transactions),
            diagnostics=tuple(diagnostics),
            cookie_data=cookie_data,
            frames=self.frames,
            tls_connections=tls_connections,
            tls_not_decrypted=len(undecrypted),
            http2_streams=h2_streams,
        )

    def _exchanges(self, conn: _Conn) -> list[Exchange]:
        """HTTP/1 and HTTP/2 exchanges of one connection (an h2c upgrade request belongs to stream 1)."""
        found: list[Exchange] = []
        upgrade = None
        if conn.h1 is not None:
            found += conn.h1.finish()
            upgrade = conn.h1.upgrade
        if conn.h2 is not None:
            h2, used = conn.h2.finish(upgrade, self.diags)
            found += h2
            if used:
                upgrade = None
        if upgrade is not None:  # upgraded to h2c, but no HTTP/2 stream 1 was captured
            found.append(upgrade)
        closing = self.endings.get(conn.tcp_stream, "the capture ended")
        for ex in found:
            if ex.response is not None:
                continue
            if ex.stream_reset:
                unanswered(ex, "no response before the HTTP/2 stream was reset", "http.no_response")
            elif conn.last_payload.get(ex.request.dst, 0) > ex.request.done_frame:
                why = "no response dissected, though the server sent data after the request"
                unanswered(ex, why, "tshark.response_not_dissected")
                self.diags.add(
                    "tshark.response_not_dissected",
                    f"tcp.stream {conn.tcp_stream}: {why} (tshark drops a message with retransmitted, reordered "
                    "or missing segments; the native engine reorders segments and keeps partial messages)",
                    f"frame {ex.request.done_frame}",
                )
            else:
                unanswered(ex, f"no response before {closing}", "http.no_response")
        return found
