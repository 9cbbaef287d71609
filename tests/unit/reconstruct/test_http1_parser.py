"""HTTP/1.x message parsing over reassembled streams: heads, framing, leniency, resync, non-HTTP."""

from __future__ import annotations

import pytest

from stickyforensics.model import BODY_PREFIX_LIMIT
from stickyforensics.reconstruct.http1 import MAX_HEAD
from tests.unit.reconstruct.tcpbuild import Conversation, reconstruct, renumber

GET = b"GET / HTTP/1.1\r\nHost: app.example\r\n\r\n"
OK0 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def exchange(request: bytes, response: bytes | None = None, *, close: bool = True, **sizes: list[int]):  # type: ignore[no-untyped-def]
    c = Conversation()
    c.handshake()
    c.send(request, sizes=sizes.get("req"))
    if response is not None:
        c.reply(response, sizes=sizes.get("resp"))
    if close:
        c.close()
    return c, reconstruct(c.segments)


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.code for d in result.diagnostics]


def test_headers_keep_raw_casing_order_and_every_set_cookie() -> None:
    resp = (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Dup: 1\r\n"
        b"set-cookie: b=2\r\nX-Dup: 2\r\nContent-Length: 2\r\n\r\nhi"
    )
    _, res = exchange(b"GET /x HTTP/1.1\r\nHOST: app.example\r\ncookie: a=1; b=2\r\n\r\n", resp)
    (tx,) = res.transactions
    assert tx.request.headers.items == (("HOST", "app.example"), ("cookie", "a=1; b=2"))
    assert tx.response is not None
    assert tx.response.headers.get_all("Set-Cookie") == ("a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2")
    assert tx.response.headers.get_all("x-dup") == ("1", "2")
    assert tx.error is None and res.diagnostics == ()


def test_obsolete_line_folding_is_joined_with_a_space() -> None:
    _, res = exchange(b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: first\r\n  second\r\n\tthird\r\n\r\n", OK0)
    (tx,) = res.transactions
    assert tx.request.headers.get("X-Long") == "first second third"
    assert codes(res) == ["http.obs_fold"]
    assert "http.obs_fold" in tx.notes


def test_bare_lf_line_endings_are_accepted() -> None:
    _, res = exchange(b"GET /lf HTTP/1.1\nHost: h\nCookie: c=1\n\n", b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc")
    (tx,) = res.transactions
    assert tx.request.headers.get("Cookie") == "c=1"
    assert tx.response is not None and tx.response.body.prefix == b"abc"


def test_a_header_line_without_colon_is_skipped_with_a_diagnostic() -> None:
    _, res = exchange(b"GET / HTTP/1.1\r\nHost: h\r\nnot a header\r\nCookie: x=1\r\n\r\n", OK0)
    (tx,) = res.transactions
    assert tx.request.headers.items == (("Host", "h"), ("Cookie", "x=1"))
    assert codes(res) == ["http.bad_header_line"]


@pytest.mark.parametrize(
    ("lines", "code", "size"),
    [
        pytest.param(b"Content-Length: 3\r\nContent-Length: 3\r\n", "http.content_length_duplicate", 3, id="dup"),
        pytest.param(b"Content-Length: 3, 3\r\n", "http.content_length_duplicate", 3, id="list"),
        pytest.param(b"Content-Length: 3\r\nContent-Length: 5\r\n", "http.content_length_conflict", 3, id="conflict"),
    ],
)
def test_content_length_duplicates_and_conflicts(lines: bytes, code: str, size: int) -> None:
    _, res = exchange(GET + GET, b"HTTP/1.1 200 OK\r\n" + lines + b"\r\nabc" + OK0)
    assert codes(res) == [code]
    first = res.transactions[0]
    assert first.response is not None and first.response.body.size == size
    assert code in first.notes


def test_chunked_body_with_extensions_and_trailers() -> None:
    resp = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nSet-Cookie: late=1\r\nX-Checksum: abc\r\n\r\n"
    )
    _, res = exchange(GET + GET, resp + OK0)
    tx = res.transactions[0]
    assert tx.response is not None
    body = tx.response.body
    assert (body.size, body.prefix, body.complete) == (11, b"hello world", True)
    assert tx.response.headers.items[-2:] == (("Set-Cookie", "late=1"), ("X-Checksum", "abc"))
    assert res.transactions[1].response is not None  # framing found the next response


def test_chunked_body_split_into_one_byte_segments() -> None:
    resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    c, res = exchange(GET, resp, resp=[1] * len(resp))
    (tx,) = res.transactions
    assert tx.response is not None and tx.response.body.prefix == b"abc"
    assert len(tx.provenance.response_frames) == len(resp)
    assert tx.provenance.response_frames[-1] == c.segments[3 + len(resp)].frame


def test_request_body_with_content_length_and_chunked_request() -> None:
    post = b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\na=1&b=2"
    put = b"PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
    _, res = exchange(post + put, OK0 + OK0, req=[10, 50, 3])
    a, b = res.transactions
    assert (a.request.body.size, a.request.body.prefix) == (7, b"a=1&b=2")
    assert (b.request.body.size, b.request.body.prefix) == (2, b"xy")
    assert a.provenance.request_frames == (4, 5)
    assert b.provenance.request_frames == (5, 6, 7)


def test_body_until_close_ends_at_the_fin_frame() -> None:
    c, res = exchange(GET, b"HTTP/1.0 200 OK\r\n\r\nall of this until FIN")
    (tx,) = res.transactions
    assert tx.response is not None and tx.response.body.prefix == b"all of this until FIN"
    assert tx.response.body.complete
    server_fin = next(s for s in c.segments if s.flags & 1 and s.src_port == 80)
    assert tx.provenance.response_frames[-1] == server_fin.frame


def test_body_until_close_cut_by_the_end_of_capture_is_incomplete() -> None:
    _, res = exchange(GET, b"HTTP/1.0 200 OK\r\n\r\npartial", close=False)
    (tx,) = res.transactions
    assert tx.response is not None and not tx.response.body.complete
    assert tx.error is not None and "capture" in tx.error


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", 200), ("GET", 204), ("GET", 304)],
)
def test_responses_without_body(method: str, status: int) -> None:
    req = f"{method} / HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    resp = f"HTTP/1.1 {status} X\r\nContent-Length: 99\r\n\r\n".encode()
    _, res = exchange(req + GET, resp + OK0)
    assert [t.response.status for t in res.transactions if t.response] == [status, 200]
    assert res.transactions[0].response.body.size == 0  # type: ignore[union-attr]


def test_body_prefix_is_bounded_and_size_counts_everything() -> None:
    body = bytes(range(256)) * 40
    _, res = exchange(GET, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    info = res.transactions[0].response.body  # type: ignore[union-attr]
    assert info.size == len(body) and len(info.prefix) == BODY_PREFIX_LIMIT
    assert info.prefix == body[:BODY_PREFIX_LIMIT]


def test_transfer_encoding_with_content_length_uses_chunked_and_warns() -> None:
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
    _, res = exchange(GET + GET, resp + OK0)
    assert len(res.transactions) == 2
    assert codes(res) == ["http.te_and_cl"]


def test_bad_chunk_size_cuts_the_body_and_resyncs() -> None:
    resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\ngarbage\r\n"
    _, res = exchange(GET + GET, resp + OK0)
    first, second = res.transactions
    assert first.response is not None and not first.response.body.complete
    assert "chunked" in (first.error or "")
    assert second.response is not None and second.response.status == 200
    assert "http.bad_chunk" in codes(res)


def test_oversized_header_block_is_dropped_and_parsing_resumes() -> None:
    huge = b"GET /big HTTP/1.1\r\nX-Pad: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n"
    _, res = exchange(huge + b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n", OK0 + OK0)
    assert "http.header_block_too_large" in codes(res)
    big, nxt = res.transactions
    # the request line was valid, so the request stays (without headers) and keeps its response
    assert (big.request.target, big.request.headers.items) == ("/big", ())
    assert "larger than" in (big.error or "") and big.response is not None
    assert nxt.request.target == "/next" and nxt.response is not None and nxt.error is None


def test_lenient_request_lines_of_known_methods() -> None:
    # as tshark: a well-known method with an odd or missing version is still a request
    _, res = exchange(b"GET /HTTP/1.1\nHost: h\n\nOPTIONS\nHost: h\n\n", OK0 + OK0)
    assert [(t.request.method, t.request.target, t.request.version) for t in res.transactions] == [
        ("GET", "/HTTP/1.1", ""),
        ("OPTIONS", "", ""),
    ]


def test_unknown_method_with_a_proper_version_is_accepted() -> None:
    _, res = exchange(b"PURGE /cache HTTP/1.1\r\nHost: h\r\n\r\n", OK0)
    assert res.transactions[0].request.method == "PURGE"


@pytest.mark.parametrize(
    "client_bytes",
    [
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, id="tls"),
        pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n", id="ssh"),
        pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", id="h2-prior-knowledge"),
        pytest.param(bytes(range(256)), id="binary"),
    ],
)
def test_non_http_streams_are_skipped_and_counted(client_bytes: bytes) -> None:
    c = Conversation()
    c.handshake()
    c.send(client_bytes)
    c.reply(b"\x16\x03\x03\x00\x10" + b"\x00" * 16 if client_bytes[0] == 0x16 else b"SSH-2.0-srv\r\n")
    c.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")  # never parsed: the connection was given up
    c.close()
    res = reconstruct(c.segments)
    assert res.transactions == ()
    assert dict(res.stats)["non_http_streams"] == 1
    (diag,) = res.diagnostics
    assert diag.code == "tcp.non_http_streams" and diag.count == 1


def test_missing_segment_inside_a_head_keeps_the_partial_request_and_resyncs() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"GET /first HTTP/1.1\r\nHost: h\r\n")
    c.skip(True, 30)  # the rest of the head was not captured
    c.send(b"GET /second HTTP/1.1\r\nHost: h\r\n\r\n")
    c.reply(OK0 + OK0)
    c.close()
    res = reconstruct(c.segments)
    first, second = res.transactions
    assert first.request.target == "/first" and "header block cut" in (first.error or "")
    assert "tcp.missing_segments" in first.notes
    assert second.request.target == "/second" and second.error is None
    assert "tcp.missing_segments" in codes(res)


def test_missing_segment_inside_a_counted_body_keeps_framing() -> None:
    c = Conversation()
    c.handshake()
    c.send(GET + GET)
    c.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789")
    c.skip(False, 5)
    c.reply(b"ABCDE" + OK0)
    c.close()
    res = reconstruct(c.segments)
    first, second = res.transactions
    assert first.response is not None
    assert (first.response.body.size, first.response.body.complete) == (15, False)
    assert "capture gap" in (first.error or "")
    assert second.response is not None and second.error is None


def test_capture_starting_mid_body_resyncs_to_the_next_message() -> None:
    c = Conversation()
    c.send(b"tail of an earlier request body\r\n" + GET)
    c.reply(b"...end of an earlier response\r\n" + OK0)
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.request.target == "/" and tx.response is not None


def test_capture_starting_mid_stream_finds_a_message_at_a_segment_boundary() -> None:
    c = Conversation()
    c.send(b"\x00")  # a keep-alive byte, then a request on the next segment (no newline before it)
    c.send(GET)
    c.reply(OK0)
    res = reconstruct(c.segments)
    assert [t.request.target for t in res.transactions] == ["/"]


def test_every_segmentation_of_a_request_gives_the_same_head() -> None:
    req = b"GET /a?b=c HTTP/1.1\r\nHost: h\r\nCookie: k=v\r\n\r\n"
    for cut in range(1, len(req)):
        _, res = exchange(req, OK0, req=[cut])
        (tx,) = res.transactions
        assert (tx.request.target, tx.request.headers.get("Cookie")) == ("/a?b=c", "k=v"), cut


def test_renumbered_segments_keep_frames_consistent() -> None:
    c, _ = exchange(GET, OK0)
    res = reconstruct(renumber(c.segments))
    (tx,) = res.transactions
    assert tx.provenance.request_frames == (4,) and tx.provenance.response_frames == (5,)
