"""Body facts of the native engine: gzip / deflate prefixes decoded (bounded), bad encodings diagnosed."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from stickyforensics.model import BODY_PREFIX_LIMIT
from stickyforensics.reconstruct.http1_body import BodyAccumulator, decodable_coding
from tests.unit.reconstruct.tcpbuild import Conversation, reconstruct

GET = b"GET /account HTTP/1.1\r\nHost: app.example\r\n\r\n"
PAGE = b"<html><body><h1>BAD SESSION</h1>" + b"<p>please log in again</p>" * 40 + b"</body></html>"


def respond(body: bytes, coding: str, *, chunked: bool = False, sizes: list[int] | None = None):  # type: ignore[no-untyped-def]
    if chunked:
        pieces = [body[i : i + 100] for i in range(0, len(body), 100)]
        framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % coding.encode()
        wire = head + framed + b"0\r\n\r\n"
    else:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (coding.encode(), len(body))
        wire = head + body
    c = Conversation()
    c.handshake()
    c.send(GET)
    c.reply(wire, sizes=sizes)
    c.close()
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.response is not None
    return tx, res


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_gzip_body_prefix_is_decoded_and_size_describes_the_wire(chunked: bool) -> None:
    wire = gzip.compress(PAGE)
    tx, res = respond(wire, "gzip", chunked=chunked, sizes=[7, 50, 300])
    body = tx.response.body  # type: ignore[union-attr]
    assert body.prefix == PAGE[:BODY_PREFIX_LIMIT]
    assert b"BAD SESSION" in body.prefix
    assert body.size == len(wire)
    assert body.complete and res.diagnostics == ()


@pytest.mark.parametrize(
    "wire",
    [zlib.compress(PAGE), zlib.compress(PAGE)[2:-4], gzip.compress(PAGE)],
    ids=["zlib", "raw-deflate", "gzip-labelled-deflate"],
)
def test_deflate_body_prefix_is_decoded_in_every_framing_servers_use(wire: bytes) -> None:
    tx, res = respond(wire, "deflate", sizes=[1, 1, 1, 40])
    assert tx.response is not None
    assert tx.response.body.prefix == PAGE[:BODY_PREFIX_LIMIT]
    assert res.diagnostics == ()


def test_broken_gzip_becomes_a_diagnostic_and_keeps_the_wire_bytes() -> None:
    wire = b"this is not gzip at all, BAD SESSION"
    tx, res = respond(wire, "gzip")
    assert tx.response is not None and tx.response.body.prefix == wire
    assert [d.code for d in res.diagnostics] == ["http.bad_content_encoding"]
    assert "http.bad_content_encoding" in tx.notes


def test_gzip_corrupted_after_its_start_keeps_what_decoded() -> None:
    good = gzip.compress(os.urandom(300) + PAGE)
    wire = good[:200] + bytes(b ^ 0x5A for b in good[200:])
    tx, res = respond(wire, "gzip")
    assert tx.response is not None
    assert 0 < len(tx.response.body.prefix) < BODY_PREFIX_LIMIT
    assert [d.code for d in res.diagnostics] == ["http.bad_content_encoding"]


def test_a_compression_bomb_inflates_no_further_than_the_prefix() -> None:
    acc = BodyAccumulator()
    acc.decode_as("gzip")
    bomb = gzip.compress(b"\0" * (64 << 20))
    for i in range(0, len(bomb), 4096):
        acc.add(bomb[i : i + 4096])
        inflater = acc._inflater
        assert inflater is None or len(inflater.out) <= BODY_PREFIX_LIMIT
    info = acc.info()
    assert info.prefix == b"\0" * BODY_PREFIX_LIMIT and info.size == len(bomb)


def test_stacked_or_unknown_codings_keep_the_wire_bytes() -> None:
    assert decodable_coding("GZIP") == "gzip"
    assert decodable_coding("identity, deflate") == "deflate"
    assert decodable_coding("gzip, br") is None
    assert decodable_coding("br") is None
    tx, res = respond(b"\x0b\x02\x80BAD", "br")
    assert tx.response is not None and tx.response.body.prefix == b"\x0b\x02\x80BAD" and res.diagnostics == ()


def test_decoding_stops_quietly_after_a_capture_gap() -> None:
    wire = gzip.compress(os.urandom(4000))
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(wire)
    c = Conversation()
    c.handshake()
    c.send(GET)
    c.reply(head + wire[:100])
    c.skip(False, 500)
    c.reply(wire[600:])
    c.close()
    res = reconstruct(c.segments)
    (tx,) = res.transactions
    assert tx.response is not None and not tx.response.body.complete
    assert "http.bad_content_encoding" not in [d.code for d in res.diagnostics]
