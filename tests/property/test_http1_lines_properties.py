"""Hypothesis properties of the shortcuts the native engine takes on its hot path.

- a field block ``plain_block`` takes gives the fields, Content-Length values and Transfer-Encoding
  the careful line loop gives (without a diagnostic), whatever bytes its lines hold;
- ``head_end`` (one regular-expression scan) finds the empty line the former two searches found;
- the body-prefix filter answers the same with its memo as a fresh filter does.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stickyforensics.config import Config
from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.http1 import ROLE_REQUEST, HttpMessage, MessageParser
from stickyforensics.reconstruct.http1_lines import field_framing, plain_block
from stickyforensics.reconstruct.http1_message import head_end
from stickyforensics.track.body_prefix import body_prefix_filter

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_name = st.sampled_from(
    ["Content-Length", "content-length", "TRANSFER-ENCODING", "Transfer-Encoding"] * 2
    + ["Host", "Content-Encoding", "X", " X", "\tX", "X ", "X\t", ""]
)
_space = st.sampled_from(["", " ", "\t", "\r", "\xa0", "\x0b", "\x85", "  "])
_core = st.sampled_from(["", "5", "05", "chunked", "gzip, chunked", "a :b", "x,y", "\xe9", "\xb2"])
_field = st.tuples(_name, st.sampled_from([":", ":", ""]), _space, _core, _space).map("".join)
_char = st.sampled_from([":", " ", "\t", "\r", "\n", ",", "\xa0", "\xe9", "a", "Z", "-", "1"])
_line = st.one_of(_field, _field, st.lists(_char, max_size=8).map("".join))


class _Quiet:
    """A MessageOwner that keeps the codes of the diagnostics."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    def diag(self, code: str, message: str, frame: int | None, level: DiagLevel = DiagLevel.WARNING) -> None:
        self.codes.append(code)


def _framing(headers: list[tuple[str, str]]) -> tuple[tuple[str, ...], str | None]:
    """Content-Length values and joined Transfer-Encoding, as the parser read them before ``plain_framing``."""
    lengths = tuple(v for k, v in headers if k.lower() == "content-length")
    codings = [v for k, v in headers if k.lower() == "transfer-encoding"]
    return lengths, ", ".join(codings) if codings else None


@SETTINGS
@given(st.lists(st.tuples(_line, st.sampled_from(["\r\n", "\r\n", "\n"])), max_size=8), st.sampled_from(["\r\n", "\n"]))
@example([("Transfer-Encoding: gzip", "\r\n"), ("x:", "\r\n"), ("transfer-encoding:chunked ", "\r\n")], "\r\n")
@example([("Content-Length: 5", "\r\n"), ("CONTENT-LENGTH:\t5,\xa05", "\r\n")], "\r\n")
@example([("Host: h", "\n")], "\r\n")
@example([("X : v", "\r\n"), ("Y\t:\x0bw\xa0", "\r\n")], "\r\n")
def test_a_plain_block_reads_as_the_careful_loop_reads_it(lines: list[tuple[str, str]], last: str) -> None:
    text = "\r\n" + "".join(line + end for line, end in lines) + last
    block = plain_block(text.encode("latin-1"))
    if block is None:
        return
    headers, lengths, te, encoded = block
    owner = _Quiet()
    parser = MessageParser(owner, ROLE_REQUEST)  # type: ignore[arg-type]  # only diag is called
    msg = HttpMessage(1, 0.0)
    parser._fields(("GET / HTTP/1.1" + text).split("\n"), 1, msg, 1)
    assert (tuple(msg.headers), owner.codes) == (headers, [])
    assert (lengths, te) == _framing(list(msg.headers))
    assert (tuple(field_framing(msg.headers)[0]), field_framing(msg.headers)[1]) == (lengths, te)
    assert encoded == ("content-encoding" in text.lower())


def _head_end_two_finds(data: bytes, start: int) -> int:
    i = data.find(b"\n\r\n", start)
    j = data.find(b"\n\n", start, i + 1) if i >= 0 else data.find(b"\n\n", start)
    if j >= 0:
        return j + 2
    return i + 3 if i >= 0 else -1


@SETTINGS
@given(st.binary(max_size=40).map(lambda b: bytes(b"\r\na:"[x % 4] for x in b)), st.integers(0, 8))
def test_head_end_is_the_first_empty_line(data: bytes, start: int) -> None:
    assert head_end(data, start) == _head_end_two_finds(data, start)


_prefix_piece = st.sampled_from([b"<p>", b"bad SESSION", b"Served by app-1", b"session", b"ok", b"\xe9", b" "])


@SETTINGS
@given(st.lists(st.lists(_prefix_piece, max_size=6).map(b"".join), min_size=1, max_size=12))
def test_the_body_prefix_memo_answers_as_a_fresh_filter(prefixes: list[bytes]) -> None:
    keep = body_prefix_filter(Config())
    assert keep is not None
    for prefix in prefixes + prefixes:  # every prefix twice: the second answer comes from the memo
        fresh = body_prefix_filter(Config())
        assert fresh is not None
        assert keep(prefix) == fresh(prefix)
