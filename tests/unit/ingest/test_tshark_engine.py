"""The tshark engine on real captures: TLS decrypted with a key log (HTTP/2 and HTTP/1.1), without keys,
with the wrong keys, h2c, and hostile bytes.

tests/data/tls/ was made by tests/data/tls/make_tls_captures.sh (nginx + curl + tcpdump on loopback):
  tcp.stream 0: HTTP/2, TLS 1.3: GET /login (two Set-Cookie), /app?x=1 and /static/a.css with the cookies back
  tcp.stream 1: HTTP/2, TLS 1.3: GET /app?crumbs=1 with two ``cookie`` fields (RFC 9113 §8.2.3 crumbs)
  tcp.stream 2: HTTP/1.1, TLS 1.2: GET /login, GET /missing (404) with the cookies back
"""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from stickyforensics.errors import InputError
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.tshark import read_capture_tshark, tshark_available
from stickyforensics.ingest.tshark_build import build_request
from stickyforensics.ingest.tshark_fields import header_line
from stickyforensics.ingest.tshark_message import Body, Message
from stickyforensics.model import Transaction
from stickyforensics.track.cookieparse import request_cookies, response_set_cookies
from tests.conftest import CORPUS, shared_or_skip

DATA = Path(__file__).resolve().parents[2] / "data" / "tls"
HTTPS = str(DATA / "https.pcap")
KEYS = str(DATA / "https.keys")
OTHER_KEYS = str(DATA / "other.keys")
PLAIN = str(DATA / "http_plain.pcap")
NSS = CORPUS / "secdev__scapy__doc__notebooks__tls__raw_data__tls_nss_example.pcap"
NSS_KEYS = CORPUS / "secdev__scapy__doc__notebooks__tls__raw_data__tls_nss_example.keys.txt"
H2C = CORPUS / "secdev__scapy__test__pcaps__http2_h2c.pcap"

SET_COOKIES = ("SERVERID=s1; path=/", "JSESSIONID=ABC.node1; Path=/; HttpOnly")

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


@pytest.fixture(scope="module")
def decrypted() -> IngestResult:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    return read_capture_tshark(HTTPS, input_index=0, keylog=KEYS)


def by_id(result: IngestResult) -> dict[str, Transaction]:
    return {tx.id: tx for tx in result.transactions}


def tshark_stream_frames(tcp_stream: int, http2_stream: int) -> tuple[list[int], list[int]]:
    """Frames tshark itself shows with the request head and with the response head of one HTTP/2 stream
    (an independent check of the engine's frame numbers)."""
    display_filter = f"tcp.stream == {tcp_stream} && http2.streamid == {http2_stream} && http2.type == 1"
    out = subprocess.run(
        ["tshark", "-n", "-r", HTTPS, "-o", f"tls.keylog_file:{KEYS}", "-Y", display_filter, "-T", "fields",
         "-e", "frame.number", "-e", "http2.headers.method"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = [line.split("\t") for line in out.splitlines()]
    return [int(f) for f, method in rows if method], [int(f) for f, method in rows if not method]


# ---------------------------------------------------------------------------------------------- decrypted


@needs_tshark
def test_decrypted_capture_gives_every_exchange_in_capture_order(decrypted: IngestResult) -> None:
    assert decrypted.engine == "tshark"
    assert decrypted.format == "pcap"
    assert decrypted.cookie_data == "present"
    assert decrypted.diagnostics == ()
    assert [tx.id for tx in decrypted.transactions] == ["0.0.0", "0.0.1", "0.0.2", "0.1.0", "0.2.0", "0.2.1"]
    assert [(tx.request.method, tx.request.url, tx.response.status if tx.response else None)
            for tx in decrypted.transactions] == [
        ("GET", "https://app.test/login", 200),
        ("GET", "https://app.test/app?x=1", 200),
        ("GET", "https://app.test/static/a.css", 200),
        ("GET", "https://app.test/app?crumbs=1", 200),
        ("GET", "https://app.test/login", 200),
        ("GET", "https://app.test/missing", 404),
    ]  # fmt: skip
    starts = [tx.timing.started for tx in decrypted.transactions]
    assert starts == sorted(starts)
    assert dict(decrypted.extra)["tls_connections"] == "3"
    assert dict(decrypted.extra)["http2_streams"] == "4"


@needs_tshark
def test_http2_response_keeps_both_set_cookie_fields(decrypted: IngestResult) -> None:
    tx = by_id(decrypted)["0.0.0"]
    assert tx.response is not None
    assert tx.response.headers.get_all("set-cookie") == SET_COOKIES
    assert [c.name for c in response_set_cookies(tx.response.headers)] == ["SERVERID", "JSESSIONID"]
    assert tx.response.version == "HTTP/2"
    assert tx.response.headers.get(":status") == "200"
    assert tx.response.body.prefix == b"login ok\n"
    assert tx.response.body.size == 9
    assert tx.response.body.complete


@needs_tshark
def test_http2_request_fields_and_provenance(decrypted: IngestResult) -> None:
    tx = by_id(decrypted)["0.0.1"]
    req = tx.request
    assert (req.scheme, req.host, req.path, req.target, req.version) == (
        "https",
        "app.test",
        "/app",
        "/app?x=1",
        "HTTP/2",
    )
    assert req.headers.get(":authority") == "app.test"
    assert req.headers.get_all("cookie") == ("JSESSIONID=ABC.node1; SERVERID=s1",)
    assert tx.client is not None and tx.client.ip == "127.0.0.66"
    assert tx.server is not None and (tx.server.ip, tx.server.port) == ("127.0.0.77", 443)
    prov = tx.provenance
    assert (prov.tcp_stream, prov.http2_stream, tx.connection, tx.depth) == (0, 3, "0", 1)
    assert prov.wireshark_filter == "tcp.stream eq 0 && http2.streamid eq 3"
    request_heads, response_heads = tshark_stream_frames(0, 3)
    assert list(prov.request_frames) == request_heads
    assert response_heads and set(response_heads) <= set(prov.response_frames)
    assert tx.timing.started <= tx.timing.response_started <= tx.timing.finished  # type: ignore[operator]


@needs_tshark
def test_http2_cookie_crumbs_survive_as_separate_fields(decrypted: IngestResult) -> None:
    tx = by_id(decrypted)["0.1.0"]
    assert tx.request.headers.get_all("cookie") == ("SERVERID=s1", "JSESSIONID=ABC.node1")
    assert [(c.name, c.value) for c in request_cookies(tx.request.headers)] == [
        ("SERVERID", "s1"),
        ("JSESSIONID", "ABC.node1"),
    ]
    assert tx.provenance.http2_stream == 1


@needs_tshark
def test_http11_over_tls(decrypted: IngestResult) -> None:
    login, missing = by_id(decrypted)["0.2.0"], by_id(decrypted)["0.2.1"]
    for tx in (login, missing):
        assert tx.request.version == "HTTP/1.1"
        assert tx.request.scheme == "https"
        assert tx.provenance.http2_stream is None
        assert tx.provenance.wireshark_filter == "tcp.stream eq 2 && http"
    assert login.request.headers.items[0] == ("Host", "app.test")
    assert login.response is not None and login.response.headers.get_all("Set-Cookie") == SET_COOKIES
    assert ("Set-Cookie", SET_COOKIES[0]) in login.response.headers.items  # raw casing kept
    assert missing.request.headers.get("Cookie") == "JSESSIONID=ABC.node1; SERVERID=s1"
    assert missing.response is not None
    assert (missing.response.status, missing.response.reason, missing.response.version) == (
        404,
        "Not Found",
        "HTTP/1.1",
    )
    assert missing.response.body.prefix == b"not here\n"
    assert (
        login.provenance.request_frames[0] < login.provenance.response_frames[0] < missing.provenance.request_frames[0]
    )


# ---------------------------------------------------------------------------------------------- no keys


@needs_tshark
def test_tls_without_keys_says_which_servers_and_what_to_pass() -> None:
    result = read_capture_tshark(HTTPS)
    assert result.transactions == ()
    assert result.cookie_data == "absent"
    [diag] = result.diagnostics
    assert diag.code == "tls.not_decrypted"
    assert diag.count == 3
    assert diag.position == "tcp.stream 0, 1, 2"
    assert "3 TLS connections" in diag.message
    assert "127.0.0.77:443 (SNI app.test, 3 connections)" in diag.message
    assert "no HTTP could be read" in diag.message
    assert "pass --tls-keylog FILE (SSLKEYLOGFILE format)" in diag.message


@needs_tshark
def test_tls_with_a_key_log_that_does_not_match() -> None:
    result = read_capture_tshark(HTTPS, keylog=OTHER_KEYS)
    assert result.transactions == ()
    assert result.cookie_data == "absent"
    [diag] = result.diagnostics
    assert diag.code == "tls.not_decrypted"
    assert "127.0.0.77:443 (SNI app.test, 3 connections)" in diag.message
    assert "the key log did not decrypt these connections" in diag.message
    assert "--tls-keylog FILE" not in diag.message


@needs_tshark
def test_key_log_for_some_connections_gives_partial_cookie_data(tmp_path: Path) -> None:
    only_tls12 = tmp_path / "tls12.keys"  # the CLIENT_RANDOM line belongs to the TLS 1.2 connection only
    only_tls12.write_text(
        "".join(line for line in Path(KEYS).read_text().splitlines(True) if line.startswith("CLIENT_RANDOM"))
    )
    result = read_capture_tshark(HTTPS, keylog=str(only_tls12))
    assert [tx.id for tx in result.transactions] == ["0.2.0", "0.2.1"]
    assert result.cookie_data == "partial"  # the undecrypted connections went to the server that was read
    [diag] = result.diagnostics
    assert diag.code == "tls.not_decrypted" and diag.count == 2 and diag.position == "tcp.stream 0, 1"
    assert diag.level == "warning"


def test_missing_key_log_file_is_an_input_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.keys")
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    with pytest.raises(InputError) as err:
        read_capture_tshark(HTTPS, keylog=missing)
    assert err.value.path == missing
    assert "key log file not found" in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_tshark_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert tshark_available() is None
    with pytest.raises(InputError, match="tshark not found: install the Debian package 'tshark'"):
        read_capture_tshark(HTTPS)


@needs_tshark
def test_tshark_available_gives_the_version() -> None:
    version = tshark_available()
    assert version is not None and version[0].isdigit() and version.count(".") == 2


@needs_tshark
def test_a_capture_tshark_cannot_read_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x02\x00\x04\x00" + b"\xff" * 40)
    with pytest.raises(InputError) as err:
        read_capture_tshark(str(broken))
    assert err.value.path == str(broken)
    assert "broken.pcap" in err.value.detail and "Running as" not in err.value.detail


@needs_tshark
def test_a_capture_cut_short_keeps_what_was_read(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    data = Path(PLAIN).read_bytes()
    cut.write_bytes(data[:-30])  # the last packet (an ACK) is cut in the middle
    result = read_capture_tshark(str(cut))
    assert [tx.request.path for tx in result.transactions] == ["/login", "/missing"]
    assert [d.code for d in result.diagnostics] == ["capture.read_error"]
    assert "cut short" in result.diagnostics[0].message


# ---------------------------------------------------------------------------------------------- cleartext


@needs_tshark
def test_cleartext_http11_has_scheme_http_and_both_set_cookie_lines() -> None:
    result = read_capture_tshark(PLAIN, input_index=3)
    assert [tx.id for tx in result.transactions] == ["3.0.0", "3.0.1"]
    login, missing = result.transactions
    assert (login.request.url, login.request.scheme) == ("http://app.test/login", "http")
    assert login.response is not None and login.response.headers.get_all("set-cookie") == SET_COOKIES
    assert missing.request.headers.get("Cookie") == "JSESSIONID=ABC.node1; SERVERID=s1"
    assert result.cookie_data == "present" and result.diagnostics == ()


@needs_tshark
def test_same_transactions_as_the_native_engine_on_cleartext() -> None:
    native = pytest.importorskip("stickyforensics.ingest.native")
    ours = read_capture_tshark(PLAIN).transactions
    theirs = native.read_capture(PLAIN).transactions

    def shape(tx: Transaction) -> tuple[object, ...]:
        resp = tx.response
        return (
            tx.id, tx.request.method, tx.request.target, tx.request.url, tx.request.scheme, tx.request.host,
            tx.request.path, tx.request.version, tx.request.headers, resp and (resp.status, resp.reason, resp.headers),
            resp and (resp.body.size, resp.body.prefix), tx.client, tx.server, tx.provenance.tcp_stream,
            tx.provenance.request_frames, tx.provenance.response_frames, tx.timing.started, tx.depth, tx.connection,
        )  # fmt: skip

    assert [shape(tx) for tx in ours] == [shape(tx) for tx in theirs]


# ---------------------------------------------------------------------------------------------- corpus


@needs_tshark
def test_h2c_upgrade_pairs_the_upgraded_request_with_stream_1() -> None:
    result = read_capture_tshark(str(shared_or_skip(H2C)))
    assert [
        (tx.id, tx.request.url, tx.request.version, tx.response and tx.response.status, tx.provenance.http2_stream)
        for tx in result.transactions
    ] == [
        ("0.0.0", "http://nghttp2.org/robots.txt", "HTTP/1.1", 200, 1),
        ("0.0.1", "http://nghttp2.org/humans.txt", "HTTP/2", 404, 3),
    ]
    robots = result.transactions[0]
    assert robots.response is not None and robots.response.body.prefix.startswith(b"User-agent: *")
    assert robots.response.body.size == 62  # content-length: 62
    assert result.cookie_data == "present" and result.diagnostics == ()


@needs_tshark
def test_scapy_nss_example_decrypts_two_requests_whose_responses_tshark_leaves_unread() -> None:
    pcap, keys = str(shared_or_skip(NSS)), str(shared_or_skip(NSS_KEYS))
    result = read_capture_tshark(pcap, keylog=keys)
    # tshark 4.0 leaves each HTTP/1.0 response (no Content-Length, ends with close_notify) unreassembled.
    unread = "no response dissected, though the server sent data after the request"
    assert [(tx.id, tx.request.method, tx.request.url, tx.request.version, tx.response, tx.error)
            for tx in result.transactions] == [
        ("0.0.0", "GET", "https://127.0.0.1/pki/srv_key.pem", "HTTP/1.0", None, unread),
        ("0.1.0", "GET", "https://127.0.0.1/pki/srv_key.pem", "HTTP/1.0", None, unread),
    ]  # fmt: skip
    assert all(tx.notes == ("tshark.response_not_dissected",) for tx in result.transactions)
    assert [d.code for d in result.diagnostics] == ["tshark.response_not_dissected"] * 2
    assert result.cookie_data == "present"
    without = read_capture_tshark(pcap)
    assert without.transactions == () and without.cookie_data == "absent"
    assert "127.0.0.1:443 (no SNI, 2 connections)" in without.diagnostics[0].message


# ---------------------------------------------------------------------------------------------- hostile bytes


def _write_pcap(path: Path, packets: list[tuple[str, str, int, int, int, bytes]]) -> None:
    """Ethernet/IPv4/TCP packets (src, dst, sport, dport, seq, payload); checksums left 0 (tshark does
    not check them by default); ACK+PSH on every packet after a 3-way handshake made by the caller."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, (src, dst, sport, dport, seq, payload) in enumerate(packets):
        flags = 0x02 if payload == b"SYN" else 0x12 if payload == b"SYNACK" else 0x18
        body = b"" if payload in (b"SYN", b"SYNACK") else payload
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(body), i, 0, 64, 6, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp + body
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def _conversation(requests: bytes, responses: bytes) -> list[tuple[str, str, int, int, int, bytes]]:
    c, s = "10.0.0.1", "10.0.0.2"
    return [
        (c, s, 40000, 80, 1000, b"SYN"),
        (s, c, 80, 40000, 5000, b"SYNACK"),
        (c, s, 40000, 80, 1001, requests),
        (s, c, 80, 40000, 5001, responses),
    ]


@needs_tshark
def test_control_bytes_in_a_header_cannot_split_it(tmp_path: Path) -> None:
    pcap = tmp_path / "ctl.pcap"
    req = b"GET /x HTTP/1.1\r\nHost: h\r\nCookie: a=1\x1fb=2\x1ec\x0bd\r\nX-T: 1\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nSet-Cookie: s=1\x1f2\r\nContent-Length: 2\r\n\r\nok"
    _write_pcap(pcap, _conversation(req, resp))
    [tx] = read_capture_tshark(str(pcap)).transactions
    assert tx.request.headers.items == (("Host", "h"), ("Cookie", "a=1\x1fb=2\x1ec\x0bd"), ("X-T", "1"))
    assert tx.response is not None and tx.response.headers.get_all("set-cookie") == ("s=1\x1f2",)


@needs_tshark
def test_a_response_tshark_drops_is_told_apart_from_no_response(tmp_path: Path) -> None:
    pcap = tmp_path / "reordered.pcap"
    c, s = "10.0.0.1", "10.0.0.2"
    late = b"GET /late HTTP/1.1\r\nHost: h\r\n\r\n"
    first, second = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\n", b"Content-Length: 2\r\n\r\nok"
    _write_pcap(
        pcap,
        [
            *_conversation(late, b"")[:3],
            (s, c, 80, 40000, 5001 + len(first), second),  # the second segment arrives first
            (s, c, 80, 40000, 5001, first),
            (c, s, 40000, 80, 1001 + len(late), b"GET /never HTTP/1.1\r\nHost: h\r\n\r\n"),
        ],
    )
    result = read_capture_tshark(str(pcap))
    dropped, never = result.transactions
    assert dropped.response is None and dropped.notes == ("tshark.response_not_dissected",)
    assert never.response is None and never.error == "no response before the capture ended"
    assert never.notes == ("http.no_response",)
    assert [d.code for d in result.diagnostics] == ["tshark.response_not_dissected"]


@needs_tshark
def test_pipelined_requests_in_one_frame_are_paired_but_keep_no_guessed_headers(tmp_path: Path) -> None:
    pcap = tmp_path / "pipelined.pcap"
    reqs = b"GET /p1 HTTP/1.1\r\nHost: h\r\nCookie: u=1\r\n\r\nGET /p2 HTTP/1.1\r\nHost: h\r\nCookie: u=2\r\n\r\n"
    resps = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    _write_pcap(pcap, _conversation(reqs, resps))
    result = read_capture_tshark(str(pcap))
    assert [(tx.request.path, tx.response and tx.response.status) for tx in result.transactions] == [
        ("/p1", 204),
        ("/p2", 200),
    ]
    for tx in result.transactions:
        assert tx.request.headers.items == ()
        assert tx.error is not None and "tshark does not say which header lines belong to which" in tx.error
        assert tx.notes == ("tshark.headers_unattributed",)
    # one per frame: the frame with both requests and the frame with both responses
    assert [(d.code, d.position) for d in result.diagnostics] == [
        ("tshark.headers_unattributed", "frame 3"),
        ("tshark.headers_unattributed", "frame 4"),
    ]


# ---------------------------------------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    ("target", "host_header", "tls", "url", "host", "path"),
    [
        ("/a?b=1", "Example.COM", False, "http://example.com/a?b=1", "example.com", "/a"),
        ("/a?b=1", "Example.COM:8080", True, "https://example.com:8080/a?b=1", "example.com", "/a"),
        ("/a", "[2001:db8::1]:8443", True, "https://[2001:db8::1]:8443/a", "2001:db8::1", "/a"),
        ("/a", None, False, "http://10.0.0.2:8080/a", "10.0.0.2", "/a"),
        ("/a", "bad host", True, "https://10.0.0.2:8080/a", "10.0.0.2", "/a"),
        ("http://proxy.example/x?y", "ignored", True, "http://proxy.example/x?y", "proxy.example", "/x"),
        ("*", "h", False, "http://h", "h", "*"),
    ],
)
def test_request_url_is_rebuilt_from_host_and_target(
    target: str, host_header: str | None, tls: bool, url: str, host: str, path: str
) -> None:
    msg = Message(src=("10.0.0.1", 40000), dst=("10.0.0.2", 8080), frames=[1], method="GET", target=target)
    # The same request over TLS and over plain HTTP differ only in the scheme (the native engine's URL rules).
    msg.version = "HTTP/1.1"
    if host_header is not None:
        msg.headers = [("Host", host_header)]
    req = build_request(msg, tls)
    assert (req.url, req.host, req.path) == (url, host, path)


def test_http2_body_size_is_as_sent_and_prefix_is_decoded() -> None:
    text = b"BAD SESSION " * 400
    packed = gzip.compress(text)
    body = Body("gzip")
    body.feed_raw(packed[:10])
    body.feed_raw(packed[10:])
    info = body.info()
    assert (info.size, info.complete) == (len(packed), True)  # what the native engine counts for HTTP/1
    assert info.prefix == text[:2048]
    mislabelled = Body("gzip")  # not gzip at all: kept as it is
    mislabelled.feed_raw(b"plain text")
    assert (mislabelled.info().prefix, mislabelled.info().complete) == (b"plain text", True)
    cut = Body("gzip")  # gzip that breaks after the first piece: what was decoded stays, marked incomplete
    cut.feed_raw(packed[:20])
    cut.feed_raw(b"\x00garbage" * 4)
    assert cut.info().complete is False
    numbers = " ".join(str(i * 7919 % 100003) for i in range(6000)).encode()  # half its gzip: 16 KB of it
    packed = gzip.compress(numbers)
    past = Body("gzip")  # broken past the prefix (zlib: "invalid distance too far back", were it decoding)
    past.feed_raw(packed[: len(packed) // 2])
    past.feed_raw(bytes(range(256)))
    assert (past.info().prefix, past.info().complete) == (numbers[:2048], True)  # every byte was sent


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Set-Cookie: a=1; Path=/\\r\\n", ("Set-Cookie", "a=1; Path=/")),
        ("X-Empty:\\r\\n", ("X-Empty", "")),
        ("X-Tab:\\tv\\t\\r\\n", ("X-Tab", "v")),
        ("no colon here\\r\\n", None),
    ],
)
def test_header_line(line: str, expected: tuple[str, str] | None) -> None:
    assert header_line(line) == expected


@needs_tshark
def test_tls_on_a_client_port_another_protocol_registers_is_still_decrypted() -> None:
    # A lab capture (HAProxy TLS on 18800, curl) whose first HTTP/2 client port, 34980, is EtherCAT's: tshark
    # gave that connection to the EtherCAT dissector, and its POST /login was lost without a word.
    from stickyforensics.ingest.tshark import tls_server_ports

    capture, keys = str(DATA / "client_port_34980.pcap"), str(DATA / "client_port_34980.keys")
    assert tls_server_ports(capture) == (18800,)
    result = read_capture_tshark(capture, keylog=keys)
    logins = [tx for tx in result.transactions if tx.request.method == "POST" and tx.request.path == "/login"]
    assert sorted((tx.client.ip if tx.client else "", tx.request.version) for tx in logins) == [
        ("127.0.8.11", "HTTP/1.1"),
        ("127.0.8.12", "HTTP/2"),
        ("127.0.8.12", "HTTP/2"),
    ]
    assert len(result.transactions) == 15
    assert tls_server_ports(PLAIN) == ()  # no ClientHello: nothing decoded as TLS
