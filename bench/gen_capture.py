"""Generate a large synthetic capture of keep-alive HTTP/1.1 traffic with load-balancer cookies.

    python bench/gen_capture.py --packets 1000000 -o bench/data/large.pcap   # ~1M packets, ~400 MB
    python bench/gen_capture.py --packets 10000 -o bench/data/small.pcap

What it contains (deterministic for a given ``--seed``):

* many clients (10.x.y.z) arriving over time and talking to one VIP
  (192.0.2.80:80), their connections interleaved in time; 70% use one
  keep-alive connection, 30% two sequential ones (the first ends with
  ``Connection: close`` and a server-side FIN);
* Ethernet / IPv4 / TCP with real 3-way handshakes (MSS, SACK, timestamps,
  window scale options), seq/ack that add up, valid IP and TCP checksums,
  delayed ACKs (one per two response segments) and FIN teardown;
* cookies: NetScaler ``NSC_shop-vs`` persistence (classic encoding of one of
  four backends, re-pinned to another backend on 2% of requests),
  ``JSESSIONID`` (issued on the first response, renewed by a 302 after
  ``POST /login``), a client-side ``_ga``; several ``Set-Cookie`` lines per
  response;
* responses: 304s, ``Content-Length`` bodies from 60 B to 30 KB (multi-segment)
  and ~30% chunked bodies.

The writer keeps memory flat: clients are generators merged through a heap by
timestamp, records are written in batches.
"""

from __future__ import annotations

import argparse
import heapq
import random
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

VIP = bytes((192, 0, 2, 80))
VIP_PORT = 80
BACKENDS = ((10, 0, 0, 4), (10, 0, 0, 5), (10, 0, 0, 6), (10, 0, 0, 7))
MSS = 1460
T0_US = 1_700_000_000_000_000
MAC_CLIENT_SIDE = bytes.fromhex("02000000c1c1")
MAC_SERVER_SIDE = bytes.fromhex("02000000a0a0")
SYN_OPTS = b"\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07"
FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10

PATHS = ("/", "/catalog", "/catalog/item", "/cart", "/api/stock", "/static/app.js", "/account", "/search")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605",
)
_TEXT = b'<div class="item"><span>sticky sessions</span><b>load balancer</b></div>\n' * 600


def nsc_value(backend: tuple[int, int, int, int], port: int = 80) -> str:
    """NetScaler's classic cookie value: IP XOR 0x03081E11 and port XOR 0x3630 around a fixed middle."""
    ip = int.from_bytes(bytes(backend), "big") ^ 0x03081E11
    return f"ffffffff{ip:08x}45525d5f4f58455e445a4a42{port ^ 0x3630:04x}"


def _fold(s: int) -> int:
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


class Flow:
    """One TCP connection's packet factory (Ethernet + IPv4 + TCP, checksums included)."""

    __slots__ = ("c_ip", "c_port", "c_seq", "eth_c2s", "eth_s2c", "ident", "ip_base", "pseudo", "s_seq")

    def __init__(self, c_ip: bytes, c_port: int, rng: random.Random) -> None:
        self.c_ip = c_ip
        self.c_port = c_port
        self.c_seq = rng.getrandbits(32)
        self.s_seq = rng.getrandbits(32)
        self.ident = rng.getrandbits(16)
        self.eth_c2s = MAC_SERVER_SIDE + MAC_CLIENT_SIDE + b"\x08\x00"
        self.eth_s2c = MAC_CLIENT_SIDE + MAC_SERVER_SIDE + b"\x08\x00"
        words = struct.unpack(">HHHH", c_ip + VIP)
        # Fixed IPv4 header words: version/IHL/TOS, DF, TTL/proto, both addresses.
        self.ip_base = 0x4500 + 0x4000 + (64 << 8 | 6) + sum(words)
        self.pseudo = sum(words) + 6

    def packet(self, from_client: bool, flags: int, payload: bytes = b"", options: bytes = b"") -> bytes:
        if from_client:
            src, dst, sp, dp, seq, ack = self.c_ip, VIP, self.c_port, VIP_PORT, self.c_seq, self.s_seq
        else:
            src, dst, sp, dp, seq, ack = VIP, self.c_ip, VIP_PORT, self.c_port, self.s_seq, self.c_seq
        hlen = 20 + len(options)
        tcp_len = hlen + len(payload)
        hdr = struct.pack(">HHIIBBHHH", sp, dp, seq, ack if flags & ACK else 0, hlen << 2, flags, 502, 0, 0)
        seg = hdr + options + payload
        body = seg + b"\x00" if tcp_len & 1 else seg
        s = int.from_bytes(body, "big") % 0xFFFF + self.pseudo + tcp_len
        csum = (~_fold(s)) & 0xFFFF or 0xFFFF
        self.ident = (self.ident + 1) & 0xFFFF
        total = 20 + tcp_len
        ipsum = (~_fold(self.ip_base + total + self.ident)) & 0xFFFF
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, self.ident, 0x4000, 64, 6, ipsum, src, dst)
        eth = self.eth_c2s if from_client else self.eth_s2c
        return eth + ip + seg[:16] + struct.pack(">H", csum) + seg[18:]

    def send(self, from_client: bool, data: bytes) -> Iterator[tuple[bool, bytes]]:
        """Segments of ``data`` as (is_last, frame); lazily, so ACKs made in between ack only what was sent."""
        for i in range(0, len(data), MSS):
            chunk = data[i : i + MSS]
            last = i + MSS >= len(data)
            pkt = self.packet(from_client, ACK | PSH if last else ACK, chunk)
            if from_client:
                self.c_seq = (self.c_seq + len(chunk)) & 0xFFFFFFFF
            else:
                self.s_seq = (self.s_seq + len(chunk)) & 0xFFFFFFFF
            yield last, pkt


def _response(rng: random.Random, status: int, set_cookies: list[str], close: bool, chunked_ok: bool) -> bytes:
    head = [
        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Modified' if status == 304 else 'Found'}",
        "Server: Apache",
        "Date: Tue, 14 Nov 2023 22:13:20 GMT",
        "Cache-Control: private",
    ]
    head += [f"Set-Cookie: {c}" for c in set_cookies]
    body = b""
    if status == 302:
        head.append("Location: /account")
        head.append("Content-Length: 0")
    elif status == 200:
        size = int(60 * (500 ** rng.random()))  # log-uniform 60 B .. 30 KB
        start = rng.randrange(0, len(_TEXT) - size)
        payload = _TEXT[start : start + size]
        head.append("Content-Type: text/html; charset=utf-8")
        if chunked_ok and rng.random() < 0.3:
            head.append("Transfer-Encoding: chunked")
            parts = []
            for i in range(0, len(payload), 4000):
                piece = payload[i : i + 4000]
                parts.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            body = b"".join(parts) + b"0\r\n\r\n"
        else:
            head.append(f"Content-Length: {len(payload)}")
            body = payload
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def client(cid: int, start_us: int, rng: random.Random, proxies: int = 0) -> Iterator[tuple[int, bytes]]:
    """One client's packets as (time in microseconds, frame), in time order.

    ``proxies``: the client is behind that many proxy addresses (172.31.0.1...), one per connection, which
    name it in ``X-Forwarded-For``."""
    c_ip = bytes((10, 16 + ((cid >> 16) & 0x3F), (cid >> 8) & 0xFF, cid & 0xFF))
    forwarded = ".".join(str(b) for b in c_ip)
    agent = rng.choice(AGENTS)
    backend = rng.randrange(len(BACKENDS))
    jsession: str | None = None
    ga = f"GA1.2.{rng.getrandbits(30)}.{1_690_000_000 + cid}"
    held_nsc: str | None = None
    n_requests = rng.randint(6, 14)
    connections = 2 if rng.random() < 0.3 else 1
    split = n_requests // 2 if connections == 2 else n_requests
    t = start_us
    rtt = rng.randint(800, 20_000)
    login_at = rng.randint(2, n_requests - 1)
    req_no = 0
    for conn in range(connections):
        if proxies:
            proxy = bytes((172, 31, 0, 1 + rng.randrange(proxies)))
            flow = Flow(proxy, 1024 + (cid * 2 + conn) % 64000, rng)
        else:
            flow = Flow(c_ip, 20000 + (cid * 7 + conn) % 40000, rng)
        yield t, flow.packet(True, SYN, options=SYN_OPTS)
        flow.c_seq = (flow.c_seq + 1) & 0xFFFFFFFF
        t += rtt // 2
        yield t, flow.packet(False, SYN | ACK, options=SYN_OPTS)
        flow.s_seq = (flow.s_seq + 1) & 0xFFFFFFFF
        t += rtt // 2
        yield t, flow.packet(True, ACK)
        count = split if conn == 0 else n_requests - split
        for k in range(count):
            req_no += 1
            last_on_conn = k == count - 1
            close = last_on_conn and conn == 0 and connections == 2
            cookies = []
            if held_nsc:
                cookies.append(f"NSC_shop-vs={held_nsc}")
            if jsession:
                cookies.append(f"JSESSIONID={jsession}")
            cookies.append(f"_ga={ga}")
            login = req_no == login_at
            path = "/login" if login else rng.choice(PATHS)
            method = "POST" if login else "GET"
            lines = [
                f"{method} {path}?r={req_no} HTTP/1.1",
                "Host: shop.example",
                f"User-Agent: {agent}",
                "Accept: text/html,application/xhtml+xml",
                "Accept-Language: en-US,en;q=0.9",
                "Cookie: " + "; ".join(cookies),
            ]
            if proxies:
                lines.append(f"X-Forwarded-For: {forwarded}")
            body = b""
            if login:
                body = b"user=alice&password=secret"
                lines.append("Content-Type: application/x-www-form-urlencoded")
                lines.append(f"Content-Length: {len(body)}")
            request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
            set_cookies = []
            if held_nsc is None or rng.random() < 0.02:
                if held_nsc is not None:
                    backend = (backend + 1 + rng.randrange(len(BACKENDS) - 1)) % len(BACKENDS)
                held_nsc = nsc_value(BACKENDS[backend])
                set_cookies.append(f"NSC_shop-vs={held_nsc};path=/;httponly")
            if jsession is None or login:
                jsession = f"{rng.getrandbits(64):016X}{rng.getrandbits(64):016X}"
                set_cookies.append(f"JSESSIONID={jsession}; Path=/; HttpOnly")
                if login:
                    set_cookies.append("remember=1; Max-Age=2592000; Path=/; Secure")
            status = 302 if login else (304 if rng.random() < 0.15 else 200)
            response = _response(rng, status, set_cookies, close, chunked_ok=True)
            t += rng.randint(200_000, 3_000_000)  # think time
            for _, pkt in flow.send(True, request):
                yield t, pkt
                t += 50
            t += rtt // 2 + rng.randint(500, 30_000)  # server time
            for i, (last, pkt) in enumerate(flow.send(False, response)):
                yield t, pkt
                t += 120
                if i % 2 == 1 or last:
                    yield t, flow.packet(True, ACK)  # delayed ACK: one per two segments
                    t += 60
            t += rtt
        if connections == 2 and conn == 0:
            yield t, flow.packet(False, FIN | ACK)
            flow.s_seq = (flow.s_seq + 1) & 0xFFFFFFFF
            t += rtt // 2
            yield t, flow.packet(True, FIN | ACK)
            flow.c_seq = (flow.c_seq + 1) & 0xFFFFFFFF
        else:
            yield t, flow.packet(True, FIN | ACK)
            flow.c_seq = (flow.c_seq + 1) & 0xFFFFFFFF
            t += rtt // 2
            yield t, flow.packet(False, FIN | ACK)
            flow.s_seq = (flow.s_seq + 1) & 0xFFFFFFFF
        t += rtt // 2
        yield t, flow.packet(not (connections == 2 and conn == 0), ACK)
        t += rng.randint(1000, 50_000)


def generate(out: Path, packets: int, seed: int, arrival_us: int = 60_000, proxies: int = 0) -> dict[str, int]:
    """Write the capture; return counts (packets, clients, bytes)."""
    rng = random.Random(seed)
    heap: list[tuple[int, int, bytes, Iterator[tuple[int, bytes]]]] = []
    written = 0
    clients = 0
    next_arrival = T0_US
    seq = 0
    batch: list[bytes] = []
    pack_rec = struct.Struct("<IIII").pack
    with out.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while True:
            # Admit new clients while the target is not reached (their packets are all written).
            while written + 80 * len(heap) < packets and (not heap or next_arrival <= heap[0][0]):
                crng = random.Random(rng.getrandbits(64))
                gen = client(clients, next_arrival, crng, proxies)
                first = next(gen)
                heapq.heappush(heap, (first[0], seq, first[1], gen))
                seq += 1
                clients += 1
                next_arrival += rng.randint(arrival_us // 2, arrival_us * 3 // 2)
            if not heap:
                break
            t, _, frame, gen = heapq.heappop(heap)
            sec, usec = divmod(t, 1_000_000)
            batch.append(pack_rec(sec, usec, len(frame), len(frame)) + frame)
            written += 1
            if len(batch) >= 20000:
                fh.write(b"".join(batch))
                batch.clear()
            nxt = next(gen, None)
            if nxt is not None:
                heapq.heappush(heap, (nxt[0], seq, nxt[1], gen))
                seq += 1
        fh.write(b"".join(batch))
    return {"packets": written, "clients": clients, "bytes": out.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=Path(__file__).parent / "data" / "large.pcap")
    ap.add_argument("--packets", type=int, default=1_000_000, help="approximate number of packets (default 1M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--proxies", type=int, default=0, help="clients behind this many proxies (X-Forwarded-For)")
    args = ap.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stats = generate(args.output, args.packets, args.seed, proxies=args.proxies)
    took = time.perf_counter() - started
    print(
        f"{args.output}: {stats['packets']} packets, {stats['clients']} clients, "
        f"{stats['bytes'] / 1e6:.1f} MB in {took:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
