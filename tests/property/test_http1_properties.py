"""Hypothesis properties of the HTTP/1.x message parser alone (no TCP), h11's any-split idea.

- a stream of valid messages (pipelined, chunked with extensions and trailers, obsolete folding, bare LF,
  empty lines between messages, interim responses, a close-delimited last body) gives the same messages
  and the same diagnostics however it is cut into segments;
- arbitrary bytes cut anywhere never raise, and the parser never buffers more than a header block.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.model import BODY_PREFIX_LIMIT, DiagLevel
from stickyforensics.reconstruct.http1 import (
    MAX_HEAD,
    ROLE_REQUEST,
    ROLE_RESPONSE,
    ROLE_UNKNOWN,
    HttpMessage,
    MessageParser,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
_value = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=;,/ .-_", max_size=24).map(
    str.strip
)


class Recorder:
    """A MessageOwner keeping what the parser reports, in order."""

    def __init__(self) -> None:
        self.messages: list[HttpMessage] = []
        self.diags: list[str] = []

    def roles_found(self, parser: MessageParser, is_request: bool) -> None:
        parser.role = ROLE_REQUEST if is_request else ROLE_RESPONSE

    def message_started(self, parser: MessageParser, msg: HttpMessage) -> None: ...

    def request_method(self, response: HttpMessage) -> str | None:
        return None

    def message_done(self, parser: MessageParser, msg: HttpMessage) -> None:
        self.messages.append(msg)

    def upgraded(self, parser: MessageParser, msg: HttpMessage) -> None:
        parser.tunnel()

    def not_http(self, parser: MessageParser, why: str) -> None:
        self.diags.append("not_http")

    def diag(self, code: str, message: str, frame: int | None, level: DiagLevel = DiagLevel.WARNING) -> None:
        self.diags.append(code)


def parse(stream: bytes, cuts: list[int], role: int) -> Recorder:
    owner = Recorder()
    parser = MessageParser(owner, role)  # type: ignore[arg-type]
    parser.begin(True)
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(stream)}), len(stream)]
    for frame, (lo, hi) in enumerate(itertools.pairwise(bounds), 1):
        parser.data(stream[lo:hi], frame, float(frame))
        assert len(parser.buf) <= MAX_HEAD
    parser.end(len(bounds), float(len(bounds)))
    return owner


def projection(owner: Recorder) -> list[object]:
    out: list[object] = [
        (
            m.is_request,
            m.method,
            m.target,
            m.version,
            m.status,
            m.reason,
            tuple(m.headers),
            m.body.info().size,
            m.body.info().prefix,
            m.framing,
            m.error,
            tuple(m.notes),
        )
        for m in owner.messages
    ]
    return [*out, tuple(owner.diags)]


@st.composite
def headers(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Extra header lines (maybe folded) and the line ending of the block."""
    eol = b"\n" if draw(st.integers(0, 4)) == 0 else b"\r\n"
    lines = b""
    for name in draw(st.lists(_token, max_size=3)):
        lines += name.title().encode() + b": " + draw(_value).encode() + eol
        if draw(st.integers(0, 5)) == 0:
            lines += b" " + draw(_value).encode() + b"x" + eol  # obsolete line folding
    return lines, eol


@st.composite
def body(draw: st.DrawFn, eol: bytes) -> tuple[bytes, bytes]:
    """(framing header lines, body bytes on the wire)."""
    data = draw(st.binary(max_size=200))
    if draw(st.booleans()):
        return b"Content-Length: " + str(len(data)).encode() + eol, data
    size = draw(st.integers(1, 64))
    wire = b""
    for i in range(0, len(data), size):
        piece = data[i : i + size]
        ext = b";ext=1" if draw(st.integers(0, 3)) == 0 else b""
        wire += f"{len(piece):x}".encode() + ext + b"\r\n" + piece + b"\r\n"
    trailer = b"X-Trailer: " + draw(_token).encode() + b"\r\n" if draw(st.booleans()) else b""
    return b"Transfer-Encoding: chunked" + eol, wire + b"0\r\n" + trailer + b"\r\n"


@st.composite
def request(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS"]))
    target = "/" + "/".join(draw(st.lists(_token, max_size=3)))
    extra, eol = draw(headers())
    start = f"{method} {target} HTTP/1.{draw(st.integers(0, 1))}".encode() + eol
    blank = b"\r\n" * draw(st.integers(0, 1))  # RFC 9112 §2.2: empty lines before a request are skipped
    if method in ("POST", "PUT"):
        framing, wire = draw(body(eol))
        return blank + start + b"Host: h" + eol + extra + framing + eol + wire
    return blank + start + b"Host: h" + eol + extra + eol


@st.composite
def response(draw: st.DrawFn) -> bytes:
    status = draw(st.sampled_from([100, 103, 200, 204, 302, 304, 404, 500]))
    extra, eol = draw(headers())
    start = f"HTTP/1.1 {status} Reason".encode() + eol
    if status < 200 or status in (204, 304):
        return start + extra + eol
    framing, wire = draw(body(eol))
    return start + b"Set-Cookie: s=" + draw(_token).encode() + eol + extra + framing + eol + wire


@SETTINGS
@given(
    messages=st.lists(request(), min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
)
def test_requests_split_anywhere_give_the_same_messages(messages: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(messages)
    whole = parse(stream, [], ROLE_REQUEST)
    assert len(whole.messages) == len(messages)
    assert all(m.error is None for m in whole.messages)
    assert projection(parse(stream, cuts, ROLE_REQUEST)) == projection(whole)
    assert projection(parse(stream, list(range(1, len(stream))), ROLE_REQUEST)) == projection(whole)


@SETTINGS
@given(
    messages=st.lists(response(), min_size=1, max_size=4),
    close_body=st.one_of(st.none(), st.binary(max_size=100)),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
    role=st.sampled_from([ROLE_RESPONSE, ROLE_UNKNOWN]),
)
def test_responses_split_anywhere_give_the_same_messages(
    messages: list[bytes], close_body: bytes | None, cuts: list[int], role: int
) -> None:
    stream = b"".join(messages)
    if close_body is not None:  # a last body delimited by the end of the connection
        stream += b"HTTP/1.0 200 OK\r\nServer: s\r\n\r\n" + close_body
    whole = parse(stream, [], role)
    assert len(whole.messages) == len(messages) + (close_body is not None)
    assert projection(parse(stream, cuts, role)) == projection(whole)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=st.one_of(
        st.binary(max_size=3000),
        st.lists(st.sampled_from([b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n", b"Content-Length: 5\r\n",
                                  b"Transfer-Encoding: chunked\r\n", b"\r\n", b"\n", b"5\r\n", b"0\r\n", b"x: y\r\n",
                                  b" fold\r\n", b"zz", b"\x00\xff"]), max_size=60).map(b"".join),
    ),
    cuts=st.lists(st.integers(0, 3000), max_size=20),
    role=st.sampled_from([ROLE_REQUEST, ROLE_RESPONSE, ROLE_UNKNOWN]),
    at_start=st.booleans(),
)  # fmt: skip
def test_any_bytes_cut_anywhere_never_raise(stream: bytes, cuts: list[int], role: int, at_start: bool) -> None:
    owner = Recorder()
    parser = MessageParser(owner, role)  # type: ignore[arg-type]
    parser.begin(at_start)
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(stream)}), len(stream)]
    for frame, (lo, hi) in enumerate(itertools.pairwise(bounds), 1):
        if frame % 7 == 0:
            parser.gap(5, frame, 0.0)
        parser.data(stream[lo:hi], frame, 0.0)
        assert len(parser.buf) <= MAX_HEAD
    parser.finish("end_of_input")
    for m in owner.messages:
        assert m.done and (m.method if m.is_request else 0 <= m.status <= 999)
        assert len(m.body.info().prefix) <= BODY_PREFIX_LIMIT


def test_a_split_body_is_the_body() -> None:
    data = bytes(range(256)) * 3
    stream = b"POST /u HTTP/1.1\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data
    owner = parse(stream, list(range(30, len(stream), 17)), ROLE_REQUEST)
    body = owner.messages[0].body.info()
    assert (body.size, body.prefix, body.complete) == (len(data), data, True)
