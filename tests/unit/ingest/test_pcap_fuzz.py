"""Hostile captures: damaged bytes never raise out of the reader once the container is recognised."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.errors import InputError
from stickyforensics.ingest.pcapread import open_capture

DATA = Path(__file__).resolve().parents[2] / "data" / "pcap"
SEEDS = ["http_le_usec.pcap", "sections.pcapng", "ipv6_frag.pcap", "ipv4_frag.pcap", "nflog.pcap", "vlan_qinq.pcap"]


def _read_all(path: Path) -> None:
    try:
        _info, reader = open_capture(str(path))
    except InputError:
        return
    with reader:
        segs = list(reader)
    assert reader.frames == (
        reader.tcp_segments + reader.non_tcp + reader.non_ip + reader.ip_fragments + reader.malformed
    )
    assert len(segs) == reader.tcp_segments
    for s in segs:
        assert 0 <= len(s.payload) <= s.wire_len and 1 <= s.frame <= reader.frames
        assert s.truncated == (len(s.payload) < s.wire_len)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 20000), st.integers(0, 255)), min_size=1, max_size=12),
    st.one_of(st.none(), st.integers(0, 20000)),
)
def test_mutated_captures_never_raise(tmp_path: Path, seed: str, flips: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray((DATA / seed).read_bytes())
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = tmp_path / "mutated"
    path.write_bytes(bytes(data))
    _read_all(path)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_prefix_of_the_first_records_is_handled(tmp_path: Path, seed: str) -> None:
    data = (DATA / seed).read_bytes()[:700]
    path = tmp_path / "prefix"
    for n in range(0, len(data), 7):
        path.write_bytes(data[:n])
        _read_all(path)
