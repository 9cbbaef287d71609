"""``TcpReassembler.number`` (the partitioning pass's fast path) numbers exactly as ``feed`` does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.reconstruct.segments import ACK, FIN, PSH, RST, SYN, TcpSegment
from stickyforensics.reconstruct.tcp import TcpConnection, TcpReassembler

ENDS = [("10.0.0.1", 40000), ("10.0.0.1", 40001), ("10.0.0.2", 40000)]
SERVER = ("192.0.2.80", 80)

segment_steps = st.tuples(
    st.integers(0, len(ENDS) - 1),  # which client connection
    st.booleans(),  # client to server?
    st.sampled_from([SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST, RST | ACK]),
    st.integers(0, 2**32 - 1),  # seq
    st.integers(0, 2**32 - 1),  # ack
    st.binary(max_size=4),
    st.booleans(),  # truncated
    st.floats(0, 900),  # seconds since the previous segment: some longer than the idle timeout
)


Step = tuple[int, bool, int, int, int, bytes, bool, float]


def _never(conn: TcpConnection) -> object:
    raise AssertionError("numbering only")


def _segments(steps: list[Step]) -> list[TcpSegment]:
    out, ts = [], 1_700_000_000.0
    for frame, (end, upstream, flags, seq, ack, payload, cut, gap) in enumerate(steps, 1):
        ts += gap
        src, dst = (ENDS[end], SERVER) if upstream else (SERVER, ENDS[end])
        out.append(TcpSegment(frame, ts, src[0], dst[0], src[1], dst[1], seq, ack, flags, payload, cut, len(payload)))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(segment_steps, max_size=60), st.integers(1, 7))
def test_number_then_feed_equals_feed(steps: list[Step], every: int) -> None:
    segments = _segments(steps)
    plain = TcpReassembler("x", _never, [], numbering_only=True, sweep_every=every)  # type: ignore[arg-type]
    fast = TcpReassembler("x", _never, [], numbering_only=True, sweep_every=every)  # type: ignore[arg-type]
    for seg in segments:
        expected = plain.feed(seg)
        got = fast.number(seg.src_ip, seg.src_port, seg.dst_ip, seg.dst_port, seg.flags, seg.truncated, seg.ts)
        if got < 0:
            got = fast.feed(seg)
        assert got == expected
        assert (fast.sweeps, fast.last_sweep, fast.streams) == (plain.sweeps, plain.last_sweep, plain.streams)
    assert fast.now == plain.now


# Few sequence numbers, so that a SYN comes again with its connection's first ISN (a retransmission: the same
# tcp.stream) or with another (a new conversation on the 4-tuple), after the connection ended too.
few_seqs_steps = st.tuples(
    st.integers(0, len(ENDS) - 1),
    st.booleans(),
    st.sampled_from([SYN, SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST, RST | ACK]),
    st.sampled_from([0, 1000, 2**32 - 1]),
    st.sampled_from([0, 1, 1001]),
    st.binary(max_size=4),
    st.booleans(),
    st.floats(0, 900),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(few_seqs_steps, max_size=60), st.integers(1, 7), st.sampled_from([1800.0, 3600.0]))
def test_compact_tombstones_number_as_whole_connections(steps: list[Step], every: int, ttl: float) -> None:
    # A numbering pass keeps its ended connections compact (``tcp_streams.Tomb``): a late packet on an ended
    # connection, a retransmitted SYN and a SYN with a new ISN are numbered as with the whole connections kept,
    # and they are forgotten at the same moments.
    segments = _segments(steps)
    whole = TcpReassembler("x", _never, [], numbering_only=True, sweep_every=every, tombstone_ttl=ttl,  # type: ignore[arg-type]
                           compact_tombstones=False)  # fmt: skip
    compact = TcpReassembler("x", _never, [], numbering_only=True, sweep_every=every, tombstone_ttl=ttl)  # type: ignore[arg-type]
    for seg in segments:
        assert compact.feed(seg) == whole.feed(seg)
        assert len(compact._tombs) == len(whole._tombs)
    assert (compact.streams, compact.sweeps) == (whole.streams, whole.sweeps)


class _Discard:
    """A connection handler that takes every byte and keeps none."""

    def consumer(self, from_a: bool) -> _Discard:
        return self

    def begin(self, at_start: bool) -> None:
        pass

    def data(self, chunk: bytes, frame: int, ts: float) -> None:
        pass

    def gap(self, nbytes: int, frame: int, ts: float) -> None:
        pass

    def end(self, frame: int, ts: float) -> None:
        pass

    def closed(self, reason: str, ts: float) -> None:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.lists(few_seqs_steps, max_size=60),
    st.integers(1, 7),
    st.sampled_from([1800.0, 3600.0]),
    st.sampled_from([1, 2, 100_000]),
)
def test_a_numbering_pass_numbers_as_full_reassembly(steps: list[Step], every: int, ttl: float, most: int) -> None:
    # ``--jobs`` numbers a capture by a numbering pass, one process by full reassembly: the same tcp.stream for
    # every segment. Full reassembly reopens an idle connection on new data and a numbering pass never does;
    # both count the segment towards the next sweep, so they forget tombstones at the same moments (they did
    # not: a SYN resent after an hour got stream 3 from one and 0 from the other).
    segments = _segments(steps)
    full = TcpReassembler("x", lambda conn: _Discard(), [], sweep_every=every, tombstone_ttl=ttl, max_tombstones=most)
    numbering = TcpReassembler("x", _never, [], numbering_only=True, sweep_every=every, tombstone_ttl=ttl,  # type: ignore[arg-type]
                               max_tombstones=most)  # fmt: skip
    for seg in segments:
        assert numbering.feed(seg) == full.feed(seg)
    assert (numbering.streams, numbering.sweeps) == (full.streams, full.sweeps)
