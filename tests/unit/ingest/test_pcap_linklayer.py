"""Link-layer decoders: where the IP packet starts, for each LINKTYPE, and no exception on junk."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.ingest.linklayer import LINK_DECODERS, NOT_IP, ethernet, link_name, nflog

IP4 = bytes.fromhex("4500002800010000400600000a0000010a000002") + bytes(20)
IP6 = bytes.fromhex("6000000000140640") + bytes(32) + bytes(20)
MACS = bytes(12)


def decode(link: int, frame: bytes) -> tuple[int, bytes]:
    kind, off, end = LINK_DECODERS[link](frame, 0, len(frame))
    return kind, frame[off:end]


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        pytest.param(MACS + b"\x08\x00" + IP4, 4, id="ipv4"),
        pytest.param(MACS + b"\x86\xdd" + IP6, 6, id="ipv6"),
        pytest.param(MACS + b"\x81\x00\x00\x0a\x08\x00" + IP4, 4, id="802.1q"),
        pytest.param(MACS + b"\x88\xa8\x00\x0a\x81\x00\x00\x14\x86\xdd" + IP6, 6, id="qinq"),
        pytest.param(MACS + b"\x91\x00\x00\x0a\x81\x00\x00\x14\x81\x00\x00\x1e\x08\x00" + IP4, 4, id="3-tags"),
        pytest.param(MACS + b"\x88\x64" + b"\x11\x00\x00\x01\x00\x2a" + b"\x00\x21" + IP4, 4, id="pppoe"),
        pytest.param(MACS + b"\x88\x47" + b"\x00\x01\x00\x40" + b"\x00\x02\x01\x40" + IP4, 4, id="mpls-2-labels"),
        pytest.param(MACS + struct.pack(">H", 8 + len(IP4)) + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + IP4, 4, id="snap"),
    ],
)
def test_ethernet_encapsulations(frame: bytes, kind: int) -> None:
    got, ip = decode(1, frame)
    assert got == kind and ip == (IP4 if kind == 4 else IP6)


@pytest.mark.parametrize(
    "frame",
    [
        MACS + b"\x08\x06" + bytes(28),  # ARP
        MACS + b"\x00\x2e" + b"\x42\x42\x03" + bytes(43),  # 802.3 + LLC, not SNAP
        MACS + b"\x81\x00\x00",  # VLAN tag cut short
        MACS + b"\x88\x47" + b"\x00\x01\x00\x40" * 20,  # MPLS stack without bottom
        MACS + b"\x81\x00\x00\x0a" * 12 + b"\x08\x00" + IP4,  # more tags than we walk
        MACS,
        b"",
    ],
)
def test_ethernet_non_ip_and_short(frame: bytes) -> None:
    assert ethernet(frame, 0, len(frame)) == NOT_IP


def test_linux_cooked_v1_and_v2() -> None:
    sll = struct.pack(">HHH8sH", 0, 1, 6, bytes(8), 0x0800) + IP4
    sll2 = struct.pack(">HHIHBB8s", 0x86DD, 0, 2, 1, 0, 6, bytes(8)) + IP6
    assert decode(113, sll) == (4, IP4)
    assert decode(276, sll2) == (6, IP6)
    assert decode(113, sll[:15])[0] == 0 and decode(276, sll2[:19])[0] == 0


@pytest.mark.parametrize(
    ("af", "order", "kind"), [(2, "<", 4), (2, ">", 4), (24, "<", 6), (28, ">", 6), (30, "<", 6), (7, "<", 0)]
)
def test_bsd_null_either_byte_order(af: int, order: str, kind: int) -> None:
    got = decode(0, struct.pack(order + "I", af) + (IP6 if kind == 6 else IP4))[0]
    assert got == kind


def test_openbsd_loop_is_big_endian() -> None:
    assert decode(108, struct.pack(">I", 2) + IP4) == (4, IP4)
    assert decode(108, struct.pack("<I", 2) + IP4)[0] == 0


@pytest.mark.parametrize("link", [101, 12, 14])
def test_raw_ip_by_version(link: int) -> None:
    assert decode(link, IP4) == (4, IP4) and decode(link, IP6) == (6, IP6)
    assert decode(link, b"\x10" + IP4[1:])[0] == 0


def test_raw_ipv4_ipv6_and_ppp_hdlc() -> None:
    assert decode(228, IP4) == (4, IP4) and decode(229, IP6) == (6, IP6)
    assert decode(9, b"\xff\x03\x00\x21" + IP4) == (4, IP4)
    assert decode(9, b"\x57" + IP6) == (6, IP6)  # compressed 1-byte protocol field
    assert decode(50, b"\xff\x03\xc0\x21" + bytes(8))[0] == 0  # LCP
    assert decode(104, b"\x0f\x00\x08\x00" + IP4) == (4, IP4)


def _tlv(order: str, t: int, v: bytes) -> bytes:
    raw = struct.pack(order + "HH", 4 + len(v), t) + v
    return raw + bytes(-len(raw) % 4)


@pytest.mark.parametrize("order", ["<", ">"])
def test_nflog_payload_tlv_in_either_host_order(order: str) -> None:
    tlvs = _tlv(order, 10, b"pre\x00") + _tlv(order, 1, b"\x08\x00\x03\x00") + _tlv(order, 9, IP4)
    frame = b"\x02\x00\x00\x05" + tlvs
    assert decode(239, frame) == (4, IP4)


def test_nflog_without_payload_or_broken() -> None:
    assert nflog(b"\x02\x00\x00\x05" + _tlv("<", 10, b"x\x00\x00\x00"), 0, 12) == NOT_IP
    assert decode(239, b"\x02\x00\x00\x05\x02\x00\x09\x00")[0] == 0


def test_link_names() -> None:
    assert link_name(1) == "Ethernet" and link_name(4242) == "link type 4242"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(LINK_DECODERS)), st.binary(max_size=80), st.integers(0, 8))
def test_decoders_never_raise_and_stay_in_bounds(link: int, data: bytes, lead: int) -> None:
    buf = bytes(lead) + data + b"\xee" * 16  # bytes past `end` belong to the next record
    end = lead + len(data)
    kind, off, stop = LINK_DECODERS[link](buf, lead, end)
    assert kind in (0, 4, 6)
    if kind:
        assert lead <= off <= stop <= end
