"""Splitting a capture by client into spill files: each shard reassembles only its clients, and the
shards together give what one process reading the whole capture gives (numbering, sweeps, diagnostics)."""

from __future__ import annotations

import glob
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.errors import InputError, StickyError
from stickyforensics.ingest import partition as partition_module
from stickyforensics.ingest.native import (
    assemble_capture,
    partition_part,
    read_capture,
    read_capture_part,
    read_spill_part,
)
from stickyforensics.ingest.partition import SpillWriter, partition_capture, read_spill
from stickyforensics.reconstruct.segments import TcpSegment
from stickyforensics.reconstruct.shard import Shard, owner_of
from tests.unit.reconstruct.tcpbuild import Clock, Conversation, write_pcap

ROOT = Path(__file__).resolve().parents[3]
CAPTURES = sorted(
    {*glob.glob(str(ROOT / "samples/*/*.pcap*")), *glob.glob(str(ROOT / "tests/data/**/*.pcap*"), recursive=True)}
)


def split_and_join(
    capture: str, count: int, directory: Path, *, pipelined: bool = False
) -> tuple[object, list[object]]:
    partition = partition_capture(capture, count, str(directory), pipelined=pipelined)
    parts = [read_spill_part(partition, k) for k in range(count)]
    return assemble_capture([partition_part(partition), *parts]), parts


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(Path(p).relative_to(ROOT)))
@pytest.mark.parametrize(("count", "pipelined"), [(2, False), (3, True)])
def test_shards_assemble_to_the_whole(capture: str, count: int, pipelined: bool, tmp_path: Path) -> None:
    joined, parts = split_and_join(capture, count, tmp_path, pipelined=pipelined)
    for index, part in enumerate(parts):
        assert all(owner_of(tx.client.ip, count) == index for tx in part.transactions if tx.client)  # type: ignore[attr-defined]
    assert joined == read_capture(capture)


def _idle_and_reused(path: Path) -> Path:
    """Three clients; one goes quiet for longer than the idle timeout and resumes on the same connection,
    one reuses its port with a new ISN, and enough other traffic runs for the sweeps to matter."""
    clock = Clock(step=0.01)
    segs: list[TcpSegment] = []
    quiet = Conversation(("10.0.0.1", 40000), clock=clock)
    segs += quiet.handshake() + quiet.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    segs += quiet.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: s=1\r\n\r\nok")
    for n in range(30):
        busy = Conversation(("10.0.0.2", 41000 + n), clock=clock, cisn=7000 + n)
        segs += busy.handshake() + busy.send(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        segs += busy.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") + busy.close()
        if n == 10:
            clock.ts += 700  # longer than the idle timeout: the sweep closes the quiet connection
    segs += quiet.send(b"GET /c HTTP/1.1\r\nHost: x\r\nCookie: s=1\r\n\r\n")
    segs += quiet.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    again = Conversation(("10.0.0.2", 41000), clock=clock, cisn=99_000)  # port reused, new ISN
    segs += again.handshake() + again.send(b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
    segs += again.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    return write_pcap(path / "idle.pcap", segs)


@pytest.mark.parametrize(("count", "pipelined"), [(2, False), (3, True), (5, False)])
def test_sweeps_and_port_reuse_match_one_process(
    count: int, pipelined: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = str(_idle_and_reused(tmp_path))
    unswept = assemble_capture([read_capture_part(capture)])
    monkeypatch.setattr("stickyforensics.reconstruct.tcp.SWEEP_EVERY", 7)  # sweeps fall between shards' segments
    whole = assemble_capture([read_capture_part(capture)])
    assert whole != unswept  # the sweep closed the quiet connection: its resumption is read afresh
    p = partition_capture(capture, count, str(tmp_path), pipelined=pipelined)
    joined = assemble_capture([partition_part(p), *(read_spill_part(p, k) for k in range(count))])
    assert joined == whole
    assert len({tx.provenance.tcp_stream for tx in joined.transactions}) == 32  # 1 quiet, 30 busy, the reused port


def _spill(writer: SpillWriter, seg: TcpSegment, stream: int, addresses: list[bytes]) -> None:
    """Append ``seg`` as the numbering pass does: encoded as the reader's record, copied with its stream."""
    numbers = []
    for ip in (seg.src_ip, seg.dst_ip):
        raw = ip.encode("ascii")
        if raw not in addresses:
            addresses.append(raw)
        numbers.append(addresses.index(raw))
    record = partition_module._U.pack(
        ord("U"), seg.frame, seg.ts, seg.seq, seg.ack, seg.src_port, seg.dst_port, seg.flags, seg.truncated,
        numbers[0], numbers[1], seg.wire_len, len(seg.payload),
    ) + seg.payload  # fmt: skip
    writer.copy(stream, memoryview(record)[1:], numbers[0], numbers[1], addresses)


def test_spill_round_trip(tmp_path: Path) -> None:
    seg = TcpSegment(7, 1.5, "2001:db8::1", "10.0.0.9", 1, 65535, 0xFFFFFFFF, 3, 0x18, b"x" * 70_000, True, 80_000)
    writer = SpillWriter(str(tmp_path / "s"))
    _spill(writer, seg, 4, [])
    writer.marker(ord("W"), 9.0)
    writer.close()
    sweeps: list[float] = []
    out = list(read_spill(str(tmp_path / "s"), sweeps.append, sweeps.append))
    assert out == [TcpSegment(**{**{f: getattr(seg, f) for f in seg.__slots__}, "stream": 4})]  # type: ignore[arg-type]
    assert sweeps == [9.0]


segments = st.builds(
    TcpSegment,
    frame=st.integers(1, 2**32 - 1),
    ts=st.floats(0, 2e9),
    src_ip=st.sampled_from(["10.0.0.1", "10.0.0.2", "::1", "fe80::1"]),
    dst_ip=st.sampled_from(["192.0.2.80", "::2"]),
    src_port=st.integers(0, 65535),
    dst_port=st.integers(0, 65535),
    seq=st.integers(0, 2**32 - 1),
    ack=st.integers(0, 2**32 - 1),
    flags=st.integers(0, 255),
    payload=st.binary(max_size=3000),
    truncated=st.booleans(),
    wire_len=st.integers(0, 2**32 - 1),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(segments, st.integers(0, 2**32 - 1)), max_size=40))
def test_spill_keeps_every_field(tmp_path_factory: pytest.TempPathFactory, items: list[tuple[TcpSegment, int]]) -> None:
    path = str(tmp_path_factory.mktemp("spill") / "s")
    writer = SpillWriter(path)
    addresses: list[bytes] = []
    for seg, stream in items:
        _spill(writer, seg, stream, addresses)
    writer.close()
    import stickyforensics.ingest.partition as partition

    read = list(partition.read_spill(path, lambda ts: None, lambda ts: None))
    assert [
        (
            s.frame,
            s.ts,
            s.src_ip,
            s.dst_ip,
            s.src_port,
            s.dst_port,
            s.seq,
            s.ack,
            s.flags,
            s.payload,
            s.truncated,
            s.wire_len,
            s.stream,
        )
        for s in read
    ] == [
        (
            s.frame,
            s.ts,
            s.src_ip,
            s.dst_ip,
            s.src_port,
            s.dst_port,
            s.seq,
            s.ack,
            s.flags,
            s.payload,
            s.truncated,
            s.wire_len,
            n,
        )
        for s, n in items
    ]


def test_records_across_read_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import stickyforensics.ingest.partition as partition

    monkeypatch.setattr(partition, "READ_BYTES", 5)  # every record straddles reads (the pipe's and the spill's)
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    joined, _ = split_and_join(capture, 2, tmp_path, pipelined=True)
    assert joined == read_capture(capture)


def _failing_reader(exc: BaseException) -> object:
    def encode(reader: object) -> Iterator[bytes]:
        yield b"A" + struct.pack("<IB", 0, 8) + b"10.0.0.1"  # something arrives before the failure
        raise exc

    return encode


@pytest.mark.parametrize(
    ("exc", "error", "message"),
    [
        (InputError("x.pcap", "the reader says no", "byte 9"), StickyError, "the reader says no"),
        (ZeroDivisionError("a bug"), RuntimeError, "the capture reader failed: ZeroDivisionError: a bug"),
    ],
)
def test_a_reader_process_failure_reaches_the_numberer(
    exc: BaseException, error: type[BaseException], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stickyforensics.ingest.partition as partition

    monkeypatch.setattr(partition, "encode_segments", _failing_reader(exc))
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    with pytest.raises(error, match=message):
        partition_capture(capture, 2, str(tmp_path), pipelined=True)


def test_a_reader_process_that_vanishes_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import stickyforensics.ingest.partition as partition

    def vanish(reader: object) -> Iterator[bytes]:
        yield b"A" + struct.pack("<IB", 0, 8) + b"10.0.0.1"
        os._exit(9)  # as the out-of-memory killer would: no failure record

    monkeypatch.setattr(partition, "encode_segments", vanish)
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    with pytest.raises(InputError, match="reader process ended before the end of the capture"):
        partition_capture(capture, 2, str(tmp_path), pipelined=True)


def test_damaged_spill_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.write_bytes(b"Z" + b"\0" * 20)
    with pytest.raises(InputError, match="damaged at byte 0"):
        list(read_spill(str(path), print, print))
    path.write_bytes(struct.pack("<Bd", ord("W"), 1.0)[:5])
    with pytest.raises(InputError, match="ends inside a record"):
        list(read_spill(str(path), print, print))


def test_unwritable_spill_directory_is_an_input_error(tmp_path: Path) -> None:
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    with pytest.raises(InputError, match="cannot write the spill files"):
        partition_capture(capture, 2, str(tmp_path / "missing"))


def test_shard_bounds() -> None:
    with pytest.raises(ValueError):
        Shard(2, 2)
    assert Shard(1, 2).owns_input(3) and not Shard(0, 2).owns_input(3)


def test_any_client_name_has_a_stable_owner() -> None:
    """A client named by a header (X-Forwarded-For in a HAR) may hold a lone surrogate: it still has a shard."""
    assert owner_of("10.0.0.1", 7) == 654229907 % 7  # CRC-32 (a salted hash would differ per process)
    assert 0 <= owner_of("xff \ud800user", 5) < 5


def test_many_shards_buffer_less_each_and_still_assemble(tmp_path: Path) -> None:
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    partition = partition_capture(capture, 700, str(tmp_path), pipelined=True)
    joined = assemble_capture([partition_part(partition), *(read_spill_part(partition, k) for k in range(700))])
    assert joined == read_capture(capture)


def test_running_out_of_file_handles_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import stickyforensics.ingest.partition as partition

    class Exhausted(SpillWriter):
        def __init__(self, path: str, flush_bytes: int = 0) -> None:
            raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(partition, "SpillWriter", Exhausted)
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    with pytest.raises(InputError, match="too many spill files open at once: give fewer shards a larger --shard-mb"):
        partition_capture(capture, 2, str(tmp_path))
