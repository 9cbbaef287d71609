"""Link layers: find where the IP packet starts inside a captured frame.

Theory of operation
-------------------
Every decoder here takes the shared read buffer and the frame's bounds
``(buf, off, end)`` and returns ``(kind, ip_off, ip_end)``:

* ``kind`` is ``4`` (IPv4), ``6`` (IPv6) or ``0`` (not IP: ARP, LLDP, a
  truncated header...);
* ``ip_off`` / ``ip_end`` bound the IP packet inside ``buf``.

Decoders work on offsets into the caller's buffer and never slice it: the
capture reader parses millions of frames and a copy per layer would cost more
than the parsing itself. They never raise on short or odd frames (every read is
bounds-checked against ``end``), because a malformed frame is ordinary input for
a forensic tool.

Link-type numbers are the LINKTYPE_ values of the pcap/pcapng specifications
(https://www.tcpdump.org/linktypes.html), which is what both containers store.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import Struct

LinkDecoder = Callable[[bytes, int, int], tuple[int, int, int]]

NOT_IP: tuple[int, int, int] = (0, 0, 0)

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
VLAN_TAGS = frozenset((0x8100, 0x88A8, 0x9100, 0x9200, 0x9300))
"""802.1Q, 802.1ad (QinQ service tag) and the pre-standard 0x9100/0x9200/0x9300 outer tags."""
ETHERTYPE_PPPOE_SESSION = 0x8864
ETHERTYPE_MPLS = frozenset((0x8847, 0x8848))
MAX_ENCAPSULATIONS = 8
"""Bound on stacked tags / labels walked per frame, so hostile frames cannot loop long."""

_U16BE = Struct(">H").unpack_from
_U16LE = Struct("<H").unpack_from
_U32BE = Struct(">I").unpack_from
_U32LE = Struct("<I").unpack_from

# BSD loopback address-family values (DLT_NULL / DLT_LOOP). AF_INET6 differs by OS:
# 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD/DragonFly), 30 (Darwin), as in Wireshark's packet-null.c.
_BSD_AF_INET = 2
_BSD_AF_INET6 = frozenset((24, 28, 30))

LINK_NAMES = {
    0: "BSD loopback (NULL)",
    1: "Ethernet",
    9: "PPP",
    12: "raw IP",
    14: "raw IP",
    50: "PPP in HDLC framing",
    101: "raw IP",
    104: "Cisco HDLC",
    105: "IEEE 802.11",
    108: "OpenBSD loopback (LOOP)",
    113: "Linux cooked (SLL)",
    127: "IEEE 802.11 radiotap",
    228: "raw IPv4",
    229: "raw IPv6",
    239: "Linux NFLOG",
    276: "Linux cooked v2 (SLL2)",
}


def link_name(link: int) -> str:
    """A readable name for a LINKTYPE_ value, for diagnostics."""
    return LINK_NAMES.get(link, f"link type {link}")


def by_version(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """IP with no link header: the first nibble says v4 or v6 (LINKTYPE_RAW)."""
    if off >= end:
        return NOT_IP
    version = buf[off] >> 4
    if version == 4 or version == 6:
        return (version, off, end)
    return NOT_IP


def by_ethertype(buf: bytes, et: int, off: int, end: int) -> tuple[int, int, int]:
    """Dispatch on an EtherType whose payload starts at ``off``.

    Walks stacked VLAN tags (802.1Q, 802.1ad QinQ, 0x9100...), a PPPoE session
    header and an MPLS label stack, at most ``MAX_ENCAPSULATIONS`` deep.
    """
    for _ in range(MAX_ENCAPSULATIONS):
        if et == ETHERTYPE_IPV4:
            return (4, off, end)
        if et == ETHERTYPE_IPV6:
            return (6, off, end)
        if et in VLAN_TAGS:
            # 2 bytes TCI, then the inner EtherType.
            if off + 4 > end:
                return NOT_IP
            et = _U16BE(buf, off + 2)[0]
            off += 4
        elif et == ETHERTYPE_PPPOE_SESSION:
            # ver/type, code, session id, length (6 bytes), then the PPP protocol.
            if off + 8 > end:
                return NOT_IP
            return _ppp_protocol(buf, off + 6, end)
        elif et in ETHERTYPE_MPLS:
            return _mpls(buf, off, end)
        else:
            return NOT_IP
    return NOT_IP


def _mpls(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """Skip an MPLS label stack up to the bottom-of-stack bit, then guess IP by version."""
    for _ in range(MAX_ENCAPSULATIONS):
        if off + 4 > end:
            return NOT_IP
        bottom = buf[off + 2] & 0x01
        off += 4
        if bottom:
            return by_version(buf, off, end)
    return NOT_IP


def _ppp_protocol(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """A PPP protocol field (1 byte when compressed: odd first byte), then the packet."""
    if off >= end:
        return NOT_IP
    first = buf[off]
    if first & 1:
        proto, off = first, off + 1
    else:
        if off + 2 > end:
            return NOT_IP
        proto, off = _U16BE(buf, off)[0], off + 2
    if proto == 0x21:
        return (4, off, end)
    if proto == 0x57:
        return (6, off, end)
    return NOT_IP


def ethernet(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """Ethernet II, with 802.3/LLC-SNAP frames carrying an EtherType too."""
    if off + 14 > end:
        return NOT_IP
    et = _U16BE(buf, off + 12)[0]
    if et <= 1500:
        # 802.3 length field: only LLC/SNAP (AA AA 03, OUI 000000) carries an EtherType.
        if off + 22 <= end and buf[off + 14 : off + 20] == b"\xaa\xaa\x03\x00\x00\x00":
            return by_ethertype(buf, _U16BE(buf, off + 20)[0], off + 22, end)
        return NOT_IP
    return by_ethertype(buf, et, off + 14, end)


def linux_sll(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """Linux cooked capture v1: 16-byte header, protocol (EtherType) in the last 2 bytes."""
    if off + 16 > end:
        return NOT_IP
    return by_ethertype(buf, _U16BE(buf, off + 14)[0], off + 16, end)


def linux_sll2(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """Linux cooked capture v2: 20-byte header, protocol (EtherType) in the first 2 bytes."""
    if off + 20 > end:
        return NOT_IP
    return by_ethertype(buf, _U16BE(buf, off)[0], off + 20, end)


def _bsd_af(af: int, off: int, end: int) -> tuple[int, int, int]:
    if af == _BSD_AF_INET:
        return (4, off, end)
    if af in _BSD_AF_INET6:
        return (6, off, end)
    return NOT_IP


def bsd_null(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """DLT_NULL: a 4-byte address family in the *capturing host's* byte order.

    The file header's byte order need not match the capturing host, so (like
    Wireshark) a value above 0xFFFF is taken as byte-swapped.
    """
    if off + 4 > end:
        return NOT_IP
    af = _U32LE(buf, off)[0]
    if af > 0xFFFF:
        af = _U32BE(buf, off)[0]
    return _bsd_af(af, off + 4, end)


def bsd_loop(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """DLT_LOOP (OpenBSD): like NULL but the family is always big-endian."""
    if off + 4 > end:
        return NOT_IP
    return _bsd_af(_U32BE(buf, off)[0], off + 4, end)


def ppp(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """PPP, with or without the HDLC-like ``FF 03`` address/control bytes."""
    if off + 2 <= end and buf[off] == 0xFF and buf[off + 1] == 0x03:
        off += 2
    return _ppp_protocol(buf, off, end)


def cisco_hdlc(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """Cisco HDLC: address, control, then an EtherType."""
    if off + 4 > end:
        return NOT_IP
    return by_ethertype(buf, _U16BE(buf, off + 2)[0], off + 4, end)


def raw_ipv4(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    return (4, off, end) if off < end else NOT_IP


def raw_ipv6(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    return (6, off, end) if off < end else NOT_IP


NFULA_PAYLOAD = 9
_NFLOG_AF = {2: 4, 10: 6}


def nflog(buf: bytes, off: int, end: int) -> tuple[int, int, int]:
    """Linux NFLOG: 4-byte header (family, version, resource id) then TLVs.

    The TLV length and type are in the capturing host's byte order; try
    little-endian first (almost every Linux host), then big-endian. The packet
    is the value of the ``NFULA_PAYLOAD`` (9) TLV. Type bits 14-15 are netlink
    flags (nested / net byte order) and are masked off.
    """
    if off + 4 > end:
        return NOT_IP
    family = _NFLOG_AF.get(buf[off], 0)
    for u16 in (_U16LE, _U16BE):
        p = off + 4
        ok = True
        for _ in range(64):
            if p + 4 > end:
                break
            tlv_len = u16(buf, p)[0]
            tlv_type = u16(buf, p + 2)[0] & 0x3FFF
            if tlv_len < 4 or p + tlv_len > end:
                ok = False
                break
            if tlv_type == NFULA_PAYLOAD:
                start, stop = p + 4, p + tlv_len
                kind = family or (buf[start] >> 4 if start < stop else 0)
                return (kind, start, stop) if kind in (4, 6) and start < stop else NOT_IP
            p += (tlv_len + 3) & ~3
        if ok:
            return NOT_IP
    return NOT_IP


LINK_DECODERS: dict[int, LinkDecoder] = {
    0: bsd_null,
    1: ethernet,
    9: ppp,
    12: by_version,
    14: by_version,
    50: ppp,
    101: by_version,
    104: cisco_hdlc,
    108: bsd_loop,
    113: linux_sll,
    228: raw_ipv4,
    229: raw_ipv6,
    239: nflog,
    276: linux_sll2,
}
"""LINKTYPE_ value -> decoder. An explicit table: adding a link type is one line here."""
