"""Seed corpora for the harnesses, made from the repository's small inputs (tests/data, samples/).

``build(harness, folder, max_len)`` writes one seed per file into ``folder``; seeds longer than
``max_len`` are cut (libFuzzer would cut them anyway). Captures are turned into the TCP and HTTP
harnesses' record formats with the project's own reader and reassembler.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from _harness import REPO
from segcodec import encode_conversation, encode_segments

PCAP_DIRS = (REPO / "tests" / "data" / "pcap", REPO / "tests" / "data" / "tls", REPO / "samples")
HAR_DIRS = (REPO / "tests" / "data" / "har", REPO / "samples")
COOKIE_VECTORS = REPO / "tests" / "unit" / "track" / "lb" / "cookie_vectors.json"

# Shapes the captures may lack: pipelining, 1xx, HEAD, CONNECT, upgrade, chunked with trailers,
# obsolete folding, bare LF, conflicting lengths.
_HTTP_SNIPPETS: tuple[tuple[tuple[bool, bytes], ...], ...] = (
    (
        (True, b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\n"),
        (False, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: s=1; Path=/\r\n\r\nokHTTP/1.1 200 OK\r\n"),
        (False, b"Content-Length: 9\r\n\r\n"),
    ),
    (
        (True, b"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (False, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (True, b"4;ext=1\r\nabcd\r\n0\r\nX-Trailer: t\r\n\r\n"),
        (False, b"HTTP/1.1 302 Found\r\nLocation: /\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    ),
    (
        (True, b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
        (False, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00\x05hello"),
    ),
    (
        (True, b"GET /ws HTTP/1.1\nUpgrade: websocket\nConnection: Upgrade\n\n"),
        (False, b"HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n\x81\x05hello"),
    ),
    (
        (True, b"GET / HTTP/1.0\r\nX-Long: a\r\n b\r\n\tc\r\nCookie: a=1; b=2\r\n\r\n"),
        (False, b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\nContent-Encoding: gzip\r\n\r\n"),
        (False, b"\x1f\x8b\x08\x00body until close"),
    ),
)
_COOKIE_LINES = (
    "SERVERID=s1; Path=/; HttpOnly",
    "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=-1; Domain=.Example.COM; Secure; SameSite=Lax",
    "NSC_x=ffffffff09; path=/;secure;httponly;expires=Sat, 21-May-16 15:39:03 GMT",
    "nameless; Partitioned; SameSite=None",
    "a=1; b=2; c=x=y==; =v; ;;",
    "Sun Nov  6 08:49:37 1994",
)


def build(harness: str, folder: Path, max_len: int) -> int:
    """Write the seeds of ``harness`` into ``folder``; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for seed in _SEEDS[harness]():
        if seed:
            seed = seed[:max_len]
            (folder / f"seed-{hashlib.sha1(seed).hexdigest()[:16]}").write_bytes(seed)
            count += 1
    return count


def _files(folders: tuple[Path, ...], suffixes: tuple[str, ...], max_size: int = 400_000) -> Iterator[Path]:
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name.endswith(suffixes) and path.stat().st_size <= max_size:
                yield path


def _captures() -> Iterator[Path]:
    return _files(PCAP_DIRS, (".pcap", ".pcapng", ".pcap.gz"))


def _pcap_seeds() -> Iterator[bytes]:
    for path in _captures():
        yield path.read_bytes()


def _segments_of(path: Path) -> list[object]:
    from stickyforensics.errors import InputError
    from stickyforensics.ingest.pcapread import open_capture

    try:
        _info, reader = open_capture(str(path))
    except InputError:
        return []
    with reader:
        return list(reader)


def _tcp_seeds() -> Iterator[bytes]:
    for path in _captures():
        segments = _segments_of(path)
        if segments:
            yield encode_segments(segments, 1 << 16)  # type: ignore[arg-type]


def _http1_seeds() -> Iterator[bytes]:
    for snippet in _HTTP_SNIPPETS:
        yield encode_conversation(snippet, 1 << 16)
        yield encode_conversation(snippet, 1 << 16, handshake=False)
    for path in _captures():
        for chunks in _connections(path)[:8]:
            if chunks:
                yield encode_conversation(chunks, 1 << 15)


def _connections(path: Path) -> list[list[tuple[bool, bytes]]]:
    """Each connection's reassembled bytes, as (from client, chunk) pieces in order."""
    from stickyforensics.reconstruct.tcp import TcpReassembler

    handlers: list[_Collect] = []

    def factory(conn: object) -> _Collect:
        handlers.append(_Collect())
        return handlers[-1]

    tcp = TcpReassembler(str(path), factory, [])  # type: ignore[arg-type]
    for seg in _segments_of(path):
        tcp.feed(seg)  # type: ignore[arg-type]
    tcp.finish()
    return [h.chunks for h in handlers]


class _Collect:
    """A reassembly handler that keeps each connection's bytes as (from client, chunk) pieces."""

    def __init__(self) -> None:
        self.chunks: list[tuple[bool, bytes]] = []

    def consumer(self, from_a: bool) -> _Side:
        return _Side(self.chunks, from_a)

    def closed(self, reason: str, ts: float) -> None:
        return None


class _Side:
    def __init__(self, chunks: list[tuple[bool, bytes]], from_a: bool) -> None:
        self.chunks = chunks
        self.from_a = from_a

    def begin(self, at_start: bool) -> None:
        return None

    def data(self, chunk: bytes, frame: int, ts: float) -> None:
        self.chunks.append((self.from_a, bytes(chunk)))

    def gap(self, nbytes: int, frame: int, ts: float) -> None:
        return None

    def end(self, frame: int, ts: float) -> None:
        return None


def _har_seeds() -> Iterator[bytes]:
    for path in _files(HAR_DIRS, (".har",)):
        yield path.read_bytes()


def _cookie_seeds() -> Iterator[bytes]:
    for line in _COOKIE_LINES:
        yield b"\x00" + line.encode()
        yield b"\x01" + line.encode("latin-1", "replace")
    for vector in _vectors():
        yield b"\x00" + f"{vector['cookie_name']}={vector['cookie_value']}; Path=/".encode()


def _lb_seeds() -> Iterator[bytes]:
    from stickyforensics.track.lb import DECODERS

    names = sorted(DECODERS)
    for vector in _vectors():
        text = f"{vector['cookie_name']}\x00{vector['cookie_value']}".encode()
        for pick in range(len(names)):
            yield bytes([pick]) + text


def _vectors() -> list[dict[str, str]]:
    data: list[dict[str, str]] = json.loads(COOKIE_VECTORS.read_text())
    return data


_SEEDS = {
    "pcap": _pcap_seeds,
    "tcp": _tcp_seeds,
    "http1": _http1_seeds,
    "har": _har_seeds,
    "cookie": _cookie_seeds,
    "lb": _lb_seeds,
}
