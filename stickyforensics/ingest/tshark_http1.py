"""HTTP/1.x messages from tshark rows, paired into exchanges per TCP connection.

Theory of operation:

- tshark prints an HTTP/1 message in the row of the frame where its reassembly completed; the earlier
  frames of the message are listed in ``tcp.segment`` / ``tls.segment`` of that row.
- ``http.request.line`` / ``http.response.line`` list every header line of the row, raw casing, in wire
  order, duplicates kept: that is how two ``Set-Cookie`` lines survive separately.
- When one frame carries several messages of one direction (pipelining), the header lines of all of them
  arrive in one flat list and tshark gives no boundary. Those messages keep their request line / status
  but no headers, with ``Exchange.error`` and a ``tshark.headers_unattributed`` diagnostic: guessing
  would put one user's cookies on another request.
- A response is paired with the request tshark names in ``http.request_in``. tshark reads the file in
  one pass and names it only for the first of pipelined responses; a response without ``request_in``
  takes the oldest unanswered request (RFC 9112 §9.3.2: responses come in request order), as in the
  native engine. A response with nothing to pair is a ``http.response_without_request`` diagnostic.
- Interim 1xx responses add their frames to the exchange (``http.interim_response``). A ``101``
  upgrading to ``h2c`` hands its request to HTTP/2 stream 1 (RFC 7540 §3.2: "The HTTP/1.1 request that
  is sent prior to upgrade is assigned a stream identifier of 1").
"""

from __future__ import annotations

from stickyforensics.ingest.tshark_fields import C, header_line, ints, occurrences, unescape
from stickyforensics.ingest.tshark_message import Addr, Body, Diags, Exchange, Message
from stickyforensics.model.transaction import HEADERS_UNATTRIBUTED


def _headers(lines: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in lines:
        pair = header_line(line)
        if pair is not None:
            out.append(pair)
    return out


def _body(msg: Message, cells: list[str]) -> None:
    """The body as tshark printed it (de-chunked, decompressed: lossy for binary bodies, cut at NUL and
    non-ASCII as U+FFFD). Its size is the de-chunked size on the wire, as the native engine counts it:
    Content-Length, or the sum of the chunk sizes, else the length of the text."""
    texts = occurrences(cells[C.FILE_DATA])
    content_length = ints(cells[C.CONTENT_LENGTH])
    chunks = ints(cells[C.CHUNK_SIZE])
    if not texts and not content_length and not chunks:
        return
    body = Body()
    if texts:
        body.feed_decoded(unescape(texts[0]).encode())
    if len(content_length) == 1:
        body.size = content_length[0]
    elif chunks:
        body.size = sum(chunks)
    msg.body = body


class Http1Conn:
    """Requests waiting for responses, and finished exchanges, on one TCP connection."""

    __slots__ = ("exchanges", "pending", "tcp_stream", "upgrade")

    def __init__(self, tcp_stream: int) -> None:
        self.tcp_stream = tcp_stream
        self.pending: list[Exchange] = []
        self.exchanges: list[Exchange] = []
        self.upgrade: Exchange | None = None
        """A request answered by ``101`` + ``Upgrade: h2c``: HTTP/2 stream 1 answers it."""

    def on_row(self, cells: list[str], frame: int, src: Addr, dst: Addr, frames: list[int], diags: Diags) -> None:
        if cells[C.REQ_METHOD]:
            self._requests(cells, frame, src, dst, frames, diags)
        if cells[C.RESP_CODE]:
            self._responses(cells, frame, src, dst, frames, diags)

    def _requests(self, cells: list[str], frame: int, src: Addr, dst: Addr, frames: list[int], diags: Diags) -> None:
        methods = occurrences(cells[C.REQ_METHOD])
        uris = occurrences(cells[C.REQ_URI])
        versions = occurrences(cells[C.REQ_VERSION])
        single = len(methods) == 1
        for i, method in enumerate(methods):
            msg = Message(
                src=src,
                dst=dst,
                frames=list(frames) if i == 0 else [frame],
                method=method,
                target=uris[i] if len(uris) == len(methods) else "",
                version=versions[i] if len(versions) == len(methods) else "",
                head_frame=frame,
                done_frame=frame,
            )
            ex = Exchange(self.tcp_stream, msg)
            if single:
                msg.headers = _headers(occurrences(cells[C.REQ_LINE]))
                _body(msg, cells)
            else:
                _unattributed(ex, self._unattributed_why("requests", len(methods), frame))
            self.pending.append(ex)
            self.exchanges.append(ex)
        if not single:
            self._unattributed_diag("requests", len(methods), frame, diags)

    def _responses(self, cells: list[str], frame: int, src: Addr, dst: Addr, frames: list[int], diags: Diags) -> None:
        codes = occurrences(cells[C.RESP_CODE])
        versions = occurrences(cells[C.RESP_VERSION])
        phrases = occurrences(cells[C.RESP_PHRASE])
        request_in = ints(cells[C.REQUEST_IN])
        statuses = [int(code) if code.isdigit() else 0 for code in codes]
        # Whose are the header lines and body of the row: the only response, or the final response after
        # "100 Continue" heads (which carry no fields in practice); otherwise nobody's (unattributable).
        finals = [i for i, status in enumerate(statuses) if status != 100]
        owner = 0 if len(codes) == 1 else finals[0] if len(finals) == 1 else None
        # Pipelined responses to requests of one frame: tshark may print that frame number once.
        shared_request_in = request_in[0] if len(set(request_in)) == 1 else None
        for i, status in enumerate(statuses):
            msg = Message(
                src=src,
                dst=dst,
                frames=list(frames) if i == 0 else [frame],
                status=status,
                reason=phrases[i] if len(phrases) == len(codes) else "",
                version=versions[i] if len(versions) == len(codes) else "",
                head_frame=frame,
                done_frame=frame,
            )
            if i == owner:
                msg.headers = _headers(occurrences(cells[C.RESP_LINE]))
                _body(msg, cells)
            req_in = request_in[i] if len(request_in) == len(codes) else shared_request_in
            ex = self._pair(msg, req_in, frame, diags)
            if ex is not None and owner is None:
                _unattributed(ex, self._unattributed_why("responses", len(codes), frame))
        if owner is None:
            self._unattributed_diag("responses", len(codes), frame, diags)

    def _pair(self, msg: Message, request_in: int | None, frame: int, diags: Diags) -> Exchange | None:
        if request_in is not None:
            ex = next((e for e in self.pending if e.request.head_frame == request_in), None)
        else:  # one-pass tshark names the request of the first pipelined response only
            ex = self.pending[0] if self.pending else None
        if ex is None:
            diags.add(
                "http.response_without_request",
                f"tcp.stream {self.tcp_stream}: response {msg.status} {msg.reason} has no request tshark could "
                "pair it with (it was not captured or not dissected); it is not reported as a transaction",
                f"frame {frame}",
            )
            return None
        if 100 <= msg.status < 200 and msg.status != 101:  # interim (100 Continue, 103): the final one follows
            ex.interim_frames.extend(msg.frames)
            if "http.interim_response" not in ex.notes:
                ex.notes.append("http.interim_response")
            return None
        self.pending.remove(ex)
        if ex.request.method == "HEAD" or msg.status in (204, 304):
            msg.body = Body()  # RFC 9112 §6.3: no body, whatever Content-Length says
        ex.response = msg
        upgrade = (msg.header("upgrade") or "").strip().lower()
        if msg.status == 101 and upgrade == "h2c" and self.upgrade is None:
            self.upgrade = ex
            self.exchanges.remove(ex)
        return ex

    @staticmethod
    def _unattributed_why(what: str, n: int, frame: int) -> str:
        return f"{n} HTTP/1 {what} in frame {frame}: tshark does not say which header lines belong to which"

    def _unattributed_diag(self, what: str, n: int, frame: int, diags: Diags) -> None:
        why = self._unattributed_why(what, n, frame)
        diags.add(
            "tshark.headers_unattributed",
            f"tcp.stream {self.tcp_stream}: {why}; their headers are left out (the native engine reads them)",
            f"frame {frame}",
        )

    def finish(self) -> list[Exchange]:
        """Exchanges in request order (unanswered ones have ``response`` None)."""
        self.pending = []
        return self.exchanges


def _unattributed(ex: Exchange, why: str) -> None:
    if ex.error is None:
        ex.error = why
    if HEADERS_UNATTRIBUTED not in ex.notes:
        ex.notes.append(HEADERS_UNATTRIBUTED)
