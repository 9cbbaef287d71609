"""HTTP/1.x start lines, header blocks and message framing (RFC 9112 §3-7), for ``MessageParser``.

``HeadRules`` is mixed into ``stickyforensics.reconstruct.http1.MessageParser``: it holds the parts
of the parser that read a start line, split a header block into fields (usual lines and blocks
through the memos of ``http1_lines``, odd ones through the careful line loop here, which reports
them), decide how the body is framed (Content-Length, chunked, until close, none, tunnel) and walk
chunked framing. The state machine that calls them, and the state they share (declared below for
type checking), live in ``MessageParser``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.http1_body import decodable_coding
from stickyforensics.reconstruct.http1_lines import (
    NO_FRAMING,
    TOKEN,
    field_framing,
    plain_block,
    request_line,
    shared_pair,
    status_line,
)
from stickyforensics.reconstruct.http1_message import (
    MAX_HEAD,
    MAX_HEADERS,
    MAX_LINE,
    ROLE_RESPONSE,
    ROLE_UNKNOWN,
    S_BODY,
    S_CHUNK_SIZE,
    S_CLOSE,
    S_RESYNC,
    S_START,
    S_TRAILER,
    HttpMessage,
    MessageOwner,
    is_chunked,
    show,
)

_REQ_LINE_RX = TOKEN + rb"{1,32}[ \t]+[^\r\n]+?[ \t]+HTTP/[0-9]\.[0-9][ \t]*\r?\n"
_RESP_LINE_RX = rb"HTTP/[0-9]\.[0-9][ \t]+[0-9]{3}(?:[ \t]+[^\r\n]*?)?[ \t]*\r?\n"
REQ_AT = re.compile(_REQ_LINE_RX)
RESP_AT = re.compile(_RESP_LINE_RX)
ANY_AT = re.compile(rb"(?:" + _RESP_LINE_RX + rb")|(?:" + _REQ_LINE_RX + rb")")
REQ_FIND = re.compile(rb"(?m)^" + _REQ_LINE_RX)
RESP_FIND = re.compile(rb"(?m)^" + _RESP_LINE_RX)
ANY_FIND = re.compile(rb"(?m)^(?:(?:" + _RESP_LINE_RX + rb")|(?:" + _REQ_LINE_RX + rb"))")
_HEX = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?")

TOKEN_BYTES = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
H_BYTE = ord("H")


class HeadRules:
    """Start line, header block, framing and chunked-framing steps of ``MessageParser``."""

    __slots__ = (
        "buf",
        "chunked",
        "msg",
        "owner",
        "remaining",
        "resync_here",
        "role",
        "state",
        "trailer_bytes",
    )

    owner: MessageOwner
    role: int
    state: int
    msg: HttpMessage | None
    buf: bytearray
    remaining: int
    chunked: bool
    resync_here: bool
    trailer_bytes: int

    def kill(self) -> None:
        raise NotImplementedError

    def _done(self) -> None:
        raise NotImplementedError

    def _stash(self, data: bytes, pos: int) -> int:
        raise NotImplementedError

    def _start_line(self, data: bytes, pos: int, nl: int, msg: HttpMessage) -> bool:
        role = self.role
        line = data[pos : nl + 1]
        is_response = line.startswith(b"HTTP/") if role == ROLE_UNKNOWN else role == ROLE_RESPONSE
        if is_response:
            status = status_line(line)
            if status is None:
                return False
            msg.is_request = False
            msg.version, msg.status, msg.reason = status
        else:
            request = request_line(line)
            if request is None:
                return False
            msg.method, msg.target, msg.version = request
            if request == ("PRI", "*", "HTTP/2.0"):
                self.kill()
                self.owner.not_http(self, "HTTP/2 with prior knowledge (connection preface)")  # type: ignore[arg-type]  # self is the MessageParser
                return True
        if role == ROLE_UNKNOWN:
            self.owner.roles_found(self, not is_response)  # type: ignore[arg-type]  # self is the MessageParser
        self.owner.message_started(self, msg)  # type: ignore[arg-type]  # self is the MessageParser
        return True

    def _parse_head(self, data: bytes, pos: int, nl: int, end: int, frame: int) -> None:
        """The head ``data[pos:end]``, its start line (already read) ending at ``nl``."""
        msg = self.msg
        assert msg is not None
        # The usual head: the start line ends with CRLF and the field block is plain (``plain_block``)
        block = plain_block(data[nl - 1 : end]) if data[nl - 1] == 13 else None
        lengths: Sequence[str]
        if block is not None:
            msg.headers, lengths, te, encoded = block  # the memo's tuple, shared: _fields copies it to add
        else:
            text = data[pos:end].decode("latin-1")
            low = text.lower()
            self._odd_fields(text, msg, frame)
            framed = "content-length" in low or "transfer-encoding" in low
            lengths, te = field_framing(msg.headers) if framed else NO_FRAMING
            encoded = "content-encoding" in low
        msg.head_done = True
        if encoded:
            content_coding(msg)
        if msg.is_request:
            self._request_framing(msg, frame, lengths, te)
        else:
            self._response_framing(msg, frame, lengths, te)

    def _odd_fields(self, text: str, msg: HttpMessage, frame: int) -> None:
        """Header fields of a block ``plain_fields`` does not take: odd lines, or more than ``MAX_HEADERS``."""
        odd = "\r\n " in text or "\r\n\t" in text or " :" in text or "\t:" in text
        if not odd and text.count("\n") == text.count("\r\n"):
            parts = [line.partition(":") for line in text.split("\r\n")[1:-2]]
            headers = [shared_pair(n, v.strip(" \t")) for n, sep, v in parts if sep and n]
            if len(headers) == len(parts):
                msg.headers = headers
                if len(headers) > MAX_HEADERS:
                    del headers[MAX_HEADERS:]
                    self._too_many_headers(msg, frame, len(parts))
                return
        self._fields(text.split("\n"), 1, msg, frame)

    def _fields(self, lines: list[str], first: int, msg: HttpMessage, frame: int) -> None:
        headers = msg.headers
        if not isinstance(headers, list):  # shared with the block memo: add to a copy
            headers = msg.headers = list(headers)
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
                        f"a header line without a name or ':' was skipped ({show(line.encode('latin-1')[:40])})",
                        frame,
                    )
                continue
            if len(headers) >= MAX_HEADERS:
                self._too_many_headers(msg, frame, None)
                return
            headers.append(shared_pair(name, value.strip(" \t")))

    def _too_many_headers(self, msg: HttpMessage, frame: int, fields: int | None) -> None:
        if "http.too_many_headers" in msg.notes:
            return
        msg.note("http.too_many_headers")
        had = f"{fields} fields" if fields is not None else f"more than {MAX_HEADERS} fields"
        self.owner.diag(
            "http.too_many_headers",
            f"a message has {had}; only the first {MAX_HEADERS} were kept",
            frame,
        )

    def _content_length(self, msg: HttpMessage, frame: int, cls: Sequence[str]) -> tuple[int | None, bool]:
        """(the Content-Length ``cls`` give, or None when unusable or absent; Content-Length present)."""
        if not cls:
            return None, False
        if len(cls) == 1 and cls[0].isdigit() and cls[0].isascii():  # the usual single plain number
            return int(cls[0]), True
        nums: list[int] = []
        for value in cls:
            for part in value.split(","):
                part = part.strip(" \t")
                if not (part.isascii() and part.isdigit()):
                    msg.note("http.bad_content_length")
                    self.owner.diag("http.bad_content_length", f"unusable Content-Length {value!r}", frame)
                    return None, True
                nums.append(int(part))
        if len(set(nums)) > 1:
            msg.note("http.content_length_conflict")
            self.owner.diag(
                "http.content_length_conflict",
                f"conflicting Content-Length values {list(cls)!r}; the first ({nums[0]}) was used",
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
        return nums[0], True

    def _request_framing(self, msg: HttpMessage, frame: int, lengths: Sequence[str], te: str | None) -> None:
        cl, has_cl = self._content_length(msg, frame, lengths)
        if te is not None:
            if has_cl:
                self._te_and_cl(msg, frame)
            if is_chunked(te):
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

    def _response_framing(self, msg: HttpMessage, frame: int, lengths: Sequence[str], te: str | None) -> None:
        method = self.owner.request_method(msg)
        cl, has_cl = self._content_length(msg, frame, lengths)
        status = msg.status
        if method == "CONNECT" and 200 <= status < 300:
            msg.framing = "tunnel"
            self._done()
            if self.state == S_START:
                self.owner.upgraded(self, msg)  # type: ignore[arg-type]  # self is the MessageParser
            return
        if method == "HEAD" or status < 200 or status in (204, 304):
            self._done()
            if status == 101 and self.state == S_START:
                msg.framing = "tunnel"
                self.owner.upgraded(self, msg)  # type: ignore[arg-type]  # self is the MessageParser
            return
        if te is not None:
            if has_cl:
                self._te_and_cl(msg, frame)
            if is_chunked(te):
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
            self.trailer_bytes = 0
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
            f"bad chunk-size line ({show(data[pos : pos + 40])}); the body was cut there",
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
        self.trailer_bytes += nl + 1 - pos
        if self.trailer_bytes <= MAX_HEAD:
            self._fields(["", line.decode("latin-1")], 1, msg, frame)
        elif "http.trailer_too_large" not in msg.notes:
            msg.note("http.trailer_too_large")
            self.owner.diag(
                "http.trailer_too_large",
                f"a trailer section exceeds {MAX_HEAD} bytes; the fields beyond were dropped",
                frame,
            )
        return nl + 1


def content_coding(msg: HttpMessage) -> None:
    """Decode the body prefix when ``Content-Encoding`` names gzip or deflate (markers are searched in it)."""
    values = [v for k, v in msg.headers if len(k) == 16 and k.lower() == "content-encoding"]
    coding = decodable_coding(", ".join(values)) if values else None
    if coding is not None:
        msg.body.decode_as(coding)
