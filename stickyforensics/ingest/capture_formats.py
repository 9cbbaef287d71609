"""What the first bytes of a capture file say: pcap / pcapng / compression magics and their limits.

Tables and byte probes only (no file access): ``pcapread`` uses them to recognise a capture and to
say what a file that is not one looks like; ``segment_reader`` uses the block and record limits.
"""

from __future__ import annotations

from struct import Struct

from stickyforensics.errors import InputError

__all__ = [
    "BOM_BE",
    "BOM_LE",
    "BZ2_BLOCK_MAGICS",
    "NON_PACKET_RECORDS",
    "OTHER_FORMATS",
    "PCAPNG_MAX_BLOCK",
    "PCAP_MAGICS",
    "PCAP_MAX_RECORD",
    "SHB",
    "compression_of",
    "describe_bytes",
    "pcapng_leading_links",
]

PCAP_MAX_RECORD = 262144
"""Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD: a larger pcap record length means a corrupt file."""
PCAPNG_MAX_BLOCK = 64 << 20
"""A larger pcapng block length is taken as garbage rather than read into memory."""

SHB = 0x0A0D0D0A
"""The pcapng Section Header Block type, also the file's first four bytes."""
NON_PACKET_RECORDS = frozenset((0x00000009, 0x00000204, 0x00000216, 0x00000221, 0x00000BAD, 0x40000BAD))
"""pcapng blocks that are not packets but that Wireshark still numbers as frames (verified with tshark 4.0):
systemd journal export, sysdig events (v1, v2, v2 large) and custom blocks."""
BOM_LE = b"\x4d\x3c\x2b\x1a"
BOM_BE = b"\x1a\x2b\x3c\x4d"
# pcap magic -> (byte order, timestamp fraction units per second, record header size).
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000, 16),
    # Alexey Kuznetzov's "modified" pcap: 8 more bytes per record header.
    b"\x34\xcd\xb2\xa1": ("<", 1_000_000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1_000_000, 24),
}
BZ2_BLOCK_MAGICS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
"""A bzip2 stream's first block (pi) or end-of-stream (sqrt(pi)) magic, after ``BZh1``..``BZh9``."""
OTHER_FORMATS = (
    (b"snoop\x00\x00\x00", "a Sun snoop capture (convert it: editcap -F pcap IN OUT)"),
    (b"GMBU", "a Microsoft Network Monitor capture (convert it: editcap -F pcap IN OUT)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data (decompress it first: zstd -d)"),
    (b"\x04\x22\x4d\x18", "lz4-compressed data (decompress it first: lz4 -d)"),
    (b"PK\x03\x04", "a zip archive (extract the capture first)"),
    (b"\x7fELF", "an executable (ELF)"),
)


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``xz`` or ``bzip2`` when ``head`` starts a stream of that compressor, else None."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in BZ2_BLOCK_MAGICS:
        return "bzip2"
    return None


def describe_bytes(head: bytes) -> str:
    """Say what the first bytes of a non-capture file look like, for the error message."""
    for magic, name in OTHER_FORMATS:
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


def pcapng_leading_links(path: str, head: bytes) -> tuple[int, ...]:
    """Validate the first Section Header Block; collect IDB link types declared before the first packet."""
    if len(head) < 28:
        raise InputError(path, f"pcapng section header is truncated ({len(head)} bytes)", "byte 0")
    bom = head[8:12]
    if bom == BOM_LE:
        order = "<"
    elif bom == BOM_BE:
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
        elif btype in (2, 3, 6) or (btype == SHB and pos):
            break
        pos += size
    return tuple(links)
