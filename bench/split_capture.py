"""Split a capture into one capture per load-balancer node, by TCP connection: a support case's folder.

    python bench/split_capture.py bench/data/large.pcap --nodes 4 -o bench/data/nodes/
    python bench/targets.py --folder bench/data/nodes     # analyzed as a folder, against tshark on each file

Behind a load balancer cluster, each node sees the connections it was given: a client whose connections
went to two nodes is in both of their captures, with each file's frame numbers starting at 1. This writes
that folder from one capture: each TCP connection (both directions) goes to the node its address and port
pair hashes to (CRC-32: the same split every run), every other frame to node 0.

It reads what ``gen_capture.py`` writes (classic pcap, Ethernet, IPv4 or IPv6, TCP) and refuses the rest.
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from pathlib import Path

_RECORD = struct.Struct("<IIII")
_ETHERNET, _IPV4, _IPV6, _TCP = 1, 0x0800, 0x86DD, 6
_PCAP_MAGIC_LE = b"\xd4\xc3\xb2\xa1"


def connection_key(frame: bytes) -> bytes | None:
    """Both endpoints (address and port) of a TCP frame, in a direction-free order; None for other frames."""
    if len(frame) < 14:
        return None
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype == _IPV4 and len(frame) >= 34 and frame[23] == _TCP:
        ihl = (frame[14] & 0x0F) * 4
        a, b, tcp = frame[26:30], frame[30:34], 14 + ihl
    elif ethertype == _IPV6 and len(frame) >= 54 and frame[20] == _TCP:
        a, b, tcp = frame[22:38], frame[38:54], 54
    else:
        return None
    if len(frame) < tcp + 4:
        return None
    one, two = sorted((a + frame[tcp : tcp + 2], b + frame[tcp + 2 : tcp + 4]))
    return one + two


def split_capture(source: Path, nodes: int, out_dir: Path, stem: str = "node") -> list[Path]:
    """Write ``nodes`` captures into ``out_dir`` (``node0.pcap``...) and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}{i}.pcap" for i in range(nodes)]
    with source.open("rb") as fh:
        header = fh.read(24)
        if len(header) < 24 or header[:4] != _PCAP_MAGIC_LE or int.from_bytes(header[20:24], "little") != _ETHERNET:
            raise SystemExit(f"{source}: not a little-endian classic pcap of Ethernet frames")
        outs = [path.open("wb") for path in paths]
        try:
            for out in outs:
                out.write(header)
            while len(head := fh.read(_RECORD.size)) == _RECORD.size:
                captured = _RECORD.unpack(head)[2]
                frame = fh.read(captured)
                if len(frame) < captured:
                    raise SystemExit(f"{source}: truncated record at byte {fh.tell() - len(frame)}")
                key = connection_key(frame)
                outs[zlib.crc32(key) % nodes if key is not None else 0].write(head + frame)
        finally:
            for out in outs:
                out.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture", type=Path)
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("-o", "--out-dir", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.nodes < 1:
        ap.error("--nodes must be at least 1")
    paths = split_capture(args.capture, args.nodes, args.out_dir)
    for path in paths:
        print(f"{path}: {path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
