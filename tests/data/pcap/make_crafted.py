"""Write the small crafted captures of tests/data/pcap/ (run: python tests/data/pcap/make_crafted.py).

Each file is built from scratch with the writer below (no scapy): real
Ethernet/IP/TCP headers with valid checksums, 3-way handshakes, seq/ack that
add up, and small keep-alive HTTP/1.1 exchanges carrying NetScaler ``NSC_`` and
``JSESSIONID`` cookies (``Cookie`` on requests, several ``Set-Cookie`` on
responses), so both the capture reader and TCP/HTTP reconstruction can use
them. The output is deterministic: running the script again gives the same
bytes. ``README.md`` in this folder documents every file.

Tests import this module (by path) to get the exact HTTP bytes each file
carries: see ``conversation_bytes``.
"""

from __future__ import annotations

import gzip
import itertools
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0_NS = 1_700_000_000_000_000_000
"""2023-11-14T22:13:20Z, in nanoseconds."""

NSC_NAME = "NSC_shop-vs"
NSC_A = "ffffffff09081e1545525d5f4f58455e445a4a423660"
"""10.0.0.4:80 in NetScaler's classic encoding (see docs on persistence cookies)."""
NSC_B = "ffffffff09081e1445525d5f4f58455e445a4a423660"
"""10.0.0.5:80: a re-pin to another backend."""

# ---------------------------------------------------------------- checksums / IP / TCP


def checksum(data: bytes) -> int:
    """RFC 1071 ones' complement sum, via one big-integer modulo (0xFFFF folds the carries)."""
    if len(data) % 2:
        data += b"\x00"
    s = int.from_bytes(data, "big") % 0xFFFF if data else 0
    return (~s) & 0xFFFF if s else 0xFFFF


def ip_bytes(addr: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int, frag: int = 0x4000, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    hdr = (
        struct.pack(
            ">BBHHHBBH4s4s",
            0x40 | ihl,
            0,
            4 * ihl + len(payload),
            ident,
            frag,
            64,
            proto,
            0,
            ip_bytes(src),
            ip_bytes(dst),
        )
        + options
    )
    hdr = hdr[:10] + struct.pack(">H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src: str, dst: str, nh: int, payload: bytes) -> bytes:
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, 64, ip_bytes(src), ip_bytes(dst)) + payload


def tcp(
    src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes, options: bytes = b""
) -> bytes:
    """A TCP segment with a valid checksum over the IPv4 or IPv6 pseudo-header."""
    doff = (20 + len(options)) // 4
    hdr = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) + options
    seg = hdr + payload
    if ":" in src:
        pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack(">IxxxB", len(seg), 6)
    else:
        pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack(">xBH", 6, len(seg))
    csum = checksum(pseudo + seg)
    return seg[:16] + struct.pack(">H", csum) + seg[18:]


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTIONS = b"\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07"
"""MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (20 bytes: data offset 10)."""
TS_OPTIONS = b"\x01\x01\x08\x0a\x00\x00\x00\x02\x00\x00\x00\x01"
"""NOP NOP timestamps: data segments have a 32-byte TCP header."""


# ---------------------------------------------------------------- HTTP conversations


def http_exchanges(tag: str, n: int = 2, body_sizes: tuple[int, ...] = (120, 3000)) -> list[tuple[bytes, bytes]]:
    """``n`` keep-alive request/response pairs; the first request has no cookie, later ones send them."""
    out = []
    for i in range(n):
        nsc = NSC_A if i < 2 else NSC_B
        cookie = "" if i == 0 else f"Cookie: {NSC_NAME}={NSC_A}; JSESSIONID={tag}-S{i:03d}; _ga=GA1.1.5.6\r\n"
        req = (
            f"GET /{tag}/item/{i}?q={i} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: crafted/1.0\r\n"
            f"Accept: */*\r\n{cookie}\r\n"
        ).encode()
        size = body_sizes[i % len(body_sizes)]
        body = (f"<p>{tag} item {i}</p>" * (size // 16 + 1)).encode()[:size]
        resp = (
            f"HTTP/1.1 200 OK\r\nServer: crafted\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n"
            f"Set-Cookie: {NSC_NAME}={nsc};path=/;httponly\r\n"
            f"Set-Cookie: JSESSIONID={tag}-S{i + 1:03d}; Path=/; HttpOnly\r\n"
            f"Set-Cookie: theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/\r\n\r\n"
        ).encode() + body
        out.append((req, resp))
    return out


@dataclass
class Conn:
    """One TCP connection: keeps seq/ack right and returns IP packets (bytes)."""

    client: str
    cport: int
    server: str
    sport: int = 80
    isn_c: int = 1000
    isn_s: int = 500000
    mss: int = 1400
    ident: int = 1
    packets: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cseq, self.sseq = self.isn_c, self.isn_s

    def _ip(self, from_client: bool, flags: int, payload: bytes = b"", options: bytes = TS_OPTIONS) -> bytes:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        seq, ack = (self.cseq, self.sseq) if from_client else (self.sseq, self.cseq)
        seg = tcp(src, dst, sp, dp, seq, ack if flags & ACK else 0, flags, payload, options)
        if ":" in src:
            pkt = ipv6(src, dst, 6, seg)
        else:
            pkt = ipv4(src, dst, 6, seg, self.ident)
            self.ident += 1
        self.packets.append(pkt)
        return pkt

    def handshake(self) -> Conn:
        self._ip(True, SYN, options=SYN_OPTIONS)
        self.cseq += 1
        self._ip(False, SYN | ACK, options=SYN_OPTIONS)
        self.sseq += 1
        self._ip(True, ACK)
        return self

    def send(self, from_client: bool, data: bytes) -> Conn:
        for i in range(0, len(data), self.mss):
            chunk = data[i : i + self.mss]
            self._ip(from_client, PSH | ACK if i + self.mss >= len(data) else ACK, chunk)
            if from_client:
                self.cseq += len(chunk)
            else:
                self.sseq += len(chunk)
        self._ip(not from_client, ACK)
        return self

    def exchange(self, pairs: Iterable[tuple[bytes, bytes]]) -> Conn:
        for req, resp in pairs:
            self.send(True, req)
            self.send(False, resp)
        return self

    def close(self) -> Conn:
        self._ip(True, FIN | ACK)
        self.cseq += 1
        self._ip(False, FIN | ACK)
        self.sseq += 1
        self._ip(True, ACK)
        return self


def conversation(
    tag: str, client: str = "192.168.1.10", server: str = "10.0.0.100", cport: int = 50000, n: int = 2, mss: int = 1400
) -> list[bytes]:
    """Handshake, ``n`` HTTP exchanges, FIN teardown: a list of IP packets."""
    c = Conn(client, cport, server, mss=mss, isn_c=1000 + cport, isn_s=7_000_000 + cport)
    return c.handshake().exchange(http_exchanges(tag, n)).close().packets


def conversation_bytes(tag: str, n: int = 2) -> tuple[bytes, bytes]:
    """The exact client->server and server->client byte streams of ``conversation(tag, n=n)``."""
    pairs = http_exchanges(tag, n)
    return b"".join(r for r, _ in pairs), b"".join(s for _, s in pairs)


def interleave(*flows: list[bytes]) -> list[bytes]:
    """Round-robin the packets of several connections, as concurrent clients do."""
    out: list[bytes] = []
    for i in range(max(len(f) for f in flows)):
        out.extend(f[i] for f in flows if i < len(f))
    return out


# ---------------------------------------------------------------- link layers

MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")


def ether(ip: bytes, tags: tuple[int, ...] = (), pad_to: int = 0, fcs: bool = False) -> bytes:
    """Ethernet II; ``tags`` is a stack of tag EtherTypes (0x8100, 0x88a8, 0x9100) with VLAN ids 10, 20..."""
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    head = MAC_S + MAC_C
    for i, tpid in enumerate(tags):
        head += struct.pack(">HH", tpid, 10 * (i + 1))
    frame = head + struct.pack(">H", et) + ip
    if len(frame) < pad_to:
        frame += b"\xaa" * (pad_to - len(frame))  # garbage padding, must not leak into payloads
    if fcs:
        frame += b"\xde\xad\xbe\xef"
    return frame


def sll(ip: bytes) -> bytes:
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack(">HHH8sH", 0, 1, 6, MAC_C + b"\x00\x00", et) + ip


def sll2(ip: bytes) -> bytes:
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack(">HHIHBB8s", et, 0, 2, 1, 0, 6, MAC_C + b"\x00\x00") + ip


def null_af(ip: bytes, order: str, af6: int = 30) -> bytes:
    af = af6 if ip[0] >> 4 == 6 else 2
    return struct.pack(order + "I", af) + ip


def nflog(ip: bytes) -> bytes:
    """NFLOG: header, then little-endian TLVs: prefix (10), hw protocol (1), payload (9)."""
    fam = 10 if ip[0] >> 4 == 6 else 2

    def tlv(t: int, v: bytes) -> bytes:
        raw = struct.pack("<HH", 4 + len(v), t) + v
        return raw + b"\x00" * (-len(raw) % 4)

    return struct.pack(">BBH", fam, 0, 5) + tlv(10, b"crafted\x00") + tlv(1, b"\x08\x00\x03\x00") + tlv(9, ip)


# ---------------------------------------------------------------- containers


@dataclass
class Pcap:
    link: int
    order: str = "<"
    nano: bool = False
    snaplen: int = 65535
    records: list[bytes] = field(default_factory=list)
    t_ns: int = T0_NS

    def add(self, frame: bytes, step_ns: int = 1_000_123) -> None:
        """Append a frame ``step_ns`` after the previous one, cut to the snaplen."""
        self.t_ns += step_ns
        sec, rem = divmod(self.t_ns, 1_000_000_000)
        frac = rem if self.nano else rem // 1000
        cap = frame[: self.snaplen]
        self.records.append(struct.pack(self.order + "IIII", sec, frac, len(cap), len(frame)) + cap)

    def data(self) -> bytes:
        magic = 0xA1B23C4D if self.nano else 0xA1B2C3D4
        return struct.pack(self.order + "IHHiIII", magic, 2, 4, 0, 0, self.snaplen, self.link) + b"".join(self.records)

    def write(self, name: str, compress: bool = False) -> None:
        data = self.data()
        if compress:
            data = gzip.compress(data, mtime=0)
        (HERE / name).write_bytes(data)


def _opt(code: int, value: bytes, order: str) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


@dataclass
class Pcapng:
    blocks: list[bytes] = field(default_factory=list)
    order: str = "<"
    ifaces: list[int] = field(default_factory=list)
    """Per interface: timestamp units per second."""
    t_ns: int = T0_NS

    def block(self, btype: int, body: bytes) -> None:
        body += b"\x00" * (-len(body) % 4)
        size = 12 + len(body)
        self.blocks.append(struct.pack(self.order + "II", btype, size) + body + struct.pack(self.order + "I", size))

    def shb(self, order: str) -> None:
        self.order = order
        self.ifaces = []
        opts = _opt(4, b"make_crafted.py", order) + _opt(0, b"", order)
        self.block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1) + opts)

    def idb(self, link: int, tsresol: int | None = None, tsoffset: int | None = None, snaplen: int = 0) -> int:
        opts = _opt(2, b"crafted0", self.order)
        units = 1_000_000
        if tsresol is not None:
            opts += _opt(9, bytes([tsresol]), self.order)
            units = 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol
        if tsoffset is not None:
            opts += _opt(14, struct.pack(self.order + "q", tsoffset), self.order)
        self.block(1, struct.pack(self.order + "HHI", link, 0, snaplen) + opts + _opt(0, b"", self.order))
        self.ifaces.append(units)
        return len(self.ifaces) - 1

    def _ts(self, iface: int, step_ns: int, tsoffset: int = 0) -> tuple[int, int]:
        self.t_ns += step_ns
        units = self.ifaces[iface]
        v = (self.t_ns - tsoffset * 1_000_000_000) * units // 1_000_000_000
        return v >> 32, v & 0xFFFFFFFF

    def epb(self, iface: int, frame: bytes, step_ns: int = 1_000_123, tsoffset: int = 0) -> None:
        hi, lo = self._ts(iface, step_ns, tsoffset)
        self.block(6, struct.pack(self.order + "IIIII", iface, hi, lo, len(frame), len(frame)) + frame)

    def pb(self, iface: int, frame: bytes, step_ns: int = 1_000_123) -> None:
        hi, lo = self._ts(iface, step_ns)
        self.block(2, struct.pack(self.order + "HHIIII", iface, 0, hi, lo, len(frame), len(frame)) + frame)

    def spb(self, frame: bytes) -> None:
        self.block(3, struct.pack(self.order + "I", len(frame)) + frame)

    def write(self, name: str) -> None:
        (HERE / name).write_bytes(b"".join(self.blocks))


# ---------------------------------------------------------------- the files


def arp() -> bytes:
    return b"\xff" * 6 + MAC_C + b"\x08\x06" + bytes.fromhex("0001080006040001") + MAC_C + bytes(4) + bytes(10)


def dns_query(src: str = "192.168.1.10", dst: str = "192.168.1.1") -> bytes:
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04shop\x07example\x00\x00\x01\x00\x01"
    return ipv4(src, dst, 17, udp(src, dst, 53000, 53, q), 77)


def basic_pcap(link: int, wrap: Callable[[bytes], bytes], **kw: object) -> Pcap:
    """Two interleaved clients with 2 exchanges each, plus one non-IP and one UDP frame."""
    cap = Pcap(link, **kw)  # type: ignore[arg-type]
    if link == 1:
        cap.add(arp())
    cap.add(wrap(dns_query()))
    for pkt in interleave(conversation("a", cport=50001), conversation("b", client="192.168.1.11", cport=50002)):
        cap.add(wrap(pkt))
    return cap


def fragment_v4(pkt: bytes, cuts: list[int]) -> list[bytes]:
    """Split an IPv4 packet's payload at byte offsets ``cuts`` (multiples of 8)."""
    ihl = (pkt[0] & 15) * 4
    src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
    ident, proto, payload = struct.unpack(">H", pkt[4:6])[0], pkt[9], pkt[ihl:]
    bounds = [0, *cuts, len(payload)]
    return [
        ipv4(src, dst, proto, payload[a:b], ident, ((a // 8) | (0x2000 if b < len(payload) else 0)))
        for a, b in itertools.pairwise(bounds)
    ]


def fragment_v6(pkt: bytes, cuts: list[int], ident: int) -> list[bytes]:
    """IPv6 with hop-by-hop + destination options (unfragmentable part), split by a Fragment header."""
    src, dst = socket.inet_ntop(socket.AF_INET6, pkt[8:24]), socket.inet_ntop(socket.AF_INET6, pkt[24:40])
    payload = pkt[40:]
    hop = bytes([60, 0, 1, 4, 0, 0, 0, 0])  # hop-by-hop -> destination options, PadN
    dest = bytes([44, 0, 1, 4, 0, 0, 0, 0])  # destination options -> fragment
    bounds = [0, *cuts, len(payload)]
    out = []
    for a, b in itertools.pairwise(bounds):
        frag = struct.pack(">BBHI", 6, 0, a | (1 if b < len(payload) else 0), ident)
        out.append(ipv6(src, dst, 0, hop + dest + frag + payload[a:b]))
    return out


def client_hello(sni: str | None) -> bytes:
    exts = b""
    if sni is not None:
        name = sni.encode()
        entry = b"\x00" + struct.pack(">H", len(name)) + name
        exts += struct.pack(">HH", 0, len(entry) + 2) + struct.pack(">H", len(entry)) + entry
    exts += struct.pack(">HHB", 43, 3, 2) + b"\x03\x04"  # supported_versions: TLS 1.3
    body = b"\x03\x03" + bytes(range(32)) + b"\x20" + bytes(32) + b"\x00\x04\x13\x01\x13\x02" + b"\x01\x00"
    body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def make_all() -> list[str]:
    written: list[str] = []

    def done(name: str) -> None:
        written.append(name)

    basic_pcap(1, ether).write("http_le_usec.pcap")
    done("http_le_usec.pcap")
    basic_pcap(1, ether, order=">").write("http_be_usec.pcap")
    done("http_be_usec.pcap")
    basic_pcap(1, ether, nano=True).write("http_le_nsec.pcap")
    done("http_le_nsec.pcap")
    basic_pcap(1, ether, order=">", nano=True).write("http_be_nsec.pcap")
    done("http_be_nsec.pcap")
    basic_pcap(1, ether).write("http_gzip.pcap.gz", compress=True)
    done("http_gzip.pcap.gz")
    basic_pcap(113, sll).write("sll.pcap")
    done("sll.pcap")
    basic_pcap(276, sll2).write("sll2.pcap")
    done("sll2.pcap")
    basic_pcap(239, nflog).write("nflog.pcap")
    done("nflog.pcap")

    # BSD loopback: IPv4 with the family in both byte orders, and IPv6 (Darwin's 30, BSD's 24).
    cap = Pcap(0)
    for i, pkt in enumerate(conversation("lo", client="127.0.0.1", server="127.0.0.1", cport=50010)):
        cap.add(null_af(pkt, "<" if i % 2 else ">"))
    for i, pkt in enumerate(conversation("lo6", client="::1", server="::1", cport=50011, n=1)):
        cap.add(null_af(pkt, "<", af6=30 if i % 2 else 24))
    cap.write("null_loopback.pcap")
    done("null_loopback.pcap")

    # OpenBSD LOOP (family always big-endian) and raw IP (101) mixing v4 and v6.
    cap = Pcap(108)
    for pkt in conversation("loop", client="127.0.0.2", server="127.0.0.1", cport=50012, n=1):
        cap.add(null_af(pkt, ">", af6=24))
    cap.write("loop.pcap")
    done("loop.pcap")
    cap = Pcap(101)
    for pkt in interleave(
        conversation("raw4", cport=50013, n=1),
        conversation("raw6", client="2001:db8::10", server="2001:db8::100", cport=50014, n=1),
    ):
        cap.add(pkt)
    cap.write("rawip.pcap")
    done("rawip.pcap")

    # VLAN: 802.1Q, QinQ (802.1ad + 802.1Q), 0x9100 outer, and three stacked tags.
    cap = Pcap(1)
    stacks = [(0x8100,), (0x88A8, 0x8100), (0x9100, 0x8100), (0x88A8, 0x8100, 0x8100)]
    for i, pkt in enumerate(conversation("vlan", cport=50020)):
        cap.add(ether(pkt, stacks[i % len(stacks)]))
    cap.write("vlan_qinq.pcap")
    done("vlan_qinq.pcap")

    # Ethernet padding (garbage 0xaa) plus a trailing FCS: must not leak into TCP payloads.
    cap = Pcap(1)
    c = Conn("192.168.1.20", 50030, "10.0.0.100", isn_c=41, isn_s=900)
    c.handshake().exchange(http_exchanges("pad", 2)).send(True, b"x")
    for pkt in c.close().packets:
        cap.add(ether(pkt, pad_to=60, fcs=True))
    cap.write("eth_padding.pcap")
    done("eth_padding.pcap")

    # snaplen 128: every data frame is cut (incl_len < orig_len).
    basic_pcap(1, ether, snaplen=128).write("snaplen_128.pcap")
    done("snaplen_128.pcap")

    # A file cut in the middle of frame 12's bytes.
    data = basic_pcap(1, ether).data()
    cut = 24
    for _ in range(11):
        cut += 16 + struct.unpack_from("<I", data, cut + 8)[0]
    (HERE / "truncated_file.pcap").write_bytes(data[: cut + 16 + 30])
    done("truncated_file.pcap")

    # IPv4 fragments: the first request in 3 fragments sent last-first, with one duplicated fragment;
    # a UDP datagram in 2 fragments (non-TCP).
    cap = Pcap(1)
    pkts = conversation("frag4", cport=50040, n=1)
    req_idx = 3  # after the handshake
    frags = fragment_v4(pkts[req_idx], [32, 64])
    for i, pkt in enumerate(pkts):
        if i == req_idx:
            for f in (frags[2], frags[0], frags[2], frags[1]):
                cap.add(ether(f))
        else:
            cap.add(ether(pkt))
    big_udp = ipv4("192.168.1.10", "192.168.1.1", 17, udp("192.168.1.10", "192.168.1.1", 5000, 443, bytes(100)), 99)
    for f in fragment_v4(big_udp, [56]):
        cap.add(ether(f))
    cap.write("ipv4_frag.pcap")
    done("ipv4_frag.pcap")

    # IPv6 with hop-by-hop, destination options and a Fragment header: the first response in 3
    # fragments, the middle one last.
    cap = Pcap(1)
    pkts = conversation("frag6", client="2001:db8::10", server="2001:db8::100", cport=50050, n=1)
    resp_idx = 5  # handshake (3), request, ack, then the response
    frags = fragment_v6(pkts[resp_idx], [48, 208], ident=0xBEEF)
    for i, pkt in enumerate(pkts):
        if i == resp_idx:
            for f in (frags[0], frags[2], frags[1]):
                cap.add(ether(f))
        else:
            cap.add(ether(pkt))
    cap.write("ipv6_frag.pcap")
    done("ipv6_frag.pcap")

    # TLS ClientHellos (with and without SNI) and QUIC-ish UDP 443, next to plain HTTP.
    cap = Pcap(1)
    for pkt in conversation("tls", cport=50060, n=1):
        cap.add(ether(pkt))
    for cport, sni in ((50061, "secure.shop.example"), (50062, None)):
        c = Conn("192.168.1.10", cport, "10.0.0.100", sport=443, isn_c=cport, isn_s=cport * 3)
        c.handshake().send(True, client_hello(sni))
        for pkt in c.packets:
            cap.add(ether(pkt))
    quic = ipv4("192.168.1.10", "10.0.0.100", 17, udp("192.168.1.10", "10.0.0.100", 50063, 443, b"\xc3" + bytes(40)), 5)
    cap.add(ether(quic))
    cap.write("tls_quic.pcap")
    done("tls_quic.pcap")

    # An unsupported link type (USER0, 147): frames are counted and skipped.
    cap = Pcap(147)
    for pkt in conversation("user0", cport=50070, n=1)[:3]:
        cap.add(b"\x00\x01" + pkt)
    cap.write("unknown_link.pcap")
    done("unknown_link.pcap")

    # pcapng: Ethernet (microseconds, default) + raw IPv4 (nanoseconds), an NRB and an ISB to skip.
    ng = Pcapng()
    ng.shb("<")
    eth_if = ng.idb(1)
    raw_if = ng.idb(228, tsresol=9)
    ng.block(4, struct.pack("<HH", 1, 20) + ip_bytes("10.0.0.100") + b"shop.example\x00\x00\x00\x00" + bytes(4))
    for i, pkt in enumerate(
        interleave(conversation("ng1", cport=50080), conversation("ng2", client="192.168.1.12", cport=50081))
    ):
        if i % 2:
            ng.epb(raw_if, pkt)
        else:
            ng.epb(eth_if, ether(pkt))
    ng.block(5, struct.pack("<III", 0, 0, 0) + bytes(4))
    ng.write("two_ifaces.pcapng")
    done("two_ifaces.pcapng")

    # pcapng, two sections: big-endian (Ethernet, 2^-20 s resolution; EPB, SPB and obsolete PB), then
    # little-endian (SLL with millisecond resolution and if_tsoffset, raw IPv6).
    ng = Pcapng()
    ng.shb(">")
    ng.idb(1, tsresol=0x94)
    pkts = conversation("sec1", cport=50090, n=1)
    for i, pkt in enumerate(pkts):
        if i == 3:
            ng.spb(ether(pkt))
        elif i == 4:
            ng.pb(0, ether(pkt))
        else:
            ng.epb(0, ether(pkt))
    ng.shb("<")
    ng.idb(113, tsresol=3, tsoffset=1_000_000)
    ng.idb(229)
    for i, pkt in enumerate(conversation("sec2", cport=50091, n=1)):
        ng.epb(0, sll(pkt), step_ns=2_000_000, tsoffset=1_000_000)
        if i == 2:
            for pkt6 in conversation("sec2v6", client="2001:db8::10", server="2001:db8::100", cport=50092, n=1):
                ng.epb(1, pkt6)
    ng.write("sections.pcapng")
    done("sections.pcapng")

    # pcapng with garbage in the middle: 8 good packets, then bytes that are no block.
    ng = Pcapng()
    ng.shb("<")
    ng.idb(1)
    for pkt in conversation("bad", cport=50100, n=1)[:8]:
        ng.epb(0, ether(pkt))
    ng.blocks.append(b"\xde\xad\xbe\xef" * 4 + b"GARBAGE!" * 4)
    for pkt in conversation("bad", cport=50100, n=1)[8:]:
        ng.epb(0, ether(pkt))
    ng.write("corrupt_middle.pcapng")
    done("corrupt_middle.pcapng")
    return written


if __name__ == "__main__":
    for name in make_all():
        print(f"{name:28} {(HERE / name).stat().st_size:7} bytes")
