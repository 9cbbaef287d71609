"""What is kept of an HTTP/1.x body: its size and a bounded prefix, with content decoding.

Markers such as ``BAD SESSION`` are searched in ``BodyInfo.prefix``. A page sent with
``Content-Encoding: gzip`` (or ``deflate``) has no readable text on the wire, so the prefix is
*decoded*: the body is inflated incrementally with ``zlib.decompressobj``, and only until the prefix
is full. The inflater is asked for at most the room left in the prefix on every call, so a body
never inflates to more than ``BODY_PREFIX_LIMIT`` bytes in all: a compression bomb costs nothing.

Because decoding stops there, the decoded length of the whole body is unknown. So, as the tshark
engine does, ``size`` describes the body *as transferred* (de-chunked, still content-encoded); only
``prefix`` is decoded. A body that does not decode
(corrupt, or not encoded as announced) keeps its wire bytes as the prefix when nothing decoded, and
``bad_encoding`` says why, for the parser to turn into an ``http.bad_content_encoding`` diagnostic.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from stickyforensics.model import BODY_PREFIX_LIMIT, BodyInfo
from stickyforensics.model.frozen_build import builder

GZIP_WBITS = 16 + zlib.MAX_WBITS
AUTO_WBITS = 32 + zlib.MAX_WBITS
"""zlib or gzip header, detected from the first bytes (RFC 9110 §8.4.1.2 says zlib; gzip is seen too)."""
RAW_WBITS = -zlib.MAX_WBITS
"""Headerless deflate, which some servers send as ``deflate``: tried when the zlib header is wrong."""

_NO_BODY = BodyInfo()
_new_body_info = builder(BodyInfo)  # BodyInfo(size, prefix, complete): half the cost of its __init__
_CODINGS = {"gzip": GZIP_WBITS, "x-gzip": GZIP_WBITS, "deflate": AUTO_WBITS}


def decodable_coding(content_encoding: str) -> str | None:
    """The one coding of a ``Content-Encoding`` value that is decoded here, or None.

    Only a single ``gzip`` / ``x-gzip`` / ``deflate`` (``identity`` ignored) is decoded; stacked or
    other codings (``br``, ``zstd``) keep their wire bytes.
    """
    codings = [c for c in (p.strip(" \t").lower() for p in content_encoding.split(",")) if c and c != "identity"]
    if len(codings) == 1 and codings[0] in _CODINGS:
        return codings[0]
    return None


class _Inflater:
    """Bounded incremental decoding of one body's prefix."""

    __slots__ = ("coding", "error", "out", "raw", "retried", "z")

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.z = zlib.decompressobj(_CODINGS[coding])
        self.out = b""
        """Decoded bytes, at most ``BODY_PREFIX_LIMIT``."""
        self.raw = b""
        """The first wire bytes (bounded), for a raw-deflate retry and for a body that does not decode."""
        self.retried = False
        self.error: str | None = None

    def feed(self, data: bytes) -> bool:
        """Decode more wire bytes; False once nothing more is wanted (prefix full, or failed)."""
        if len(self.raw) < BODY_PREFIX_LIMIT:
            self.raw += data[: BODY_PREFIX_LIMIT - len(self.raw)]
        try:
            self.out += self.z.decompress(data, BODY_PREFIX_LIMIT - len(self.out))
        except zlib.error as exc:
            if self.coding == "deflate" and not self.out and not self.retried:
                self.retried = True
                self.z = zlib.decompressobj(RAW_WBITS)
                try:
                    self.out = self.z.decompress(self.raw, BODY_PREFIX_LIMIT)
                except zlib.error as again:
                    self.error = f"{self.coding} body does not decode ({again})"
                    return False
                return len(self.out) < BODY_PREFIX_LIMIT and not self.z.eof
            self.error = f"{self.coding} body does not decode ({exc})"
            return False
        return len(self.out) < BODY_PREFIX_LIMIT and not self.z.eof


class BodyAccumulator:
    """Size and a bounded prefix of a body, fed piece by piece (de-chunked). No digest of the whole: nothing
    read it, and hashing every body byte was about 2% of analysing a capture (bench/README.md, session 11)."""

    __slots__ = ("_inflater", "bad_encoding", "complete", "prefix", "size")

    def __init__(self) -> None:
        self.size = 0
        self.prefix = b""
        self.complete = True
        self._inflater: _Inflater | None = None
        self.bad_encoding: str | None = None
        """Why a content-encoded body did not decode (None when it did, or was not encoded)."""

    def decode_as(self, coding: str) -> None:
        """Decode the prefix with ``coding`` (a value from ``decodable_coding``); call before any ``add``."""
        self._inflater = _Inflater(coding)

    def add(self, data: bytes) -> None:
        self.size += len(data)
        inflater = self._inflater
        if inflater is not None:
            if not self.complete:
                # bytes after a capture gap cannot continue the deflate stream: keep what decoded
                self._settle(inflater)
            elif not inflater.feed(data):
                self._settle(inflater)
        elif len(self.prefix) < BODY_PREFIX_LIMIT:
            self.prefix += data[: BODY_PREFIX_LIMIT - len(self.prefix)]

    def _settle(self, inflater: _Inflater) -> None:
        """Stop decoding: fix the prefix and free the inflater."""
        self._inflater = None
        if inflater.error is not None:
            self.bad_encoding = inflater.error
        self.prefix = inflater.out if inflater.out or inflater.error is None else inflater.raw

    def info(self, keep_prefix: Callable[[bytes], bool] | None = None) -> BodyInfo:
        """The body facts; the prefix is left out when ``keep_prefix`` says it is not worth keeping."""
        inflater = self._inflater
        if inflater is not None:
            self._settle(inflater)
        if not self.size and self.complete:
            return _NO_BODY  # most requests and every 304: one shared (frozen) object (equal to any empty body)
        prefix = self.prefix
        if keep_prefix is not None and prefix and not keep_prefix(prefix):
            prefix = b""
        return _new_body_info(self.size, prefix, self.complete)
