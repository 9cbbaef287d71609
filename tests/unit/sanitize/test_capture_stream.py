"""A capture exported shard by shard gives the very files the whole-capture export gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stickyforensics.config import Config
from stickyforensics.errors import InputError
from stickyforensics.pipeline import EngineOptions
from stickyforensics.sanitize import SanitizeOptions, export_capture
from stickyforensics.sanitize import capture as capture_module
from stickyforensics.sanitize.capture_stream import _Run
from stickyforensics.spill_records import read_records
from tests.unit.sanitize.helpers import KEY

ROOT = Path(__file__).resolve().parents[3]
CAPTURES = sorted((ROOT / "samples").rglob("*.pcap"))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _export(capture: Path, out: Path, *, shard_bytes: int, sanitize: bool, per_client: bool) -> tuple[object, ...]:
    options = SanitizeOptions(key=KEY, hide_backends=False, config=Config())
    result = export_capture(
        str(capture), str(out), options, sanitize=sanitize, per_client=per_client, shard_bytes=shard_bytes
    )
    files = [(os.path.basename(path), count) for path, count in result.files]
    stats = result.stats.entries if result.stats is not None else None
    return (files, result.clients, result.diagnostics, stats)


def _same_split_and_whole(
    capture: Path, folder: Path, *, shard_bytes: int, sanitize: bool, per_client: bool
) -> tuple[object, ...]:
    """Export ``capture`` whole and in shards of ``shard_bytes`` into ``folder``; both give the same files
    (and the same figures, returned)."""
    whole_out, split_out = folder / "whole", folder / "split"
    whole_out.mkdir(parents=True)
    split_out.mkdir(parents=True)
    if not per_client:
        whole_out, split_out = whole_out / "out.har", split_out / "out.har"
    whole = _export(capture, whole_out, shard_bytes=0, sanitize=sanitize, per_client=per_client)
    split = _export(capture, split_out, shard_bytes=shard_bytes, sanitize=sanitize, per_client=per_client)
    assert split == whole
    assert _files(folder / "split") == _files(folder / "whole")
    return whole


@pytest.mark.parametrize("per_client", [False, True], ids=["one-file", "per-client"])
@pytest.mark.parametrize("sanitize", [True, False], ids=["sanitized", "raw"])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_shard_by_shard_gives_the_same_files(capture: Path, sanitize: bool, per_client: bool, tmp_path: Path) -> None:
    shard_bytes = max(1, capture.stat().st_size // 4)  # about four shards, every client in one of them
    assert capture_module._shards(str(capture), EngineOptions(), shard_bytes) >= 4
    _same_split_and_whole(capture, tmp_path, shard_bytes=shard_bytes, sanitize=sanitize, per_client=per_client)


@pytest.mark.parametrize("per_client", [False, True], ids=["one-file", "per-client"])
def test_users_behind_two_proxies_in_two_shards_give_the_same_files(per_client: bool, tmp_path: Path) -> None:
    """Users told apart by X-Forwarded-For, each reached through both proxies, whose addresses are in two
    shards: each user's file holds the records of both, and the files come in the whole capture's order."""
    from tests.unit.test_sharded import behind_two_proxies

    capture = tmp_path / "proxies.pcap"
    behind_two_proxies(capture)
    shard_bytes = (capture.stat().st_size + 1) // 2
    assert capture_module._shards(str(capture), EngineOptions(), shard_bytes) == 2
    whole = _same_split_and_whole(capture, tmp_path, shard_bytes=shard_bytes, sanitize=False, per_client=per_client)
    if per_client:
        assert len(whole[0]) == 5  # type: ignore[arg-type]


@pytest.mark.parametrize("per_client", [False, True], ids=["one-file", "per-client"])
@pytest.mark.parametrize("sanitize", [True, False], ids=["sanitized", "raw"])
def test_spread_connections_give_the_same_files(
    sanitize: bool, per_client: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy's connections are spread over the shards (here every address's past its first): one file's
    entries are merged back in capture order; per client, the transactions a shard cannot hold whole are
    grouped again by client before their sessions are built."""
    from stickyforensics.ingest import partition
    from tests.unit.test_sharded import behind_two_proxies, two_browsers_behind_one_address

    monkeypatch.setattr(partition, "SPREAD_AFTER", 1)
    proxies, nat = tmp_path / "proxies.pcap", tmp_path / "nat.pcap"
    behind_two_proxies(proxies)
    two_browsers_behind_one_address(nat)  # told apart by their cookies' lineages: all of the address at once
    for n, capture in enumerate([proxies, nat, *CAPTURES]):
        shard_bytes = capture.stat().st_size // 4 + 1
        _same_split_and_whole(
            capture, tmp_path / str(n), shard_bytes=shard_bytes, sanitize=sanitize, per_client=per_client
        )


def test_small_captures_and_other_engines_are_read_whole() -> None:
    capture = str(CAPTURES[0])
    assert capture_module._shards(capture, EngineOptions(), capture_module.SHARD_BYTES) == 1
    assert capture_module._shards(capture, EngineOptions(), 0) == 1
    assert capture_module._shards(capture, EngineOptions(engine="tshark"), 1) == 1


def test_a_har_or_garbage_is_refused_as_the_whole_read_refuses_it(tmp_path: Path) -> None:
    har = next((ROOT / "samples").rglob("*.har"))
    garbage = tmp_path / "x.pcap"
    garbage.write_bytes(b"not a capture at all" * 10)
    options = SanitizeOptions(key=KEY, hide_backends=False, config=Config())
    for bad in (har, garbage):
        messages = []
        for shard_bytes in (0, 1):
            with pytest.raises(InputError) as caught:
                export_capture(str(bad), str(tmp_path / "o.har"), options, shard_bytes=shard_bytes)
            messages.append(str(caught.value))
        assert messages[0] == messages[1]
    assert not (tmp_path / "o.har").exists()


def test_run_records_come_back_by_group_without_a_shared_memo(tmp_path: Path) -> None:
    run = _Run.create(str(tmp_path / "r.run"))
    shared = {"same": "object"}
    run.add_group("a", [(1, shared), (2, shared)])
    run.add_group("b", [(3, shared)])
    run.close()
    assert list(read_records(run.path)) == [(1, shared), (2, shared), (3, shared)]
    assert list(read_records(run.path, *run.spans["b"])) == [(3, shared)]
    first, second = read_records(run.path, *run.spans["a"])
    assert first[1] is not second[1]  # each record its own pickle: nothing read is kept for the next


@pytest.mark.parametrize("per_client", [False, True], ids=["one-file", "per-client"])
def test_progress_follows_every_phase_to_its_end(per_client: bool, tmp_path: Path) -> None:
    capture = next(p for p in CAPTURES if p.parent.name == "noise" and p.name == "capture.pcap")
    calls: list[tuple[str, int, int]] = []
    options = SanitizeOptions(key=KEY, hide_backends=False, config=Config())
    out = tmp_path / ("clients" if per_client else "out.har")
    result = export_capture(
        str(capture),
        str(out),
        options,
        per_client=per_client,
        shard_bytes=max(1, capture.stat().st_size // 4),
        progress=lambda label, done, total: calls.append((label, done, total)),
    )
    labels = list(dict.fromkeys(label for label, _done, _total in calls))
    assert labels[0].startswith("splitting capture.pcap by client")
    assert "capture.pcap: groups of clients" in labels
    for label in labels:
        steps = [(done, total) for name, done, total in calls if name == label]
        assert all(0 <= done <= total for done, total in steps), label
        assert [done for done, _total in steps] == sorted(done for done, _total in steps), label
    groups = [(done, total) for name, done, total in calls if name == "capture.pcap: groups of clients"]
    assert groups[-1][0] == groups[-1][1] >= 4
    if per_client:
        assert any(label == "writing one file per client" for label in labels)
    else:
        entries = sum(count for _path, count in result.files)
        assert calls[-1] == (f"writing {entries} entries", entries, entries)


def test_shard_by_shard_holds_a_shard_not_the_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression guard for the bound itself: the whole-capture export holds every transaction and entry;
    shard by shard (eight shards) holds about one (the partitioning runs in a child, untraced here). One
    unpickler reading a whole run file once kept every entry it had read: the traced peak says so. One
    core: the shards are made here, one after the other, so their memory is traced too."""
    import subprocess
    import sys
    import tracemalloc

    monkeypatch.setattr(os, "cpu_count", lambda: 1)

    capture = tmp_path / "generated.pcap"
    subprocess.run(
        [sys.executable, str(ROOT / "bench/gen_capture.py"), "--packets", "15000", "--seed", "7", "-o", str(capture)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = SanitizeOptions(key=KEY, hide_backends=False, config=Config())
    peaks = []
    for shard_bytes in (0, capture.stat().st_size // 8):
        tracemalloc.start()
        try:
            export_capture(str(capture), str(tmp_path / f"{shard_bytes}.har"), options, shard_bytes=shard_bytes)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert (tmp_path / "0.har").read_bytes() == (tmp_path / f"{capture.stat().st_size // 8}.har").read_bytes()
    assert peaks[1] * 3 < peaks[0], peaks


def test_shards_made_into_entries_by_several_processes_or_one_give_the_same_entries(tmp_path: Path) -> None:
    from stickyforensics.sanitize.capture_stream import stream_entries

    capture = ROOT / "samples/noise/capture.pcap"
    seen: dict[int, tuple[list[object], list[object]]] = {}
    for jobs in (1, 3):
        folder = tmp_path / str(jobs)
        folder.mkdir()
        learnt: list[object] = []
        streamed, entries = stream_entries(
            str(capture), 5, str(folder), keep_body_prefix=None, learn=learnt.extend, jobs=jobs
        )
        seen[jobs] = (list(entries), learnt)
        assert streamed.result.transactions == () and len(seen[jobs][0]) > 10
    assert seen[1] == seen[3]
    assert sorted(map(repr, seen[1][1])) == sorted(map(repr, seen[1][0]))  # every entry learnt once
