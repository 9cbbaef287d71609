"""Start lines and field blocks parsed once per distinct line or block (``http1_lines``)."""

from __future__ import annotations

from sys import intern

from stickyforensics.reconstruct.http1_lines import (
    field_framing,
    plain_block,
    plain_fields,
    plain_framing,
    request_line,
    status_line,
)
from stickyforensics.reconstruct.http1_message import head_end


def test_request_lines_strict_and_lenient() -> None:
    assert request_line(b"GET /a?b=c HTTP/1.1\r\n") == ("GET", "/a?b=c", "HTTP/1.1")
    assert request_line(b"GET  /two spaces  HTTP/1.0\n") == ("GET", "/two spaces", "HTTP/1.0")
    assert request_line(b"DELETE\r\n") == ("DELETE", "", "")  # Wireshark's leniency, known methods only
    assert request_line(b"BREW /pot\r\n") is None
    assert request_line(b"GET /caf\xe9 HTTP/1.1\r\n") == ("GET", "/caf\u00e9", "HTTP/1.1")


def test_status_lines() -> None:
    assert status_line(b"HTTP/1.1 200 OK\r\n") == ("HTTP/1.1", 200, "OK")
    assert status_line(b"HTTP/1.1 204\r\n") == ("HTTP/1.1", 204, "")
    assert status_line(b"HTTP/1.1 2000 Big\r\n") is None


def test_a_repeated_line_gives_the_same_shared_objects() -> None:
    first = request_line(b"GET /same HTTP/1.1\r\n")
    again = request_line(bytes(bytearray(b"GET /same HTTP/1.1\r\n")))  # an equal line, another object
    assert first is again
    status = status_line(b"HTTP/1.1 302 Found\r\n")
    assert status is not None and status[0] is intern("HTTP/1.1")  # one object for every transaction


def test_a_long_line_is_parsed_but_not_remembered() -> None:
    line = b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n"
    first, again = request_line(line), request_line(line)
    assert first == again and first is not None and first[1] == "/" + "a" * 2000
    assert first is not again


def test_plain_fields_and_what_is_not_plain() -> None:
    assert plain_fields(["Host: h", "X-Colon: a :b", "X-Empty:"]) == [
        ("Host", "h"),
        ("X-Colon", "a :b"),
        ("X-Empty", ""),
    ]
    assert plain_fields(["X-Nbsp: \xa0v\xa0", "X-Cr: v\r"]) == [("X-Nbsp", "\xa0v\xa0"), ("X-Cr", "v\r")]
    for odd in (" folded", "\tfolded", "NoColon", ": no name", "Name : v", "Name\t: v", "A: b\nC: d"):
        assert plain_fields(["Host: h", odd]) is None, odd
    one, two = plain_fields(["Cookie: k=v"]), plain_fields(["Cookie: k=v"])
    assert one is not None and two is not None and one[0] is two[0]


def test_plain_block_fields_framing_and_encoding() -> None:
    block = b"\r\nHost: h\r\nContent-Length: 3\r\ncontent-encoding: gzip\r\n\r\n"
    assert plain_block(block) == (
        (("Host", "h"), ("Content-Length", "3"), ("content-encoding", "gzip")),
        ("3",),
        None,
        True,
    )
    assert plain_block(bytes(bytearray(block))) is plain_block(block)  # remembered
    te = b"\r\nTransfer-Encoding: gzip\r\nX: y\r\ntransfer-encoding:  chunked \r\n\r\n"
    assert plain_block(te) == (
        (("Transfer-Encoding", "gzip"), ("X", "y"), ("transfer-encoding", "chunked")),
        (),
        "gzip, chunked",
        False,
    )
    assert plain_block(b"\r\n\r\n") == ((), (), None, False)
    assert plain_block(b"\r\nHost: h\n\r\n") is None  # a bare LF: the careful loop reads it
    assert plain_block(b"\r\nHost: h\r\n folded\r\n\r\n") is None


def test_plain_framing_is_field_framing_of_the_fields() -> None:
    text = "\r\nContent-Length: 5\r\nX-Content-Length: 9\r\ncontent-length:6\r\nTransfer-Encoding: a\r\n\r\n"
    headers = plain_fields(text.split("\r\n")[1:-2])
    assert headers is not None
    assert plain_framing(text, text.lower()) == field_framing(headers) == (["5", "6"], "a")


def _head_end_two_finds(data: bytes, start: int) -> int:
    """The former implementation, for reference."""
    i = data.find(b"\n\r\n", start)
    j = data.find(b"\n\n", start, i + 1) if i >= 0 else data.find(b"\n\n", start)
    if j >= 0:
        return j + 2
    return i + 3 if i >= 0 else -1


def test_head_end_finds_the_first_empty_line() -> None:
    for data in (b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody", b"A\n\nB\r\n\r\n", b"A\r\n\r\n\n\n", b"no end\r\n", b"\n\r\n"):
        for start in range(4):
            assert head_end(data, start) == _head_end_two_finds(data, start)
            assert head_end(bytearray(data), start) == _head_end_two_finds(data, start)
