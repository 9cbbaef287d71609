"""Reading a capture's byte stream in chunks, keeping what came before a damaged spot.

A decompressor that hits a corrupt or cut stream raises and would drop what it had decompressed in
that call; ``read_compressed`` returns what it got as a ``PartialRead`` instead, and a stream that
failed is replaced by an ``ExhaustedStream`` so the reader ends cleanly.
"""

from __future__ import annotations

import lzma
import zlib
from typing import Any, Protocol

__all__ = ["CHUNK", "ByteStream", "ExhaustedStream", "PartialRead", "read_compressed"]

CHUNK = 4 << 20
"""Bytes per read: large enough that per-read overhead vanishes, small enough to stay flat in memory."""


class ByteStream(Protocol):
    """What the reader needs of a file or a decompressor."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def read_compressed(stream: Any, size: int) -> bytes:
    """Read up to ``size`` bytes with ``read1`` so bytes before a damaged spot are not lost.

    A plain ``read(size)`` that hits a corrupt or cut stream raises and drops
    what it had decompressed in that call; ``read1`` returns piece by piece.
    """
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            piece = stream.read1(size - got)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            if not parts:
                raise
            raise PartialRead(b"".join(parts), exc) from None
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


class PartialRead(Exception):
    """A read that failed part-way: ``data`` came before the damage, ``cause`` is what failed."""

    def __init__(self, data: bytes, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.data = data
        self.cause = cause


class ExhaustedStream:
    """Stands in for a stream that failed: reads return nothing."""

    def read(self, size: int = -1) -> bytes:
        return b""

    def read1(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        return None
