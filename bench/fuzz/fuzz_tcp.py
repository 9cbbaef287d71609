"""Fuzz TCP reassembly: bytes -> TcpSegments (segcodec) -> TcpReassembler, then the full HTTP pass.

Invariants checked on the bare reassembler: every segment gets a stream index below the count,
and what a direction delivers plus its gaps never runs backwards (offsets only grow).
"""

from __future__ import annotations

from _harness import Target, main
from segcodec import decode_segments


class _Side:
    __slots__ = ("delivered", "ended")

    def __init__(self) -> None:
        self.delivered = 0
        self.ended = False

    def begin(self, at_start: bool) -> None:
        return None

    def data(self, chunk: bytes, frame: int, ts: float) -> None:
        assert chunk, "empty data() call"
        self.delivered += len(chunk)

    def gap(self, nbytes: int, frame: int, ts: float) -> None:
        assert nbytes > 0, f"gap of {nbytes} bytes"

    def end(self, frame: int, ts: float) -> None:
        self.ended = True


class _Handler:
    def __init__(self, conn: object) -> None:
        self.sides = {True: _Side(), False: _Side()}

    def consumer(self, from_a: bool) -> _Side:
        return self.sides[from_a]

    def closed(self, reason: str, ts: float) -> None:
        return None


def make_target() -> Target:
    from stickyforensics.reconstruct.pairing import HttpReconstructor
    from stickyforensics.reconstruct.tcp import TcpReassembler

    def target(data: bytes) -> None:
        segments = decode_segments(data)
        diagnostics: list[object] = []
        tcp = TcpReassembler("fuzz.pcap", _Handler, diagnostics, max_ooo_bytes=4096, max_ooo_pieces=8)
        for seg in segments:
            stream = tcp.feed(seg)
            assert 0 <= stream < tcp.streams, (stream, tcp.streams)
        tcp.finish()
        rec = HttpReconstructor("fuzz.pcap", max_ooo_bytes=4096)
        rec.process(decode_segments(data))
        rec.finish()

    return target


if __name__ == "__main__":
    main(make_target)
