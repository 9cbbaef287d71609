"""Awkward but healthy traffic: nothing here is a stickiness problem, so nothing may be reported.

* HTTP pipelining: after logging in, a raw socket sends four requests in one segment;
* chunked responses (``/app/chunked``);
* a connection caught mid-stream: the client logged in and got its cookies *before* tcpdump started,
  so the capture has no SYN and no ``Set-Cookie`` for it, only requests that present cookies;
* non-HTTP traffic on other lab ports (a line protocol and binary blobs over TCP, UDP datagrams);
* packet loss and retransmissions on a loopback of a network namespace the lab creates (netem when the
  kernel has it, else a dropping token-bucket shaper), captured to ``lossy.pcap``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from typing import BinaryIO

from lab.capture import Capture
from lab.exchange import Exchange, parse_set_cookie
from lab.httpclient import HttpClient
from lab.lossy import lossy_namespace, ns_argv, run_client
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import browse, expect_ok, login, sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules

_MAX_LINES = 1000


def _read_response(f: BinaryIO) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP/1.1 response from a buffered socket file (Content-Length or chunked body)."""
    readline, read = f.readline, f.read
    status_line = readline(8192).decode("latin-1")
    if not status_line:
        raise LabError("pipelined connection closed before all responses arrived")
    status = int(status_line.split()[1])
    headers: list[tuple[str, str]] = []
    for _ in range(_MAX_LINES):  # bounded, like every loop of the lab; EOF ends it too
        line = readline(8192).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    hmap = dict(headers)
    if "chunked" in hmap.get("transfer-encoding", ""):
        body = b""
        for _ in range(_MAX_LINES):
            size = int(readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                readline(1024)
                break
            body += read(size)
            readline(8)
    else:
        body = read(int(hmap.get("content-length", "0")))
    return status, headers, body


def pipeline(ip: str, host: str, port: int, cookies: dict[str, str], paths: list[str], log: list[Exchange]) -> None:
    """Send every request at once on one connection, then read the responses in order."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    raw = "".join(
        f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: lab-pipeliner/1.0\r\nCookie: {cookie}\r\n\r\n"
        for p in paths
    ).encode()
    with socket.create_connection((host, port), timeout=10, source_address=(ip, 0)) as sock:
        started = time.time()
        sock.sendall(raw)
        f = sock.makefile("rb")
        for p in paths:
            status, headers, body = _read_response(f)
            hmap = dict(headers)
            log.append(
                Exchange(
                    client=ip,
                    time=started,
                    method="GET",
                    target=p,
                    cookies=dict(cookies),
                    status=status,
                    backend=hmap.get("x-backend"),
                    set_cookies=[c for n, v in headers if n == "set-cookie" and (c := parse_set_cookie(v))],
                    body=body[:200].decode("utf-8", "replace"),
                    note="pipelined",
                )
            )
            if status >= 400:
                raise LabError(f"pipelined {p} -> {status}")


class _LineServer:
    """A tiny non-HTTP TCP service (line commands and binary frames) plus a UDP sink, in threads."""

    def __init__(self, ip: str, tcp_port: int, udp_port: int) -> None:
        self.tcp = socket.create_server((ip, tcp_port))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((ip, udp_port))
        self.udp.settimeout(0.2)
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._tcp_loop, daemon=True),
            threading.Thread(target=self._udp_loop, daemon=True),
        ]
        for t in self.threads:
            t.start()

    def _tcp_loop(self) -> None:
        self.tcp.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                conn.sendall(b"+OK labkv ready\r\n")
                try:
                    while data := conn.recv(4096):
                        conn.sendall(b"+OK " + str(len(data)).encode() + b"\r\n" + bytes(reversed(data[:64])))
                except OSError:
                    pass

    def _udp_loop(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(2048)
                self.udp.sendto(b"ack:" + data[:32], peer)
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=2)
        self.tcp.close()
        self.udp.close()


def _non_http(ip: str, server_ip: str, tcp_port: int, udp_port: int) -> None:
    with socket.create_connection((server_ip, tcp_port), timeout=5, source_address=(ip, 0)) as s:
        s.recv(64)
        for msg in (b"SET user:1 alice\r\n", b"\x00\x01\x02binary\xff\xfe" + secrets.token_bytes(200), b"QUIT\r\n"):
            s.sendall(msg)
            s.recv(4096)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind((ip, 0))
        u.settimeout(2)
        for i in range(3):
            u.sendto(b"metric lab.noise %d\n" % i, (server_ip, udp_port))
            u.recvfrom(64)


def _lossy_part(stack: Stack, log: list[Exchange]) -> tuple[str, list[str], list[str]]:
    """(description sentence, extra inputs, extra clients)."""
    ns = f"sflab{os.getpid()}"
    port = stack.port(7)
    server_ip, client_ip = stack.ip(50), stack.ip(51)
    with lossy_namespace(ns) as method:
        if method is None:
            return (
                "The packet-loss part was skipped: no network namespace with a lossy qdisc could be set up "
                "here (needs root, 'ip netns' and sch_netem or sch_tbf).",
                [],
                [],
            )
        backend = stack.sup.start(
            f"{stack.number:02d}-backend-lossy",
            ns_argv(
                ns, [sys.executable, "-m", "lab.backend", "--node", "lossy1", "--host", server_ip, "--port", str(port)]
            ),
        )
        stack.started.append(backend)
        cap = Capture(stack.sup, stack.outdir / "lossy.pcap", [port], netns=ns)
        try:
            exchanges = run_client(ns, client_ip, server_ip, port, downloads=4)
        finally:
            cap.stop()
            stack.sup.stop(backend)
    log.extend(exchanges)
    done = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(stack.outdir / "lossy.pcap"),
            "-Y",
            "tcp.analysis.retransmission",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    retrans = len(done.stdout.split())
    return (
        f"Packet loss: inside network namespace {ns} the loopback had a {method}; lossy.pcap holds {retrans} "
        f"TCP retransmission(s) for client {client_ip}, whose session stayed healthy.",
        ["lossy.pcap"],
        [client_ip],
    )


def run(stack: Stack) -> Outcome:
    backends = [stack.backend(f"nz{i}", 20 + i, 1) for i in (1, 2)]
    stack.wait_backends(backends)
    port, tcp_port, udp_port = stack.port(0), stack.port(5), stack.port(6)
    stack.haproxy("haproxy", sticky_haproxy(f"{stack.lb_ip}:{port}", backends), [(stack.lb_ip, port)])
    other = _LineServer(stack.ip(40), tcp_port, udp_port)
    log: list[Exchange] = []
    try:
        piper, chunky, late, binary = (stack.client_ip(k) for k in (1, 2, 3, 4))
        # the late client's connection, login and cookies all happen before the capture starts
        late_client = HttpClient(late, stack.lb_ip, port, [])
        login(late_client, "late")
        browse(late_client, ["/app/home"])
        with stack.capture([port, tcp_port, udp_port]):
            pc = HttpClient(piper, stack.lb_ip, port, log)
            login(pc, "pipes")
            pc.close()
            pipeline(piper, stack.lb_ip, port, pc.jar.values, ["/app/a", "/app/b", "/static/help.txt", "/app/c"], log)
            cc = HttpClient(chunky, stack.lb_ip, port, log)
            login(cc, "chunks")
            for _ in range(2):
                ex = expect_ok(cc.request("GET", "/app/chunked"), "chunked")
                if "part 3" not in ex.body:
                    raise LabError(f"chunked body incomplete: {ex.body!r}")
            cc.close()
            late_client.log = log
            browse(late_client, ["/app/inbox", "/app/home", "/app/chunked"])
            late_client.close()
            _non_http(binary, stack.ip(40), tcp_port, udp_port)
        loss_text, loss_inputs, loss_clients = _lossy_part(stack, log)
    finally:
        other.close()
    return Outcome(
        description=(
            "Noise, all healthy: HAProxy (cookie SERVERID) in front of two backends. Client "
            f"{piper} pipelines four requests in one segment; {chunky} reads chunked responses; {late}'s "
            "connection was opened, logged in and given its cookies before tcpdump started (no SYN, no Set-Cookie "
            f"in the capture); {binary} speaks a line/binary protocol over TCP port {tcp_port} and UDP port "
            f"{udp_port} (not HTTP). {loss_text}"
        ),
        inputs=["capture.pcap", *loss_inputs],
        rules=Rules(persistence=("SERVERID",), session="JSESSIONID"),
        exchanges=log,
        clients=[piper, chunky, late, *loss_clients],
        intended=set(),
        extra={"lb": "haproxy", "non_http_client": binary},
    )


SCENARIO = Scenario("noise", 9, None, ("haproxy", "tcpdump", "ip", "tc"), run)
