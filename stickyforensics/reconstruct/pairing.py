"""Request/response pairing per connection, and the sans-IO entry point: segments -> Transactions.

Theory of operation
-------------------
``HttpConnection`` is the TCP layer's handler for one connection and the owner of its two
``MessageParser``s. It pairs like Zeek's ``HTTP::State``, as soon as a start line is read: each
request joins a FIFO queue (pipelining); each final response takes the oldest unanswered request
(and frames its body by that request's method: ``HEAD``, ``CONNECT``); ``1xx`` interim
responses (``100 Continue``, ``103``) stay with that request and do not take it. A response with an
empty queue is ``http.response_without_request`` (the model has no transaction without a request).
An exchange becomes a ``Transaction`` once both of its messages are complete, or when the connection
ends (then a missing response is an ``error``). At most ``MAX_AWAITING`` requests wait per
connection (a capture of one direction only must not grow without bound).

Who the client is: from the TCP handshake when it was captured; otherwise each parser starts with
an unknown role and the first start line found (request line or status line) decides both.

``HttpReconstructor`` wires ``TcpReassembler`` to ``HttpConnection``s and collects the results.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from sys import intern

from stickyforensics.model import (
    DiagLevel,
    Diagnostic,
    Endpoint,
    Transaction,
)
from stickyforensics.model.builders import (
    new_headers,
    new_provenance,
    new_request,
    new_response,
    new_timing,
    new_transaction,
)
from stickyforensics.model.diagnostics import HEADS_CUT
from stickyforensics.model.transaction import REQUEST_HEAD_CUT, RESPONSE_HEAD_CUT
from stickyforensics.reconstruct.http1 import (
    ROLE_REQUEST,
    ROLE_RESPONSE,
    ROLE_UNKNOWN,
    S_TUNNEL,
    HttpMessage,
    MessageParser,
)
from stickyforensics.reconstruct.segments import TcpSegment
from stickyforensics.reconstruct.tcp import Address, StreamConsumer, TcpConnection, TcpReassembler

MAX_AWAITING = 1000
MAX_INTERIM = 32
"""Interim (1xx) responses kept per request: real servers send one or two (100 Continue, 103 Early Hints)."""
"""Requests kept waiting for a response per connection (Zeek bounds its pending queue the same way)."""

_ORPHAN = object()
"""``HttpMessage.link`` of a response that found no request waiting."""


class _Exchange:
    __slots__ = ("depth", "interim", "request", "response")

    def __init__(self, depth: int, request: HttpMessage) -> None:
        self.depth = depth
        self.request = request
        self.response: HttpMessage | None = None
        self.interim: list[HttpMessage] = []


class HttpConnection:
    """Pairs one connection's requests and responses; TCP handler and parser owner."""

    __slots__ = (
        "_endpoints",
        "awaiting",
        "conn",
        "gave_up",
        "id_prefix",
        "pa",
        "pb",
        "pending",
        "queue_warned",
        "rec",
        "saw_http",
        "stream_text",
    )

    def __init__(self, rec: HttpReconstructor, conn: TcpConnection) -> None:
        self.rec = rec
        self.conn = conn
        if conn.handshake:
            role_a = ROLE_REQUEST if conn.client_is_a else ROLE_RESPONSE
            role_b = ROLE_RESPONSE if conn.client_is_a else ROLE_REQUEST
        else:
            role_a = role_b = ROLE_UNKNOWN
        self.pa = MessageParser(self, role_a)
        self.pb = MessageParser(self, role_b)
        self.awaiting: deque[_Exchange] = deque()
        """Requests whose final response has not started, oldest first."""
        self.pending: list[_Exchange] = []
        """Exchanges not yet turned into transactions."""
        self.saw_http = False
        self.gave_up = False
        """A direction was found not to carry HTTP/1.x."""
        self._endpoints: tuple[bool, tuple[Endpoint, Endpoint]] | None = None
        self.queue_warned = False
        self.stream_text = str(conn.stream)
        self.id_prefix = f"{rec.input_index}.{conn.stream}."
        """Every transaction of the connection: its id is this and its depth, its connection ``stream_text``."""

    def endpoints(self) -> tuple[Endpoint, Endpoint]:
        """(client, server) of this connection, as far as the roles are known now."""
        conn = self.conn
        cached = self._endpoints
        if cached is None or cached[0] != conn.client_is_a:
            a, b = Endpoint(conn.a[0], conn.a[1]), Endpoint(conn.b[0], conn.b[1])
            cached = self._endpoints = (conn.client_is_a, (a, b) if conn.client_is_a else (b, a))
        return cached[1]

    # -- ConnectionHandler ----------------------------------------------------------------------

    def consumer(self, from_a: bool) -> StreamConsumer:
        return self.pa if from_a else self.pb

    def closed(self, reason: str, ts: float) -> None:
        self.pa.finish(reason)
        self.pb.finish(reason)
        for ex in self.pending:
            self.rec.emit(self, ex, reason)
        self.pending.clear()
        self.awaiting.clear()
        if self.gave_up and not self.saw_http:
            self.rec.non_http_streams += 1

    # -- MessageOwner ---------------------------------------------------------------------------

    def roles_found(self, parser: MessageParser, is_request: bool) -> None:
        other = self.pb if parser is self.pa else self.pa
        parser.role = ROLE_REQUEST if is_request else ROLE_RESPONSE
        other.role = ROLE_RESPONSE if is_request else ROLE_REQUEST
        self.conn.client_is_a = (parser is self.pa) == is_request

    def request_method(self, response: HttpMessage) -> str | None:
        ex = response.link
        return ex.request.method if isinstance(ex, _Exchange) else None

    def message_started(self, parser: MessageParser, msg: HttpMessage) -> None:
        if not self.saw_http:
            self.saw_http = True
            self.rec.http_streams += 1
        if msg.is_request:
            ex = _Exchange(self.conn.depth, msg)
            self.conn.depth += 1
            msg.link = ex
            self.awaiting.append(ex)
            self.pending.append(ex)
            if len(self.awaiting) > MAX_AWAITING:
                self._give_up_oldest()
            return
        status = msg.status
        if 100 <= status < 200 and status != 101:
            if self.awaiting:
                interim = self.awaiting[0].interim
                if len(interim) < MAX_INTERIM:
                    interim.append(msg)
                elif len(interim) == MAX_INTERIM:
                    # a server (or a crafted capture) can send 1xx forever: keep memory bounded, say so once
                    interim.append(msg)
                    self.diag(
                        "http.too_many_interim",
                        f"more than {MAX_INTERIM} interim (1xx) responses to one request; the rest are not kept",
                        msg.frames[0] if msg.frames else None,
                    )
            return
        if self.awaiting:
            ex = self.awaiting.popleft()
            ex.response = msg
            msg.link = ex
            return
        msg.link = _ORPHAN

    def message_done(self, parser: MessageParser, msg: HttpMessage) -> None:
        ex = msg.link
        if ex is _ORPHAN:
            self._orphan(msg)
            return
        if not isinstance(ex, _Exchange):
            return
        if ex.request.done and ex.response is not None and ex.response.done:
            self.pending.remove(ex)
            self.rec.emit(self, ex, None)

    def _give_up_oldest(self) -> None:
        """Too many requests without a response (one direction not captured?): bound the queue."""
        ex = self.awaiting.popleft()
        if ex.request.done:
            self.pending.remove(ex)
            self.rec.emit(self, ex, "too_many_pending")
        if not self.queue_warned:
            self.queue_warned = True
            self.diag(
                "http.too_many_pending_requests",
                f"more than {MAX_AWAITING} requests wait for a response; the oldest are reported without one",
                ex.request.frames[0],
            )

    def _orphan(self, msg: HttpMessage) -> None:
        self.rec.responses_without_request += 1
        names = [v.partition("=")[0].strip() for k, v in msg.headers if k.lower() == "set-cookie"]
        sets = f"; it sets cookies {', '.join(dict.fromkeys(names))}" if names else ""
        self.diag(
            "http.response_without_request",
            f"response {msg.status} {msg.reason} has no request in the capture (not captured or not parsed), so "
            f"it is not reported as a transaction{sets}",
            msg.frames[0],
        )

    def upgraded(self, parser: MessageParser, msg: HttpMessage) -> None:
        self.pa.tunnel()
        self.pb.tunnel()
        self.conn.skip = True
        self.rec.upgraded_streams += 1
        what = (
            f"CONNECT tunnel ({msg.status})"
            if msg.status != 101
            else f"protocol switch to {msg.header('Upgrade') or 'another protocol'} (101)"
        )
        self.diag(
            "http.upgraded",
            f"{what}; the rest of the connection is not HTTP/1.x and was not parsed",
            msg.frames[0],
            DiagLevel.INFO,
        )

    def not_http(self, parser: MessageParser, why: str) -> None:
        """One direction is not HTTP/1.x: stop parsing it; give the connection up when both are."""
        parser.kill()
        self.gave_up = True
        other = self.pb if parser is self.pa else self.pa
        if self.saw_http:
            self.diag("http.stream_abandoned", f"one direction stopped carrying HTTP/1.x ({why})", None)
        if other.state >= S_TUNNEL:
            self.conn.skip = True
            if not self.saw_http:
                self.conn.non_http = True

    def diag(self, code: str, message: str, frame: int | None, level: DiagLevel = DiagLevel.WARNING) -> None:
        position = f"frame {frame}" if frame is not None and frame > 0 else f"tcp.stream {self.conn.stream}"
        self.rec.diagnostics.append(
            Diagnostic(code, f"tcp.stream {self.conn.stream}: {message}", self.rec.source, position, level)
        )


@dataclass(frozen=True, slots=True)
class ReconstructResult:
    """What reconstruction found in one input."""

    transactions: tuple[Transaction, ...]
    """In capture order: by request start time, then tcp.stream, then depth."""
    diagnostics: tuple[Diagnostic, ...]
    """One per occurrence (not aggregated)."""
    stats: tuple[tuple[str, int], ...]
    """``tcp_streams``, ``http_streams``, ``non_http_streams``, ``upgraded_streams``, ``tcp_gaps``..."""


class HttpReconstructor:
    """Sans-IO: TCP segments in capture order -> HTTP/1.x transactions and diagnostics.

    ``feed(segment)`` returns the segment's ``tcp.stream``; ``finish()`` flushes and returns the result.
    """

    def __init__(
        self,
        source: str,
        kind: str = "pcap",
        *,
        input_index: int = 0,
        idle_timeout: float = 600.0,
        max_ooo_bytes: int = 1 << 20,
        max_tombstones: int = 100_000,
        sweep_every: int | None = None,
        keep_body_prefix: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.source = source
        self.kind = kind
        self.keep_body_prefix = keep_body_prefix
        """Whether a body's prefix is worth keeping (``track.body_prefix``); all are kept when None."""
        self.input_index = input_index
        self.diagnostics: list[Diagnostic] = []
        self.transactions: list[Transaction] = []
        self.http_streams = 0
        self.non_http_streams = 0
        self.upgraded_streams = 0
        self.responses_without_request = 0
        self.request_heads_cut = 0
        self.response_heads_cut = 0
        self.tcp = TcpReassembler(
            source,
            self._handler,
            self.diagnostics,
            idle_timeout=idle_timeout,
            max_ooo_bytes=max_ooo_bytes,
            max_tombstones=max_tombstones,
            sweep_every=sweep_every,
        )
        self.feed = self.tcp.feed

    def _handler(self, conn: TcpConnection) -> HttpConnection:
        return HttpConnection(self, conn)

    def process(self, segments: Iterable[TcpSegment]) -> None:
        """Feed every segment of an iterable."""
        feed = self.tcp.feed
        for seg in segments:
            feed(seg)

    def finish(self) -> ReconstructResult:
        self.tcp.finish()
        if self.non_http_streams:
            self.diagnostics.append(non_http_diagnostic(self.source, self.non_http_streams))
        txs = self.transactions
        txs.sort(key=capture_order)
        # Handed over to the result: the reconstructor is in reference cycles (its TCP layer and
        # connections point back at it), so a list kept here would hold every transaction until the
        # next full collection, which then walks them all (a sixth of a --jobs shard's CPU).
        self.transactions = []
        stats = (
            ("tcp_streams", self.tcp.streams),
            ("http_streams", self.http_streams),
            ("non_http_streams", self.non_http_streams),
            ("upgraded_streams", self.upgraded_streams),
            ("transactions", len(txs)),
            ("responses_without_request", self.responses_without_request),
            ("request_heads_cut", self.request_heads_cut),
            ("response_heads_cut", self.response_heads_cut),
            ("tcp_gaps", self.tcp.gaps),
            ("tcp_missing_bytes", self.tcp.missing_bytes),
            ("tcp_retransmitted_segments", self.tcp.retransmitted_segments),
        )
        return ReconstructResult(tuple(txs), tuple(self.diagnostics), stats)

    def emit(self, hc: HttpConnection, ex: _Exchange, closing: str | None) -> None:
        tx = build_transaction(self, hc, ex, closing)
        self.transactions.append(tx)
        if tx.notes:
            self.request_heads_cut += REQUEST_HEAD_CUT in tx.notes
            self.response_heads_cut += RESPONSE_HEAD_CUT in tx.notes
        # Break the exchange <-> message cycles so reference counting frees them at once.
        ex.request.link = None
        if ex.response is not None:
            ex.response.link = None


def capture_order(tx: Transaction) -> tuple[float, int, int]:
    """Transactions of a capture in order: request start time, then tcp.stream, then depth."""
    return (tx.timing.started, tx.provenance.tcp_stream or 0, tx.depth)


def heads_cut_diagnostic(source: str, requests: int, responses: int, transactions: int) -> Diagnostic:
    """Exchanges whose header blocks were cut: their cookies are not all known (``model.transaction``'s
    ``REQUEST_HEAD_CUT``), so the tracking does not judge them as sending or lacking one."""
    return Diagnostic(
        HEADS_CUT,
        f"the header blocks of {requests} of {transactions} requests and {responses} responses were cut (a short "
        "snaplen, or capture gaps): the cookies after a cut are unknown, so those requests are not judged as "
        "sending or lacking one, and Set-Cookie lines after a cut are missed (recapture with -s 0: whole packets)",
        source,
        None,
        DiagLevel.WARNING,
        requests,
    )


def non_http_diagnostic(source: str, count: int) -> Diagnostic:
    return Diagnostic(
        "tcp.non_http_streams",
        f"{count} TCP connection(s) do not carry HTTP/1.x (TLS, HTTP/2, other protocols) and were skipped",
        source,
        None,
        DiagLevel.INFO,
        count,
    )


_CLOSING = {
    "fin": "the connection closed",
    "reset": "a TCP reset",
    "idle": "the connection went idle",
    "end_of_input": "the capture ended",
    "port_reused": "the ports were reused",
    "too_many_pending": f"{MAX_AWAITING} later requests were sent",
}


def build_transaction(rec: HttpReconstructor, hc: HttpConnection, ex: _Exchange, closing: str | None) -> Transaction:
    """Model objects from a parsed exchange.

    Runs once per transaction: the model objects are made by ``frozen_build`` builders (every field
    positional, in declaration order, noted per call), half the cost of the dataclasses' own
    ``__init__``. Method, version, reason and host come interned from the memos that parsed them
    (``http1_lines``, ``_authority``): equal strings of every transaction share one object.
    """
    conn = hc.conn
    req = ex.request
    resp = ex.response
    cached = hc._endpoints  # endpoints(), inlined: the roles rarely change once a transaction is built
    client, server = cached[1] if cached is not None and cached[0] == conn.client_is_a else hc.endpoints()
    url, scheme, host, path = request_url(req.method, req.target, req.header("Host"), (server.ip, server.port))
    keep = rec.keep_body_prefix
    # Request(method, target, url, scheme, host, path, version, headers, body)
    request = new_request(
        req.method,
        req.target,
        url,
        scheme,
        host,
        path,
        req.version,
        new_headers(tuple(req.headers)),
        req.body.info(keep),
    )
    notes = req.notes
    errors = [f"request {req.error}"] if req.error else []
    frames = req.frames
    req_frames = tuple(frames) if len(frames) == 1 else tuple(sorted(set(frames)))
    response = None
    resp_frames: tuple[int, ...] = ()
    response_started = finished = None
    if resp is not None:
        # Response(status, reason, version, headers, body, from_cache)
        response = new_response(
            resp.status, resp.reason, resp.version, new_headers(tuple(resp.headers)), resp.body.info(keep), None
        )
        frames = resp.frames
        resp_frames = tuple(frames) if len(frames) == 1 else tuple(sorted(set(frames)))
        response_started, finished = resp.first_ts, resp.last_ts
        if resp.notes:
            notes = notes + resp.notes
        if resp.error:
            errors.append(f"response {resp.error}")
    else:
        errors.append(f"no response before {_CLOSING.get(closing or '', closing or 'the end')}")
        notes = (*notes, "http.no_response")
    if ex.interim:
        notes = (*notes, "http.interim_response")
        resp_frames = tuple(sorted({f for m in ex.interim for f in m.frames}.union(resp_frames)))
        first = min(m.first_ts for m in ex.interim)
        response_started = first if response_started is None else min(first, response_started)
    source = rec.source
    # Transaction(id, input, request, response, timing, provenance, client, server, client_label, connection,
    #             depth, error, notes); Timing(started, request_done, response_started, finished);
    # Provenance(source, kind, request_frames, response_frames, tcp_stream, har_entry, http2_stream)
    return new_transaction(
        f"{hc.id_prefix}{ex.depth}",
        source,
        request,
        response,
        new_timing(req.first_ts, req.last_ts, response_started, finished),
        new_provenance(source, rec.kind, req_frames, resp_frames, conn.stream, None, None),
        client,
        server,
        None,
        hc.stream_text,
        ex.depth,
        "; ".join(errors) if errors else None,
        tuple(dict.fromkeys(notes)) if notes else (),
    )


def request_url(method: str, target: str, host_header: str | None, server: Address) -> tuple[str, str, str, str]:
    """``(url, scheme, host, path)`` of a request, from its target and Host header.

    Absolute-form targets (proxy requests) are used as they are; origin-form targets are joined
    to the ``Host`` header, or to the server address when it is absent or unusable.
    """
    if target[:1] == "/":  # origin-form, nearly every request: only the Host part needs work, memoised
        hostport, host = _authority(host_header, server)
        return f"http://{hostport}{target}", "http", host, target.partition("?")[0]
    head = target[:8].lower()
    if head.startswith(("http://", "https://")):
        scheme, _, rest = target.partition("://")
        authority, slash, tail = rest.partition("/")
        host = intern(_host_only(authority.rpartition("@")[2]))
        path = ("/" + tail if slash else "/").split("?", 1)[0].split("#", 1)[0]
        return target, scheme.lower(), host, path
    hostport, host = _authority(host_header, server)
    if method.upper() == "CONNECT":
        return f"http://{target}", "http", intern(_host_only(target)), ""
    if target == "*":
        return f"http://{hostport}", "http", host, "*"
    target = "/" + target
    return f"http://{hostport}{target}", "http", host, target.split("?", 1)[0]


_BAD_HOST = re.compile(r"[\s/\\@]")


@lru_cache(maxsize=4096)
def _authority(host_header: str | None, server: Address) -> tuple[str, str]:
    """``(host[:port], host)`` of an origin-form request: from its Host header, or the server address
    when that is absent or unusable. Memoised: the requests of a connection repeat the same Host."""
    hostport = (host_header or "").strip()
    if not hostport or _BAD_HOST.search(hostport):
        ip, port = server
        name = f"[{ip}]" if ":" in ip else ip
        hostport = name if port == 80 else f"{name}:{port}"
    else:
        hostport = hostport.lower()
    return hostport, intern(_host_only(hostport))


def _host_only(hostport: str) -> str:
    """Lower-case host without port (and without IPv6 brackets)."""
    hp = hostport.strip().lower()
    if hp.startswith("["):
        return hp[1:].partition("]")[0]
    name, sep, port = hp.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name
    return hp
