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

from stickyforensics.model.transaction import REQUEST_HEAD_CUT, RESPONSE_HEAD_CUT
from stickyforensics.reconstruct.http1_body import BodyAccumulator
from stickyforensics.reconstruct.http1_head import (
    ANY_AT,
    ANY_FIND,
    H_BYTE,
    REQ_AT,
    REQ_FIND,
    RESP_AT,
    RESP_FIND,
    TOKEN_BYTES,
    HeadRules,
)
from stickyforensics.reconstruct.http1_message import (
    MAX_HEAD,
    MAX_HEADERS,
    MAX_LINE,
    REASONS,
    ROLE_REQUEST,
    ROLE_RESPONSE,
    ROLE_UNKNOWN,
    S_BODY,
    S_CHUNK_END,
    S_CHUNK_SIZE,
    S_CLOSE,
    S_DEAD,
    S_HEAD,
    S_RESYNC,
    S_START,
    S_TRAILER,
    S_TUNNEL,
    SNIFF_LIMIT,
    HttpMessage,
    MessageOwner,
    head_end,
    looks_tls,
    role_name,
    show,
)

__all__ = [
    "MAX_HEAD",
    "MAX_HEADERS",
    "MAX_LINE",
    "ROLE_REQUEST",
    "ROLE_RESPONSE",
    "ROLE_UNKNOWN",
    "SNIFF_LIMIT",
    "S_TUNNEL",
    "BodyAccumulator",
    "HttpMessage",
    "MessageOwner",
    "MessageParser",
]


class MessageParser(HeadRules):
    """One direction's HTTP/1.x parser (a ``StreamConsumer`` for TCP reassembly)."""

    __slots__ = ("boundary", "line_ok", "probation", "scan_from", "scanned", "seen", "sniffed")

    def __init__(self, owner: MessageOwner, role: int) -> None:
        self.owner = owner
        self.role = role
        self.state = S_START
        self.buf = bytearray()
        """Unconsumed bytes (a partial head or line); empty in body states."""
        self.msg: HttpMessage | None = None
        self.remaining = 0
        self.chunked = False
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
        self.trailer_bytes = 0
        """Size of the trailer section read so far (bounded by ``MAX_HEAD``, like a header block)."""

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
            remaining = self.remaining
            if n <= remaining:  # the whole segment is body: no need for the general path
                self.remaining = remaining - n
                msg = self.msg
                assert msg is not None
                msg.body.add(chunk)
                if msg.frames[-1] != frame:
                    msg.frames.append(frame)
                    if ts > msg.last_ts:
                        msg.last_ts = ts
                    elif ts < msg.first_ts:
                        msg.first_ts = ts  # an earlier frame delivered late (reordering)
                if n == remaining:  # and the body (or the chunk) ends with it, as it usually does
                    if self.chunked:
                        self.state = S_CHUNK_END
                    else:
                        self._done()
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
                    msg.fail(f"body not finished ({REASONS.get(reason, reason)})")
                self._done()
            else:
                self._cut(REASONS.get(reason, reason), None)
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
            if self.state == S_HEAD and self.line_ok and head_end(buf, self.scan_from) < 0:
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
            # the states most often met first: a stashed head (S_HEAD) is the exception
            if st == S_START:
                pos = self._start(data, pos, frame, ts)
            elif st == S_BODY:
                pos = self._body(data, pos)
            elif st == S_CHUNK_SIZE:
                pos = self._chunk_size(data, pos, frame)
            elif st == S_CHUNK_END:
                pos = self._chunk_end(data, pos, frame)
            elif st == S_HEAD:
                pos = self._head(data, pos, frame)
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
        c = data[pos]  # the caller's loop runs while pos < len(data)
        if c == 10 or c == 13:  # empty lines between messages (RFC 9112 §2.2): rare
            n = len(data)
            while pos < n and data[pos] in (10, 13):
                pos += 1
            if pos >= n:
                return n
            c = data[pos]
        if c not in TOKEN_BYTES or (self.role == ROLE_RESPONSE and c != H_BYTE):
            return self._bad_start(data, pos, frame, "the stream does not start with an HTTP message")
        self.msg = HttpMessage(frame, ts)
        self.state = S_HEAD
        self.line_ok = False
        return self._head(data, pos, frame)  # what the loop in _feed would call next, without the loop

    def _bad_start(self, data: bytes, pos: int, frame: int, why: str) -> int:
        if self.probation:
            self.kill()
            self.owner.not_http(self, why)
            return len(data)
        self.msg = None
        self.owner.diag(
            "http.bad_start_line",
            f"bytes at a message boundary are not an HTTP {role_name(self.role)} line "
            f"({show(data[pos : pos + 40])}); skipped to the next message",
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
            nl = data.find(b"\n", pos)
        end = head_end(data, scan)
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
        self._parse_head(data, pos, nl, end, frame)
        return end

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

    def _body(self, data: bytes, pos: int) -> int:
        msg = self.msg
        assert msg is not None
        n = len(data)
        take = self.remaining if self.remaining < n - pos else n - pos  # not min(): a call saved per piece
        msg.body.add(data if take == n else data[pos : pos + take])
        self.remaining -= take
        pos += take
        if self.remaining == 0:
            if self.chunked:
                self.state = S_CHUNK_END
            else:
                self._done()
        return pos

    def _resync(self, data: bytes, pos: int, frame: int) -> int:
        n = len(data)
        if not self.sniffed:
            self.sniffed = True
            if self.seen == 0 and looks_tls(data, pos):
                self.kill()
                self.owner.not_http(self, "TLS records")
                return n
        role = self.role
        at, find = (REQ_AT, REQ_FIND) if role == ROLE_REQUEST else (RESP_AT, RESP_FIND) if role else (ANY_AT, ANY_FIND)
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
        self.scanned += n - max(pos, self.boundary)  # bytes stashed from earlier segments were counted then
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
            self.buf.clear()
            msg.head_done = True
            msg.body.complete = False
            msg.fail(f"header block cut by {why}")
            # The headers after the cut are unknown (a snaplen of a few hundred bytes cuts every Cookie
            # header): what the message did not show must not be read as absent.
            msg.note(REQUEST_HEAD_CUT if msg.is_request else RESPONSE_HEAD_CUT)
        else:
            msg.body.complete = False
            msg.fail(f"body cut by {why}")
        if self.msg is msg:
            self._done()
