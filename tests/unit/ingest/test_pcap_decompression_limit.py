"""A compressed capture may not decompress without bound (a decompression bomb): the native reader stops
with a diagnostic and keeps the frames before it.

The reader opens its own decompressor (``pcapread._decompressor``), bounded by
``sniff.decompressed_limit``: unbounded, a bzip2 file of 241 bytes made 256 MiB of empty records and 44 s
of reading, and a few KB made hours.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from stickyforensics.ingest import sniff
from stickyforensics.ingest.native import read_capture
from tests.unit.ingest.bombs import MIB, bomb
from tests.unit.reconstruct.tcpbuild import Conversation, write_pcap

OK = b"HTTP/1.1 200 OK\r\nSet-Cookie: SERVERID=s1; Path=/\r\nContent-Length: 2\r\n\r\nok"


def _capture(tmp_path: Path) -> bytes:
    c = Conversation()
    c.handshake()
    c.send(b"GET / HTTP/1.1\r\nHost: app.example\r\n\r\n")
    c.reply(OK)
    c.close()
    return write_pcap(tmp_path / "plain.pcap", c.segments).read_bytes()


@pytest.mark.parametrize("kind", ["bzip2", "xz"])
def test_a_capture_bomb_stops_at_the_limit_and_keeps_what_came_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(sniff, "DECOMPRESSED_FLOOR", 2 * MIB)  # the real floor is 64 MiB: seconds of reading
    path = tmp_path / f"bomb.pcap.{kind}"
    path.write_bytes(bomb(kind, _capture(tmp_path), bytes(MIB), 6))  # then 6 MiB of empty records
    assert path.stat().st_size < 16 * 1024
    result = read_capture(str(path))
    assert len(result.transactions) == 1  # the conversation before the bomb
    stop = next(d for d in result.diagnostics if d.code == "capture.read_error")
    assert "decompression bomb" in stop.message


def test_ordinary_compressed_captures_are_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff, "DECOMPRESSED_FLOOR", 2 * MIB)
    path = tmp_path / "capture.pcap.gz"
    path.write_bytes(gzip.compress(_capture(tmp_path)))
    result = read_capture(str(path))
    assert len(result.transactions) == 1
    assert not [d for d in result.diagnostics if d.code == "capture.read_error"]
