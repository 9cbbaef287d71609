"""Decompression bombs of a few KB, made in a few milliseconds.

gzip, xz and bzip2 readers all read concatenated members/streams as one, so one compressed block
repeated N times decompresses to N blocks: no need to compress the whole payload.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable

COMPRESS: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.compress, "xz": lzma.compress, "bzip2": bz2.compress}
MIB = 1 << 20


def bomb(kind: str, prefix: bytes, block: bytes, repeats: int, suffix: bytes = b"") -> bytes:
    """``prefix + block * repeats + suffix``, compressed as concatenated streams."""
    compress = COMPRESS[kind]
    return compress(prefix) + compress(block) * repeats + (compress(suffix) if suffix else b"")
