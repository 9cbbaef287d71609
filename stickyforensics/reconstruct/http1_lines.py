"""HTTP/1.x start lines and header field lines, each distinct line parsed once (RFC 9112 §3-5).

Most lines repeat: every response of a server starts ``HTTP/1.1 200 OK``, every request of a client
carries the same Host, User-Agent and Cookie lines, a page's requests often the same request line. So
a parsed line is memoised by its raw text, and the next identical line costs one dictionary lookup
instead of a regular expression or a split, two strips and the decoding of its parts. The memos are
bounded (cleared when full) and hold no meaning of their own: a line parses the same with or without
them. Sharing the parsed objects also shares their memory between transactions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from sys import intern
from typing import cast

from stickyforensics.reconstruct.http1_message import MAX_HEADERS

TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"
REQ_LINE = re.compile(rb"(" + TOKEN + rb"{1,32})[ \t]+([^\r\n]+?)[ \t]+(HTTP/[0-9]\.[0-9])[ \t]*\r?\n")
RESP_LINE = re.compile(rb"(HTTP/[0-9]\.[0-9])[ \t]+([0-9]{3})(?:[ \t]+([^\r\n]*?))?[ \t]*\r?\n")
_KNOWN_METHODS = (
    b"GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|TRACE|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|"
    b"SEARCH|REPORT|MKACTIVITY|CHECKIN|CHECKOUT|UNCHECKOUT|MERGE|LABEL|UPDATE|VERSION-CONTROL|"
    b"BASELINE-CONTROL|MKWORKSPACE|MKCALENDAR|ORDERPATCH|ACL|POLL|BCOPY|BMOVE|BDELETE|BPROPFIND|BPROPPATCH|"
    b"NOTIFY|SUBSCRIBE|UNSUBSCRIBE|M-SEARCH|CCM_POST|RPC_CONNECT|RPC_IN_DATA|RPC_OUT_DATA"
)
LENIENT_REQ_LINE = re.compile(rb"(" + _KNOWN_METHODS + rb")(?:[ \t]+([^ \t\r\n]+)(?:[ \t]+([^\r\n]*?))?)?[ \t]*\r?\n")
"""Wireshark's leniency, for well-known methods only: the version (even the target) may be missing or odd."""

RequestLine = tuple[str, str, str]
"""(method, target, version); target and version may be empty (lenient form)."""
StatusLine = tuple[str, int, str]
"""(version, status, reason)."""
Field = tuple[str, str]

_REQUEST_LINES: dict[bytes, RequestLine] = {}
_REQUEST_LINES_LIMIT = 20_000
_STATUS_LINES: dict[bytes, StatusLine] = {}
_STATUS_LINES_LIMIT = 2_000
PlainBlock = tuple[tuple[Field, ...], tuple[str, ...], str | None, bool]
"""(fields, Content-Length values, Transfer-Encoding values joined, mentions content-encoding)."""
_BLOCKS: dict[bytes, PlainBlock] = {}
_BLOCKS_LIMIT = 2_000
_BLOCK_MAX = 4096
_FIELD_LINES: dict[str, Field] = {}
_FIELD_LINES_LIMIT = 20_000
"""Lines that repeat (Host, User-Agent...) come back within a few thousand messages; unique ones (Date, a new
Set-Cookie) only fill the memo. At 200,000 a --jobs worker held ~30 MB of them, for the same CPU."""
_PAIRS: dict[Field, Field] = {}
_PAIRS_LIMIT = 20_000
_SHARE_MAX_VALUE = 1024
"""Longer values are rare and seldom repeat: they are neither memoised nor shared."""


def request_line(line: bytes) -> RequestLine | None:
    """Parse a request line (with its line end; the only ``\\n`` is the last byte), or None."""
    parsed = _REQUEST_LINES.get(line)
    if parsed is not None:
        return parsed
    # fullmatch is match here: every match ends at the line's only \n, its last byte
    m = REQ_LINE.fullmatch(line) or LENIENT_REQ_LINE.fullmatch(line)
    if m is None:
        return None
    method, target, version = m.groups()
    # method and version are interned here, once per distinct line, so every transaction shares them
    parsed = (
        intern(method.decode("latin-1")),
        (target or b"").decode("latin-1"),
        intern((version or b"").decode("latin-1")),
    )
    if len(line) <= _SHARE_MAX_VALUE:
        if len(_REQUEST_LINES) >= _REQUEST_LINES_LIMIT:
            _REQUEST_LINES.clear()
        _REQUEST_LINES[line] = parsed
    return parsed


def status_line(line: bytes) -> StatusLine | None:
    """Parse a status line (with its line end; the only ``\\n`` is the last byte), or None."""
    parsed = _STATUS_LINES.get(line)
    if parsed is not None:
        return parsed
    m = RESP_LINE.fullmatch(line)
    if m is None:
        return None
    version, status, reason = m.groups()
    parsed = (intern(version.decode("latin-1")), int(status), intern(reason.decode("latin-1")) if reason else "")
    if len(line) <= _SHARE_MAX_VALUE:
        if len(_STATUS_LINES) >= _STATUS_LINES_LIMIT:
            _STATUS_LINES.clear()
        _STATUS_LINES[line] = parsed
    return parsed


def plain_block(block: bytes) -> PlainBlock | None:
    """The fields, framing values and Content-Encoding mention of a plain field block, or None.

    ``block`` runs from the start line's CRLF to the end of the head: ``\\r\\n`` + field lines +
    ``\\r\\n\\r\\n``. Plain: every line ends with CRLF and is a plain field line (``plain_fields``),
    at most ``MAX_HEADERS`` of them; anything else is for the careful loop. A client's requests and
    a server's responses often repeat a whole block: it is then one lookup.
    """
    known = _BLOCKS.get(block)
    if known is not None:
        return known
    text = block.decode("latin-1")
    lines = text.split("\r\n")
    if not 3 <= len(lines) <= MAX_HEADERS + 3 or lines[-1] or lines[-2]:
        return None
    headers = plain_fields(lines[1:-2])
    if headers is None:
        return None
    low = text.lower()
    lengths, te = plain_framing(text, low)
    parsed = (tuple(headers), tuple(lengths), te, "content-encoding" in low)
    if len(block) <= _BLOCK_MAX:
        if len(_BLOCKS) >= _BLOCKS_LIMIT:
            _BLOCKS.clear()
        _BLOCKS[block] = parsed
    return parsed


def plain_fields(lines: list[str]) -> list[Field] | None:
    """``(name, value)`` of header lines (line ends removed), or None when one is not a plain field line.

    Plain: ``name:value``, the name neither empty nor starting or ending with a space or tab, no
    ``\\n`` in the line. Anything else (folding, a bare LF, a line without ``:``) is for the careful
    loop, which reports it.
    """
    pairs = list(map(_FIELD_LINES.get, lines))  # C-speed lookups: most lines were seen before
    if None in pairs:
        for i, pair in enumerate(pairs):
            if pair is None:
                pair = _new_field_line(lines[i])
                if pair is None:
                    return None
                pairs[i] = pair
    return cast("list[Field]", pairs)


def _new_field_line(line: str) -> Field | None:
    name, sep, value = line.partition(":")
    if not sep or not name or name[0] in " \t" or name[-1] in " \t" or "\n" in line:
        return None
    pair = (name, value.strip(" \t"))
    if len(pair[1]) <= _SHARE_MAX_VALUE:
        if len(_FIELD_LINES) >= _FIELD_LINES_LIMIT:
            _FIELD_LINES.clear()
        _FIELD_LINES[line] = pair
    return pair


NO_FRAMING: tuple[tuple[str, ...], None] = ((), None)
"""``plain_framing`` of a block that mentions neither Content-Length nor Transfer-Encoding."""
_CL_LINE = "\r\ncontent-length:"
_TE_LINE = "\r\ntransfer-encoding:"


def plain_framing(text: str, low: str) -> tuple[list[str], str | None]:
    """(Content-Length values, Transfer-Encoding values joined by ``, ``) of a head ``plain_fields`` took.

    ``text`` is the field block after a CRLF, with its line ends, ``low`` its ``lower()`` (same
    length: latin-1 text).
    In a plain block a field is one line whose name ends at the first ``:``, so these fields are the
    lines starting with ``content-length:`` or ``transfer-encoding:`` in any case: two searches in
    ``low`` instead of a look at every field. Same result as ``field_framing`` of its fields.
    """
    lengths = []
    i = low.find(_CL_LINE)
    while i >= 0:
        end = text.find("\r\n", i + len(_CL_LINE))
        lengths.append(text[i + len(_CL_LINE) : end].strip(" \t"))
        i = low.find(_CL_LINE, end)
    te = None
    i = low.find(_TE_LINE)
    while i >= 0:
        end = text.find("\r\n", i + len(_TE_LINE))
        value = text[i + len(_TE_LINE) : end].strip(" \t")
        te = value if te is None else f"{te}, {value}"
        i = low.find(_TE_LINE, end)
    return lengths, te


def field_framing(headers: Sequence[Field]) -> tuple[list[str], str | None]:
    """(Content-Length values, Transfer-Encoding values joined by ``, ``) of any header list."""
    lengths = []
    te = None
    for name, value in headers:
        size = len(name)  # the length test skips most lower() calls
        if size == 14 and name.lower() == "content-length":
            lengths.append(value)
        elif size == 17 and name.lower() == "transfer-encoding":
            te = value if te is None else f"{te}, {value}"
    return lengths, te


def shared_pair(name: str, value: str) -> Field:
    """One shared ``(name, value)`` object per distinct field, for the lines the careful loop reads.

    Sharing repeated lines cuts the memory kept per transaction by half on keep-alive captures; the
    memo is bounded and holds no meaning of its own.
    """
    if len(value) > _SHARE_MAX_VALUE:
        return (name, value)
    pair = (name, value)
    found = _PAIRS.get(pair)
    if found is not None:
        return found
    if len(_PAIRS) >= _PAIRS_LIMIT:
        _PAIRS.clear()
    _PAIRS[pair] = pair
    return pair
