"""Splitting a capture by client: each shard reassembles only its clients, numbering stays Wireshark's."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from stickyforensics.ingest.native import assemble_capture, read_capture, read_capture_part
from stickyforensics.reconstruct.shard import Shard, owner_of

ROOT = Path(__file__).resolve().parents[3]
CAPTURES = sorted(glob.glob(str(ROOT / "samples/*/*.pcap*")))


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: Path(p).parent.name)
@pytest.mark.parametrize("count", [2, 3])
def test_shards_assemble_to_the_whole(capture: str, count: int) -> None:
    whole = read_capture(capture)
    parts = [read_capture_part(capture, shard=Shard(i, count)) for i in range(count)]
    for index, part in enumerate(parts):
        assert all(owner_of(tx.client.ip, count) == index for tx in part.transactions if tx.client)
    assert assemble_capture(parts) == whole


def test_every_shard_numbers_every_connection() -> None:
    capture = next(c for c in CAPTURES if "missing_cookie" in c)
    whole = {tx.id: tx.provenance.tcp_stream for tx in read_capture(capture).transactions}
    for index in range(2):
        part = read_capture_part(capture, shard=Shard(index, 2))
        assert dict(part.stats)["tcp_streams"] == dict(read_capture_part(capture).stats)["tcp_streams"]
        for tx in part.transactions:
            assert tx.provenance.tcp_stream == whole[tx.id]


def test_shard_bounds() -> None:
    with pytest.raises(ValueError):
        Shard(2, 2)
    assert Shard(0, 1).owns("10.0.0.1") and Shard(1, 2).owns_input(3) and not Shard(0, 2).owns_input(3)
