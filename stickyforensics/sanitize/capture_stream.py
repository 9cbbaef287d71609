"""``export_capture`` for a large capture: the same HAR files, in memory bounded by a shard, not the capture.

Reading the whole capture first (``capture``'s way) holds every transaction and every HAR entry: on a
1M-packet capture 1.3 GB. Here the capture is split by client into shards (``ingest.partition``,
as ``analyze --jobs`` splits it) and the shards are reassembled by a pool of workers (every core); each
shard's entries go to a run file on disk, sorted, and the runs are merged into the output in the order one
process gives (``capture_order``: start time, ``tcp.stream``, depth). Sanitizing needs every secret before
it writes the first entry (the sweep finds a value wherever it occurs), so this process learns each
shard's entries, read back from its run, as the workers finish them, in shard order.

With ``per_client``, clients are told apart as ``analyze`` tells them: the cross-client decisions
(``capture_facts``) are counted over every shard first (the workers spill each shard's transactions and
count), then the workers build each shard's sessions and spill their entries per client, this process
learns them in the order one process would, and each client's file is written from its records. A
proxy's connections are spread over the shards (``partition.SPREAD_AFTER``); with ``per_client`` the
transactions whose client a shard may not hold whole (``sharded.route_of``) are grouped again by client
first, so every client's session is built whole.
"""

from __future__ import annotations

import gc
import heapq
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, TypeVar, cast

from stickyforensics.errors import StickyError
from stickyforensics.ingest import partition as partition_module
from stickyforensics.ingest.native import CapturePart, assemble_capture, partition_part, read_spill_part
from stickyforensics.ingest.partition import Partition, partition_capture
from stickyforensics.model import Transaction
from stickyforensics.reconstruct.pairing import capture_order
from stickyforensics.sanitize.export import transaction_entry
from stickyforensics.spill_records import read_records, write_record
from stickyforensics.track.capture_facts import FactCounts, TrackFacts, count_facts

Order = tuple[float, int, int]


@dataclass(slots=True)
class _Run:
    """Pickled records appended to one file; ``spans`` says where each group of them starts."""

    path: str
    file: BinaryIO
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Group -> (offset of its first record, how many records)."""

    @classmethod
    def create(cls, path: str) -> _Run:
        return cls(path, open(path, "wb"))  # closed by ``close``, written across a shard

    def add_group(self, group: str, records: list[Any]) -> None:
        self.spans[group] = (self.file.tell(), len(records))
        for record in records:
            write_record(self.file, record)

    def close(self) -> None:
        self.file.close()


@dataclass(slots=True)
class StreamedCapture:
    """What the shards held: the capture's result without transactions, and how many clients."""

    result: Any
    """``IngestResult`` with no transactions (its diagnostics and counts are the whole capture's)."""
    client_ips: set[str]


Progress = Callable[[str, int, int], None]
"""(label, done, total), as ``pipeline.Progress``."""


def _partitioned(
    in_path: str, shards: int, directory: str, progress: Progress | None, spread_after: int | None
) -> Partition:
    """The capture split into ``shards`` spill files, by a child process: the numbering pass's memory (a
    tombstone per ended connection: 128 MiB at 2 GB of capture) goes when it ends. ``spread_after``: as
    ``partition_capture``'s (entries need no client grouping; sessions per shard do)."""
    from stickyforensics.pipeline import in_megabytes
    from stickyforensics.sharded import in_child

    label = f"splitting {os.path.basename(in_path)} by client (MB)"
    size = os.path.getsize(in_path)

    def split(relay: Progress | None) -> Partition:
        told = in_megabytes(relay, label) if relay is not None else None
        tick = (lambda done: told(done, size)) if told is not None else None
        return partition_capture(in_path, shards, directory, pipelined=True, progress=tick, spread_after=spread_after)

    told = in_megabytes(progress, label) if progress is not None else None
    if told is not None:
        told(0, size)
    partition = cast(Partition, in_child(split, progress))
    if told is not None:
        told(size, size)
    return partition


@dataclass(slots=True)
class _Tally:
    """What the shards add up to: the capture's parts (for its diagnostics), transactions, client addresses."""

    parts: list[CapturePart] = field(default_factory=list)
    count: int = 0
    client_ips: set[str] = field(default_factory=set)
    spread: frozenset[str] = frozenset()
    """The addresses whose connections the partitioning spread over the shards."""

    def streamed(self) -> StreamedCapture:
        return StreamedCapture(assemble_capture(self.parts, transaction_count=self.count), self.client_ips)


def stream_entries(
    in_path: str,
    shards: int,
    directory: str,
    *,
    keep_body_prefix: Callable[[bytes], bool] | None,
    learn: Callable[[Iterable[dict[str, Any]]], None] | None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> tuple[StreamedCapture, Iterator[dict[str, Any]]]:
    """The capture's HAR entries in capture order, with every shard learnt (``learn``) before the first
    is yielded; ``directory`` holds the run files meanwhile.

    The shards are reassembled and made into entries by ``jobs`` processes (every core, at most 8, by
    default), each writing its run file; this process learns each run, in shard order, as it comes.
    """
    tally = _Tally()
    runs: list[str] = []
    # A proxy's connections are spread over the shards (one shard would hold them all): entries need no
    # client to be whole in a shard, only the capture order, which the merge restores.
    for done in _split_runs(in_path, shards, directory, keep_body_prefix, jobs, _entry_run, tally, progress):
        assert done.run_path is not None
        runs.append(done.run_path)
        if learn is not None:  # an entry at a time, read back
            learn(entry for _order_key, entry in read_records(done.run_path))
    merged = heapq.merge(*(read_records(path) for path in runs), key=_order)
    ordered: Iterator[dict[str, Any]] = (entry for _order_key, entry in merged)
    if progress is not None:
        ordered = _counted(ordered, f"writing {tally.count} entries", tally.count, progress)
    return tally.streamed(), ordered


@dataclass(frozen=True, slots=True)
class _EntryRun:
    """One shard made into entries: its part of the capture (no transactions), and its run file."""

    part: CapturePart
    count: int
    client_ips: frozenset[str]
    run_path: str | None
    """None when the shard held no transaction."""
    counts: FactCounts | None = None
    """What the shard saw of the cross-client facts (``_transaction_run``)."""


_job: Any = None
"""What the pool's work reads (``_entry_run``, ``_transaction_run``: (partition, body-prefix filter,
folder); ``_client_run``: a ``_ClientsJob``): set before the workers are forked, which inherit it."""

T = TypeVar("T")


def _in_pool(work: Callable[[int], T | str], count: int, jobs: int | None, job: Any) -> Iterator[T]:
    """``work(0)`` ... ``work(count - 1)``, in that order, by ``jobs`` forked processes (every core, at most 8, by
    default; here when 1); ``job`` is what they read. A ``str`` result is a worker's input error."""
    import multiprocessing

    global _job
    jobs = max(1, min(jobs if jobs is not None else (os.cpu_count() or 1), 8, count))
    _job = job
    try:
        if jobs == 1 or not hasattr(os, "fork"):
            outcomes: Iterator[T | str] = map(work, range(count))
            yield from _raising(outcomes)
            return
        gc.freeze()  # what this process made so far stays shared with the workers (as ``sharded`` does)
        try:
            pool = multiprocessing.get_context("fork").Pool(jobs)
        finally:
            gc.unfreeze()
        with pool:
            yield from _raising(pool.imap(work, range(count)))
    finally:
        _job = None


def _raising(outcomes: Iterator[T | str]) -> Iterator[T]:
    for outcome in outcomes:
        if isinstance(outcome, str):
            raise StickyError(outcome)  # the worker's input error, as one process would raise it
        yield outcome


def _split_runs(
    in_path: str,
    shards: int,
    directory: str,
    keep_body_prefix: Callable[[bytes], bool] | None,
    jobs: int | None,
    work: Callable[[int], _EntryRun | str],
    tally: _Tally,
    progress: Progress | None,
) -> Iterator[_EntryRun]:
    """The capture split into ``shards`` (a proxy's connections spread), then ``work`` (``_entry_run``,
    ``_transaction_run``) on each shard on the pool (``_in_pool``); the shards that held transactions, in
    shard order, each counted into ``tally`` and the progress told once the caller is done with it."""
    partition = _partitioned(in_path, shards, directory, progress, partition_module.SPREAD_AFTER)
    tally.parts.append(partition_part(partition))
    tally.spread = partition.spread
    label = f"{os.path.basename(in_path)}: groups of clients"
    if progress is not None:
        progress(label, 0, shards)
    job = (partition, keep_body_prefix, directory)
    for index, done in enumerate(_in_pool(work, len(partition.spill_files), jobs, job), start=1):
        tally.parts.append(done.part)
        if done.run_path is not None:
            tally.count += done.count
            tally.client_ips.update(done.client_ips)
            yield done
        if progress is not None:
            progress(label, index, shards)


def _read_shard(index: int) -> tuple[CapturePart, str] | str:
    """Shard ``index`` reassembled, and the folder for its run file (a ``StickyError`` comes back as its
    text: exceptions with their own arguments do not come back through a pool)."""
    assert _job is not None
    partition, keep, directory = _job
    try:
        part = read_spill_part(partition, index, keep_body_prefix=keep)
    except StickyError as exc:
        return str(exc)
    os.unlink(partition.spill_files[index])  # read: its disk space goes now
    return part, directory


def _entry_run(index: int) -> _EntryRun | str:
    """Reassemble shard ``index``, write its entries in capture order to a run file."""
    read = _read_shard(index)
    if isinstance(read, str):
        return read
    part, directory = read
    transactions = sorted(part.transactions, key=capture_order)
    done = _EntryRun(replace(part, transactions=()), len(transactions), frozenset(), None)
    if not transactions:
        return done
    path = os.path.join(directory, f"entries{index}.run")
    with open(path, "wb") as fh:
        for tx in transactions:  # an entry at a time: a shard's entries at once were half a worker's memory
            write_record(fh, (capture_order(tx), transaction_entry(tx)))
    ips = frozenset(tx.client.ip for tx in transactions if tx.client is not None)
    return replace(done, client_ips=ips, run_path=path)


def _transaction_run(index: int) -> _EntryRun | str:
    """Reassemble shard ``index`` and pickle its transactions to a run file (``stream_client_entries``),
    with its counts of the cross-client facts."""
    read = _read_shard(index)
    if isinstance(read, str):
        return read
    part, directory = read
    transactions = list(part.transactions)
    done = _EntryRun(replace(part, transactions=()), len(transactions), frozenset(), None)
    if not transactions:
        return done
    path = os.path.join(directory, f"transactions{index}.run")
    with open(path, "wb") as fh:
        write_record(fh, transactions)
    ips = frozenset(tx.client.ip for tx in transactions if tx.client is not None)
    return replace(done, client_ips=ips, run_path=path, counts=count_facts(transactions))


ClientSpan = tuple[str, tuple[float, str, str], str, int, int]
"""A session's entries in a run file: (client, ``track.sessions.session_order``, run file, offset, records)."""


@dataclass(frozen=True, slots=True)
class _ClientsJob:
    """What ``_client_run`` reads, inherited by the pool's workers."""

    config: Any
    facts: TrackFacts
    spread: dict[str, frozenset[str]]
    shards: int
    directory: str
    tx_runs: tuple[str, ...]
    groups: tuple[tuple[int, tuple[int, ...]], ...] | None = None
    """Second phase: each group of routed transactions and the shards (positions in ``tx_runs``) that sent some."""


def _client_run(position: int) -> tuple[list[ClientSpan], tuple[int, ...]] | str:
    """First phase: the clients of shard run ``position`` (what it cannot hold whole routed to groups, which
    it names); second phase: the clients of group ``position``. Their entries go to a run file."""
    from stickyforensics.sharded import routed_apart

    job = _job
    assert isinstance(job, _ClientsJob)
    if job.groups is None:
        path = job.tx_runs[position]
        (transactions,) = read_records(path)
        os.unlink(path)
        local, routed = routed_apart(transactions, job.facts, job.config.client_identity, job.spread, job.shards)
        del transactions
        for group, txs in routed.items():
            with open(_routed_file(job, position, group), "wb") as fh:
                write_record(fh, txs)
        return _client_entries(job, local, f"clients{position}.run"), tuple(sorted(routed))
    group, sources = job.groups[position]
    local = []
    for source in sources:
        (txs,) = read_records(_routed_file(job, source, group))
        os.unlink(_routed_file(job, source, group))
        local.extend(txs)
    return _client_entries(job, local, f"clients.g{group}.run"), ()


def _routed_file(job: _ClientsJob, source: int, group: int) -> str:
    return os.path.join(job.directory, f"routed.s{source}.g{group}.run")


def _client_entries(job: _ClientsJob, transactions: list[Transaction], name: str) -> list[ClientSpan]:
    """The sessions of ``transactions``, each client's entries in capture order, to the run file ``name``."""
    from stickyforensics.track.sessions import build_sessions, session_order

    sessions = build_sessions(transactions, job.config, facts=job.facts)
    del transactions
    spans: list[ClientSpan] = []
    run = _Run.create(os.path.join(job.directory, name))
    try:
        for session in sessions:
            ordered = sorted(session.transactions, key=capture_order)
            client = session.key.value
            run.add_group(client, [(capture_order(tx), transaction_entry(tx)) for tx in ordered])
            spans.append((client, session_order(session), run.path, *run.spans[client]))
    finally:
        run.close()
    return spans


def _counted(
    entries: Iterator[dict[str, Any]], label: str, total: int, progress: Progress, every: int = 2000
) -> Iterator[dict[str, Any]]:
    """``entries``, telling ``progress`` how many went by."""
    done = 0
    for entry in entries:
        yield entry
        done += 1
        if done % every == 0:
            progress(label, done, total)
    progress(label, done, total)


def _order(record: tuple[Order, Any]) -> Order:
    return record[0]


@dataclass(slots=True)
class ClientRecords:
    """Where one client's entries are: (run file, offset, count) in each shard that held it."""

    order: tuple[float, str, str]
    """``session_order`` of its whole session (the earliest of its shards', when it is in several)."""
    spans: list[tuple[str, int, int]] = field(default_factory=list)


def stream_client_entries(
    in_path: str,
    shards: int,
    directory: str,
    *,
    config: Any,
    keep_body_prefix: Callable[[bytes], bool] | None,
    learn: Callable[[Iterable[dict[str, Any]]], None] | None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> tuple[StreamedCapture, list[tuple[str, Callable[[], Iterator[dict[str, Any]]]]]]:
    """Per client (as ``analyze`` names them, in its session order): a function giving its HAR entries
    in start-time order. Every entry is learnt (``learn``) before this returns.

    As ``analyze --jobs`` does, a proxy's connections are spread over the shards, and the transactions whose
    client a shard may not hold whole (``sharded.route_of``) are grouped again by client before their
    sessions are built."""
    tally = _Tally()
    counts = FactCounts()
    tx_runs: list[str] = []
    for done in _split_runs(in_path, shards, directory, keep_body_prefix, jobs, _transaction_run, tally, progress):
        assert done.run_path is not None and done.counts is not None
        counts.merge(done.counts)
        tx_runs.append(done.run_path)
    facts = counts.decide()
    clients: dict[str, ClientRecords] = {}
    label = f"{os.path.basename(in_path)}: clients' sessions"

    def take(spans: list[ClientSpan]) -> None:
        """Each session's entries learnt (read back), and where they are noted under its client."""
        for name, order, path, offset, count in spans:
            if learn is not None:
                learn(entry for _order_key, entry in read_records(path, offset, count))
            found = clients.setdefault(name, ClientRecords(order))
            found.order = min(found.order, order)  # in two shards: its earliest start
            found.spans.append((path, offset, count))

    # The shards' own clients first, then the groups of what the shards routed away, each on the pool.
    job = _ClientsJob(config, facts, {in_path: tally.spread}, shards, directory, tuple(tx_runs))
    routed_from: dict[int, list[int]] = {}
    steps = len(tx_runs)
    for position, (spans, sent_to) in enumerate(_in_pool(_client_run, len(tx_runs), jobs, job)):
        if progress is not None:
            progress(label, position, steps)
        take(spans)
        for group in sent_to:
            routed_from.setdefault(group, []).append(position)
    groups = tuple((group, tuple(sources)) for group, sources in sorted(routed_from.items()))
    for spans, _none in _in_pool(_client_run, len(groups), jobs, replace(job, groups=groups)):
        take(spans)
    if progress is not None:
        progress(label, steps, steps)

    def entries_of(records: ClientRecords) -> Callable[[], Iterator[dict[str, Any]]]:
        def read() -> Iterator[dict[str, Any]]:
            merged = heapq.merge(*(read_records(*span) for span in records.spans), key=_order)
            return (entry for _order_key, entry in merged)

        return read

    ordered_clients = sorted(clients.items(), key=lambda item: item[1].order)
    return tally.streamed(), [(name, entries_of(records)) for name, records in ordered_clients]
