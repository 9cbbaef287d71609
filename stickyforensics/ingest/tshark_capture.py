"""tshark rows -> transactions and diagnostics for one capture (no process handling here).

Invariants:

- rows arrive in frame order, one per frame (no display filter), so every frame's capture time is kept
  in a flat ``array('d')`` (8 bytes a frame) for the timing of multi-frame messages;
- per TCP connection (``tcp.stream``) the engine keeps its TLS facts, its HTTP/1 state and, once an
  HTTP/2 frame is seen, its HTTP/2 state; nothing else survives a row;
- a row with no TLS or HTTP column set (most frames) costs one split and one join.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from stickyforensics.ingest.tshark_build import build_transaction
from stickyforensics.ingest.tshark_fields import FIELDS, C, ints, occurrences
from stickyforensics.ingest.tshark_http1 import Http1Conn
from stickyforensics.ingest.tshark_http2 import Http2Conn
from stickyforensics.ingest.tshark_message import Addr, Diags, Exchange
from stickyforensics.ingest.tshark_tls import TlsState, not_decrypted_diagnostic
from stickyforensics.model import Diagnostic, Transaction

_NFIELDS = len(FIELDS)


@dataclass(slots=True)
class _Conn:
    tcp_stream: int
    first: tuple[Addr, Addr]
    """(src, dst) of the first TLS/HTTP row: the fallback server address when no hello was captured."""
    tls: TlsState = field(default_factory=TlsState)
    h1: Http1Conn | None = None
    h2: Http2Conn | None = None


@dataclass(frozen=True, slots=True)
class CaptureResult:
    transactions: tuple[Transaction, ...]
    diagnostics: tuple[Diagnostic, ...]
    cookie_data: str
    frames: int
    tls_connections: int
    tls_not_decrypted: int
    http2_streams: int


def _addr(ips: str, port: str) -> Addr:
    """Innermost address of the row (tunnels print the outer one first) and its TCP port."""
    ip = ips.rpartition("\f")[2]
    try:
        return ip, int(port.partition("\f")[0])
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
        if not cells[C.STREAM] or not "".join(cells[C.FIRST_TLS :]):
            return
        try:
            tcp_stream = int(cells[C.STREAM].partition("\f")[0])
        except ValueError:
            return
        if cells[C.IP_SRC]:
            src, dst = _addr(cells[C.IP_SRC], cells[C.SRCPORT]), _addr(cells[C.IP_DST], cells[C.DSTPORT])
        else:
            src, dst = _addr(cells[C.IP6_SRC], cells[C.SRCPORT]), _addr(cells[C.IP6_DST], cells[C.DSTPORT])
        conn = self.conns.get(tcp_stream)
        if conn is None:
            conn = self.conns[tcp_stream] = _Conn(tcp_stream, (src, dst))
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

    def finish(self) -> CaptureResult:
        exchanges: list[tuple[Exchange, bool]] = []
        undecrypted: list[tuple[int, TlsState, Addr]] = []
        tls_connections = h2_streams = 0
        for stream in sorted(self.conns):
            conn = self.conns[stream]
            tls = conn.tls.seen
            tls_connections += tls
            found: list[Exchange] = []
            upgrade = None
            if conn.h1 is not None:
                found += conn.h1.finish()
                upgrade = conn.h1.upgrade
            if conn.h2 is not None:
                h2, used = conn.h2.finish(upgrade, self.diags)
                found += h2
                h2_streams += len(h2)
                if used:
                    upgrade = None
            if upgrade is not None:  # upgraded to h2c, but no HTTP/2 stream 1 was captured
                found.append(upgrade)
            exchanges += [(ex, tls) for ex in found]
            if tls and conn.tls.app_data and conn.h1 is None and conn.h2 is None:
                undecrypted.append((stream, conn.tls, conn.first[1]))
        exchanges.sort(key=lambda item: (min(item[0].request.frames), item[0].tcp_stream, item[0].http2_stream or 0))
        depths: dict[int, int] = {}
        transactions = []
        for ex, tls in exchanges:
            depth = depths.get(ex.tcp_stream, 0)
            depths[ex.tcp_stream] = depth + 1
            transactions.append(
                build_transaction(
                    ex,
                    depth=depth,
                    tls=tls,
                    source=self.source,
                    kind=self.kind,
                    input_index=self.input_index,
                    times=self.times,
                )
            )
        if self.bad_rows:
            self.diags.add("tshark.bad_row", f"{self.bad_rows} tshark output rows could not be read")
        diagnostics = self.diags.diagnostics()
        tls_diag = not_decrypted_diagnostic(self.source, self.keylog, undecrypted)
        if tls_diag is not None:
            diagnostics.insert(0, tls_diag)
        if undecrypted:
            cookie_data = "partial" if transactions else "absent"
        else:
            cookie_data = "present"
        return CaptureResult(
            transactions=tuple(transactions),
            diagnostics=tuple(diagnostics),
            cookie_data=cookie_data,
            frames=self.frames,
            tls_connections=tls_connections,
            tls_not_decrypted=len(undecrypted),
            http2_streams=h2_streams,
        )
