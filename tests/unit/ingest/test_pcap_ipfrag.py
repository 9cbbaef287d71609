"""IP fragment reassembly: order, overlaps (first wins), bounds, timeouts, snaplen-cut fragments."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.ingest.ipfrag import FragmentReassembler

DATA = bytes(range(256)) * 2  # 512 bytes


def pieces(cuts: list[int], data: bytes = DATA) -> list[tuple[int, bytes, bool]]:
    bounds = [0, *cuts, len(data)]
    return [(a, data[a:b], b < len(data)) for a, b in itertools.pairwise(bounds)]


def feed(r: FragmentReassembler, frags: list[tuple[int, bytes, bool]], key: bytes = b"k", ts: float = 0.0) -> list:
    return [r.add(key, ts, off, data, len(data), more) for off, data, more in frags]


def test_every_arrival_order_reassembles_on_the_last_fragment() -> None:
    frags = pieces([64, 200, 400])
    for order in itertools.permutations(frags):
        r = FragmentReassembler()
        out = feed(r, list(order))
        assert out[:-1] == [None, None, None]
        done = out[-1]
        assert done is not None and done.payload == DATA and not done.truncated and done.wire_len == len(DATA)
        assert r.pending == 0 and r.overlaps == 0


def test_overlap_first_wins_and_conflicts_are_counted() -> None:
    r = FragmentReassembler()
    assert r.add(b"k", 0, 0, b"A" * 16, 16, True) is None
    assert r.add(b"k", 0, 8, b"B" * 16, 16, True) is None  # overlaps 8..16 with different bytes
    done = r.add(b"k", 0, 24, b"C" * 8, 8, False)
    assert done is not None and done.payload == b"A" * 16 + b"B" * 8 + b"C" * 8
    assert (r.overlaps, r.conflicts) == (1, 1)


def test_identical_duplicate_is_an_overlap_without_conflict() -> None:
    r = FragmentReassembler()
    frags = pieces([256])
    r.add(b"k", 0, *frags[0][:2], 256, True)
    r.add(b"k", 0, *frags[0][:2], 256, True)
    done = r.add(b"k", 0, 256, DATA[256:], 256, False)
    assert done is not None and done.payload == DATA and (r.overlaps, r.conflicts) == (1, 0)


def test_keys_keep_datagrams_apart() -> None:
    r = FragmentReassembler()
    assert r.add(b"a", 0, 0, b"x" * 8, 8, True) is None
    assert r.add(b"b", 0, 8, b"y" * 8, 8, False) is None
    assert r.pending == 2
    done = r.add(b"a", 0, 8, b"z" * 8, 8, False)
    assert done is not None and done.payload == b"x" * 8 + b"z" * 8 and r.pending == 1
    assert r.flush() == 1 and r.pending == 0


def test_timeout_in_capture_time() -> None:
    r = FragmentReassembler(timeout=30.0)
    r.add(b"old", 100.0, 0, b"x" * 8, 8, True)
    r.add(b"new", 129.0, 0, b"y" * 8, 8, True)
    assert r.pending == 2 and r.expired == 0
    r.add(b"new", 131.0, 8, b"y" * 8, 8, False)
    assert r.expired == 1 and r.pending == 0  # "old" expired, "new" completed
    assert r.add(b"old", 131.0, 8, b"x" * 8, 8, False) is None  # its first half is gone


def test_bounds_evict_oldest() -> None:
    r = FragmentReassembler(max_datagrams=3)
    for i in range(5):
        r.add(bytes([i]), float(i), 0, b"x" * 8, 8, True)
    assert r.pending == 3 and r.evicted == 2
    r = FragmentReassembler(max_bytes=100)
    for i in range(4):
        r.add(bytes([i]), float(i), 0, b"x" * 40, 40, True)
    assert r.evicted >= 2 and r.pending <= 2


def test_oversized_and_too_many_pieces() -> None:
    r = FragmentReassembler()
    assert r.add(b"k", 0, 65528, b"x" * 16, 16, False) is None
    assert r.malformed == 1 and r.pending == 0
    r = FragmentReassembler(max_pieces=4)
    for i in range(6):
        r.add(b"k", 0, 8 * i, b"x" * 8, 8, True)
    assert r.evicted == 1


def test_snaplen_cut_fragment_gives_captured_prefix() -> None:
    r = FragmentReassembler()
    r.add(b"k", 0, 0, DATA[:100], 256, True)  # 256 declared, 100 captured
    done = r.add(b"k", 0, 256, DATA[256:], 256, False)
    assert done is not None and done.truncated and done.payload == DATA[:100] and done.wire_len == 512


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 80), st.integers(0, 40), st.booleans()), max_size=30), st.data())
def test_random_fragments_never_raise_and_results_are_consistent(frags: list, data: st.DataObject) -> None:
    r = FragmentReassembler(max_datagrams=4, max_pieces=16)
    for off8, length, more in frags:
        key = data.draw(st.sampled_from([b"a", b"b"]))
        out = r.add(key, 0.0, off8 * 8, DATA[:length], length, more)
        if out is not None:
            assert len(out.payload) == out.wire_len and not out.truncated
