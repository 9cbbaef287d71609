"""The native engine glue: read_capture over real files (written here, crafted, and from the corpus)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from stickyforensics.errors import InputError
from stickyforensics.ingest.native import KEEP_PER_CODE, aggregate_diagnostics, read_capture
from stickyforensics.model import DiagLevel, Diagnostic
from tests.conftest import CORPUS, REPO, shared_or_skip
from tests.unit.reconstruct.tcpbuild import Clock, Conversation, write_pcap

OK = b"HTTP/1.1 200 OK\r\nSet-Cookie: NSC_vs=ffffffff0909; path=/\r\nContent-Length: 2\r\n\r\nok"


def client_hello(sni: str | None) -> bytes:
    """A minimal TLS 1.2 ClientHello record, with a server_name extension when ``sni`` is given."""
    ext = b""
    if sni:
        name = sni.encode()
        entry = b"\x00" + struct.pack("!H", len(name)) + name
        ext = struct.pack("!HH", 0, len(entry) + 2) + struct.pack("!H", len(entry)) + entry
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def http_conv(clock: Clock, client: tuple[str, int], path: str) -> list:  # type: ignore[type-arg]
    c = Conversation(client, clock=clock)
    c.handshake()
    c.send(f"GET {path} HTTP/1.1\r\nHost: shop.example\r\nCookie: NSC_vs=ffffffff0909\r\n\r\n".encode())
    c.reply(OK)
    c.close()
    return c.segments


def tls_conv(clock: Clock, client: tuple[str, int], sni: str | None) -> list:  # type: ignore[type-arg]
    c = Conversation(client, ("192.0.2.44", 443), clock=clock)
    c.handshake()
    c.send(client_hello(sni))
    c.reply(b"\x16\x03\x03\x00\x04\x02\x00\x00\x00")
    c.close()
    return c.segments


def test_transactions_in_capture_order_with_ids_and_facts(tmp_path: Path) -> None:
    clock = Clock()
    a = http_conv(clock, ("10.0.0.1", 1111), "/a")
    b = http_conv(clock, ("10.0.0.2", 2222), "/b")
    segs = sorted(a + b, key=lambda s: s.frame)
    path = write_pcap(tmp_path / "two.pcap", segs)
    result = read_capture(str(path), input_index=2)
    assert (result.path, result.format, result.engine, result.cookie_data) == (str(path), "pcap", "native", "present")
    assert [t.id for t in result.transactions] == ["2.0.0", "2.1.0"]
    assert [t.request.path for t in result.transactions] == ["/a", "/b"]
    extra = dict(result.extra)
    assert extra["packets"] == str(len(segs)) and extra["tcp_segments"] == str(len(segs))
    assert (extra["tcp_streams"], extra["http_streams"], extra["http_transactions"]) == ("2", "2", "2")
    assert extra["tls_connections"] == "0"
    assert result.diagnostics == ()
    tx = result.transactions[0]
    assert tx.provenance.kind == "pcap" and tx.provenance.source == str(path)
    assert tx.response is not None and tx.response.headers.get("Set-Cookie") == "NSC_vs=ffffffff0909; path=/"


def test_tls_only_capture_has_no_cookie_data(tmp_path: Path) -> None:
    clock = Clock()
    segs = tls_conv(clock, ("10.0.0.1", 1111), "secure.shop.example") + tls_conv(clock, ("10.0.0.2", 2222), None)
    result = read_capture(str(write_pcap(tmp_path / "tls.pcap", segs)))
    assert result.transactions == ()
    assert result.cookie_data == "absent"
    tls = [d for d in result.diagnostics if d.code == "tls.not_decrypted"]
    assert len(tls) == 1 and tls[0].level == DiagLevel.WARNING and tls[0].count == 2
    assert "secure.shop.example (192.0.2.44:443)" in tls[0].message
    assert "--engine tshark --tls-keylog FILE" in tls[0].message
    non_http = [d for d in result.diagnostics if d.code == "tcp.non_http_streams"]
    assert non_http and non_http[0].count == 2
    assert dict(result.extra)["tls_connections"] == "2"


def test_tls_next_to_plain_http_keeps_cookie_data(tmp_path: Path) -> None:
    clock = Clock()
    segs = http_conv(clock, ("10.0.0.1", 1111), "/plain") + tls_conv(clock, ("10.0.0.2", 2222), "api.example")
    result = read_capture(str(write_pcap(tmp_path / "mixed.pcap", segs)))
    assert result.cookie_data == "present" and len(result.transactions) == 1
    (tls,) = [d for d in result.diagnostics if d.code == "tls.not_decrypted"]
    assert tls.level == DiagLevel.INFO


def test_tls_diagnostic_names_at_most_five_servers(tmp_path: Path) -> None:
    clock = Clock()
    segs = []
    for i in range(7):
        segs += tls_conv(clock, (f"10.0.0.{i + 1}", 3000 + i), f"host{i}.example")
    result = read_capture(str(write_pcap(tmp_path / "many.pcap", segs)))
    (tls,) = [d for d in result.diagnostics if d.code == "tls.not_decrypted"]
    assert "host4.example" in tls.message and "host5.example" not in tls.message
    assert "and 2 more" in tls.message


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a capture\n")
    with pytest.raises(InputError) as err:
        read_capture(str(bad))
    assert str(bad) in str(err.value)


def test_gaps_are_reported_and_counted(tmp_path: Path) -> None:
    c = Conversation()
    c.handshake()
    c.send(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    c.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + b"a" * 100)
    c.skip(False, 100)
    c.reply(b"b" * 100)
    c.close()
    result = read_capture(str(write_pcap(tmp_path / "gap.pcap", c.segments)))
    (tx,) = result.transactions
    assert tx.response is not None and not tx.response.body.complete
    assert [d.code for d in result.diagnostics] == ["tcp.missing_segments"]
    assert dict(result.extra)["tcp_missing_bytes"] == "100"


def test_aggregation_keeps_the_first_of_each_code_and_counts_the_rest() -> None:
    diags = [Diagnostic("tcp.missing_segments", f"gap {i}", "f", f"frame {i}") for i in range(KEEP_PER_CODE + 5)]
    diags.insert(3, Diagnostic("http.bad_chunk", "bad", "f", "frame 99"))
    out = aggregate_diagnostics(diags)
    assert len(out) == KEEP_PER_CODE + 2
    merged = out[-1]
    assert merged.code == "tcp.missing_segments" and merged.count == 5
    assert merged.position == f"frame {KEEP_PER_CODE}"
    assert sum(d.count for d in out) == len(diags)
    assert out[3].code == "http.bad_chunk"


def test_crafted_reference_capture() -> None:
    path = REPO / "tests" / "data" / "pcap" / "http_le_usec.pcap"
    if not path.exists():
        pytest.skip("crafted captures not generated")
    result = read_capture(str(path))
    assert len(result.transactions) == 4
    assert all(
        t.response is not None and len(t.response.headers.get_all("Set-Cookie")) == 3 for t in result.transactions
    )
    clients = {t.client.ip for t in result.transactions if t.client}
    assert len(clients) == 2 and all(ip.startswith("192.168.1.") for ip in clients)
    assert all(t.server is not None and str(t.server) == "10.0.0.100:80" for t in result.transactions)


def test_corpus_tls_capture_without_keys_is_absent() -> None:
    path = shared_or_skip(CORPUS / "secdev__scapy__doc__notebooks__tls__raw_data__tls_nss_example.pcap")
    result = read_capture(str(path))
    assert result.cookie_data == "absent"
    assert any(d.code == "tls.not_decrypted" for d in result.diagnostics)


def test_corpus_real_capture_with_persistence_cookies() -> None:
    path = shared_or_skip(CORPUS / "zeek__zeek__testing__btest__Traces__http__zero-length-bodies-with-drops.pcap")
    result = read_capture(str(path))
    assert len(result.transactions) == 7
    cookies = [c for t in result.transactions for c in t.request.headers.get_all("Cookie")]
    assert len(cookies) == 7 and all("NSC_" in c for c in cookies[1:])
    assert sum(d.count for d in result.diagnostics if d.code == "tcp.missing_segments") == 3
    assert any(d.code == "http.response_without_request" for d in result.diagnostics)
