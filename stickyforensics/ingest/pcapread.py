"""The native capture reader: pcap / pcapng (optionally compressed) -> ``TcpSegment``s.

Theory of operation
-------------------
``open_capture`` sniffs the container by its magic bytes and returns a
``CaptureInfo`` plus a ``SegmentReader``: an iterator that yields one
``TcpSegment`` per TCP segment, in file order, with Wireshark's 1-based frame
numbers (every record of a pcap counts; in a pcapng only packet blocks do).

The work is split by concern: ``capture_formats`` knows the magic numbers and
says what a non-capture looks like, ``capture_stream`` reads (decompressed)
chunks without losing the bytes before a damaged spot, ``segment_reader``
walks the records, and ``frames`` / ``linklayer`` / ``ipfrag`` decode a frame.
This module opens the file and picks the decompressor.

Speed is a requirement (the tool must stay well under tshark's time on large
captures), which shapes the code:

* the file is read in 4 MiB chunks into one ``bytes`` buffer and records are
  parsed in place with ``struct.unpack_from`` and indexing at offsets; no object
  is made per layer and nothing is copied except a TCP payload;
* the common case (Ethernet -> IPv4 -> TCP) is tested first; other link types go
  through the table in ``linklayer``;
* address text comes from a bounded cache keyed by the raw address bytes.

Bad input never raises once the container is recognised: a truncated file, a
corrupt block, a malformed header each become a ``Diagnostic`` (aggregated per
kind with a count and the first position) and the reader keeps what it had.
Only "this is not a capture at all" raises ``InputError``.

Counters: once the iterator is exhausted,
``frames == tcp_segments + non_tcp + non_ip + ip_fragments + malformed``.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zlib
from dataclasses import dataclass
from struct import Struct
from typing import IO

from stickyforensics.errors import InputError
from stickyforensics.ingest.capture_formats import PCAP_MAGICS, compression_of, describe_bytes, pcapng_leading_links
from stickyforensics.ingest.capture_stream import CHUNK, ByteStream, PartialRead, read_compressed
from stickyforensics.ingest.frames import client_hello_sni
from stickyforensics.ingest.segment_reader import SegmentReader
from stickyforensics.ingest.sniff import BoundedDecompressor, decompressed_limit

__all__ = ["CaptureInfo", "SegmentReader", "client_hello_sni", "describe_bytes", "open_capture"]


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    path: str
    format: str
    """``pcap`` or ``pcapng``."""
    link_types: tuple[int, ...]
    """LINKTYPE_ values: the pcap header's, or those of the pcapng interfaces declared before the first
    packet (a later section may add more: see ``SegmentReader.link_types`` after iteration)."""
    compressed: bool


def open_capture(path: str) -> tuple[CaptureInfo, SegmentReader]:
    """Open a pcap / pcapng capture (plain, gzip, xz or bzip2) and return its info and segment iterator.

    Raises ``InputError`` when the file cannot be opened or is not a capture; the
    message says what the first bytes look like. Everything after that is a
    diagnostic on the reader.
    """
    try:
        raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - the reader owns and closes it
    except OSError as exc:
        raise InputError(path, f"cannot open: {exc.strerror or exc}") from None
    try:
        return _sniff(path, raw)
    except BaseException:
        raw.close()
        raise


def _sniff(path: str, raw: IO[bytes]) -> tuple[CaptureInfo, SegmentReader]:
    try:
        head = raw.read(CHUNK)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise InputError(path, "the file is empty, not a capture", "byte 0")
    stream: ByteStream = raw
    compressed = compression_of(head)
    damaged: BaseException | None = None
    if compressed is not None:
        raw.seek(0)
        stream = _decompressor(compressed, raw)
        try:
            head = read_compressed(stream, CHUNK)
        except PartialRead as part:
            # Damage within the first chunk: keep what decompressed before it, report it once reading.
            head, damaged = part.data, part.cause
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise InputError(path, f"{compressed}-compressed, but it cannot be decompressed: {exc}", "byte 0") from None
        if not head:
            raise InputError(path, f"{compressed}-compressed, but empty once decompressed", "byte 0")
    magic = head[:4]
    what = f"{compressed}-compressed data whose " if compressed else ""
    if magic in PCAP_MAGICS:
        if len(head) < 24:
            raise InputError(path, f"pcap file header is truncated ({len(head)} of 24 bytes)", "byte 0")
        order, units, rec_size = PCAP_MAGICS[magic]
        link = Struct(order + "I").unpack_from(head, 20)[0] & 0xFFFF
        info = CaptureInfo(path, "pcap", (link,), compressed is not None)
        reader = SegmentReader(path, stream, head, "pcap", raw, (order, units, rec_size, link), damaged)
    elif magic == b"\x0a\x0d\x0d\x0a":
        links = pcapng_leading_links(path, head)
        info = CaptureInfo(path, "pcapng", links, compressed is not None)
        reader = SegmentReader(path, stream, head, "pcapng", raw, damaged=damaged)
    else:
        looks = describe_bytes(head)
        raise InputError(path, f"not a pcap or pcapng capture: {what}first bytes look like {looks}", "byte 0")
    return info, reader


def _decompressor(kind: str, raw: IO[bytes]) -> ByteStream:
    """The decompressed capture, bounded (``sniff.decompressed_limit``): a few kilobytes of bzip2 can
    inflate to terabytes. Past the bound, reading fails like a damaged file: the frames before are kept."""
    limit = decompressed_limit(os.fstat(raw.fileno()).st_size)
    if kind == "gzip":
        return BoundedDecompressor(gzip.GzipFile(fileobj=raw, mode="rb"), kind, limit)
    if kind == "xz":
        return BoundedDecompressor(lzma.LZMAFile(raw, mode="rb"), kind, limit)
    return BoundedDecompressor(bz2.BZ2File(raw, mode="rb"), kind, limit)
