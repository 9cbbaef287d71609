"""Lenient incremental HTTP/1.x message parser: one per direction of a TCP connection.

Theory of operation
-------------------
A ``MessageParser`` receives one direction's bytes in order (``data``), holes (``gap``) and the end
of the stream (``end``) from TCP reassembly, and reports each message to its ``MessageOwner`` (the
connection, which pairs requests with responses) twice: when its start line is valid
(``message_started``, so a request whose head is later cut by a capture gap still gets its
response) and when it is complete (``message_done``). It never raises on input: anything odd
becomes a diagnostic through ``owner.diag`` and a note on the message.

States (``S_*``) follow RFC 9112:

- ``S_START``: between messages; empty lines are skipped (§2.2). The first byte must start a
  request line (a token) or ``HTTP/``.
- ``S_HEAD``: the header block is collected until the empty line. The start line is checked as
  soon as it is complete, so non-HTTP bytes are rejected early; the block is bounded
  (``MAX_HEAD``). Bare ``\\n`` line endings and obsolete line folding are accepted.
- ``S_BODY``: a counted body (``Content-Length``, or one chunk's data): bytes are only counted,
  hashed and the first ``BODY_PREFIX_LIMIT`` kept, never stored.
- ``S_CHUNK_SIZE`` / ``S_CHUNK_END`` / ``S_TRAILER``: chunked framing (§7.1), extensions ignored,
  trailer fields appended to the headers.
- ``S_CLOSE``: a response body delimited by the end of the connection (§6.3 rule 8).
- ``S_RESYNC``: after a capture gap, a bad start line, or when the stream's beginning was not
  captured: bytes are scanned (C-speed regex) for the next line that is a valid start line.
- ``S_TUNNEL``: after ``101`` or a ``2xx`` to ``CONNECT``: the rest is not HTTP/1.x.
- ``S_DEAD``: the stream is not HTTP, or it ended.

Only the head is ever copied; body bytes are counted in place, so a large download costs one call
per segment. A connection whose first bytes (with the stream start captured) are not HTTP is given
up at once (``owner.not_http``); one whose start was not captured is scanned for at most
``SNIFF_LIMIT`` bytes before that.
"""

from __future__ import annotations

import re
from typing import Protocol

from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.http1_body import BodyAccumulator, decodable_coding

MAX_HEAD = 64 * 1024
"""Largest header block (or trailer section) accepted; beyond it the message is dropped and the parser resyncs."""
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

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"
_REQ_LINE_RX = _TOKEN + rb"{1,32}[ \t]+[^\r\n]+?[ \t]+HTTP/[0-9]\.[0-9][ \t]*\r?\n"
_RESP_LINE_RX = rb"HTTP/[0-9]\.[0-9][ \t]+[0-9]{3}(?:[ \t]+[^\r\n]*?)?[ \t]*\r?\n"
_REQ_LINE = re.compile(rb"(" + _TOKEN + rb"{1,32})[ \t]+([^\r\n]+?)[ \t]+(HTTP/[0-9]\.[0-9])[ \t]*\r?\n")
_RESP_LINE = re.compile(rb"(HTTP/[0-9]\.[0-9])[ \t]+([0-9]{3})(?:[ \t]+([^\r\n]*?))?[ \t]*\r?\n")
_KNOWN_METHODS = (
    b"GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|TRACE|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|"
    b"SEARCH|REPORT|MKACTIVITY|CHECKIN|CHECKOUT|UNCHECKOUT|MERGE|LABEL|UPDATE|VERSION-CONTROL|"
    b"BASELINE-CONTROL|MKWORKSPACE|MKCALENDAR|ORDERPATCH|ACL|POLL|BCOPY|BMOVE|BDELETE|BPROPFIND|BPROPPATCH|"
    b"NOTIFY|SUBSCRIBE|UNSUBSCRIBE|M-SEARCH|CCM_POST|RPC_CONNECT|RPC_IN_DATA|RPC_OUT_DATA"
)
_LENIENT_REQ_LINE = re.compile(rb"(" + _KNOWN_METHODS + rb")(?:[ \t]+([^ \t\r\n]+)(?:[ \t]+([^\r\n]*?))?)?[ \t]*\r?\n")
"""Wireshark's leniency, for well-known methods only: the version (even the target) may be missing or odd."""
_REQ_AT = re.compile(_REQ_LINE_RX)
_RESP_AT = re.compile(_RESP_LINE_RX)
_ANY_AT = re.compile(rb"(?:" + _RESP_LINE_RX + rb")|(?:" + _REQ_LINE_RX + rb")")
_REQ_FIND = re.compile(rb"(?m)^" + _REQ_LINE_RX)
_RESP_FIND = re.compile(rb"(?m)^" + _RESP_LINE_RX)
_ANY_FIND = re.compile(rb"(?m)^(?:(?:" + _RESP_LINE_RX + rb")|(?:" + _REQ_LINE_RX + rb"))")
_HEX = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?")

_TOKEN_BYTES = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_H = ord("H")


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
        self.headers: list[tuple[str, str]] = []
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
        self.notes: list[str] = []
        self.link: object | None = None
        """Owner's back-reference (the exchange this message belongs to)."""

    def note(self, code: str) -> None:
        if code not in self.notes:
            self.notes.append(code)

    def fail(self, why: str) -> None:
        """Record the first reason this message is only partly reconstructed."""
        if self.error is None:
            self.error = why

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
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


class MessageParser:
    """One direction's HTTP/1.x parser (a ``StreamConsumer`` for TCP reassembly)."""

    __slots__ = (
        "boundary",
        "buf",
        "chunked",
        "framed",
        "line_ok",
        "msg",
        "owner",
        "probation",
        "remaining",
        "resync_here",
        "role",
        "scan_from",
        "scanned",
        "seen",
        "sniffed",
        "state",
    )

    def __init__(self, owner: MessageOwner, role: int) -> None:
        self.owner = owner
        self.role = role
        self.state = S_START
        self.buf = bytearray()
        """Unconsumed bytes (a partial head or line); empty in body states."""
        self.msg: HttpMessage | None = None
        self.remaining = 0
        self.chunked = False
        self.framed = True
        """The head just parsed mentions Content-Length or Transfer-Encoding (else no need to look)."""
        self.scan_from = 0
        self.boundary = 0
        """Where the newest chunk starts in the bytes being parsed (a segment boundary)."""
        self.line_ok = False
        self.probation = False
        """First message of a stream whose start was captured: a bad start means 'not HTTP'."""
        self.resync_here = True
        """In S_RESYNC: may a message start right at the current position (not only after a newline)?"""
        self.scanned = 0
        self.seen = 0
        """Messages found in this direction."""
        self.sniffed = False

    # -- StreamConsumer --------------------------------------------------------------------------

    def begin(self, at_start: bool) -> None:
        if self.state >= S_TUNNEL:
            return
        if at_start:
            self.state = S_START
            self.probation = True
        else:
            self.state = S_RESYNC
            self.resync_here = True

    def data(self, chunk: bytes, frame: int, ts: float) -> None:
        st = self.state
        if st == S_BODY:
            n = len(chunk)
            if n < self.remaining:
                self.remaining -= n
                msg = self.msg
                assert msg is not None
                msg.body.add(chunk)
                if msg.frames[-1] != frame:
                    msg.frames.append(frame)
                    if ts > msg.last_ts:
                        msg.last_ts = ts
                    elif ts < msg.first_ts:
                        msg.first_ts = ts  # an earlier frame delivered late (reordering)
                return
        elif st == S_CLOSE:
            msg = self.msg
            assert msg is not None
            msg.body.add(chunk)
            if msg.frames[-1] != frame:
                msg.frames.append(frame)
                if ts > msg.last_ts:
                    msg.last_ts = ts
            return
        elif st >= S_TUNNEL:
            return
        self._feed(chunk, frame, ts)

    def gap(self, nbytes: int, frame: int, ts: float) -> None:
        st = self.state
        if st >= S_TUNNEL:
            return
        msg = self.msg
        if msg is not None:
            msg.note("tcp.missing_segments")
            if st == S_BODY and nbytes <= self.remaining:
                self.remaining -= nbytes
                msg.body.complete = False
                msg.fail("capture gap in the body")
                if self.remaining == 0:
                    if self.chunked:
                        self.state = S_CHUNK_END
                    else:
                        self._done()
                return
            if st == S_CLOSE:
                msg.body.complete = False
                msg.fail("capture gap in the body")
                return
            self._cut("a capture gap", frame)
        self.buf.clear()
        self.state = S_RESYNC
        self.resync_here = True
        self.probation = False

    def end(self, frame: int, ts: float) -> None:
        """The sender's FIN: a close-delimited body ends here."""
        if self.state >= S_TUNNEL:
            return
        msg = self.msg
        if msg is not None:
            if self.state == S_CLOSE:
                if frame > 0 and msg.frames[-1] != frame:
                    msg.frames.append(frame)
                msg.last_ts = max(msg.last_ts, ts)
                self._done()
            else:
                self._cut("the connection closed", frame)
        self.buf.clear()
        self.state = S_DEAD

    def finish(self, reason: str) -> None:
        """The connection is gone (``reset``, ``idle``, ``end_of_input``...): settle the message in progress."""
        if self.state >= S_TUNNEL:
            return
        msg = self.msg
        if msg is not None:
            if self.state == S_CLOSE:
                if reason not in ("fin", "reset"):
                    msg.body.complete = False
                    msg.fail(f"body not finished ({_REASONS.get(reason, reason)})")
                self._done()
            else:
                self._cut(_REASONS.get(reason, reason), None)
        self.buf.clear()
        self.state = S_DEAD

    def tunnel(self) -> None:
        """Stop parsing: the connection no longer carries HTTP/1.x."""
        self.state = S_TUNNEL
        self.buf.clear()

    def kill(self) -> None:
        self.state = S_DEAD
        self.buf.clear()
        self.msg = None

    # -- the general path -----------------------------------------------------------------------

    def _feed(self, chunk: bytes, frame: int, ts: float) -> None:
        buf = self.buf
        if buf:
            self.boundary = len(buf)
            buf += chunk
            if self.state == S_HEAD and self.line_ok and _head_end(buf, self.scan_from) < 0:
                self._touch(frame, ts)
                if len(buf) > MAX_HEAD:
                    self._head_too_large(frame)
                else:
                    self.scan_from = max(0, len(buf) - 2)
                return
            data = bytes(buf)
            buf.clear()
        else:
            data = chunk
            self.boundary = 0
        if self.msg is not None:
            self._touch(frame, ts)
        pos = 0
        n = len(data)
        while pos < n:
            st = self.state
            if st == S_START:
                pos = self._start(data, pos, frame, ts)
            elif st == S_HEAD:
                pos = self._head(data, pos, frame)
            elif st == S_BODY:
                pos = self._body(data, pos)
            elif st == S_CHUNK_SIZE:
                pos = self._chunk_size(data, pos, frame)
            elif st == S_CHUNK_END:
                pos = self._chunk_end(data, pos, frame)
            elif st == S_TRAILER:
                pos = self._trailer(data, pos, frame)
            elif st == S_CLOSE:
                msg = self.msg
                assert msg is not None
                msg.body.add(data[pos:] if pos else data)
                pos = n
            elif st == S_RESYNC:
                pos = self._resync(data, pos, frame)
            else:
                break

    def _touch(self, frame: int, ts: float) -> None:
        msg = self.msg
        if msg is not None and msg.frames[-1] != frame:
            msg.frames.append(frame)
            if ts > msg.last_ts:
                msg.last_ts = ts
            elif ts < msg.first_ts:
                msg.first_ts = ts

    def _stash(self, data: bytes, pos: int) -> int:
        self.buf += data[pos:] if pos else data
        return len(data)

    def _start(self, data: bytes, pos: int, frame: int, ts: float) -> int:
        n = len(data)
        while pos < n and data[pos] in (10, 13):
            pos += 1
        if pos >= n:
            return n
        c = data[pos]
        if c not in _TOKEN_BYTES or (self.role == ROLE_RESPONSE and c != _H):
            return self._bad_start(data, pos, frame, "the stream does not start with an HTTP message")
        self.msg = HttpMessage(frame, ts)
        self.state = S_HEAD
        self.line_ok = False
        return pos

    def _bad_start(self, data: bytes, pos: int, frame: int, why: str) -> int:
        if self.probation:
            self.kill()
            self.owner.not_http(self, why)
            return len(data)
        self.msg = None
        self.owner.diag(
            "http.bad_start_line",
            f"bytes at a message boundary are not an HTTP {_role_name(self.role)} line "
            f"({_show(data[pos : pos + 40])}); skipped to the next message",
            frame,
        )
        self.state = S_RESYNC
        self.resync_here = False
        return pos

    def _head(self, data: bytes, pos: int, frame: int) -> int:
        n = len(data)
        msg = self.msg
        assert msg is not None
        if not self.line_ok:
            nl = data.find(b"\n", pos)
            if nl < 0:
                if n - pos > MAX_LINE:
                    return self._bad_start(data, pos, frame, "no HTTP start line in the first bytes")
                return self._stash(data, pos)
            if not self._start_line(data, pos, nl, msg):
                return self._bad_start(data, pos, frame, "the first line is not an HTTP start line")
            self.line_ok = True
            self.probation = False
            if self.state != S_HEAD:  # given up (HTTP/2 preface)
                return n
            scan = nl
        else:
            scan = self.scan_from  # the head was stashed: it starts at pos 0
        end = _head_end(data, scan)
        if end < 0:
            if n - pos > MAX_HEAD:
                self.buf += data[pos:]
                self._head_too_large(frame)
                return n
            self.scan_from = max(0, n - pos - 2)
            return self._stash(data, pos)
        if end - pos > MAX_HEAD:
            self._head_too_large(frame)
            self.resync_here = True  # the oversized block ended here: a message may start right after
            return end
        self._parse_head(data, pos, end, frame)
        return end

    def _start_line(self, data: bytes, pos: int, nl: int, msg: HttpMessage) -> bool:
        role = self.role
        is_response = data.startswith(b"HTTP/", pos) if role == ROLE_UNKNOWN else role == ROLE_RESPONSE
        if is_response:
            m = _RESP_LINE.match(data, pos, nl + 1)
            if m is None or m.end() != nl + 1:
                return False
            msg.is_request = False
            msg.version = m.group(1).decode("latin-1")
            msg.status = int(m.group(2))
            reason = m.group(3)
            msg.reason = reason.decode("latin-1") if reason else ""
        else:
            m = _REQ_LINE.match(data, pos, nl + 1)
            if m is None or m.end() != nl + 1:
                m = _LENIENT_REQ_LINE.match(data, pos, nl + 1)
                if m is None or m.end() != nl + 1:
                    return False
            msg.method = m.group(1).decode("latin-1")
            msg.target = (m.group(2) or b"").decode("latin-1")
            msg.version = (m.group(3) or b"").decode("latin-1")
            if msg.method == "PRI" and msg.target == "*" and msg.version == "HTTP/2.0":
                self.kill()
                self.owner.not_http(self, "HTTP/2 with prior knowledge (connection preface)")
                return True
        if role == ROLE_UNKNOWN:
            self.owner.roles_found(self, not is_response)
        self.owner.message_started(self, msg)
        return True

    def _head_too_large(self, frame: int) -> None:
        msg = self.msg
        self.buf.clear()
        self.owner.diag(
            "http.header_block_too_large",
            f"a header block exceeds {MAX_HEAD} bytes; its headers were dropped and parsing skipped ahead",
            msg.frames[0] if msg is not None else frame,
        )
        if msg is not None and self.line_ok:
            # the start line was valid and the message is paired already: keep it, without headers
            msg.head_done = True
            msg.body.complete = False
            msg.note("http.header_block_too_large")
            msg.fail(f"header block larger than {MAX_HEAD} bytes")
            self._done()
        self.msg = None
        self.state = S_RESYNC
        self.resync_here = False

    def _parse_head(self, data: bytes, pos: int, end: int, frame: int) -> None:
        msg = self.msg
        assert msg is not None
        text = data[pos:end].decode("latin-1")
        low = text.lower()
        self.framed = "content-length" in low or "transfer-encoding" in low
        # Fast path for the usual block (CRLF only, no folding, every line "name: value"); anything
        # else goes through the careful line loop, which also reports what was odd.
        odd = "\r\n " in text or "\r\n\t" in text or " :" in text or "\t:" in text
        if not odd and text.count("\n") == text.count("\r\n"):
            parts = [line.partition(":") for line in text.split("\r\n")[1:-2]]
            headers = [(n, v.strip(" \t")) for n, sep, v in parts if sep and n]
            if len(headers) == len(parts):
                msg.headers = headers
            else:
                self._fields(text.split("\n"), 1, msg, frame)
        else:
            self._fields(text.split("\n"), 1, msg, frame)
        msg.head_done = True
        if "content-encoding" in low:
            _content_coding(msg)
        if msg.is_request:
            self._request_framing(msg, frame)
        else:
            self._response_framing(msg, frame)

    def _fields(self, lines: list[str], first: int, msg: HttpMessage, frame: int) -> None:
        headers = msg.headers
        for i in range(first, len(lines)):
            line = lines[i]
            if line[-1:] == "\r":
                line = line[:-1]
            if not line:
                continue
            if line[0] in " \t" and headers:
                name, value = headers[-1]
                folded = line.strip(" \t")
                headers[-1] = (name, f"{value} {folded}" if value else folded)
                if "http.obs_fold" not in msg.notes:
                    msg.note("http.obs_fold")
                    self.owner.diag(
                        "http.obs_fold",
                        f"obsolete line folding in header {name!r}; the lines were joined with a space",
                        frame,
                        DiagLevel.INFO,
                    )
                continue
            name, sep, value = line.partition(":")
            name = name.rstrip(" \t")
            if not sep or not name or name[0] in " \t":
                if "http.bad_header_line" not in msg.notes:
                    msg.note("http.bad_header_line")
                    self.owner.diag(
                        "http.bad_header_line",
                        f"a header line without a name or ':' was skipped ({_show(line.encode('latin-1')[:40])})",
                        frame,
                    )
                continue
            headers.append((name, value.strip(" \t")))

    def _framing_headers(self, msg: HttpMessage, frame: int) -> tuple[int | None, str | None, bool]:
        """(Content-Length or None, Transfer-Encoding or None, Content-Length present)."""
        cls: list[str] = []
        te: str | None = None
        if not self.framed:
            return None, None, False
        for name, value in msg.headers:
            ln = len(name)
            if ln == 14 and name.lower() == "content-length":
                cls.append(value)
            elif ln == 17 and name.lower() == "transfer-encoding":
                te = value if te is None else f"{te}, {value}"
        if not cls:
            return None, te, False
        nums: list[int] = []
        for value in cls:
            for part in value.split(","):
                part = part.strip(" \t")
                if not (part.isascii() and part.isdigit()):
                    msg.note("http.bad_content_length")
                    self.owner.diag("http.bad_content_length", f"unusable Content-Length {value!r}", frame)
                    return None, te, True
                nums.append(int(part))
        if len(set(nums)) > 1:
            msg.note("http.content_length_conflict")
            self.owner.diag(
                "http.content_length_conflict",
                f"conflicting Content-Length values {cls!r}; the first ({nums[0]}) was used",
                frame,
            )
        elif len(nums) > 1:
            msg.note("http.content_length_duplicate")
            self.owner.diag(
                "http.content_length_duplicate",
                f"Content-Length given {len(nums)} times (same value {nums[0]})",
                frame,
                DiagLevel.INFO,
            )
        return nums[0], te, True

    def _request_framing(self, msg: HttpMessage, frame: int) -> None:
        cl, te, has_cl = self._framing_headers(msg, frame)
        if te is not None:
            if has_cl:
                self._te_and_cl(msg, frame)
            if _is_chunked(te):
                self._chunked(msg)
                return
            msg.note("http.bad_transfer_encoding")
            self.owner.diag(
                "http.bad_transfer_encoding",
                f"request Transfer-Encoding {te!r} does not end in chunked; the body cannot be framed",
                frame,
            )
            msg.fail("request body framing unknown")
            self._done()
            return
        if cl:
            msg.framing = "length"
            self.remaining = cl
            self.chunked = False
            self.state = S_BODY
            return
        self._done()

    def _response_framing(self, msg: HttpMessage, frame: int) -> None:
        method = self.owner.request_method(msg)
        cl, te, has_cl = self._framing_headers(msg, frame)
        status = msg.status
        if method == "CONNECT" and 200 <= status < 300:
            msg.framing = "tunnel"
            self._done()
            if self.state == S_START:
                self.owner.upgraded(self, msg)
            return
        if method == "HEAD" or status < 200 or status in (204, 304):
            self._done()
            if status == 101 and self.state == S_START:
                msg.framing = "tunnel"
                self.owner.upgraded(self, msg)
            return
        if te is not None:
            if has_cl:
                self._te_and_cl(msg, frame)
            if _is_chunked(te):
                self._chunked(msg)
                return
            msg.framing = "close"
            self.state = S_CLOSE
            return
        if cl is not None:
            if cl == 0:
                msg.framing = "length"
                self._done()
                return
            msg.framing = "length"
            self.remaining = cl
            self.chunked = False
            self.state = S_BODY
            return
        msg.framing = "close"
        self.state = S_CLOSE

    def _te_and_cl(self, msg: HttpMessage, frame: int) -> None:
        msg.note("http.te_and_cl")
        self.owner.diag(
            "http.te_and_cl",
            "both Transfer-Encoding and Content-Length; Transfer-Encoding was used (request smuggling pattern)",
            frame,
        )

    def _chunked(self, msg: HttpMessage) -> None:
        msg.framing = "chunked"
        self.chunked = True
        self.state = S_CHUNK_SIZE

    def _body(self, data: bytes, pos: int) -> int:
        msg = self.msg
        assert msg is not None
        n = len(data)
        take = min(self.remaining, n - pos)
        msg.body.add(data if take == n else data[pos : pos + take])
        self.remaining -= take
        pos += take
        if self.remaining == 0:
            if self.chunked:
                self.state = S_CHUNK_END
            else:
                self._done()
        return pos

    def _chunk_size(self, data: bytes, pos: int, frame: int) -> int:
        n = len(data)
        nl = data.find(b"\n", pos)
        if nl < 0:
            if n - pos > MAX_LINE:
                return self._bad_chunk(data, pos, frame)
            return self._stash(data, pos)
        m = _HEX.match(data, pos, nl)
        if m is None or m.end() != nl:
            return self._bad_chunk(data, pos, frame)
        size = int(m.group(1), 16)
        if size == 0:
            self.state = S_TRAILER
        else:
            self.remaining = size
            self.state = S_BODY
        return nl + 1

    def _bad_chunk(self, data: bytes, pos: int, frame: int) -> int:
        msg = self.msg
        assert msg is not None
        msg.note("http.bad_chunk")
        self.owner.diag(
            "http.bad_chunk",
            f"bad chunk-size line ({_show(data[pos : pos + 40])}); the body was cut there",
            frame,
        )
        msg.body.complete = False
        msg.fail("bad chunked framing")
        self._done()
        self.state = S_RESYNC
        self.resync_here = False
        return pos

    def _chunk_end(self, data: bytes, pos: int, frame: int) -> int:
        n = len(data)
        while pos < n and data[pos] == 13:
            pos += 1
        if pos >= n:
            return n
        if data[pos] == 10:
            pos += 1
        else:
            msg = self.msg
            if msg is not None and "http.bad_chunk" not in msg.notes:
                msg.note("http.bad_chunk")
                self.owner.diag("http.bad_chunk", "chunk data not followed by CRLF", frame)
        self.state = S_CHUNK_SIZE
        return pos

    def _trailer(self, data: bytes, pos: int, frame: int) -> int:
        n = len(data)
        nl = data.find(b"\n", pos)
        if nl < 0:
            if n - pos > MAX_HEAD:
                self.buf.clear()
                self._done()
                return n
            return self._stash(data, pos)
        line = data[pos:nl]
        if line in (b"", b"\r"):
            self._done()
            return nl + 1
        msg = self.msg
        assert msg is not None
        self._fields(["", line.decode("latin-1")], 1, msg, frame)
        return nl + 1

    def _resync(self, data: bytes, pos: int, frame: int) -> int:
        n = len(data)
        if not self.sniffed:
            self.sniffed = True
            if self.seen == 0 and _looks_tls(data, pos):
                self.kill()
                self.owner.not_http(self, "TLS records")
                return n
        role = self.role
        at, find = (
            (_REQ_AT, _REQ_FIND) if role == ROLE_REQUEST else (_RESP_AT, _RESP_FIND) if role else (_ANY_AT, _ANY_FIND)
        )
        # A message may start right here (after a gap or at an unknown stream start), at the start
        # of the newest segment (senders start messages on segment boundaries), or after any newline.
        m = at.match(data, pos) if self.resync_here else None
        if m is None:
            m = find.search(data, pos + 1 if not self.resync_here else pos)
            if self.boundary > pos and (m is None or m.start() > self.boundary):
                m = at.match(data, self.boundary) or m
        self.resync_here = True
        if m is not None:
            self.scanned = 0
            self.state = S_START
            return m.start()
        self.scanned += n - pos
        if self.seen == 0 and self.scanned > SNIFF_LIMIT:
            self.kill()
            self.owner.not_http(self, f"no HTTP message start in {self.scanned} bytes")
            return n
        last = data.rfind(b"\n", pos)
        tail = last + 1 if last >= 0 else pos
        if n - tail <= MAX_LINE:
            self._stash(data, tail)
        return n

    def _done(self) -> None:
        msg = self.msg
        assert msg is not None
        self.msg = None
        self.state = S_START
        self.seen += 1
        msg.done = True
        bad = msg.body.bad_encoding
        if bad is not None:
            msg.note("http.bad_content_encoding")
            self.owner.diag("http.bad_content_encoding", f"{bad}; its first bytes are kept as sent", msg.frames[0])
        self.owner.message_done(self, msg)

    def _cut(self, why: str, frame: int | None) -> None:
        """The message in progress cannot be finished: keep what was seen of it."""
        msg = self.msg
        if msg is None:
            return
        if not msg.head_done:
            if not self.line_ok:
                self.msg = None
                self.owner.diag(
                    "http.partial_message_dropped",
                    f"an HTTP message start was cut by {why} before its first line ended",
                    msg.frames[0],
                )
                return
            lines = bytes(self.buf).decode("latin-1").split("\n")
            self._fields(lines[:-1], 1, msg, msg.frames[0])
            self.framed = True
            self.buf.clear()
            msg.head_done = True
            msg.body.complete = False
            msg.fail(f"header block cut by {why}")
        else:
            msg.body.complete = False
            msg.fail(f"body cut by {why}")
        if self.msg is msg:
            self._done()


_REASONS = {
    "fin": "the connection closed",
    "reset": "a TCP reset",
    "idle": "the connection went idle",
    "end_of_input": "the end of the capture",
    "port_reused": "a new connection on the same ports",
    "not_http": "the connection was given up",
}


def _head_end(data: bytes | bytearray, start: int) -> int:
    """Index just past the empty line ending a header block, or -1."""
    i = data.find(b"\n\r\n", start)
    j = data.find(b"\n\n", start, i + 1) if i >= 0 else data.find(b"\n\n", start)
    if j >= 0:
        return j + 2
    return i + 3 if i >= 0 else -1


def _content_coding(msg: HttpMessage) -> None:
    """Decode the body prefix when ``Content-Encoding`` names gzip or deflate (markers are searched in it)."""
    values = [v for k, v in msg.headers if len(k) == 16 and k.lower() == "content-encoding"]
    coding = decodable_coding(", ".join(values)) if values else None
    if coding is not None:
        msg.body.decode_as(coding)


def _is_chunked(te: str) -> bool:
    """RFC 9112 §6.3: chunked framing only when chunked is the final coding."""
    return te.rsplit(",", 1)[-1].strip(" \t").lower() == "chunked"


def _looks_tls(data: bytes, pos: int) -> bool:
    """A TLS record header: content type 20-24, version 3.x."""
    return len(data) - pos >= 3 and 20 <= data[pos] <= 24 and data[pos + 1] == 3 and data[pos + 2] <= 4


def _role_name(role: int) -> str:
    return {ROLE_REQUEST: "request", ROLE_RESPONSE: "status"}.get(role, "start")


def _show(raw: bytes) -> str:
    """Captured bytes for a message: printable ASCII kept, the rest escaped."""
    return repr(raw)[2:-1]
