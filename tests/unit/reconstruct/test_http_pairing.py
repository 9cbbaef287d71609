"""Request/response pairing and Transaction building."""

from __future__ import annotations

import pytest

from stickyforensics.reconstruct.pairing import HttpReconstructor, request_url
from tests.unit.reconstruct.tcpbuild import Clock, Conversation, reconstruct

OK0 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def req(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: app.example\r\n{extra}\r\n".encode()


def test_transaction_fields_from_a_simple_exchange() -> None:
    c = Conversation(("10.0.0.1", 40000), ("10.0.0.100", 8080))
    c.handshake()
    c.send(b"GET /cart?id=7 HTTP/1.1\r\nHost: Shop.Example:8080\r\nCookie: sid=abc\r\n\r\n", sizes=[20])
    c.reply(b"HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n")
    c.close()
    res = reconstruct(c.segments, source="cap.pcapng", kind="pcapng", input_index=3)
    (tx,) = res.transactions
    assert tx.id == "3.0.0" and tx.depth == 0 and tx.connection == "0"
    assert tx.input == "cap.pcapng"
    r = tx.request
    assert (r.method, r.target, r.url, r.scheme, r.host, r.path, r.version) == (
        "GET",
        "/cart?id=7",
        "http://shop.example:8080/cart?id=7",
        "http",
        "shop.example",
        "/cart",
        "HTTP/1.1",
    )
    assert tx.response is not None and (tx.response.status, tx.response.reason) == (302, "Found")
    p = tx.provenance
    assert (p.source, p.kind, p.request_frames, p.response_frames, p.tcp_stream) == (
        "cap.pcapng",
        "pcapng",
        (4, 5),
        (6,),
        0,
    )
    by_frame = {s.frame: s.ts for s in c.segments}
    assert tx.timing.started == by_frame[4] and tx.timing.request_done == by_frame[5]
    assert tx.timing.response_started == by_frame[6] and tx.timing.finished == by_frame[6]
    assert (str(tx.client), str(tx.server)) == ("10.0.0.1:40000", "10.0.0.100:8080")
    assert tx.error is None and tx.notes == ()


def test_pipelined_requests_are_paired_in_order() -> None:
    c = Conversation()
    c.handshake()
    c.send(req("/1") + b"HEAD /2 HTTP/1.1\r\nHost: app.example\r\n\r\n" + req("/3"))
    c.reply(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"  # HEAD: no body follows
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    )
    c.close()
    res = reconstruct(c.segments)
    assert [(t.id, t.request.path, t.response.status if t.response else None) for t in res.transactions] == [
        ("0.0.0", "/1", 200),
        ("0.0.1", "/2", 200),
        ("0.0.2", "/3", 404),
    ]
    assert all(t.provenance.request_frames == (4,) for t in res.transactions)


def test_100_continue_then_the_final_response() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
    c.reply(b"HTTP/1.1 100 Continue\r\n\r\n")
    c.send(b"data")
    c.reply(b"HTTP/1.1 201 Created\r\nSet-Cookie: s=1\r\nContent-Length: 0\r\n\r\n")
    c.close()
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.response is not None and tx.response.status == 201
    assert tx.response.headers.get("Set-Cookie") == "s=1"
    assert tx.provenance.request_frames == (4, 6) and tx.provenance.response_frames == (5, 7)
    assert "http.interim_response" in tx.notes


def test_http10_keep_alive_and_connection_close() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    c.reply(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na")
    c.send(b"GET /b HTTP/1.0\r\n\r\n")
    c.reply(b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil close")
    c.close()
    res = reconstruct(c.segments)
    a, b = res.transactions
    assert a.request.version == "HTTP/1.0" and a.response.body.prefix == b"a"  # type: ignore[union-attr]
    assert b.response.body.prefix == b"until close"  # type: ignore[union-attr]
    assert (a.depth, b.depth) == (0, 1)


@pytest.mark.parametrize(
    ("request_bytes", "response", "after"),
    [
        pytest.param(
            b"CONNECT app.example:443 HTTP/1.1\r\nHost: app.example:443\r\n\r\n",
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            b"\x16\x03\x01\x00\x05hello",
            id="connect",
        ),
        pytest.param(
            b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            b"\x81\x05hello",
            id="websocket",
        ),
    ],
)
def test_upgrades_stop_parsing(request_bytes: bytes, response: bytes, after: bytes) -> None:
    c = Conversation()
    c.handshake()
    c.send(request_bytes)
    c.reply(response)
    c.send(after + b"GET /not-http HTTP/1.1\r\n\r\n")
    c.reply(after)
    c.close()
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.response is not None and tx.error is None
    assert [d.code for d in res.diagnostics] == ["http.upgraded"]
    assert dict(res.stats)["upgraded_streams"] == 1
    if b"CONNECT" in request_bytes:
        assert (tx.request.url, tx.request.host, tx.request.path) == ("http://app.example:443", "app.example", "")


def test_rejected_connect_keeps_parsing() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n")
    c.reply(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
    c.send(req("/again"))
    c.reply(OK0)
    c.close()
    res = reconstruct(c.segments)
    assert [t.response.status for t in res.transactions] == [407, 200]  # type: ignore[union-attr]


def test_response_without_request_is_a_diagnostic_naming_its_cookies() -> None:
    c = Conversation()
    c.handshake()
    c.reply(b"HTTP/1.1 408 Request Timeout\r\nSet-Cookie: NSC_vs=abc; path=/\r\nContent-Length: 0\r\n\r\n")
    c.close()
    res = reconstruct(c.segments)
    assert res.transactions == ()
    (d,) = res.diagnostics
    assert d.code == "http.response_without_request" and d.position == "frame 4"
    assert "NSC_vs" in d.message and "abc" not in d.message
    assert dict(res.stats)["responses_without_request"] == 1


def test_request_without_response_at_the_end() -> None:
    c = Conversation()
    c.handshake()
    c.send(req("/slow"))
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.response is None and tx.provenance.response_frames == ()
    assert tx.error == "no response before the capture ended"
    assert "http.no_response" in tx.notes


def test_request_without_response_before_reset() -> None:
    c = Conversation()
    c.handshake()
    c.send(req("/x"))
    c.rst(False)
    res = reconstruct(c.segments)
    assert res.transactions[0].error == "no response before a TCP reset"


def test_early_response_waits_for_the_request_body() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345")
    c.reply(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
    c.send(b"67890")
    c.close()
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.request.body.size == 10 and tx.response.status == 413  # type: ignore[union-attr]
    assert tx.provenance.request_frames == (4, 6)


def test_roles_come_from_content_when_the_handshake_is_missing() -> None:
    # The first captured packet is the server's: without SYN the port guess would be right here, so use
    # two high ports and let the first start line decide.
    c = Conversation(("10.0.0.1", 50000), ("10.0.0.100", 40000))
    c.send(req("/a"))
    c.reply(OK0)
    segs = [c.segments[1], c.segments[0]]
    res = reconstruct(segs)
    # the response was captured first: it has no request, and the request that follows has no response,
    # but the status line told which side is the server
    assert [d.code for d in res.diagnostics] == ["http.response_without_request"]
    (tx,) = res.transactions
    assert tx.response is None and str(tx.client) == "10.0.0.1:50000"
    c2 = Conversation(("10.0.0.1", 50000), ("10.0.0.100", 40000))
    c2.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    c2.send(req("/b"))
    c2.reply(OK0)
    res = reconstruct(c2.segments)
    (tx,) = res.transactions
    assert str(tx.client) == "10.0.0.1:50000" and tx.request.path == "/b"


def test_transactions_come_in_request_start_order_across_connections() -> None:
    clock = Clock()
    a = Conversation(("10.0.0.1", 1000), clock=clock)
    b = Conversation(("10.0.0.2", 2000), clock=clock)
    a.handshake()
    b.handshake()
    b.send(req("/b1"))
    a.send(req("/a1"))
    a.reply(OK0)
    b.reply(OK0)
    segs = sorted(a.segments + b.segments, key=lambda s: s.frame)
    res = reconstruct(segs)
    assert [t.id for t in res.transactions] == ["0.1.0", "0.0.0"]


@pytest.mark.parametrize(
    ("method", "target", "host", "server", "expected"),
    [
        ("GET", "/p?q=1", "Example.COM", ("1.2.3.4", 80), ("http://example.com/p?q=1", "http", "example.com", "/p")),
        ("GET", "/p", None, ("1.2.3.4", 80), ("http://1.2.3.4/p", "http", "1.2.3.4", "/p")),
        ("GET", "/p", None, ("1.2.3.4", 8080), ("http://1.2.3.4:8080/p", "http", "1.2.3.4", "/p")),
        ("GET", "/p", "", ("2001:db8::1", 8080), ("http://[2001:db8::1]:8080/p", "http", "2001:db8::1", "/p")),
        ("GET", "/p", "[::1]:8443", ("::1", 8443), ("http://[::1]:8443/p", "http", "::1", "/p")),
        (
            "GET",
            "http://proxy.example:3128/a/b?c#f",
            "ignored",
            ("1.2.3.4", 3128),
            ("http://proxy.example:3128/a/b?c#f", "http", "proxy.example", "/a/b"),
        ),
        (
            "GET",
            "HTTPS://u:p@Secure.Example/x",
            None,
            ("1.2.3.4", 80),
            ("HTTPS://u:p@Secure.Example/x", "https", "secure.example", "/x"),
        ),
        ("OPTIONS", "*", "h", ("1.2.3.4", 80), ("http://h", "http", "h", "*")),
        (
            "CONNECT",
            "h.example:443",
            "h.example:443",
            ("1.2.3.4", 80),
            ("http://h.example:443", "http", "h.example", ""),
        ),
        ("GET", "/p", "bad host/evil", ("1.2.3.4", 80), ("http://1.2.3.4/p", "http", "1.2.3.4", "/p")),
        ("GET", "relative", "h", ("1.2.3.4", 80), ("http://h/relative", "http", "h", "/relative")),
    ],
)
def test_request_url(
    method: str, target: str, host: str | None, server: tuple[str, int], expected: tuple[str, str, str, str]
) -> None:
    assert request_url(method, target, host, server) == expected


def test_the_queue_of_unanswered_requests_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from stickyforensics.reconstruct import pairing

    monkeypatch.setattr(pairing, "MAX_AWAITING", 3)
    c = Conversation()
    c.handshake()
    c.send(b"".join(req(f"/{i}") for i in range(5)))
    res = reconstruct(c.segments)
    assert [t.request.path for t in res.transactions] == ["/0", "/1", "/2", "/3", "/4"]
    assert all(t.response is None for t in res.transactions)
    assert "later requests were sent" in (res.transactions[0].error or "")
    assert res.transactions[4].error == "no response before the capture ended"
    assert [d.code for d in res.diagnostics] == ["http.too_many_pending_requests"]


def test_finish_hands_the_transactions_over() -> None:
    # The reconstructor sits in reference cycles: a list kept there would hold every transaction
    # until the next full collection instead of letting the result's owner free them.
    c = Conversation()
    c.handshake()
    c.send(req("/a"))
    c.reply(OK0)
    c.close()
    rec = HttpReconstructor("test.pcap")
    rec.process(c.segments)
    result = rec.finish()
    assert [tx.request.path for tx in result.transactions] == ["/a"]
    assert rec.transactions == []
