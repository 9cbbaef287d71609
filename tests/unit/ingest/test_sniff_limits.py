"""Decompressed size is bounded (decompression bombs): a reader stops with a clear reason, data before it kept."""

from __future__ import annotations

import bz2
import gzip
import os
from pathlib import Path

import pytest

from stickyforensics.ingest import sniff as sniff_module
from stickyforensics.ingest.sniff import (
    DECOMPRESSED_FLOOR,
    DECOMPRESSED_RATIO_LIMIT,
    BoundedDecompressor,
    DecompressionLimitExceeded,
    InputLimitExceeded,
    decompressed_limit,
    open_decompressed,
    sniff,
)
from tests.unit.ingest.bombs import MIB, bomb

HAR_START = b'{"log": {"entries": ['


def _drain(reader: BoundedDecompressor, *, read1: bool = False) -> int:
    got = 0
    while True:
        piece = reader.read1(256 * 1024) if read1 else reader.read(256 * 1024)
        if not piece:
            return got
        got += len(piece)


def test_limit_is_a_ratio_of_the_file_size_with_a_floor() -> None:
    assert decompressed_limit(0) == decompressed_limit(1000) == DECOMPRESSED_FLOOR
    big = 10 * DECOMPRESSED_FLOOR // DECOMPRESSED_RATIO_LIMIT
    assert decompressed_limit(big) == big * DECOMPRESSED_RATIO_LIMIT
    assert issubclass(DecompressionLimitExceeded, InputLimitExceeded)
    assert issubclass(InputLimitExceeded, OSError)  # every reader's "reading stopped here" path applies


@pytest.mark.parametrize("read1", [False, True], ids=["read", "read1"])
def test_reading_stops_one_byte_past_the_limit(tmp_path: Path, read1: bool) -> None:
    path = tmp_path / "data.bz2"
    path.write_bytes(bz2.compress(os.urandom(64) * 2000))  # 128,000 bytes
    reader = BoundedDecompressor(bz2.BZ2File(path), "bzip2", 100_000)
    with reader, pytest.raises(DecompressionLimitExceeded, match=r"decompresses to more than .* bomb"):
        _drain(reader, read1=read1)
    assert reader.produced == 100_001  # never asked the decompressor for more than one byte past


def test_a_bzip2_bomb_of_a_few_kb_stops_at_the_floor(tmp_path: Path) -> None:
    path = tmp_path / "bomb.har.bz2"
    path.write_bytes(bomb("bzip2", HAR_START, b" " * MIB, 100))  # 100 MiB of blanks
    assert path.stat().st_size < 8192
    assert sniff(str(path)) == "har"  # sniffing looks at the start only
    with open_decompressed(str(path), "bzip2") as reader, pytest.raises(DecompressionLimitExceeded) as caught:
        _drain(reader)
    assert reader.produced == DECOMPRESSED_FLOOR + 1
    assert "bzip2 data decompresses to more than 64 MiB" in str(caught.value)


def test_ordinary_compressed_files_read_whole(tmp_path: Path) -> None:
    data = os.urandom(3 * MIB)
    path = tmp_path / "data.gz"
    path.write_bytes(gzip.compress(data))
    with open_decompressed(str(path), "gzip") as reader:
        assert _drain(reader) == len(data)


def test_the_floor_is_a_module_constant_the_readers_look_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff_module, "DECOMPRESSED_FLOOR", 1234)
    assert decompressed_limit(1) == 1234
