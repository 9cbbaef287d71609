"""HTTP/1.x limits on hostile streams: each says so in a diagnostic, and the rest of the connection is read.

Header block size (``MAX_HEAD``), fields per message (``MAX_HEADERS``), trailer section size, requests
waiting for a response (``MAX_AWAITING``), and the bytes a parser buffers (never more than ``MAX_HEAD``).
"""

from __future__ import annotations

from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.http1 import (
    MAX_HEAD,
    MAX_HEADERS,
    MAX_LINE,
    ROLE_REQUEST,
    HttpMessage,
    MessageParser,
)
from stickyforensics.reconstruct.pairing import MAX_AWAITING
from tests.unit.reconstruct.tcpbuild import Conversation, reconstruct

NEXT = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
OK0 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def _run(request: bytes, response: bytes):  # type: ignore[no-untyped-def]
    c = Conversation()
    c.handshake()
    c.send(request)
    c.reply(response)
    c.close()
    return reconstruct(c.segments)


def _codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.code for d in result.diagnostics]


class _Owner:
    """A MessageOwner that records what a lone parser reports."""

    def __init__(self) -> None:
        self.done: list[HttpMessage] = []
        self.diags: list[str] = []

    def roles_found(self, parser: MessageParser, is_request: bool) -> None: ...

    def message_started(self, parser: MessageParser, msg: HttpMessage) -> None: ...

    def request_method(self, response: HttpMessage) -> str | None:
        return None

    def message_done(self, parser: MessageParser, msg: HttpMessage) -> None:
        self.done.append(msg)

    def upgraded(self, parser: MessageParser, msg: HttpMessage) -> None: ...

    def not_http(self, parser: MessageParser, why: str) -> None:
        self.diags.append("not_http")

    def diag(self, code: str, message: str, frame: int | None, level: DiagLevel = DiagLevel.WARNING) -> None:
        self.diags.append(code)


def test_header_block_size_bound_keeps_the_request_line_and_the_next_request() -> None:
    huge = b"GET /big HTTP/1.1\r\n" + b"X-Pad: aaaaaaaaaaaaaaaaaaaa\r\n" * (MAX_HEAD // 20) + b"\r\n"
    res = _run(huge + NEXT, OK0 + OK0)
    assert _codes(res).count("http.header_block_too_large") == 1
    big, nxt = res.transactions
    assert big.request.target == "/big" and "larger than" in (big.error or "")
    assert nxt.request.target == "/next" and nxt.error is None


def test_too_many_header_fields_keeps_the_first_ones() -> None:
    fields = b"".join(b"x%d: v\r\n" % i for i in range(MAX_HEADERS + 500))
    res = _run(b"GET /many HTTP/1.1\r\n" + fields + b"\r\n" + NEXT, OK0 + OK0)
    many, nxt = res.transactions
    assert len(many.request.headers.items) == MAX_HEADERS
    assert many.request.headers.items[-1] == (f"x{MAX_HEADERS - 1}", "v")
    assert "http.too_many_headers" in many.notes
    diag = next(d for d in res.diagnostics if d.code == "http.too_many_headers")
    assert f"{MAX_HEADERS + 500} fields" in diag.message
    assert nxt.request.target == "/next" and nxt.response is not None


def test_too_many_header_fields_in_an_odd_block() -> None:
    # bare LF line endings take the careful path of the head parser
    fields = b"".join(b"x%d: v\n" % i for i in range(MAX_HEADERS + 10))
    res = _run(b"GET /odd HTTP/1.1\n" + fields + b"\n", OK0)
    (tx,) = res.transactions
    assert len(tx.request.headers.items) == MAX_HEADERS and "http.too_many_headers" in _codes(res)


def test_trailer_section_size_is_bounded() -> None:
    trailer = b"".join(b"t%d: %s\r\n" % (i, b"v" * 50) for i in range(2 * MAX_HEAD // 50))
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n" + trailer + b"\r\n"
    res = _run(b"GET / HTTP/1.1\r\n\r\n" + NEXT, response + OK0)
    first, nxt = res.transactions
    assert first.response is not None and first.response.body.size == 3
    kept = len(first.response.headers.items)
    assert 1 < kept <= MAX_HEAD // 50  # the fields within the bound, not the rest
    assert "http.trailer_too_large" in _codes(res)
    assert nxt.response is not None and nxt.response.status == 200


def test_pending_pipelined_requests_are_bounded() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"".join(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % i for i in range(MAX_AWAITING + 50)))
    c.close()
    res = reconstruct(c.segments)
    assert _codes(res).count("http.too_many_pending_requests") == 1
    assert len(res.transactions) == MAX_AWAITING + 50
    assert all(t.response is None for t in res.transactions)
    assert "later requests were sent" in (res.transactions[0].error or "")


def test_a_parser_never_buffers_more_than_a_header_block() -> None:
    owner = _Owner()
    parser = MessageParser(owner, ROLE_REQUEST)  # type: ignore[arg-type]
    parser.begin(True)
    parser.data(b"GET / HTTP/1.1\r\n", 1, 0.0)
    for frame in range(2, 2002):  # 1 MB of header lines that never end
        parser.data(b"X: " + b"y" * 497 + b"\r\n", frame, 0.0)
        assert len(parser.buf) <= MAX_HEAD
    assert "http.header_block_too_large" in owner.diags
    assert len(owner.done) == 1  # the request (line valid) is kept, without headers


def test_a_resyncing_parser_buffers_at_most_a_line_and_counts_each_byte_once() -> None:
    owner = _Owner()
    parser = MessageParser(owner, ROLE_REQUEST)  # type: ignore[arg-type]
    parser.begin(False)  # the stream start was not captured: look for a message start
    for frame in range(1, 601):
        parser.data(b"z" * 1000, frame, 0.0)  # 600 KB without a newline, in small segments
        assert len(parser.buf) <= MAX_LINE
    # Regression: the stashed partial line was counted again with every segment, so the parser gave up
    # ("not HTTP") after about 120 KB instead of SNIFF_LIMIT (1 MiB) and lost the rest of the connection.
    assert parser.scanned == 600_000 and owner.diags == []
    parser.data(b"\r\n" + NEXT, 601, 0.0)
    assert [m.target for m in owner.done] == ["/next"]


def test_endless_interim_responses_are_bounded() -> None:
    from stickyforensics.reconstruct.pairing import MAX_INTERIM, HttpReconstructor
    from stickyforensics.reconstruct.segments import ACK, PSH, SYN, TcpSegment

    rec = HttpReconstructor("mem.pcap")
    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 80)
    frame = 0

    def seg(src: tuple[str, int], dst: tuple[str, int], seq: int, ack: int, flags: int, payload: bytes) -> None:
        nonlocal frame
        frame += 1
        rec.feed(TcpSegment(frame, float(frame), src[0], dst[0], src[1], dst[1], seq, ack, flags, payload))

    seg(client, server, 100, 0, SYN, b"")
    seg(server, client, 500, 101, SYN | ACK, b"")
    request = b"POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"
    seg(client, server, 101, 501, ACK | PSH, request)
    interim = b"HTTP/1.1 102 Processing\r\n\r\n"
    seq = 501
    for _ in range(MAX_INTERIM * 4):
        seg(server, client, seq, 101 + len(request), ACK | PSH, interim)
        seq += len(interim)
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    seg(server, client, seq, 101 + len(request), ACK | PSH, final)
    result = rec.finish()
    assert [tx.response.status for tx in result.transactions if tx.response] == [200]
    assert [d.code for d in result.diagnostics].count("http.too_many_interim") == 1
