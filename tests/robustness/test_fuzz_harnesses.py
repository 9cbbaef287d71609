"""The fuzz harnesses of bench/fuzz stay runnable: each target takes its seeds without a crash, and the
segment codecs turn real captures into inputs that decode back to the same segments.

Plain Python (no atheris): this checks the harness code, the fuzzing itself is ``run_fuzz.py``'s.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

FUZZ = REPO / "bench" / "fuzz"
HARNESSES = ("pcap", "tcp", "http1", "har", "cookie", "lb")


@pytest.fixture(scope="module")
def fuzz_path() -> Iterator[None]:
    sys.path.insert(0, str(FUZZ))
    try:
        yield
    finally:
        sys.path.remove(str(FUZZ))


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("harness", HARNESSES)
def test_every_seed_passes_its_harness(harness: str, tmp_path: Path, fuzz_path: None) -> None:
    seeds = _module("seeds")
    run_fuzz = _module("run_fuzz")
    count = seeds.build(harness, tmp_path, run_fuzz.MAX_LEN[harness])
    assert count > 0
    log = _module("_harness").CrashLog(tmp_path / "artifacts")
    target = _module("_harness").guarded(_module(f"fuzz_{harness}").make_target(), log)
    for seed in sorted(tmp_path.glob("seed-*"))[:40]:
        target(seed.read_bytes())
        target(seed.read_bytes()[: len(seed.read_bytes()) // 2])  # and cut in half
    assert log.seen == {}, f"crashes: {sorted(log.seen)} (see {tmp_path / 'artifacts'})"


def test_crashes_are_recorded_once_per_site_and_documented_errors_pass(tmp_path: Path, fuzz_path: None) -> None:
    harness = _module("_harness")
    from stickyforensics.errors import InputError

    def target(data: bytes) -> None:
        if data == b"documented":
            raise InputError("x", "bad input")
        if data:
            raise KeyError(data)

    log = harness.CrashLog(tmp_path)
    one_input = harness.guarded(target, log)
    for data in (b"", b"documented", b"a", b"b"):
        one_input(data)
    assert list(log.seen.values()) == [2]
    assert len(list(tmp_path.glob("crash-*.bin"))) == 1
    assert "KeyError" in next(tmp_path.glob("crash-*.txt")).read_text()


def test_segment_records_round_trip_real_segments(fuzz_path: None) -> None:
    segcodec = _module("segcodec")
    from stickyforensics.ingest.pcapread import open_capture

    _info, reader = open_capture(str(REPO / "tests" / "data" / "pcap" / "http_le_usec.pcap"))
    with reader:
        segments = list(reader)
    decoded = segcodec.decode_segments(segcodec.encode_segments(segments, 1 << 20))
    assert len(decoded) == len(segments)
    for got, real in zip(decoded, segments, strict=True):
        assert (got.seq, got.ack, got.payload) == (real.seq, real.ack, real.payload)
        assert got.flags & 0x17 == real.flags & 0x17


def test_conversation_records_carry_the_bytes_in_order(fuzz_path: None) -> None:
    segcodec = _module("segcodec")
    chunks = [(True, b"GET / HTTP/1.1\r\n\r\n"), (False, b"HTTP/1.1 200 OK\r\n"), (False, b"Content-Length: 0\r\n\r\n")]
    segments = segcodec.decode_conversation(segcodec.encode_conversation(chunks, 1 << 16))
    data = [(s.src_port == 40001, s.payload) for s in segments if s.payload]
    assert data == chunks
    assert segments[0].flags & 0x02 and segments[-1].flags & 0x01  # handshake captured, closed by FIN
