"""Frame decoding for the native reader: link layer -> IPv4/IPv6 (fragments reassembled) -> TCP.

``FrameDecoder`` turns one captured frame, given as bounds inside the reader's shared buffer, into a
``TcpSegment`` (or None), and keeps the counters and the aggregated diagnostics that decoding
produces. ``SegmentReader`` (``stickyforensics.ingest.segment_reader``) walks the container and inherits
from it, so the per-frame path is a plain method call on one object.

Speed shapes the code as in the reader: headers are read with ``struct.unpack_from`` at offsets,
nothing is sliced except the TCP payload, and address text comes from a bounded cache keyed by the
raw address bytes. The Ethernet + IPv4 + TCP case is one ``unpack_from`` (``ETH_IPV4_TCP``), which
the pcap walker also inlines.
"""

from __future__ import annotations

import socket
from struct import Struct
from struct import error as StructError

from stickyforensics.ingest.ipfrag import FragmentReassembler
from stickyforensics.ingest.linklayer import LINK_DECODERS, link_name
from stickyforensics.model import DiagLevel, Diagnostic
from stickyforensics.reconstruct.segments import TcpSegment

MAX_TLS_SERVERS = 50
_ADDR_CACHE_LIMIT = 1 << 12
"""Address pairs whose text is remembered (emptied when full): the pairs of the connections open at one time
repeat, the others never come back. At 65536 the reader of a 2 GB capture of 42k clients held 13 MiB more
(partitioning peak 151 -> 141 MiB), and reading large.pcap took 4% longer (bench/README.md, session 11)."""

_U16BE = Struct(">H").unpack_from
_U16X2BE = Struct(">HH").unpack_from
_IPV4_MID = Struct(">HHHBB").unpack_from
"""IPv4 total length, id, flags+fragment offset, TTL, protocol."""
ETH_IPV4_TCP = Struct(">HBxHxxHxB10xHHIIH").unpack_from
"""From Ethernet byte 12: EtherType, IPv4 version/IHL, total length, flags+offset, protocol, then (for a
20-byte IPv4 header) TCP ports, sequence, acknowledgement, data offset + flags."""
_TCP_HEAD = Struct(">HHIIH").unpack_from
"""TCP ports, sequence, acknowledgement, data offset + flags."""
_inet_ntop = socket.inet_ntop
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6
_IPV6_EXT_8 = frozenset((0, 43, 60, 135, 139, 140))
"""IPv6 extension headers whose length is (hdr_ext_len + 1) * 8: hop-by-hop, routing, destination
options, mobility, HIP, shim6 (RFC 8200 §4, RFC 7045)."""
_IPV6_AH = 51
_IPV6_FRAG = 44
_TCP = 6
_UDP = 17


def client_hello_sni(data: bytes) -> str | None:
    """The server name of a TLS ClientHello starting at ``data[0]`` (record header), or None.

    Parses only as far as the captured bytes go: a ClientHello split over
    several segments gives None when the extension is not in the first one.
    """
    try:
        p = 5 + 4 + 2 + 32  # record header, handshake header, client_version, random
        p += 1 + data[p]  # session id
        p += 2 + _U16BE(data, p)[0]  # cipher suites
        p += 1 + data[p]  # compression methods
        stop = min(len(data), p + 2 + _U16BE(data, p)[0])
        p += 2
        for _ in range(128):
            if p + 4 > stop:
                return None
            etype, elen = _U16X2BE(data, p)
            p += 4
            if etype == 0:
                # server_name_list length (2), name_type (1) = host_name (0), name length (2), name.
                if data[p + 2] != 0:
                    return None
                nlen = _U16BE(data, p + 3)[0]
                name = data[p + 5 : p + 5 + nlen]
                if len(name) != nlen or not name or not all(33 <= b < 127 for b in name):
                    return None
                return name.decode("ascii").lower()
            p += elen
    except (IndexError, StructError):
        return None
    return None


class FrameDecoder:
    """Per-frame decoding, with the counters and diagnostics it keeps (the base of ``SegmentReader``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.frames = 0
        self.tcp_segments = 0
        self.non_tcp = 0
        """IP packets (or IP fragments) of another protocol than TCP."""
        self.non_ip = 0
        """Frames with no IP inside (ARP, LLDP, ...), including frames of an unsupported link type."""
        self.ip_fragments = 0
        """TCP-carrying IP fragments held for reassembly (the completing fragment yields the segment)."""
        self.malformed = 0
        """Frames dropped because an IP or TCP header was broken or cut before its end."""
        self.truncated_frames = 0
        """Frames cut by the snaplen (captured length < original length)."""
        self.tls_client_hellos = 0
        self.tls_servers: list[tuple[str, int, str | None]] = []
        """Up to 50 distinct (server ip, server port, SNI or None) of TLS ClientHellos."""
        self.udp_quic = 0
        """UDP packets to or from port 443 (QUIC / HTTP/3 cannot be read without keys)."""
        self._frags = FragmentReassembler()
        self._v4: dict[bytes, tuple[str, str]] = {}
        self._v6: dict[bytes, tuple[str, str]] = {}
        self._diag_index: dict[str, int] = {}
        self._diag_count: dict[str, int] = {}

    def _note(
        self,
        code: str,
        message: str,
        position: str | None = None,
        level: DiagLevel = DiagLevel.WARNING,
        key: str | None = None,
    ) -> None:
        """Record a diagnostic once per ``key`` (default: the code); repeats only raise its count."""
        k = key or code
        if k in self._diag_index:
            self._diag_count[k] += 1
            return
        self._diag_index[k] = len(self.diagnostics)
        self._diag_count[k] = 1
        self.diagnostics.append(Diagnostic(code, message, self.path, position, level))

    def _snaplen_cut(self, frame: int) -> None:
        self.truncated_frames += 1
        self._note(
            "capture.snaplen_truncated",
            "frames were cut by the capture's snaplen: HTTP headers or bodies in them are incomplete "
            "(recapture with -s 0 to keep whole frames)",
            f"frame {frame}",
        )

    def _frame(self, buf: bytes, off: int, end: int, frame: int, ts: float, cut: bool, link: int) -> TcpSegment | None:
        """Decode one frame at ``buf[off:end]``; return its TCP segment or None.

        The first branch is the whole common case (Ethernet II, IPv4 without
        options, unfragmented TCP, nothing cut) in one ``unpack_from`` and no
        further call; anything else takes the general path below.
        """
        if link == 1 and end - off >= 54:
            et, vihl, tot, frag, proto, sport, dport, seq, ack, offflags = ETH_IPV4_TCP(buf, off + 12)
            if et == 0x0800 and vihl == 0x45 and proto == _TCP and not frag & 0x3FFF:
                ip = off + 14
                decl_end = ip + tot
                p = ip + 20 + ((offflags >> 12) << 2)
                if decl_end <= end and ip + 40 <= p <= decl_end:
                    k = buf[ip + 12 : ip + 20]
                    pair = self._v4.get(k)
                    if pair is None:
                        pair = self._addr4(k)
                    payload = buf[p:decl_end]
                    self.tcp_segments += 1
                    if payload and buf[p] == 0x16 and decl_end - p > 5:
                        self._maybe_client_hello(payload, pair[1], dport)
                    flags = offflags & 0x1FF
                    n = len(payload)
                    return TcpSegment(frame, ts, pair[0], pair[1], sport, dport, seq, ack, flags, payload, False, n)
            if et == 0x0800:
                return self._ipv4(buf, off + 14, end, frame, ts, cut)
        decoder = LINK_DECODERS.get(link)
        if decoder is None:
            self.non_ip += 1
            self._note(
                "capture.unsupported_link_type",
                f"{link_name(link)} (LINKTYPE {link}) is not decoded: its frames are counted but skipped",
                f"frame {frame}",
                key=f"capture.unsupported_link_type.{link}",
            )
            return None
        kind, ip, ip_end = decoder(buf, off, end)
        if kind == 4:
            return self._ipv4(buf, ip, ip_end, frame, ts, cut)
        if kind == 6:
            return self._ipv6(buf, ip, ip_end, frame, ts, cut)
        self.non_ip += 1
        return None

    def _short(self, what: str, frame: int, cut: bool) -> None:
        self.malformed += 1
        if cut:
            self._note(
                "capture.header_cut",
                f"the snaplen cut frames inside their {what} header; they are skipped",
                f"frame {frame}",
                key=f"capture.header_cut.{what}",
            )
        else:
            self._note(f"{what}.short", f"frames too short for their {what} header are skipped", f"frame {frame}")

    def _bad(self, code: str, message: str, frame: int) -> None:
        self.malformed += 1
        self._note(code, message, f"frame {frame}")

    def _ipv4(self, buf: bytes, off: int, end: int, frame: int, ts: float, cut: bool) -> TcpSegment | None:
        avail = end - off
        if avail < 20:
            self._short("ip", frame, cut)
            return None
        vihl = buf[off]
        ihl = (vihl & 15) << 2
        if vihl >> 4 != 4 or ihl < 20:
            self._bad("ip.bad_header", "IPv4 headers with a bad version or header length are skipped", frame)
            return None
        tot, _ident, frag, _ttl, proto = _IPV4_MID(buf, off + 2)
        if tot == 0:
            tot = avail  # TCP segmentation offload: the NIC fills the length in later.
        elif tot < ihl:
            self._bad("ip.bad_header", "IPv4 headers with a total length below the header length are skipped", frame)
            return None
        elif tot > avail and not cut:
            self._note(
                "ip.length_exceeds_frame",
                "IPv4 total length is larger than the frame (not a snaplen cut): payload marked truncated",
                f"frame {frame}",
            )
        decl_end = off + tot
        cap_end = decl_end if decl_end <= end else end
        if ihl > cap_end - off:
            self._short("ip", frame, cut)
            return None
        if frag & 0x3FFF:
            if proto != _TCP:
                self.non_tcp += 1
                if proto == _UDP and not frag & 0x1FFF:
                    self._udp(buf, off + ihl, cap_end)
                return None
            key = buf[off + 12 : off + 20] + buf[off + 4 : off + 6]
            done = self._frags.add(
                key, ts, (frag & 0x1FFF) << 3, buf[off + ihl : cap_end], tot - ihl, bool(frag & 0x2000)
            )
            if done is None:
                self.ip_fragments += 1
                return None
            src, dst = self._addr4(key[:8])
            data = done.payload
            return self._tcp(data, 0, len(data), done.wire_len, src, dst, frame, ts)
        if proto != _TCP:
            self.non_tcp += 1
            if proto == _UDP:
                self._udp(buf, off + ihl, cap_end)
            return None
        k = buf[off + 12 : off + 20]
        pair = self._v4.get(k)
        if pair is None:
            pair = self._addr4(k)
        return self._tcp(buf, off + ihl, cap_end, decl_end, pair[0], pair[1], frame, ts)

    def _addr4(self, k: bytes) -> tuple[str, str]:
        pair = self._v4.get(k)
        if pair is None:
            if len(self._v4) >= _ADDR_CACHE_LIMIT:
                self._v4.clear()
            pair = (_inet_ntop(_AF_INET, k[:4]), _inet_ntop(_AF_INET, k[4:8]))
            self._v4[k] = pair
        return pair

    def _addr6(self, k: bytes) -> tuple[str, str]:
        pair = self._v6.get(k)
        if pair is None:
            if len(self._v6) >= _ADDR_CACHE_LIMIT:
                self._v6.clear()
            pair = (_inet_ntop(_AF_INET6, k[:16]), _inet_ntop(_AF_INET6, k[16:32]))
            self._v6[k] = pair
        return pair

    def _udp(self, buf: bytes, off: int, end: int) -> None:
        if off + 4 <= end:
            sport, dport = _U16X2BE(buf, off)
            if sport == 443 or dport == 443:
                self.udp_quic += 1

    def _ipv6(self, buf: bytes, off: int, end: int, frame: int, ts: float, cut: bool) -> TcpSegment | None:
        if end - off < 40:
            self._short("ipv6", frame, cut)
            return None
        if buf[off] >> 4 != 6:
            self._bad("ipv6.bad_header", "IPv6 headers with a bad version are skipped", frame)
            return None
        plen = _U16BE(buf, off + 4)[0]
        nh = buf[off + 6]
        decl_end = off + 40 + plen if plen else end  # 0: jumbogram or offload, use the frame
        if decl_end > end and not cut:
            self._note(
                "ip.length_exceeds_frame",
                "IPv6 payload length is larger than the frame (not a snaplen cut): payload marked truncated",
                f"frame {frame}",
            )
        cap_end = decl_end if decl_end <= end else end
        addrs = buf[off + 8 : off + 40]
        p = off + 40
        for _ in range(16):
            if nh == _TCP:
                break
            if nh in _IPV6_EXT_8 or nh == _IPV6_AH:
                if p + 2 > cap_end:
                    self._short("ipv6", frame, cut)
                    return None
                nxt = buf[p]
                p += (buf[p + 1] + 2) << 2 if nh == _IPV6_AH else (buf[p + 1] + 1) << 3
                nh = nxt
            elif nh == _IPV6_FRAG:
                if p + 8 > cap_end:
                    self._short("ipv6", frame, cut)
                    return None
                nxt = buf[p]
                fo = _U16BE(buf, p + 2)[0]
                ident = buf[p + 4 : p + 8]
                p += 8
                if fo & 0xFFF9 == 0:  # atomic fragment (RFC 6946): offset 0, M clear
                    nh = nxt
                    continue
                if nxt != _TCP and nxt not in _IPV6_EXT_8 and nxt != _IPV6_AH:
                    self.non_tcp += 1
                    if nxt == _UDP and not fo & 0xFFF8:
                        self._udp(buf, p, cap_end)
                    return None
                done = self._frags.add(addrs + ident, ts, fo & 0xFFF8, buf[p:cap_end], decl_end - p, bool(fo & 1))
                if done is None:
                    self.ip_fragments += 1
                    return None
                buf, p, cap_end, decl_end = done.payload, 0, len(done.payload), done.wire_len
                nh = nxt
                continue
            else:
                break
            if p > decl_end:
                self._bad("ipv6.bad_header", "IPv6 extension headers running past the packet are skipped", frame)
                return None
        if nh != _TCP:
            self.non_tcp += 1
            if nh == _UDP:
                self._udp(buf, p, cap_end)
            return None
        src, dst = self._addr6(addrs)
        return self._tcp(buf, p, cap_end, decl_end, src, dst, frame, ts)

    def _tcp(
        self, buf: bytes, t: int, cap_end: int, decl_end: int, src: str, dst: str, frame: int, ts: float
    ) -> TcpSegment | None:
        """The TCP header at ``buf[t:]``; the segment ends at ``decl_end`` (as IP says), ``cap_end`` (as captured)."""
        if cap_end - t < 20:
            if decl_end - t < 20:
                self._bad("tcp.bad_header", "TCP segments shorter than a TCP header are skipped", frame)
            else:
                self._short("tcp", frame, True)
            return None
        sport, dport, seq, ack, offflags = _TCP_HEAD(buf, t)
        p = t + ((offflags >> 12) << 2)
        if p - t < 20 or p > decl_end:
            self._bad("tcp.bad_header", "TCP headers with a bad data offset are skipped", frame)
            return None
        wire = decl_end - p
        payload = buf[p:cap_end] if p < cap_end else b""
        self.tcp_segments += 1
        if cap_end - p > 5 and buf[p] == 0x16:
            self._maybe_client_hello(payload, dst, dport)
        flags = offflags & 0x1FF
        return TcpSegment(frame, ts, src, dst, sport, dport, seq, ack, flags, payload, len(payload) < wire, wire)

    def _maybe_client_hello(self, payload: bytes, server: str, port: int) -> None:
        """Count a TLS ClientHello (``16 03 0x .. .. 01``: handshake record, TLS 1.x, ClientHello)."""
        if payload[1] != 3 or payload[5] != 1:
            return
        self.tls_client_hellos += 1
        if len(self.tls_servers) < MAX_TLS_SERVERS:
            entry = (server, port, client_hello_sni(payload))
            if entry not in self.tls_servers:
                self.tls_servers.append(entry)
