"""The native capture reader on the crafted captures of tests/data/pcap/ (see its README.md).

Exact HTTP bytes come from ``make_crafted.py`` (the generator of those files), so payload checks
are independent of the reader. Cross-checks against tshark live in test_pcap_tshark.py.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import struct
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from stickyforensics.errors import InputError
from stickyforensics.ingest.pcapread import SegmentReader, client_hello_sni, open_capture
from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.segments import ACK, FIN, SYN, TcpSegment

DATA = Path(__file__).resolve().parents[2] / "data" / "pcap"


def _crafted() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_crafted", DATA / "make_crafted.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_crafted"] = mod
    spec.loader.exec_module(mod)
    return mod


MC = _crafted()


def read(name: str | Path) -> tuple[SegmentReader, list[TcpSegment]]:
    _info, reader = open_capture(str(DATA / name))
    segs = list(reader)
    return reader, segs


def streams(segs: list[TcpSegment]) -> dict[tuple[str, int, str, int], bytes]:
    """Payload bytes per direction, in segment order (the crafted files have no loss or reordering)."""
    out: dict[tuple[str, int, str, int], bytearray] = defaultdict(bytearray)
    for s in segs:
        out[(s.src_ip, s.src_port, s.dst_ip, s.dst_port)] += s.payload
    return {k: bytes(v) for k, v in out.items()}


def codes(reader: SegmentReader) -> dict[str, int]:
    return {d.code: d.count for d in reader.diagnostics}


def balanced(r: SegmentReader) -> bool:
    return r.frames == r.tcp_segments + r.non_tcp + r.non_ip + r.ip_fragments + r.malformed


def test_ethernet_pcap_segments_frames_and_payloads() -> None:
    info, reader = open_capture(str(DATA / "http_le_usec.pcap"))
    assert (info.format, info.link_types, info.compressed) == ("pcap", (1,), False)
    segs = list(reader)
    # Frame 1 is ARP, frame 2 DNS: they count, as Wireshark counts them.
    assert [s.frame for s in segs] == list(range(3, 35))
    assert (reader.frames, reader.tcp_segments, reader.non_ip, reader.non_tcp) == (34, 32, 1, 1)
    assert balanced(reader) and reader.diagnostics == []
    first = segs[0]
    assert (first.src_ip, first.src_port, first.dst_ip, first.dst_port) == ("192.168.1.10", 50001, "10.0.0.100", 80)
    assert first.flags & SYN and not first.flags & ACK and first.seq == 1000 + 50001 and first.payload == b""
    assert segs[-1].flags & ACK and any(s.flags & FIN for s in segs)
    st = streams(segs)
    for tag, client, port in (("a", "192.168.1.10", 50001), ("b", "192.168.1.11", 50002)):
        up, down = MC.conversation_bytes(tag)
        assert st[(client, port, "10.0.0.100", 80)] == up
        assert st[("10.0.0.100", 80, client, port)] == down
        assert b"Cookie: NSC_shop-vs=" in up and down.count(b"Set-Cookie:") == 6
    assert all(s.wire_len == len(s.payload) and not s.truncated for s in segs)


def test_seq_numbers_follow_payload_lengths() -> None:
    _, segs = read("http_le_usec.pcap")
    nxt: dict[tuple[str, int, str, int], int] = {}
    for s in segs:
        key = (s.src_ip, s.src_port, s.dst_ip, s.dst_port)
        if key in nxt:
            assert s.seq == nxt[key]
        nxt[key] = s.seq + len(s.payload) + (1 if s.flags & (SYN | FIN) else 0)


def _fingerprint(segs: list[TcpSegment]) -> list[tuple[object, ...]]:
    return [(s.src_ip, s.dst_ip, s.src_port, s.dst_port, s.seq, s.ack, s.flags, s.payload) for s in segs]


@pytest.mark.parametrize(
    "name",
    [
        "http_be_usec.pcap",
        "http_le_nsec.pcap",
        "http_be_nsec.pcap",
        "http_gzip.pcap.gz",
        "sll.pcap",
        "sll2.pcap",
        "nflog.pcap",
    ],
)
def test_same_traffic_in_other_containers_and_link_layers(name: str) -> None:
    _, ref = read("http_le_usec.pcap")
    reader, segs = read(name)
    assert _fingerprint(segs) == _fingerprint(ref)
    shift = 0 if name.startswith("http_") else 1  # only the Ethernet files carry the ARP frame
    assert [s.frame for s in segs] == [s.frame - shift for s in ref]
    assert reader.diagnostics == [] and balanced(reader)


def test_timestamps_microsecond_and_nanosecond() -> None:
    # make_crafted spaces frames 1,000,123 ns apart from T0.
    for name, exact in (("http_le_usec.pcap", False), ("http_be_nsec.pcap", True)):
        _, segs = read(name)
        for s in segs:
            ns = MC.T0_NS + s.frame * 1_000_123
            expected = (ns if exact else ns // 1000 * 1000) / 1e9
            assert s.ts == pytest.approx(expected, abs=5e-7)
    _, us = read("http_le_usec.pcap")
    _, ns_ = read("http_le_nsec.pcap")
    assert any(a.ts != b.ts for a, b in zip(us, ns_, strict=True))


@pytest.mark.parametrize("kind", ["xz", "bz2"])
def test_xz_and_bzip2_captures(tmp_path: Path, kind: str) -> None:
    import bz2
    import lzma

    raw = (DATA / "http_le_usec.pcap").read_bytes()
    path = tmp_path / f"cap.pcap.{kind}"
    path.write_bytes(lzma.compress(raw) if kind == "xz" else bz2.compress(raw))
    info, reader = open_capture(str(path))
    _, ref = read("http_le_usec.pcap")
    assert info.compressed and _fingerprint(list(reader)) == _fingerprint(ref)


def test_text_starting_like_bzip2_is_not_taken_for_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"BZh is how bzip2 files start, this is only text\n")
    with pytest.raises(InputError, match="text"):
        open_capture(str(path))


def test_gzip_flagged_compressed() -> None:
    info, reader = open_capture(str(DATA / "http_gzip.pcap.gz"))
    with reader:
        assert info.compressed and info.format == "pcap"


@pytest.mark.parametrize(
    ("name", "link", "tag", "client", "server"),
    [
        ("vlan_qinq.pcap", 1, "vlan", "192.168.1.10", "10.0.0.100"),
        ("loop.pcap", 108, "loop", "127.0.0.2", "127.0.0.1"),
    ],
)
def test_link_layers_rebuild_the_http_bytes(name: str, link: int, tag: str, client: str, server: str) -> None:
    info, reader = open_capture(str(DATA / name))
    assert info.link_types == (link,)
    segs = list(reader)
    up, down = MC.conversation_bytes(tag, n=1 if tag == "loop" else 2)
    st = streams(segs)
    assert st[(client, segs[0].src_port, server, 80)] == up
    assert st[(server, 80, client, segs[0].src_port)] == down
    assert reader.tcp_segments == reader.frames and reader.diagnostics == []


def test_null_loopback_both_byte_orders_and_ipv6_families() -> None:
    reader, segs = read("null_loopback.pcap")
    v4 = [s for s in segs if s.src_ip == "127.0.0.1"]
    v6 = [s for s in segs if s.src_ip == "::1"]
    assert len(v4) == 16 and len(v6) == 10 and reader.frames == 26
    assert streams(v6)[("::1", 50011, "::1", 80)] == MC.conversation_bytes("lo6", n=1)[0]


def test_raw_ip_mixes_v4_and_v6() -> None:
    _, segs = read("rawip.pcap")
    assert {s.src_ip for s in segs} == {"192.168.1.10", "10.0.0.100", "2001:db8::10", "2001:db8::100"}
    assert streams(segs)[("2001:db8::100", 80, "2001:db8::10", 50014)] == MC.conversation_bytes("raw6", n=1)[1]


def test_ethernet_padding_and_fcs_do_not_leak() -> None:
    _reader, segs = read("eth_padding.pcap")
    assert all(b"\xaa" not in s.payload and b"\xde\xad" not in s.payload for s in segs)
    assert [s.payload for s in segs if len(s.payload) == 1] == [b"x"]
    up, down = MC.conversation_bytes("pad")
    st = streams(segs)
    assert st[("192.168.1.20", 50030, "10.0.0.100", 80)] == up + b"x"
    assert st[("10.0.0.100", 80, "192.168.1.20", 50030)] == down


def test_snaplen_cut_frames_are_flagged() -> None:
    reader, segs = read("snaplen_128.pcap")
    cut = [s for s in segs if s.truncated]
    assert cut and reader.truncated_frames == len(cut)
    for s in cut:
        assert len(s.payload) < s.wire_len and len(s.payload) == 128 - 14 - 20 - 32
    whole = [s for s in segs if not s.truncated]
    assert all(len(s.payload) == s.wire_len for s in whole)
    diag = {d.code: d for d in reader.diagnostics}["capture.snaplen_truncated"]
    assert diag.count == len(cut) and diag.position == f"frame {cut[0].frame}"


def test_file_cut_inside_a_record_keeps_what_came_before() -> None:
    reader, segs = read("truncated_file.pcap")
    assert reader.frames == 11 and segs[-1].frame == 11
    (diag,) = reader.diagnostics
    assert diag.code == "capture.truncated" and diag.position == "frame 12"
    assert "capture ends inside frame 12 at byte" in diag.message


def test_ipv4_fragments_out_of_order_with_a_duplicate() -> None:
    reader, segs = read("ipv4_frag.pcap")
    request = [s for s in segs if s.payload.startswith(b"GET ")]
    assert len(request) == 1 and request[0].frame == 7  # the fragment that completes the datagram
    assert request[0].payload == MC.conversation_bytes("frag4", n=1)[0]
    assert reader.ip_fragments == 3 and reader.non_tcp == 2 and reader.udp_quic == 1 and balanced(reader)
    diag = {d.code: d for d in reader.diagnostics}
    assert diag["ip.fragment_overlap"].count == 1 and "0 with different bytes" in diag["ip.fragment_overlap"].message
    assert set(diag) == {"ip.fragment_overlap"}


def test_ipv6_extension_headers_and_fragments() -> None:
    reader, segs = read("ipv6_frag.pcap")
    response = [s for s in segs if s.payload.startswith(b"HTTP/1.1")]
    assert len(response) == 1 and response[0].frame == 8
    assert response[0].payload == MC.conversation_bytes("frag6", n=1)[1]
    assert response[0].src_ip == "2001:db8::100" and reader.diagnostics == [] and balanced(reader)


def test_tls_client_hellos_and_quic_are_counted() -> None:
    reader, _ = read("tls_quic.pcap")
    assert reader.tls_client_hellos == 2
    assert reader.tls_servers == [("10.0.0.100", 443, "secure.shop.example"), ("10.0.0.100", 443, None)]
    assert reader.udp_quic == 1


def test_client_hello_sni_parser() -> None:
    assert client_hello_sni(MC.client_hello("A.Example")) == "a.example"
    assert client_hello_sni(MC.client_hello(None)) is None
    hello = MC.client_hello("shop.example")
    for n in range(len(hello)):
        assert client_hello_sni(hello[:n]) in (None, "shop.example")


def test_unknown_link_type_is_counted_and_reported_once() -> None:
    reader, segs = read("unknown_link.pcap")
    assert segs == [] and reader.frames == 3 and reader.non_ip == 3
    (diag,) = reader.diagnostics
    assert diag.code == "capture.unsupported_link_type" and diag.count == 3 and "147" in diag.message


def test_pcapng_two_interfaces_with_different_link_types_and_resolutions() -> None:
    info, reader = open_capture(str(DATA / "two_ifaces.pcapng"))
    assert (info.format, info.link_types) == ("pcapng", (1, 228))
    segs = list(reader)
    assert reader.frames == 32 and reader.tcp_segments == 32 and reader.diagnostics == []
    for s in segs:
        assert s.ts == pytest.approx((MC.T0_NS + s.frame * 1_000_123) / 1e9, abs=2e-6)
    _up, down = MC.conversation_bytes("ng2")
    assert streams(segs)[("10.0.0.100", 80, "192.168.1.12", 50081)] == down


def test_pcapng_sections_byte_orders_and_block_kinds() -> None:
    info, reader = open_capture(str(DATA / "sections.pcapng"))
    assert info.link_types == (1,)
    segs = list(reader)
    assert reader.link_types == [1, 113, 229]
    assert reader.frames == len(segs) == 30 and reader.diagnostics == []
    st = streams(segs)
    for tag, port in (("sec1", 50090), ("sec2", 50091)):
        up, down = MC.conversation_bytes(tag, n=1)
        assert st[("192.168.1.10", port, "10.0.0.100", 80)] == up
        assert st[("10.0.0.100", 80, "192.168.1.10", port)] == down
    assert st[("2001:db8::10", 50092, "2001:db8::100", 80)] == MC.conversation_bytes("sec2v6", n=1)[0]
    # Second section: millisecond resolution plus if_tsoffset gives back the absolute time.
    sec2 = [s for s in segs if s.src_port == 50091 or s.dst_port == 50091]
    assert sec2[0].ts == pytest.approx(1_700_000_000.0, abs=1.0)
    assert all(b.ts > a.ts for a, b in itertools.pairwise(sec2))


def test_pcapng_garbage_in_the_middle_stops_with_a_diagnostic() -> None:
    reader, segs = read("corrupt_middle.pcapng")
    assert reader.frames == 8 and len(segs) == 8
    (diag,) = reader.diagnostics
    assert diag.code == "capture.corrupt_block" and diag.level == DiagLevel.ERROR
    assert diag.position is not None and diag.position.startswith("byte ")


def test_counters_final_after_close_midway() -> None:
    _info, reader = open_capture(str(DATA / "ipv4_frag.pcap"))
    next(reader)
    reader.close()
    reader.close()
    assert reader.frames == 1


# ----------------------------------------------------------------------- damaged and foreign files


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"", "empty"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3, "text"),
        (b'\xef\xbb\xbf{"log": {"entries": []}}', "JSON"),
        (bytes(range(7, 250, 3)), "binary data 07 0a 0d"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "pcap file header is truncated"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x01\x02\x03\x04" + bytes(16), "byte-order magic"),
        (gzip.compress(b"hello, this is just text inside gzip\n" * 4), "gzip-compressed data whose first bytes"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate" * 2, "cannot be decompressed"),
        (b"snoop\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x04", "snoop"),
    ],
)
def test_not_a_capture_raises_input_error(tmp_path: Path, content: bytes, expect: str) -> None:
    path = tmp_path / "input.pcap"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        open_capture(str(path))
    assert err.value.path == str(path) and expect in str(err.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        open_capture(str(tmp_path / "nope.pcap"))
    with pytest.raises(InputError):
        open_capture(str(tmp_path))


def test_header_only_pcap_is_an_empty_capture(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    _info, reader = open_capture(str(path))
    assert list(reader) == [] and reader.frames == 0 and reader.diagnostics == []


def test_corrupt_record_length_stops_reading(tmp_path: Path) -> None:
    data = (DATA / "http_le_usec.pcap").read_bytes()
    pos = 24
    for _ in range(5):
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    bad = data[:pos] + struct.pack("<IIII", 1, 2, 0x7FFFFFF0, 0x7FFFFFF0) + data[pos + 16 :]
    path = tmp_path / "bad.pcap"
    path.write_bytes(bad)
    reader, _ = read(path)
    assert reader.frames == 5
    (diag,) = reader.diagnostics
    assert diag.code == "capture.corrupt_record" and "frame 6" in diag.message


def test_gzip_stream_cut_short_keeps_the_frames_before(tmp_path: Path) -> None:
    raw = (DATA / "http_le_usec.pcap").read_bytes()
    packed = gzip.compress(raw, mtime=0)
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    info, reader = open_capture(str(path))
    segs = list(reader)
    assert info.compressed and 0 < reader.frames < 34 and len(segs) > 0
    assert {d.code for d in reader.diagnostics} <= {"capture.read_error", "capture.truncated"}
    assert reader.diagnostics


def test_pcapng_cut_inside_a_packet_block(tmp_path: Path) -> None:
    data = (DATA / "two_ifaces.pcapng").read_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[:-700])
    _info, reader = open_capture(str(path))
    segs = list(reader)
    (diag,) = reader.diagnostics
    assert diag.code == "capture.truncated" and diag.position == f"frame {segs[-1].frame + 1}"


def _pcapng_with(blocks: list[tuple[int, bytes]]) -> bytes:
    ng = MC.Pcapng()
    ng.shb("<")
    ng.idb(1)
    pkts = MC.conversation("blk", n=1)
    ng.epb(0, MC.ether(pkts[0]))
    for btype, body in blocks:
        ng.block(btype, body)
    ng.epb(0, MC.ether(pkts[1]))
    return b"".join(ng.blocks)


@pytest.mark.parametrize(
    ("btype", "body", "why"),
    [
        (6, b"\x00\x00\x00\x00", "packet block of 16 bytes"),
        (2, bytes(8), "packet block of 20 bytes"),
        (6, struct.pack("<IIIII", 0, 0, 0, 500, 500) + bytes(8), "500 captured bytes"),
        (6, struct.pack("<IIIII", 3, 0, 0, 4, 4) + bytes(4), "interface 3 was never declared"),
    ],
)
def test_pcapng_broken_packet_block_stops_like_wireshark(tmp_path: Path, btype: int, body: bytes, why: str) -> None:
    path = tmp_path / "short.pcapng"
    path.write_bytes(_pcapng_with([(btype, body)]))
    reader, segs = read(path)
    assert [s.frame for s in segs] == [1] and reader.frames == 1 and balanced(reader)
    (diag,) = reader.diagnostics
    assert diag.code == "capture.corrupt_block" and why in diag.message


def test_pcapng_non_packet_records_are_numbered_like_wireshark(tmp_path: Path) -> None:
    """tshark 4.0 gives journal-export, sysdig-event and custom blocks frame numbers; DSB/ISB/NRB none."""
    journal = b"__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=hello\n"
    custom = struct.pack("<I", 32473) + b"opaque!!"
    path = tmp_path / "records.pcapng"
    path.write_bytes(
        _pcapng_with([(9, journal), (0xBAD, custom), (10, struct.pack("<II", 0x544C534B, 4) + b"keys"), (5, bytes(12))])
    )
    reader, segs = read(path)
    assert [s.frame for s in segs] == [1, 4] and reader.frames == 4 and reader.non_ip == 2
