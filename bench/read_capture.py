"""Read a whole capture with the native reader only, and print its counters as JSON.

    python bench/read_capture.py bench/data/large.pcap
    python bench/read_capture.py --engine scapy bench/data/large.pcap

``run_bench.py --mode reader`` times this as a separate process so the reader's share of a
full analysis is visible. ``--engine scapy`` walks the records with scapy's ``RawPcapReader``
(pcap only) and decodes each frame with the same frame decoder, which is the comparison behind
docs/decisions/0002-native-pcap-reader.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stickyforensics.ingest.pcapread import open_capture


def native(path: str) -> dict[str, object]:
    info, reader = open_capture(path)
    payload = 0
    with reader:
        for seg in reader:
            payload += len(seg.payload)
    return {
        "format": info.format,
        "frames": reader.frames,
        "tcp_segments": reader.tcp_segments,
        "payload_bytes": payload,
        "diagnostics": len(reader.diagnostics),
    }


def scapy_records(path: str) -> dict[str, object]:
    """scapy's RawPcapReader for the record walk, our frame decoder for the rest."""
    from scapy.utils import RawPcapReader

    info, reader = open_capture(path)  # only for its frame decoder; never iterated
    frames = segments = payload = 0
    decode = reader._frame  # bench-only use of the private per-frame decoder
    with RawPcapReader(path) as raw:
        link = raw.linktype
        for data, meta in raw:
            frames += 1
            ts = meta.sec + meta.usec / 1_000_000
            seg = decode(data, 0, len(data), frames, ts, meta.caplen < meta.wirelen, link)
            if seg is not None:
                segments += 1
                payload += len(seg.payload)
    reader.close()
    return {"format": info.format, "frames": frames, "tcp_segments": segments, "payload_bytes": payload}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Read a capture with the native reader; print counters.")
    ap.add_argument("capture")
    ap.add_argument("--engine", choices=("native", "scapy"), default="native")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    stats = native(args.capture) if args.engine == "native" else scapy_records(args.capture)
    stats["engine"] = args.engine
    stats["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
