"""What the tshark engine collects per HTTP message before it becomes a model ``Request``/``Response``.

A ``Message`` is filled frame by frame (HTTP/2 heads, bodies and frames arrive in pieces); a ``Body``
keeps only what the model keeps (size, bounded prefix), so memory stays flat whatever the body size.
``Message`` and ``Exchange`` compare by identity (``eq=False``): they are mutable work records.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from stickyforensics.model import BODY_PREFIX_LIMIT, BodyInfo, DiagLevel, Diagnostic

Addr = tuple[str, int]
"""(ip, port) of one side of a TCP connection."""


class Body:
    """A body fed in pieces.

    ``size`` counts the body as sent (de-chunked, still content-encoded), as the native engine counts it.
    ``prefix`` is of the content-decoded bytes: tshark hands HTTP/1 bodies over decoded
    (``http.decompress_body``), and HTTP/2 DATA is decoded here (gzip, deflate), so a marker such as
    ``BAD SESSION`` is found in a compressed page whichever HTTP version carried it. As in the native
    engine (``reconstruct.http1_body``), decoding stops once the prefix is full: nothing reads further (a
    compression bomb costs nothing), and ``complete`` is about the bytes sent, not about a stream that
    breaks past the prefix.
    """

    __slots__ = ("_decoder", "_encoding", "_prefix", "complete", "size")

    def __init__(self, content_encoding: str | None = None) -> None:
        self.size = 0
        self.complete = True
        self._prefix = bytearray()
        self._encoding = (content_encoding or "").strip().lower()
        self._decoder: zlib._Decompress | None = None
        if self._encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif self._encoding == "deflate":
            self._decoder = zlib.decompressobj()  # RFC 9110 §8.4.1.2: zlib-wrapped; raw deflate is retried

    def feed_raw(self, data: bytes) -> None:
        """Bytes as they crossed the wire (HTTP/2 DATA payload)."""
        if not data:
            return
        self.size += len(data)
        if len(self._prefix) >= BODY_PREFIX_LIMIT:
            return  # the prefix is all that is kept
        if self._decoder is None:
            if self.complete:
                self._take(data)
            return
        first = self.size == len(data)  # the first piece: a failure means "not encoded as announced"
        try:
            self._decode(data)
        except zlib.error:
            if first and self._encoding == "deflate":
                self._decoder = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
                try:
                    self._decode(data)
                    return
                except zlib.error:
                    pass
            self._decoder = None
            if first:  # not encoded as announced: keep the bytes as they are
                self._take(data)
            else:
                self.complete = False

    def feed_decoded(self, data: bytes) -> None:
        """Bytes already decoded by tshark (HTTP/1 ``http.file_data``); the caller may correct ``size``."""
        self.size += len(data)
        self._take(data)

    def _decode(self, data: bytes) -> None:
        assert self._decoder is not None
        # At most the room left: the rest of the input stays unconsumed, and the prefix is then full.
        self._take(self._decoder.decompress(data, BODY_PREFIX_LIMIT - len(self._prefix)))

    def _take(self, data: bytes) -> None:
        room = BODY_PREFIX_LIMIT - len(self._prefix)
        if room > 0:
            self._prefix += data[:room]

    def info(self) -> BodyInfo:
        return BodyInfo(
            size=self.size,
            prefix=bytes(self._prefix),
            complete=self.complete,
        )


@dataclass(slots=True, eq=False)
class Message:
    """One request or response head plus body, as far as the capture showed it."""

    src: Addr
    dst: Addr
    frames: list[int]
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Body = field(default_factory=Body)
    method: str = ""
    target: str = ""
    status: int = 0
    reason: str = ""
    version: str = ""
    head_frame: int = 0
    """The frame where tshark dissected the head (what ``http.request_in`` points to)."""
    done_frame: int = 0
    """The frame that completed the message (its time is ``request_done`` / ``finished``)."""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(slots=True, eq=False)
class Exchange:
    """A request and the response that answered it, before it becomes a ``Transaction``."""

    tcp_stream: int
    request: Message
    response: Message | None = None
    http2_stream: int | None = None
    interim_frames: list[int] = field(default_factory=list)
    """Frames of interim (1xx) responses: shown with the response, as the native engine does."""
    stream_reset: bool = False
    """HTTP/2: the stream was reset (RST_STREAM)."""
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def unanswered(ex: Exchange, why: str, note: str) -> None:
    """Mark an exchange without a response: ``why`` joins any earlier error, ``note`` is added once."""
    ex.error = why if ex.error is None else f"{ex.error}; {why}"
    if note not in ex.notes:
        ex.notes.append(note)


class Diags:
    """Diagnostics in the order they happened, one per occurrence (aggregated at the end like the native
    engine's, by ``stickyforensics.ingest.native.aggregate_diagnostics``)."""

    __slots__ = ("items", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, position: str | None = None, level: DiagLevel = DiagLevel.WARNING) -> None:
        self.items.append(Diagnostic(code, message, self.source, position, level))
