"""Walking a pcap / pcapng container record by record: ``SegmentReader``, the native reader's iterator.

Theory of operation
-------------------
The (decompressed) file is read in ``CHUNK``s into one ``bytes`` buffer and records are parsed in
place with ``struct.unpack_from`` and indexing at offsets; no object is made per layer and nothing
is copied except a TCP payload. The pcap walker inlines the common case (Ethernet -> IPv4 -> TCP,
nothing cut); every other frame goes to ``FrameDecoder._frame`` (``frames``).

Frames are numbered like Wireshark (1-based; every pcap record counts, in a pcapng only packet
blocks and the non-packet records Wireshark lists). A truncated file, a corrupt record or block
becomes a ``Diagnostic`` and the frames before it are kept.
"""

from __future__ import annotations

import contextlib
import lzma
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from struct import Struct
from typing import IO, Any

from stickyforensics.ingest.capture_formats import (
    BOM_BE,
    BOM_LE,
    NON_PACKET_RECORDS,
    PCAP_MAX_RECORD,
    PCAPNG_MAX_BLOCK,
    SHB,
)
from stickyforensics.ingest.capture_stream import CHUNK, ByteStream, ExhaustedStream, PartialRead, read_compressed
from stickyforensics.ingest.frames import ETH_IPV4_TCP, FrameDecoder
from stickyforensics.model import DiagLevel, Diagnostic
from stickyforensics.reconstruct.segments import TcpSegment

__all__ = ["SegmentReader"]


@dataclass(frozen=True, slots=True)
class ReaderFacts:
    """What reading a capture learnt of the file itself (whichever process reassembles its connections)."""

    frames: int = 0
    tcp_segments: int = 0
    truncated_frames: int = 0
    tls_client_hellos: int = 0
    tls_servers: tuple[tuple[str, int, str | None], ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


class SegmentReader(FrameDecoder):
    """Iterator of ``TcpSegment``s over one capture, with counters and diagnostics.

    ``for seg in reader`` iterates the underlying generator directly (no extra
    call per segment); ``next(reader)`` works too. Counters and ``diagnostics``
    are final once the iterator is exhausted or closed.
    """

    def __init__(
        self,
        path: str,
        stream: ByteStream,
        head: bytes,
        fmt: str,
        raw: IO[bytes],
        pcap_params: tuple[str, int, int, int] = ("<", 1_000_000, 16, 1),
        damaged: BaseException | None = None,
    ) -> None:
        """Made by ``open_capture``. ``head`` is the first chunk already read (decompressed) from ``stream``;
        ``pcap_params`` is (byte order, timestamp units per second, record header size, link type);
        ``damaged`` the error that cut ``head`` short, reported as a read error at its end."""
        super().__init__(path)
        self.format = fmt
        self.link_types: list[int] = [pcap_params[3]] if fmt == "pcap" else []
        """Every link type seen: the pcap header's, or each pcapng interface's as its IDB is read."""
        self._stream: ByteStream = stream
        self._raw = raw
        """The file itself: a decompressor does not close the file object it reads from."""
        self._head = head
        self._compressed = stream is not raw
        self._pcap_params = pcap_params
        self._finished = False
        self._gen: Generator[TcpSegment, None, None] | None = None
        """Made on first use: an unstarted generator would hold ``self`` in a reference cycle."""
        self.fast_segment: Callable[..., TcpSegment] = TcpSegment
        """What the pcap walker's inlined Ethernet/IPv4/TCP path makes of a segment, from ``TcpSegment``'s
        positional fields. ``ingest.partition`` sets a function that encodes the segment where it stands
        and returns a placeholder, which saves building an object per packet."""
        if damaged is not None:
            self._read_error(damaged, len(head))

    # -- iterator protocol -------------------------------------------------

    def __iter__(self) -> Iterator[TcpSegment]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def __next__(self) -> TcpSegment:
        if self._gen is None:
            self._gen = self._run()
        return next(self._gen)

    @property
    def file_position(self) -> int:
        """Bytes of the file read so far (of the compressed file, when it is compressed): for progress."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def facts(self) -> ReaderFacts:
        """The counters and diagnostics so far (final once the iterator is exhausted or closed)."""
        return ReaderFacts(
            self.frames,
            self.tcp_segments,
            self.truncated_frames,
            self.tls_client_hellos,
            tuple(self.tls_servers),
            tuple(self.diagnostics),
        )

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
                return read_compressed(self._stream, CHUNK)
            return self._stream.read(CHUNK)
        except PartialRead as part:
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
        self._stream = ExhaustedStream()

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
        segment = self.fast_segment
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
                                    yield segment(
                                        frame, sec + frac / units, pair[0], pair[1], sport, dport, seq, ack,
                                        offflags & 0x1FF, payload, False, len(payload),
                                    )  # fmt: skip
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
                    if btype == SHB:
                        bom = buf[pos + 8 : pos + 12]
                        if bom not in (BOM_LE, BOM_BE):
                            self._corrupt_block(base + pos, frame, f"section header byte-order magic {bom.hex()}")
                            break
                        order = "<" if bom == BOM_LE else ">"
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
                        elif btype in NON_PACKET_RECORDS:
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
