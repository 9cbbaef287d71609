"""A HAR exported from a capture, split by client: every transaction in its client's shard, in file order."""

from __future__ import annotations

from pathlib import Path

import pytest

from stickyforensics.config import Config
from stickyforensics.ingest import har_split
from stickyforensics.ingest.har import read_har
from stickyforensics.ingest.har_partition import holds_clients, partition_har, read_har_shard, splits_by_client
from stickyforensics.reconstruct.shard import owner_of
from stickyforensics.sanitize import SanitizeOptions, export_capture

ROOT = Path(__file__).resolve().parents[3]
CAPTURES = sorted((ROOT / "samples").rglob("*.pcap"))


def exported(capture: Path, folder: Path) -> str:
    """``capture`` exported to a HAR (not sanitized), one entry per exchange with its client."""
    out = folder / (capture.parent.name + ".har")
    options = SanitizeOptions(key=b"k" * 32, hide_backends=False, config=Config())
    export_capture(str(capture), str(out), options, sanitize=False, shard_bytes=0)
    return str(out)


def test_an_export_holds_clients_and_a_browser_har_does_not(tmp_path: Path) -> None:
    assert holds_clients(exported(CAPTURES[0], tmp_path))
    assert not holds_clients(str(next((ROOT / "samples").rglob("*.har"))))
    garbage = tmp_path / "g.har"
    garbage.write_bytes(b'{"log": {"entries": [tru')
    assert not holds_clients(str(garbage))
    assert not holds_clients(str(tmp_path / "missing.har"))
    assert not splits_by_client(exported(CAPTURES[0], tmp_path))  # small: read whole


@pytest.mark.parametrize("two_processes", [False, True], ids=["one-reader", "two-readers"])
@pytest.mark.parametrize("shards", [1, 3, 7])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_each_transaction_goes_to_its_clients_shard_in_file_order(
    capture: Path, shards: int, two_processes: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read by one process, or by two (``har_split``: each half to its own files, read back in order)."""
    path = exported(capture, tmp_path)
    if two_processes:
        monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 0)
    whole = read_har(path, input_index=2)
    partition = partition_har(path, shards, str(tmp_path), input_index=2)
    assert partition.transactions == len(whole.transactions)
    assert partition.result.transactions == ()
    assert partition.result.diagnostics == whole.diagnostics and partition.result.extra == whole.extra
    position = {tx.id: n for n, tx in enumerate(whole.transactions)}
    seen = []
    for shard in range(shards):
        txs = read_har_shard(partition, shard)
        for tx in txs:
            assert owner_of(tx.client.ip, shards) == shard if tx.client is not None else 2 % shards == shard
        assert [position[tx.id] for tx in txs] == sorted(position[tx.id] for tx in txs)
        seen.extend(txs)
    assert sorted(seen, key=lambda tx: position[tx.id]) == list(whole.transactions)


def test_nothing_usable_is_the_same_error(tmp_path: Path) -> None:
    from stickyforensics.errors import InputError

    broken = tmp_path / "b.har"
    broken.write_bytes(b'{"log": {"entries": [{"_clientIPAddress": "127.0.0.1", "request": ')
    with pytest.raises(InputError) as whole:
        read_har(str(broken))
    with pytest.raises(InputError) as split:
        partition_har(str(broken), 2, str(tmp_path))
    assert str(split.value) == str(whole.value)


def test_a_split_that_falls_back_leaves_no_half_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's half is thrown away (here: its first entry borrows our time); the ordinary read that
    follows must not find either half's transactions already in the files."""
    import json

    path = exported(CAPTURES[0], tmp_path)
    document = json.loads(Path(path).read_text())
    entries = document["log"]["entries"]
    for entry in entries[len(entries) // 3 :]:
        entry["startedDateTime"] = "not a date"
    Path(path).write_text(json.dumps(document, indent=2))
    monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 0)
    whole = read_har(path)
    partition = partition_har(path, 3, str(tmp_path))
    seen = [tx for shard in range(3) for tx in read_har_shard(partition, shard)]
    assert sorted(tx.id for tx in seen) == sorted(tx.id for tx in whole.transactions)
    assert partition.transactions == len(whole.transactions)


@pytest.mark.parametrize("two_processes", [False, True], ids=["one-reader", "two-readers"])
def test_reading_tells_its_progress_up_to_the_file_size(
    two_processes: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stickyforensics.ingest import har_fast, har_stream

    path = exported(CAPTURES[0], tmp_path)
    size = Path(path).stat().st_size
    monkeypatch.setattr(har_stream, "PROGRESS_BYTES", 512)
    monkeypatch.setattr(har_fast, "WINDOW", 1024)  # many reads of a small file
    if two_processes:
        monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 0)
    calls: list[tuple[int, int]] = []
    partition = partition_har(path, 2, str(tmp_path), progress=lambda done, total: calls.append((done, total)))
    assert partition.transactions > 0
    assert len(calls) > 2 and calls[-1] == (size, size)
    assert all(total == size and 0 < done <= size for done, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    if two_processes:  # this process's half only, then the end: the child tells nothing
        assert calls[-2][0] <= size * har_split.OUR_SHARE + 2 * 1024
