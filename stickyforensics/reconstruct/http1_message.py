"""The pieces of the HTTP/1.x parser shared by its modules: states, limits, the message record,
the owner interface, and small helpers.

``HttpMessage`` is the mutable record a ``MessageParser`` (``stickyforensics.reconstruct.http1``) fills
while it reads one message; ``MessageOwner`` is what the parser reports to (the connection that pairs
requests with responses, ``stickyforensics.reconstruct.pairing``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.http1_body import BodyAccumulator

if TYPE_CHECKING:
    from stickyforensics.reconstruct.http1 import MessageParser

MAX_HEAD = 64 * 1024
"""Largest header block (or trailer section) accepted; beyond it the message is dropped and the parser resyncs."""
MAX_HEADERS = 1000
"""Most header (and trailer) fields kept per message; the rest are dropped with a diagnostic. Servers refuse
far fewer (Apache: 100 request fields, Node.js keeps 2000); without a bound, a 64 KB block of short fields
keeps about 1.5 MB of objects per transaction (23 times its size), with it about 115 KB."""
MAX_LINE = 16 * 1024
"""Longest start line / chunk-size line looked for."""
SNIFF_LIMIT = 1 << 20
"""Bytes scanned for a first message start, when the stream start was not captured, before giving up."""

ROLE_UNKNOWN = 0
ROLE_REQUEST = 1
ROLE_RESPONSE = 2

S_START = 0
S_HEAD = 1
S_BODY = 2
S_CHUNK_SIZE = 3
S_CHUNK_END = 4
S_TRAILER = 5
S_CLOSE = 6
S_RESYNC = 7
S_TUNNEL = 8
S_DEAD = 9


class HttpMessage:
    """A request or response being parsed (mutable; the owner turns it into model objects)."""

    __slots__ = (
        "body",
        "done",
        "error",
        "first_ts",
        "frames",
        "framing",
        "head_done",
        "headers",
        "is_request",
        "last_ts",
        "link",
        "method",
        "notes",
        "reason",
        "status",
        "target",
        "version",
    )

    def __init__(self, frame: int, ts: float) -> None:
        self.is_request = True
        self.method = ""
        self.target = ""
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()
        """A tuple when shared with the parsed-block memo (``http1_lines.plain_block``), else a list."""
        self.frames = [frame]
        """Every frame that carried bytes of this message, in order."""
        self.first_ts = ts
        self.last_ts = ts
        self.body = BodyAccumulator()
        self.head_done = False
        self.done = False
        self.framing = "none"
        """``none``, ``length``, ``chunked``, ``close`` or ``tunnel``."""
        self.error: str | None = None
        self.notes: tuple[str, ...] = ()
        self.link: object | None = None
        """Owner's back-reference (the exchange this message belongs to)."""

    def note(self, code: str) -> None:
        if code not in self.notes:
            self.notes += (code,)  # rare: a tuple spares every message an empty list

    def fail(self, why: str) -> None:
        """Record the first reason this message is only partly reconstructed."""
        if self.error is None:
            self.error = why

    def header(self, name: str) -> str | None:
        lname = name.lower()
        size = len(lname)
        for key, value in self.headers:
            # the length test skips most lower() calls
            if len(key) == size and key.lower() == lname:
                return value
        return None


class MessageOwner(Protocol):
    """The connection a parser reports to."""

    def roles_found(self, parser: MessageParser, is_request: bool) -> None:
        """A parser of unknown role found its first start line: it carries requests (or responses)."""

    def message_started(self, parser: MessageParser, msg: HttpMessage) -> None:
        """A valid start line was read (the head may still be incomplete): pair it now, so a request whose
        head is cut later still gets its response."""

    def request_method(self, response: HttpMessage) -> str | None:
        """Method of the request ``response`` answers (None when unknown)."""

    def message_done(self, parser: MessageParser, msg: HttpMessage) -> None:
        """A message is complete (or given up; then ``msg.error`` says why)."""

    def upgraded(self, parser: MessageParser, msg: HttpMessage) -> None:
        """The response ``msg`` switched the connection away from HTTP/1.x (101, CONNECT 2xx)."""

    def not_http(self, parser: MessageParser, why: str) -> None:
        """The stream does not carry HTTP/1.x."""

    def diag(self, code: str, message: str, frame: int | None, level: DiagLevel = DiagLevel.WARNING) -> None:
        """Report an anomaly."""


REASONS = {
    "fin": "the connection closed",
    "reset": "a TCP reset",
    "idle": "the connection went idle",
    "end_of_input": "the end of the capture",
    "port_reused": "a new connection on the same ports",
    "not_http": "the connection was given up",
}


_EMPTY_LINE = re.compile(rb"\n\r?\n")


def head_end(data: bytes | bytearray, start: int) -> int:
    """Index just past the empty line ending a header block, or -1."""
    m = _EMPTY_LINE.search(data, start)  # the first "\n\r\n" or "\n\n": one scan, not two finds
    return m.end() if m is not None else -1


def is_chunked(te: str) -> bool:
    """RFC 9112 §6.3: chunked framing only when chunked is the final coding."""
    return te.rsplit(",", 1)[-1].strip(" \t").lower() == "chunked"


def looks_tls(data: bytes, pos: int) -> bool:
    """A TLS record header: content type 20-24, version 3.x."""
    return len(data) - pos >= 3 and 20 <= data[pos] <= 24 and data[pos + 1] == 3 and data[pos + 2] <= 4


def role_name(role: int) -> str:
    return {ROLE_REQUEST: "request", ROLE_RESPONSE: "status"}.get(role, "start")


def show(raw: bytes) -> str:
    """Captured bytes for a message: printable ASCII kept, the rest escaped."""
    return repr(raw)[2:-1]
