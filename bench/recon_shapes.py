"""Odd HTTP/1.x conversations for ``recon_guard.py``: the shapes real captures rarely hold.

Deterministic (seeded) mixes of start lines, header lines (folding, bare LF, spaces before the
colon, values with CR, NBSP, vertical tab or non-ASCII bytes, duplicated and conflicting
Content-Length, Transfer-Encoding lists, Content-Encoding), bodies (length, chunked with extensions
and trailers, until close) and segmentation (heads cut across segments, capture gaps), encoded as
``segcodec`` conversation records so that the guard can replay them through ``HttpReconstructor``.
"""

from __future__ import annotations

import gzip
import random
import struct
from collections.abc import Iterator

REQUEST_LINES = (
    b"GET / HTTP/1.1",
    b"GET /a?b=c HTTP/1.1",
    b"POST /form HTTP/1.0",
    b"GET  /two-spaces HTTP/1.1",
    b"GET /trailing HTTP/1.1 ",
    b"get /lower HTTP/1.1",
    b"M-SEARCH * HTTP/1.1",
    b"GET /no-version",
    b"DELETE",
    b"HEAD /h HTTP/1.1",
    b"OPTIONS * HTTP/1.1",
    b"GET http://proxy.example:8080/abs HTTP/1.1",
    b"GET /caf\xe9 HTTP/1.1",
    b"BREW /pot HTTP/1.1",
    b"GET / HTTP/9.9",
    b"CONNECT h.example:443 HTTP/1.1",
    b"GET relative HTTP/1.1",
    b"GET HTTPS://u:p@Secure.Example/x?q#f HTTP/1.1",
)
STATUS_LINES = (
    b"HTTP/1.1 200 OK",
    b"HTTP/1.1 200",
    b"HTTP/1.1 200 ",
    b"HTTP/1.0 404 Not Found",
    b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 204 No Content",
    b"HTTP/1.1 100 Continue",
    b"HTTP/1.1 302 Found",
    b"HTTP/1.1 200 d\xe9j\xe0 vu",
    b"HTTP/1.1 500\tTab",
    b"HTTP/1.1 2000 Bad",
)
FIELD_LINES = (
    b"Host: app.example",
    b"host:app.example:8080",
    b"HOST :  spaced",
    b"Host: bad host/evil",
    b"Host: [::1]:8080",
    b"Host: ",
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64)",
    b"Cookie: a=1; b=2",
    b"Set-Cookie: s=1; Path=/; HttpOnly",
    b"Set-Cookie: t=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
    b" folded continuation",
    b"\tfolded with a tab",
    b"X-Value: trailing cr\r",
    b"X-Nbsp: \xa0padded\xa0",
    b"X-Vt:\x0bvertical",
    b"X-Latin: caf\xe9",
    b"X-Empty:",
    b"X-Colon: a :b",
    b"NoColonHere",
    b": no name",
    b"X-Tab\t: tab before colon",
    b"Content-Encoding: gzip",
    b"Content-Encoding: br",
    b"Content-Length: x",
    b"Content-Length: 3, 3",
    b"Content-Length: 3,4",
    b"Content-Length: \xb2",
    b"Content-Length: +3",
    b"Content-Length:\t3 ",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: identity",
    b"Connection: close",
    b"Upgrade: websocket",
)
GZIPPED = gzip.compress(b"<p>Session timed out</p>", mtime=0)  # mtime=0: the same bytes every run


def _head(rng: random.Random, start: bytes, framing: list[bytes]) -> bytes:
    fields = [*rng.sample(FIELD_LINES, rng.randint(0, 6)), *framing]
    rng.shuffle(fields)
    lines = [start, *fields]
    ends = [b"\r\n" if rng.random() < 0.9 else b"\n" for _ in lines]
    head = b"".join(line + end for line, end in zip(lines, ends, strict=True))
    return head + (b"\r\n" if rng.random() < 0.95 else b"\n")


def _body(rng: random.Random) -> tuple[list[bytes], bytes]:
    """(framing header lines, body bytes) for one message."""
    payload = rng.choice((b"", b"abc", b"BAD SESSION here", b"x" * rng.randint(1, 3000), GZIPPED))
    kind = rng.random()
    if kind < 0.45:
        value = str(len(payload)).encode()
        name = rng.choice((b"Content-Length", b"content-length", b"CONTENT-LENGTH"))
        return [name + b": " + value], payload
    if kind < 0.8:
        chunks = []
        for i in range(0, len(payload), 700):
            piece = payload[i : i + 700]
            ext = b";ext=1" if rng.random() < 0.2 else b""
            chunks.append(f"{len(piece):x}".encode() + ext + b"\r\n" + piece + b"\r\n")
        trailer = b"X-Trailer: t\r\n" if rng.random() < 0.3 else b""
        return [b"Transfer-Encoding: chunked"], b"".join(chunks) + b"0\r\n" + trailer + b"\r\n"
    return [], b""


def _stream(rng: random.Random, lines: tuple[bytes, ...], messages: int) -> bytes:
    out = []
    for _ in range(messages):
        framing, body = _body(rng)
        out.append(_head(rng, rng.choice(lines), framing) + body)
    return b"".join(out)


def _records(rng: random.Random, from_client: bool, data: bytes) -> list[tuple[int, bytes]]:
    pieces: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        size = rng.choice((1, 7, 40, 200, 1460, 4000))
        head = 0x01 if from_client else 0
        piece = data[pos : pos + size]
        if rng.random() < 0.03:
            head |= 0x02  # a capture gap of piece[0] bytes before this piece
        pieces.append((head, piece))
        pos += size
    return pieces


def shapes(count: int, seed: int = 20240) -> Iterator[tuple[str, bytes]]:
    """``count`` conversations as (name, segcodec conversation record bytes)."""
    rng = random.Random(seed)
    for i in range(count):
        requests = _stream(rng, REQUEST_LINES, rng.randint(1, 4))
        responses = _stream(rng, STATUS_LINES, rng.randint(0, 4))
        client = _records(rng, True, requests)
        server = _records(rng, False, responses)
        merged = []
        while client or server:
            side = client if client and (not server or rng.random() < 0.5) else server
            merged.append(side.pop(0))
        options = rng.choice((0x01, 0x07, 0x03, 0x09, 0x00))
        out = bytearray([options])
        for head, piece in merged:
            out += struct.pack(">BH", head, len(piece)) + piece
        yield f"shape-{i}", bytes(out)
