"""Which reader a file needs, decided by its content, never by its name alone.

Users hand us ``capture.pcap`` files that are really pcapng, HARs saved as
``.json`` or ``.txt``, gzip-compressed captures and the occasional zip archive
or PDF. The magic bytes say what a file is; the extension is only a hint for the
error message. ``expand_inputs`` turns the command line (files and folders) into
the ordered list of files to read, skipping non-captures found inside folders.
"""

from __future__ import annotations

import bz2
import codecs
import errno
import gzip
import lzma
import os
import re
import zlib
from collections.abc import Iterator, Sequence

from stickyforensics.errors import InputError

SNIFF_BYTES = 64 * 1024
"""How much of a file (or of its decompressed start) is looked at."""

HAR_KEY_WINDOW = 16 * 1024
"""The ``"log"`` key must appear within this many characters after the opening brace."""

_PCAP_MAGICS = {
    b"\xa1\xb2\xc3\xd4": "pcap",  # big-endian, microseconds
    b"\xd4\xc3\xb2\xa1": "pcap",  # little-endian, microseconds
    b"\xa1\xb2\x3c\x4d": "pcap",  # big-endian, nanoseconds
    b"\x4d\x3c\xb2\xa1": "pcap",  # little-endian, nanoseconds
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

COMPRESSIONS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
)
"""Containers the readers open transparently (the pcap reader and ``har_stream`` alike)."""

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

_LOG_KEY = re.compile(r'"log"\s*:')

_HINTS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive?"),
    (b"PK\x05\x06", "an empty zip archive?"),
    (b"%PDF", "a PDF document?"),
    (b"\x89PNG", "a PNG image?"),
    (b"\xff\xd8\xff", "a JPEG image?"),
    (b"7z\xbc\xaf", "a 7-Zip archive?"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive? decompress it first"),
    (b"Rar!", "a RAR archive?"),
    (b"\x7fELF", "an executable?"),
    (b"\xa1\xb2\xcd\x34", "a Kuznetzov-modified pcap: convert it with editcap"),
    (b"\x34\xcd\xb2\xa1", "a Kuznetzov-modified pcap: convert it with editcap"),
    (b"GMBU", "a Microsoft Network Monitor capture: convert it with editcap"),
    (b"snoop", "a Solaris snoop capture: convert it with editcap"),
    (b"\xd0\xcf\x11\xe0", "an OLE/Office document?"),
)


def sniff(path: str) -> str:
    """Return ``"har"``, ``"pcap"`` or ``"pcapng"`` for ``path`` from its content.

    gzip, xz and bzip2 files are looked into: the format of the decompressed data
    is returned (readers open them transparently). Raises ``InputError`` naming the
    file for anything that is not one of the three formats or cannot be read.
    """
    head = _read_head(path)
    kind = compression(head)
    if kind is not None:
        inner = _decompressed_head(path, kind)
        fmt = _classify(inner)
        if fmt is None:
            raise InputError(path, f"{kind}-compressed, but the content is " + _describe_unknown(inner, path))
        return fmt
    fmt = _classify(head)
    if fmt is None:
        raise InputError(path, _describe_unknown(head, path))
    return fmt


def expand_inputs(paths: Sequence[str]) -> list[str]:
    """Files as given and folders recursed (sorted), keeping only captures and HARs.

    A file named explicitly must be a capture or HAR (``InputError`` otherwise);
    inside a folder, other files (README.md, keys, screenshots) are skipped silently,
    and so are hidden files and folders. The same file reached twice is listed once.
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(candidate: str) -> None:
        key = os.path.realpath(candidate)
        if key not in seen:
            seen.add(key)
            out.append(candidate)

    for path in paths:
        if os.path.isdir(path):
            for candidate in _walk(path):
                try:
                    sniff(candidate)
                except InputError:
                    continue
                add(candidate)
        elif os.path.lexists(path):
            sniff(path)
            add(path)
        else:
            raise InputError(path, "no such file or folder")
    return out


def _walk(folder: str) -> Iterator[str]:
    """Every non-hidden file under ``folder``, directories and files in sorted order."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            full = os.path.join(root, name)
            # A FIFO or device in the folder would block the read: regular files only.
            if not name.startswith(".") and os.path.isfile(full):
                yield full


def _read_head(path: str) -> bytes:
    if os.path.isdir(path):
        raise InputError(path, "is a folder, not a capture or HAR file")
    if os.path.exists(path) and not os.path.isfile(path):
        # A pipe (<(zcat x.pcap)) would be consumed here and be empty for the reader.
        raise InputError(path, "not a regular file (a pipe or a device): save the capture to a file first")
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a capture or HAR file") from None
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise InputError(path, "no such file") from None
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise InputError(path, "empty file (0 bytes)")
    return head


def compression(head: bytes) -> str | None:
    """``gzip``, ``xz`` or ``bzip2`` from the magic bytes, or None for uncompressed data."""
    for magic, kind in COMPRESSIONS:
        if head.startswith(magic):
            return kind
    return None


DECOMPRESSED_RATIO_LIMIT = 1000
"""Decompressed bytes allowed per compressed byte. gzip cannot exceed about 1032:1 and real captures and
HARs compress 3-50:1, while xz and bzip2 turn a few KB of a crafted file into many GB (a decompression
bomb: the pcap reader needs about 90 s per GB of empty records, the HAR parser holds a long string whole)."""

DECOMPRESSED_FLOOR = 64 << 20
"""Small compressed files may always expand to this much (a few seconds of reading at worst)."""


def decompressed_limit(compressed_size: int) -> int:
    """How many decompressed bytes a compressed file of ``compressed_size`` bytes may yield."""
    return max(DECOMPRESSED_FLOOR, DECOMPRESSED_RATIO_LIMIT * compressed_size)


class InputLimitExceeded(OSError):
    """An input limit was reached while reading: the reader stops there and keeps what it had.

    An ``OSError``, so every reader's existing "reading stopped here" path (a diagnostic naming the
    byte, with the data before it kept) applies to it unchanged.
    """


class DecompressionLimitExceeded(InputLimitExceeded):
    """More decompressed data than ``decompressed_limit`` allows."""


class BoundedDecompressor:
    """A decompressing reader that stops (``DecompressionLimitExceeded``) past a decompressed size.

    Offers what the readers use of a ``GzipFile``: ``read``, ``read1``, ``close`` and ``with``.
    """

    def __init__(self, stream: gzip.GzipFile | lzma.LZMAFile | bz2.BZ2File, kind: str, limit: int) -> None:
        self._stream = stream
        self.kind = kind
        self.limit = limit
        self.produced = 0
        """Decompressed bytes returned so far."""

    def read(self, size: int = -1, /) -> bytes:
        return self._count(self._stream.read(self._want(size)))

    def read1(self, size: int = -1, /) -> bytes:
        return self._count(self._stream.read1(self._want(size)))

    def _want(self, size: int) -> int:
        """Never ask for more than one byte past the limit: an unbounded read must not inflate a bomb."""
        room = self.limit - self.produced + 1
        return room if size is None or size < 0 else min(size, room)

    def _count(self, data: bytes) -> bytes:
        self.produced += len(data)
        if self.produced > self.limit:
            raise DecompressionLimitExceeded(
                f"the {self.kind} data decompresses to more than {self.limit >> 20} MiB, the limit for a file "
                f"of this size (a decompression bomb?); decompress it first to read it whole"
            )
        return data

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> BoundedDecompressor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


RATIO_GUESS = 10
"""Decompressed bytes per compressed byte assumed for an xz or bzip2 file, which does not say its size
cheaply (captures compress about 5-20:1 with them): a guess on the large side splits into smaller shards."""


def content_size(path: str) -> int:
    """About how many bytes of capture or HAR a file holds: its size, or for a compressed file an estimate of
    its decompressed size, so that work is split by what the readers will read (``sharded.shard_count``,
    ``--jobs`` by default). gzip records the size of its data, modulo 4 GiB, in its last four bytes (what
    ``gzip -l`` shows): the smallest size with that remainder and at least the compressed size is taken.
    Raises ``OSError`` when the file cannot be read."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        kind = compression(fh.read(6))
        if kind is None:
            return size
        if kind == "gzip" and size >= 18:
            fh.seek(-4, os.SEEK_END)
            recorded = int.from_bytes(fh.read(4), "little")
            estimate = recorded + max(0, -(-(size - recorded) // (1 << 32))) * (1 << 32)
        else:
            estimate = size * RATIO_GUESS
    return min(estimate, decompressed_limit(size))


def open_decompressed(path: str, kind: str) -> BoundedDecompressor:
    """A binary reader of the decompressed data of ``path``, bounded by ``decompressed_limit``."""
    limit = decompressed_limit(os.path.getsize(path))
    if kind == "gzip":
        return BoundedDecompressor(gzip.GzipFile(path, "rb"), kind, limit)
    if kind == "xz":
        return BoundedDecompressor(lzma.LZMAFile(path, "rb"), kind, limit)
    return BoundedDecompressor(bz2.BZ2File(path, "rb"), kind, limit)


def _decompressed_head(path: str, kind: str) -> bytes:
    """The first ``SNIFF_BYTES`` of the decompressed data (a truncated stream is fine here).

    Small reads, so that bytes decompressed before a damaged or cut spot are kept.
    """
    chunks: list[bytes] = []
    got = 0
    try:
        with open_decompressed(path, kind) as fh:
            while got < SNIFF_BYTES:
                chunk = fh.read(min(4096, SNIFF_BYTES - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError, ValueError) as exc:
        if not chunks:
            raise InputError(path, f"corrupt {kind} data: {exc}") from None
    except OSError as exc:
        if not chunks:
            raise InputError(path, f"cannot read {kind} data: {exc.strerror or exc}") from None
    data = b"".join(chunks)
    if not data:
        raise InputError(path, f"{kind}-compressed, but empty once decompressed")
    return data


def _classify(head: bytes) -> str | None:
    magic = head[:4]
    if magic in _PCAP_MAGICS:
        return _PCAP_MAGICS[magic]
    if magic == _PCAPNG_MAGIC:
        return "pcapng"
    if looks_like_har(head):
        return "har"
    return None


def decode_head(head: bytes) -> str:
    """The text of a file start: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    for bom, codec in _UTF16_BOMS:
        if head.startswith(bom):
            # An odd final byte of a cut UTF-16 sample is dropped by "ignore".
            return head[len(bom) :].decode(codec, "ignore")
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    return head.decode("utf-8", "ignore")


def looks_like_har(head: bytes) -> bool:
    """A JSON object whose ``"log"`` key appears within the first KBs."""
    text = decode_head(head).lstrip()
    if not text.startswith("{"):
        return False
    return _LOG_KEY.search(text, 1, HAR_KEY_WINDOW) is not None


def _describe_unknown(head: bytes, path: str) -> str:
    shown = repr(head[:4])[1:]
    base = f"not a pcap, pcapng or HAR file: starts with {shown}"
    for magic, hint in _HINTS:
        if head.startswith(magic):
            return f"{base} ({hint})"
    text = decode_head(head).lstrip()
    if text.startswith("{"):
        return f'{base} (JSON, but no "log" key near the start: not a HAR)'
    if text.startswith("["):
        return f"{base} (a JSON array, not a HAR)"
    lowered = text[:64].lower()
    if lowered.startswith(("<!doctype html", "<html")):
        return f"{base} (an HTML page?)"
    if lowered.startswith(("get ", "post ", "http/1.")):
        return f"{base} (raw HTTP text, not a capture?)"
    ext = os.path.splitext(path)[1].lower()
    if ext in {".pcap", ".pcapng", ".cap", ".har"}:
        return f"{base} (the name says {ext} but the content does not match)"
    return base
