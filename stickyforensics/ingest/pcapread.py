"""The native capture reader: pcap / pcapng (optionally compressed) -> ``TcpSegment``s.

Theory of operation
-------------------
``open_capture`` sniffs the container by its magic bytes and returns a
``CaptureInfo`` plus a ``SegmentReader``: an iterator that yields one
``TcpSegment`` per TCP segment, in file order, with Wireshark's 1-based frame
numbers (every record of a pcap counts; in a pcapng only packet blocks do).

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
import contextlib
import gzip
import lzma
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from struct import Struct
from typing import IO, Any, Protocol

from stickyforensics.errors import InputError
from stickyforensics.ingest.frames import ETH_IPV4_TCP, FrameDecoder, client_hello_sni
from stickyforensics.model import DiagLevel
from stickyforensics.reconstruct.segments import TcpSegment

__all__ = ["CaptureInfo", "SegmentReader", "client_hello_sni", "describe_bytes", "open_capture"]

CHUNK = 4 << 20
"""Bytes per read: large enough that per-read overhead vanishes, small enough to stay flat in memory."""
PCAP_MAX_RECORD = 262144
"""Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD: a larger pcap record length means a corrupt file."""
PCAPNG_MAX_BLOCK = 64 << 20
"""A larger pcapng block length is taken as garbage rather than read into memory."""

_SHB = 0x0A0D0D0A
_NON_PACKET_RECORDS = frozenset((0x00000009, 0x00000204, 0x00000216, 0x00000221, 0x00000BAD, 0x40000BAD))
"""pcapng blocks that are not packets but that Wireshark still numbers as frames (verified with tshark 4.0):
systemd journal export, sysdig events (v1, v2, v2 large) and custom blocks."""
_BOM_LE = b"\x4d\x3c\x2b\x1a"
_BOM_BE = b"\x1a\x2b\x3c\x4d"
# pcap magic -> (byte order, timestamp fraction units per second, record header size).
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000, 16),
    # Alexey Kuznetzov's "modified" pcap: 8 more bytes per record header.
    b"\x34\xcd\xb2\xa1": ("<", 1_000_000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1_000_000, 24),
}
_BZ2_BLOCK_MAGICS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
"""A bzip2 stream's first block (pi) or end-of-stream (sqrt(pi)) magic, after ``BZh1``..``BZh9``."""
_OTHER_FORMATS = (
    (b"snoop\x00\x00\x00", "a Sun snoop capture (convert it: editcap -F pcap IN OUT)"),
    (b"GMBU", "a Microsoft Network Monitor capture (convert it: editcap -F pcap IN OUT)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data (decompress it first: zstd -d)"),
    (b"\x04\x22\x4d\x18", "lz4-compressed data (decompress it first: lz4 -d)"),
    (b"PK\x03\x04", "a zip archive (extract the capture first)"),
    (b"\x7fELF", "an executable (ELF)"),
)



class _Stream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


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
    stream: _Stream = raw
    compressed = None
    if head[:2] == b"\x1f\x8b":
        compressed = "gzip"
    elif head[:6] == b"\xfd7zXZ\x00":
        compressed = "xz"
    elif head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in _BZ2_BLOCK_MAGICS:
        compressed = "bzip2"
    damaged: BaseException | None = None
    if compressed is not None:
        raw.seek(0)
        stream = _decompressor(compressed, raw)
        try:
            head = _read_compressed(stream, CHUNK)
        except _PartialRead as part:
            # Damage within the first chunk: keep what decompressed before it, report it once reading.
            head, damaged = part.data, part.cause
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise InputError(path, f"{compressed}-compressed, but it cannot be decompressed: {exc}", "byte 0") from None
        if not head:
            raise InputError(path, f"{compressed}-compressed, but empty once decompressed", "byte 0")
    magic = head[:4]
    what = f"{compressed}-compressed data whose " if compressed else ""
    if magic in _PCAP_MAGICS:
        if len(head) < 24:
            raise InputError(path, f"pcap file header is truncated ({len(head)} of 24 bytes)", "byte 0")
        order, units, rec_size = _PCAP_MAGICS[magic]
        link = Struct(order + "I").unpack_from(head, 20)[0] & 0xFFFF
        info = CaptureInfo(path, "pcap", (link,), compressed is not None)
        reader = SegmentReader(path, stream, head, "pcap", raw, (order, units, rec_size, link))
    elif magic == b"\x0a\x0d\x0d\x0a":
        links = _pcapng_leading_links(path, head)
        info = CaptureInfo(path, "pcapng", links, compressed is not None)
        reader = SegmentReader(path, stream, head, "pcapng", raw)
    else:
        looks = describe_bytes(head)
        raise InputError(path, f"not a pcap or pcapng capture: {what}first bytes look like {looks}", "byte 0")
    if damaged is not None:
        reader._read_error(damaged, len(head))
    return info, reader


def _decompressor(kind: str, raw: IO[bytes]) -> _Stream:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    return bz2.BZ2File(raw, mode="rb")


def _read_compressed(stream: Any, size: int) -> bytes:
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
            raise _PartialRead(b"".join(parts), exc) from None
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


class _PartialRead(Exception):
    def __init__(self, data: bytes, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.data = data
        self.cause = cause


def describe_bytes(head: bytes) -> str:
    """Say what the first bytes of a non-capture file look like, for the error message."""
    for magic, name in _OTHER_FORMATS:
        if head.startswith(magic):
            return name
    sample = head[:64]
    text = sample.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        return f"JSON (a HAR file?): {_printable(text[:40])!r}"
    if text[:1] == b"<":
        return f"XML/HTML text: {_printable(text[:40])!r}"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in sample)
    if sample and printable >= 0.9 * len(sample):
        return f"text: {_printable(sample[:40])!r}"
    return "binary data " + " ".join(f"{b:02x}" for b in head[:16]) + " (no known capture magic)"


def _printable(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _pcapng_leading_links(path: str, head: bytes) -> tuple[int, ...]:
    """Validate the first Section Header Block; collect IDB link types declared before the first packet."""
    if len(head) < 28:
        raise InputError(path, f"pcapng section header is truncated ({len(head)} bytes)", "byte 0")
    bom = head[8:12]
    if bom == _BOM_LE:
        order = "<"
    elif bom == _BOM_BE:
        order = ">"
    else:
        raise InputError(path, f"pcapng section header has an unknown byte-order magic {bom.hex()}", "byte 8")
    hdr = Struct(order + "II").unpack_from
    links: list[int] = []
    pos = 0
    for _ in range(256):
        if pos + 12 > len(head):
            break
        btype, size = hdr(head, pos)
        if size < 12 or size % 4 or pos + size > len(head):
            break
        if btype == 1 and size >= 20:
            link = Struct(order + "H").unpack_from(head, pos + 8)[0]
            if link not in links:
                links.append(link)
        elif btype in (2, 3, 6) or (btype == _SHB and pos):
            break
        pos += size
    return tuple(links)


class SegmentReader(FrameDecoder):
    """Iterator of ``TcpSegment``s over one capture, with counters and diagnostics.

    ``for seg in reader`` iterates the underlying generator directly (no extra
    call per segment); ``next(reader)`` works too. Counters and ``diagnostics``
    are final once the iterator is exhausted or closed.
    """

    def __init__(
        self,
        path: str,
        stream: _Stream,
        head: bytes,
        fmt: str,
        raw: IO[bytes],
        pcap_params: tuple[str, int, int, int] = ("<", 1_000_000, 16, 1),
    ) -> None:
        """Made by ``open_capture``. ``head`` is the first chunk already read (decompressed) from ``stream``;
        ``pcap_params`` is (byte order, timestamp units per second, record header size, link type)."""
        super().__init__(path)
        self.format = fmt
        self.link_types: list[int] = [pcap_params[3]] if fmt == "pcap" else []
        """Every link type seen: the pcap header's, or each pcapng interface's as its IDB is read."""
        self._stream: _Stream = stream
        self._raw = raw
        """The file itself: a decompressor does not close the file object it reads from."""
        self._head = head
        self._compressed = stream is not raw
        self._pcap_params = pcap_params
        self._finished = False
        self._gen: Generator[TcpSegment, None, None] | None = None
        """Made on first use: an unstarted generator would hold ``self`` in a reference cycle."""

    # -- iterator protocol -------------------------------------------------

    def __iter__(self) -> Iterator[TcpSegment]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def __next__(self) -> TcpSegment:
        if self._gen is None:
            self._gen = self._run()
        return next(self._gen)

    def close(self) -> None:
        """Stop reading, close the file and finalise counters and diagnostics.

        Call it (or use ``with``) when abandoning a reader part-way: a half-run generator holds the file.
        """
        if self._gen is not None:
            self._gen.close()
        self._finish()

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A reader dropped before its first segment never ran the generator's ``finally``.
        for handle in (self._stream, self._raw):
            with contextlib.suppress(Exception):
                handle.close()

    # -- diagnostics -------------------------------------------------------

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        for handle in (self._stream, self._raw):
            with contextlib.suppress(Exception):
                handle.close()
        frags = self._frags
        pending = frags.flush()
        lost = pending + frags.expired + frags.evicted
        if lost:
            self._note(
                "ip.fragments_incomplete",
                f"{lost} fragmented IP datagram(s) carrying TCP never completed "
                f"({frags.expired} timed out, {frags.evicted} dropped at the buffer bound, {pending} left at the end)",
            )
            self._diag_count["ip.fragments_incomplete"] = lost
        if frags.overlaps:
            self._note(
                "ip.fragment_overlap",
                f"{frags.overlaps} IP fragment(s) overlapped earlier ones ({frags.conflicts} with different bytes); "
                "the bytes received first were kept",
            )
            self._diag_count["ip.fragment_overlap"] = frags.overlaps
        if frags.malformed:
            self._note("ip.fragment_malformed", "IP fragment(s) beyond 65,535 bytes were dropped")
            self._diag_count["ip.fragment_malformed"] = frags.malformed
        for k, idx in self._diag_index.items():
            n = self._diag_count[k]
            if n > 1:
                self.diagnostics[idx] = replace(self.diagnostics[idx], count=n)

    # -- container walkers -------------------------------------------------

    def _run(self) -> Generator[TcpSegment, None, None]:
        # The walker itself is the iterator (no ``yield from`` hop per segment); each ends with _finish().
        return self._walk_pcap() if self.format == "pcap" else self._walk_pcapng()

    def _read(self, at: int) -> bytes:
        """Next chunk of the (decompressed) file; b"" at the end or after a read error (then a diagnostic)."""
        try:
            if self._compressed:
                return _read_compressed(self._stream, CHUNK)
            return self._stream.read(CHUNK)
        except _PartialRead as part:
            self._read_error(part.cause, at + len(part.data))
            return part.data
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            self._read_error(exc, at)
            return b""

    def _read_error(self, exc: BaseException, at: int) -> None:
        self._note(
            "capture.read_error",
            f"reading stopped at byte {at} of the {'decompressed ' if self._compressed else ''}file: {exc}",
            f"byte {at}",
            DiagLevel.ERROR,
        )
        with contextlib.suppress(Exception):
            self._stream.close()
        self._stream = _Exhausted()

    def _truncated(self, frame: int, start: int, have: int, need: int | None) -> None:
        missing = f", {need - have} bytes missing" if need is not None else ""
        self._note(
            "capture.truncated",
            f"capture ends inside frame {frame} at byte {start + have} (its record starts at byte {start}{missing}); "
            f"the {frame - 1} frame(s) before it are kept",
            f"frame {frame}",
        )

    def _walk_pcap(self) -> Generator[TcpSegment, None, None]:
        order, units, rec_size, link = self._pcap_params
        rec = Struct(order + "IIII").unpack_from
        buf = self._head
        self._head = b""
        pos = 24
        base = 0
        blen = len(buf)
        frame = 0
        decode = self._frame
        ethernet = link == 1
        fast = ETH_IPV4_TCP
        v4 = self._v4
        segment = TcpSegment
        fast_count = 0  # segments of the inlined path; added to tcp_segments at the end
        try:
            while True:
                if pos + rec_size <= blen:
                    sec, frac, incl, orig = rec(buf, pos)
                    start = pos + rec_size
                    end = start + incl
                    if end <= blen and incl <= PCAP_MAX_RECORD:
                        pos = end
                        frame += 1
                        if incl < orig:
                            self._snaplen_cut(frame)
                        elif ethernet and incl >= 54:
                            # The head of _frame inlined (Ethernet/IPv4/TCP, nothing cut): no call per packet.
                            et, vihl, tot, frag, proto, sport, dport, seq, ack, offflags = fast(buf, start + 12)
                            if et == 0x0800 and vihl == 0x45 and proto == 6 and not frag & 0x3FFF:
                                ip = start + 14
                                decl_end = ip + tot
                                p = ip + 20 + ((offflags >> 12) << 2)
                                if decl_end <= end and ip + 40 <= p <= decl_end:
                                    k = buf[ip + 12 : ip + 20]
                                    pair = v4.get(k)
                                    if pair is None:
                                        pair = self._addr4(k)
                                    payload = buf[p:decl_end]
                                    fast_count += 1
                                    if payload and buf[p] == 0x16 and decl_end - p > 5:
                                        self._maybe_client_hello(payload, pair[1], dport)
                                    self.frames = frame
                                    yield segment(frame, sec + frac / units, pair[0], pair[1], sport, dport, seq,
                                                  ack, offflags & 0x1FF, payload, False, len(payload))
                                    continue
                        seg = decode(buf, start, end, frame, sec + frac / units, incl < orig, link)
                        if seg is not None:
                            self.frames = frame
                            yield seg
                        continue
                    if incl > PCAP_MAX_RECORD:
                        self._note(
                            "capture.corrupt_record",
                            f"the record header of frame {frame + 1} claims {incl} captured bytes (more than "
                            f"{PCAP_MAX_RECORD}): the file is corrupt from here on and the rest is not read",
                            f"byte {base + pos}",
                            DiagLevel.ERROR,
                        )
                        break
                more = self._read(base + blen)
                if not more:
                    if pos < blen:
                        need = rec_size + rec(buf, pos)[2] if pos + rec_size <= blen else None
                        self._truncated(frame + 1, base + pos, blen - pos, need)
                    break
                buf = buf[pos:] + more
                base += pos
                pos = 0
                blen = len(buf)
        finally:
            self.frames = frame
            self.tcp_segments += fast_count
            self._finish()

    def _walk_pcapng(self) -> Generator[TcpSegment, None, None]:
        buf = self._head
        self._head = b""
        pos = 0
        base = 0
        blen = len(buf)
        frame = 0
        ts = 0.0
        decode = self._frame
        # (link type, timestamp units per second, timestamp offset seconds, snaplen) per interface.
        ifaces: list[tuple[int, int, float, int]] = []
        order = "<"
        hdr = Struct("<II").unpack_from
        epb = Struct("<IIIII").unpack_from
        opb = Struct("<HHIIII").unpack_from
        u32 = Struct("<I").unpack_from
        try:
            while True:
                if pos + 12 <= blen:
                    btype, size = hdr(buf, pos)
                    if btype == _SHB:
                        bom = buf[pos + 8 : pos + 12]
                        if bom not in (_BOM_LE, _BOM_BE):
                            self._corrupt_block(base + pos, frame, f"section header byte-order magic {bom.hex()}")
                            break
                        order = "<" if bom == _BOM_LE else ">"
                        hdr = Struct(order + "II").unpack_from
                        epb = Struct(order + "IIIII").unpack_from
                        opb = Struct(order + "HHIIII").unpack_from
                        u32 = Struct(order + "I").unpack_from
                        size = u32(buf, pos + 4)[0]
                        ifaces = []
                    if size < 12 or size & 3 or size > PCAPNG_MAX_BLOCK:
                        self._corrupt_block(base + pos, frame, f"block type 0x{btype:08x} with length {size}")
                        break
                    bend = pos + size
                    if bend <= blen:
                        if u32(buf, bend - 4)[0] != size:
                            self._corrupt_block(base + pos, frame, f"block type 0x{btype:08x}: trailing length differs")
                            break
                        if btype == 6 or btype == 2 or btype == 3:
                            # Like Wireshark, a broken packet block ends the file: what follows is not trusted.
                            if size < (16 if btype == 3 else 32):
                                self._corrupt_block(base + pos, frame, f"packet block of {size} bytes")
                                break
                            if btype == 6:
                                iface, hi, lo, caplen, orig = epb(buf, pos + 8)
                                start = pos + 28
                            elif btype == 3:
                                iface, hi, lo = 0, -1, 0
                                orig = u32(buf, pos + 8)[0]
                                caplen = min(orig, size - 16)
                                if ifaces and ifaces[0][3]:
                                    caplen = min(caplen, ifaces[0][3])
                                start = pos + 12
                            else:
                                iface, _drops, hi, lo, caplen, orig = opb(buf, pos + 8)
                                start = pos + 28
                            end = start + caplen
                            if end > bend - 4:
                                self._corrupt_block(base + pos, frame, f"{caplen} captured bytes in {size}-byte block")
                                break
                            if iface >= len(ifaces):
                                self._corrupt_block(base + pos, frame, f"interface {iface} was never declared")
                                break
                            frame += 1
                            pos = bend
                            link, units, tsoff, _snap = ifaces[iface]
                            if hi >= 0:
                                ts = ((hi << 32) | lo) / units + tsoff
                            cut = caplen < orig
                            if cut:
                                self._snaplen_cut(frame)
                            seg = decode(buf, start, end, frame, ts, cut, link)
                            if seg is not None:
                                self.frames = frame
                                yield seg
                            continue
                        if btype == 1:
                            ifaces.append(self._interface(buf, pos, bend, order))
                        elif btype in _NON_PACKET_RECORDS:
                            frame += 1
                            self.non_ip += 1
                        pos = bend
                        continue
                more = self._read(base + blen)
                if not more:
                    if pos < blen:
                        self._pcapng_tail(buf, pos, blen, base, frame, hdr)
                    break
                buf = buf[pos:] + more
                base += pos
                pos = 0
                blen = len(buf)
        finally:
            self.frames = frame
            self._finish()

    def _pcapng_tail(self, buf: bytes, pos: int, blen: int, base: int, frame: int, hdr: Any) -> None:
        """The file ended inside a block: say which frame, or which block, was cut."""
        need = None
        btype = None
        if pos + 8 <= blen:
            btype, need = hdr(buf, pos)
        if btype in (2, 3, 6):
            self._truncated(frame + 1, base + pos, blen - pos, need)
        else:
            self._note(
                "capture.truncated",
                f"capture ends inside a block at byte {base + blen} (the block starts at byte {base + pos}); "
                f"the {frame} frame(s) before it are kept",
                f"byte {base + pos}",
            )

    def _corrupt_block(self, at: int, frame: int, why: str) -> None:
        self._note(
            "capture.corrupt_block",
            f"pcapng block at byte {at} is malformed ({why}): the rest of the file is not read; "
            f"the {frame} frame(s) before it are kept",
            f"byte {at}",
            DiagLevel.ERROR,
        )

    def _interface(self, buf: bytes, pos: int, bend: int, order: str) -> tuple[int, int, float, int]:
        """An Interface Description Block: link type, snaplen, and the if_tsresol / if_tsoffset options."""
        if bend - pos < 20:
            return (-1, 1_000_000, 0.0, 0)
        link, _res, snaplen = Struct(order + "HHI").unpack_from(buf, pos + 8)
        units = 1_000_000
        tsoff = 0.0
        opt = Struct(order + "HH").unpack_from
        p, stop = pos + 16, bend - 4
        for _ in range(256):
            if p + 4 > stop:
                break
            code, olen = opt(buf, p)
            p += 4
            if code == 0 or p + olen > stop:
                break
            if code == 9 and olen >= 1:
                r = buf[p]
                units = 2 ** (r & 0x7F) if r & 0x80 else 10**r
            elif code == 14 and olen >= 8:
                tsoff = float(Struct(order + "q").unpack_from(buf, p)[0])
            p += (olen + 3) & ~3
        if link not in self.link_types:
            self.link_types.append(link)
        return (link, units, tsoff, snaplen)

class _Exhausted:
    """Stands in for a stream that failed: reads return nothing."""

    def read(self, size: int = -1) -> bytes:
        return b""

    def read1(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        return None
