"""``--jobs N``: the same analysis on N processes, split by client, in bounded memory.

Captures read by the native engine are first split into S shards by client address in one pass
(``ingest.partition``: each connection numbered as Wireshark does, each segment appended to its
shard's spill file); S grows with the captures' size (``SHARD_BYTES`` of capture per shard) and is
a multiple of N, so memory stays flat as captures grow. Worker k of N then handles shards k, k+N,
... one after the other, reassembling each from its spill file (HAR files and tshark-engine
captures, one client group each, go whole to one shard). After each shard the worker keeps only
what the report needs:

- per input: counts and diagnostics;
- per client: a summary (``summary_of``) and, when it holds per-client tokens, the cookie events and
  transactions the cross-client rules read of them (``global_view``, headers trimmed to those the
  rules quote);
- what the cross-client hygiene rules read of its routing and address-disclosing ``Set-Cookie``
  events (``detect.set_cookie_digest``: one digest per shard, merged by the parent);
- the findings of the per-client rules.

Behind a load balancer, one address (the proxy's) carries thousands of users, named by
``X-Forwarded-For``: the partitioning spreads the connections of an address past ``SPREAD_AFTER``
by connection, and a worker routes every transaction whose client its shard may not hold whole (an
``X-Forwarded-For`` user, a spread address: ``route_of``) to a group by client, in a route file; once
every shard is done, each group is judged like a shard (``analyze_routed``). Whatever still spans
shards (``linked_shards``) is judged again as one shard.

Two tracking decisions look across clients (``track.capture_facts``). A worker decides them from
its shard (optimistically) and sends its counts; the parent merges the counts and re-runs the rare
shard whose decision differs from the whole input's. The parent then runs the cross-client rules
over the views and merges everything in the order one process gives, so the report is the same
whatever N is (tests/unit/test_sharded.py). When whole sessions will be asked for (the HTML swimlanes,
``cookies --client``) or the transactions a report's evidence rows cite (HTML, Markdown, JUnit, SARIF:
``report.wanted``), each worker also pickles its shard's sessions, one record per client, and the parent
loads the few it is asked for, keeping only the cited transactions of those it opens for their evidence
(``cited_sessions``; re-running their shards instead made the HTML report of a 1M-packet capture take
twice as long as the JSON one). A format that draws no lanes needs no whole session: the worker then
pickles each session cut to the transactions some evidence row may cite (``citable_parts``).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import multiprocessing
import os
import tempfile
import traceback
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, Literal

from stickyforensics import __version__
from stickyforensics.config import Config
from stickyforensics.detect.engine import merge_rule_runs, run_rules
from stickyforensics.detect.rule import Rule
from stickyforensics.detect.set_cookie_digest import SetCookieDigest, digest_sessions
from stickyforensics.errors import StickyError
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.har_partition import splits_by_client
from stickyforensics.ingest.input_names import distinct_names
from stickyforensics.ingest.rotation import with_rotation_notes
from stickyforensics.ingest.sniff import content_size
from stickyforensics.model import (
    SCHEMA_VERSION,
    AnalysisReport,
    ClientKey,
    ClientSession,
    Finding,
    InputSummary,
    RuleRun,
    Transaction,
    finding_sort_key,
)
from stickyforensics.pipeline import in_megabytes
from stickyforensics.reconstruct.shard import Shard, owner_of
from stickyforensics.shard_views import (
    cited_part,
    global_view,
    naming_views,
    pruned_views,
    summary_of,
    trimmed_transaction,
    view_tokens,
)
from stickyforensics.spill_records import read_records, read_records_at, write_record
from stickyforensics.track.capture_facts import FactCounts, TrackFacts, count_facts, xff_first_hop
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.sessions import build_sessions, session_order

if TYPE_CHECKING:
    from stickyforensics.ingest.har_partition import HarPartition
    from stickyforensics.ingest.native import CapturePart
    from stickyforensics.ingest.partition import Partition
    from stickyforensics.model.report import CitedWanted, DetailWanted
    from stickyforensics.pipeline import Progress, SessionVisitor


@dataclass(frozen=True, slots=True)
class InputPart:
    """One worker's share of one input, without its transactions."""

    index: int
    result: IngestResult | None
    """A HAR or tshark-engine input, in the worker that owns it (transactions dropped)."""
    capture: CapturePart | None
    """``native.CapturePart`` of a capture read by the native engine (transactions dropped)."""
    transaction_count: int
    first_time: float | None
    last_time: float | None


@dataclass(frozen=True, slots=True)
class ViewIndex:
    """Per view of a shard, in its file's order: its record's offset, its tokens (``view_tokens``), and whether
    it is among ``naming_views``. In flat arrays: a parent holds one per shard for every client with a view
    until the end (as tuples of frozensets, 13 MiB for 42k clients)."""

    offsets: array[int]
    token_ends: array[int]
    """Where each view's tokens end in ``tokens`` (they start where the previous view's tokens end)."""
    tokens: array[int]
    naming: frozenset[int]
    """Positions of the views among ``naming_views``."""

    @classmethod
    def build(cls, offsets: Sequence[int], tokens: Sequence[frozenset[int]], naming: frozenset[int]) -> ViewIndex:
        ends, flat = array("Q"), array("q")
        for held in tokens:
            flat.extend(held)
            ends.append(len(flat))
        return cls(array("Q", offsets), ends, flat, naming)

    def wanted(self, shared: set[int]) -> list[int]:
        """The offsets of the views to load: a naming view, or one holding a token of ``shared``."""
        out = []
        start = 0
        for position, end in enumerate(self.token_ends):
            if position in self.naming or not shared.isdisjoint(self.tokens[start:end]):
                out.append(self.offsets[position])
            start = end
        return out


@dataclass(frozen=True, slots=True)
class ShardResult:
    shard: int
    inputs: tuple[InputPart, ...]
    summaries: tuple[ClientSession, ...]
    views_file: str
    """Where the worker wrote the shard's ``global_view``s, each a record (``spill_records``)."""
    view_index: ViewIndex
    """Which views the parent loads: only those ``pruned_views`` leaves an event to (most clients' tokens are
    their own, and loading every view was the parent's peak on a 2 GB capture: bench/README.md, session 11)."""
    findings: tuple[Finding, ...]
    runs: tuple[RuleRun, ...]
    counts: FactCounts
    """What the shard saw of the cross-client facts."""
    facts: TrackFacts
    """The decisions it was tracked with."""
    digest: SetCookieDigest
    """What the cross-client hygiene rules read of its clients' ``Set-Cookie`` events (the views hold none)."""
    sessions_file: str | None = None
    """Where the worker pickled the shard's sessions, whole or cut (``ShardJob.keep_sessions``)."""
    session_offsets: dict[ClientKey, int] | None = None
    """Client -> offset of its session's record in ``sessions_file`` (``spill_records``). By key, not name:
    ``ip 10.16.0.5`` and ``xff 10.16.0.5`` are two clients."""
    routed_to: tuple[int, ...] = ()
    """The client groups this shard sent transactions to (``route_of``), each in a route file."""
    local: FactCounts | None = None
    """What the shard saw of the clients it judged itself (``counts`` when it routed none away)."""


SessionsKept = Literal["", "cited", "whole"]


@dataclass(frozen=True, slots=True)
class ShardJob:
    """Everything a worker needs (inherited through ``fork``, never pickled)."""

    files: tuple[str, ...]
    formats: tuple[str, ...]
    options: Any
    config: Config
    rules: tuple[Rule, ...]
    shards: int
    partitions: dict[int, Partition]
    """The native-engine captures, by input index, split into one spill file per shard."""
    spill_dir: str
    keep_sessions: SessionsKept = ""
    """What each worker pickles of its shard's sessions, a record per client, for the parent to load some:
    ``whole`` sessions (``analyze(detail=...)``, ``visit``), or ``cited`` parts, each cut to the transactions
    an evidence row may cite (``citable_parts``: what ``analyze(cited=...)`` reads); nothing when empty."""
    whole_clients: frozenset[str] | None = None
    """With ``whole`` sessions kept: only those of these clients, when the caller named them before the analysis
    (``analyze(detail=frozenset(...))``: ``stickyforensics cookies --client``); None: every client's."""
    har_partitions: dict[int, HarPartition] = field(default_factory=dict)
    """The HAR files that hold many clients (``ingest.har_partition``), split like the captures."""
    names: tuple[str, ...] = ()
    """What each HAR file's client is called (``ingest.input_names``), as one process calls it."""


SHARD_BYTES = 20_000_000
"""Capture bytes per shard: a worker holds one at a time (bench/README.md, "Sharded analysis"). 40 MB
before session 5; at 30 MB the -j 2 tree peak on the 1M-packet bench capture was 118 against 127 MiB,
for the same time. 30 MB until session 10; at 20 MB, in alternating pairs, the same times (analyze
large.pcap 0.999, medium.pcap 0.955, the export 1.01) and lower peaks: 117-120 against 123-124 MiB,
90-97 against 95-97 MiB, 181-182 against 192-193 MiB."""


def shard_count(files: Sequence[str], formats: Sequence[str], jobs: int, shard_bytes: int = SHARD_BYTES) -> int:
    """Shards for these inputs: a multiple of ``jobs``, with about ``shard_bytes`` of capture each at most
    (decompressed: a gzip capture holds 5-12 times its size)."""
    total = 0
    for path, fmt in zip(files, formats, strict=True):
        if fmt != "har" or splits_by_client(path):
            with contextlib.suppress(OSError):
                total += content_size(path)
    passes = max(1, -(-total // (max(shard_bytes, 1) * jobs)))
    # The partitioning pass holds one spill file open per shard: past the open-file limit the shards
    # grow instead (a 100 GB capture at 20 MB would need 5,000).
    passes = min(passes, max(1, spill_file_budget() // jobs))
    return jobs * passes


FILES_KEPT_FREE = 64
"""Open files left for everything but the spill files (the capture, pipes, libraries, the report)."""


def spill_file_budget() -> int:
    """How many spill files one process may hold open: the open-file limit, raised to the hard limit
    where it is lower (the processes forked afterwards inherit it), less ``FILES_KEPT_FREE``."""
    try:
        import resource

        infinity = resource.RLIM_INFINITY
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = 1 << 16 if hard == infinity else hard
        if soft != infinity and soft < target:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        limit = 1 << 16 if soft == infinity else soft
    except ImportError:  # no resource module (Windows): the C runtime's usual limit
        limit = 512
    return max(1, limit - FILES_KEPT_FREE)


class WorkerFailed(StickyError):
    """A worker process ended without a result."""


# -- the worker ---------------------------------------------------------------------------------


def _read_share(job: ShardJob, shard: Shard) -> tuple[list[InputPart], list[Transaction], dict[str, str]]:
    from stickyforensics.ingest.native import read_spill_part
    from stickyforensics.pipeline import read_input

    parts: list[InputPart] = []
    transactions: list[Transaction] = []
    cookie_data: dict[str, str] = {}
    options = job.options
    for index, path in enumerate(job.files):
        partition = job.partitions.get(index)
        har_partition = job.har_partitions.get(index)
        if har_partition is not None:
            from stickyforensics.ingest.har_partition import read_har_shard

            txs = tuple(read_har_shard(har_partition, shard.index))
            cookie_data[path] = har_partition.result.cookie_data
            parts.append(_input_part(index, None, None, txs))
        elif partition is not None:
            part = read_spill_part(partition, shard.index, input_index=index, keep_body_prefix=options.keep_body_prefix)
            txs = part.transactions
            cookie_data[path] = "present"  # a capture with no HTTP gives no transaction to track
            parts.append(_input_part(index, None, replace(part, transactions=()), txs))
        elif shard.owns_input(index):
            result = read_input(path, index, options, label=job.names[index])
            txs = result.transactions
            cookie_data[path] = result.cookie_data
            parts.append(_input_part(index, replace(result, transactions=()), None, txs))
        else:
            continue
        transactions.extend(txs)
    return parts, transactions, cookie_data


def _input_part(
    index: int, result: IngestResult | None, capture: CapturePart | None, txs: Sequence[Transaction]
) -> InputPart:
    times = [tx.timing.started for tx in txs]
    return InputPart(index, result, capture, len(txs), min(times, default=None), max(times, default=None))


def _local_inputs(files: Sequence[str], formats: Sequence[str], parts: Sequence[InputPart]) -> tuple[InputSummary, ...]:
    """Input summaries as far as one worker knows them (the per-client rules read only formats)."""
    mine = {p.index: p for p in parts}
    out = []
    for index, (path, fmt) in enumerate(zip(files, formats, strict=True)):
        part = mine.get(index)
        out.append(
            InputSummary(
                path=path,
                format=fmt,
                engine="har" if fmt == "har" else "native",
                transactions=part.transaction_count if part else 0,
                clients=0,
                diagnostics=(),
            )
        )
    return tuple(out)


def analyze_shard(
    job: ShardJob, index: int, facts: TrackFacts | None, joined: Sequence[int] = ()
) -> tuple[ShardResult, tuple[ClientSession, ...]]:
    """Read and judge one shard; ``facts`` None: decide them from the shard (see the module doc).

    ``joined``: more shards judged with it as one (``linked_shards``); the result is ``index``'s.
    """
    parts, transactions, cookie_data = _read_share(job, Shard(index, job.shards))
    for other in joined:
        more_parts, more, more_data = _read_share(job, Shard(other, job.shards))
        parts.extend(more_parts)
        transactions.extend(more)
        cookie_data.update(more_data)
    counts = count_facts(transactions)
    used = facts if facts is not None else counts.decide()
    local, routed = _routed_away(job, transactions, used)
    del transactions
    # A joined run's routed transactions were sent by its shards' own runs, with the same decisions.
    routed_to = _write_routes(job, index, routed) if routed and not joined else ()
    routed_any = bool(routed)
    del routed
    sessions = build_sessions(local, job.config, cookie_data=cookie_data, facts=used)
    result = _judged(job, index, sessions, parts, counts, used)
    if routed_any:
        result = replace(result, routed_to=routed_to, local=count_facts(local))
    return result, sessions


def analyze_routed(
    job: ShardJob, target: int, facts: TrackFacts, sources: Sequence[int]
) -> tuple[ShardResult, tuple[ClientSession, ...]]:
    """Judge the clients the shards ``sources`` routed to group ``target`` (``route_of``), as one shard."""
    transactions: list[Transaction] = []
    for source in sources:
        path = _route_file(job, source, target)
        for batch in read_records(path):
            transactions.extend(batch)
        os.unlink(path)
    cookie_data = {job.files[i]: "present" for i in job.partitions}
    cookie_data.update({job.files[i]: p.result.cookie_data for i, p in job.har_partitions.items()})
    sessions = build_sessions(transactions, job.config, cookie_data=cookie_data, facts=facts)
    del transactions
    return _judged(job, job.shards + target, sessions, [], FactCounts(), facts), sessions


def route_of(tx: Transaction, facts: TrackFacts, identity: str, spread: frozenset[str]) -> str | None:
    """The client a transaction of a split input belongs to, when its connection's shard may not hold all of
    that client's transactions: a user named by ``X-Forwarded-For`` (reached through any proxy address), or
    an address whose connections were spread (``partition.SPREAD_AFTER``). None: the shard holds the client."""
    if identity == "xff" or (identity == "auto" and tx.input in facts.xff_inputs):
        hop = xff_first_hop(tx)
        if hop:
            return "xff " + hop
    client = tx.client
    if client is not None and tx.client_label is None and client.ip in spread:
        return "ip " + client.ip
    return None


def _routed_away(
    job: ShardJob, transactions: list[Transaction], facts: TrackFacts
) -> tuple[list[Transaction], dict[int, list[Transaction]]]:
    """(the transactions this shard judges, the others by the client group they go to)."""
    spread = {job.files[i]: p.spread for i, p in job.partitions.items()}
    spread.update({job.files[i]: frozenset() for i in job.har_partitions})
    if not spread:
        return transactions, {}
    return routed_apart(transactions, facts, job.config.client_identity, spread, job.shards)


def routed_apart(
    transactions: list[Transaction],
    facts: TrackFacts,
    identity: str,
    spread: Mapping[str, frozenset[str]],
    groups: int,
) -> tuple[list[Transaction], dict[int, list[Transaction]]]:
    """(the transactions a shard judges itself, the others by client group: CRC-32 of ``route_of`` mod
    ``groups``). ``spread``: per input split into shards, its spread addresses; other inputs stay whole."""
    local: list[Transaction] = []
    routed: dict[int, list[Transaction]] = {}
    for tx in transactions:
        addresses = spread.get(tx.input)
        name = route_of(tx, facts, identity, addresses) if addresses is not None else None
        if name is None:
            local.append(tx)
        else:
            routed.setdefault(owner_of(name, groups), []).append(tx)
    return local, routed


def _route_file(job: ShardJob, source: int, target: int) -> str:
    return os.path.join(job.spill_dir, f"route.s{source}.t{target}.pickle")


def _write_routes(job: ShardJob, index: int, routed: dict[int, list[Transaction]]) -> tuple[int, ...]:
    for target, txs in routed.items():
        with open(_route_file(job, index, target), "wb") as f:
            write_record(f, txs)
    return tuple(sorted(routed))


def _judged(
    job: ShardJob,
    index: int,
    sessions: tuple[ClientSession, ...],
    parts: Sequence[InputPart],
    counts: FactCounts,
    used: TrackFacts,
) -> ShardResult:
    """What the parent keeps of one group of clients' sessions (the module doc's list)."""
    config = job.config
    inputs = _local_inputs(job.files, job.formats, parts)
    findings, runs = run_rules(job.rules, sessions, inputs, config, scope="session")
    # A client with nothing for the cross-client rules is its summary there: no view to pickle and load.
    views = tuple(view for view in (global_view(s, config) for s in sessions) if view.cookie_events)
    views_file, view_index = _write_views(job, index, views)
    result = ShardResult(
        shard=index,
        inputs=tuple(parts),
        summaries=tuple(summary_of(s) for s in sessions),
        views_file=views_file,
        view_index=view_index,
        findings=findings,
        runs=runs,
        counts=counts,
        facts=used,
        digest=digest_sessions(sessions, keep=trimmed_transaction),
    )
    if job.keep_sessions:
        kept = _kept(job, sessions, findings, views, result.digest)
        sessions_file, offsets = _write_sessions(job, index, kept)
        result = replace(result, sessions_file=sessions_file, session_offsets=offsets)
    return result


def _kept(
    job: ShardJob,
    sessions: tuple[ClientSession, ...],
    findings: Iterable[Finding],
    views: Iterable[ClientSession],
    digest: SetCookieDigest,
) -> Sequence[ClientSession]:
    """What of a shard's sessions the worker pickles for the parent (``ShardJob.keep_sessions``)."""
    if job.keep_sessions == "cited":
        return citable_parts(sessions, findings, views, digest)
    named = job.whole_clients
    return sessions if named is None else tuple(s for s in sessions if s.key.value in named)


def citable_parts(
    sessions: Iterable[ClientSession],
    findings: Iterable[Finding],
    views: Iterable[ClientSession],
    digest: SetCookieDigest,
) -> list[ClientSession]:
    """Each session cut to the transactions an evidence row may cite (``shard_views.cited_part``): those the
    shard's findings cite, and those the cross-client rules may quote, which they read from the views and the
    digest only. The parent cuts what it loads to what a report asks (``cited_sessions``): the same parts as
    from whole sessions, for a fraction of the pickling (bench/README.md, session 14)."""
    ids = {ev.transaction_id for f in findings for ev in f.evidence if ev.transaction_id is not None}
    ids.update(tx.id for view in views for tx in view.transactions)
    ids |= digest.transaction_ids()
    return [cited_part(session, ids) for session in sessions]


def _write_sessions(job: ShardJob, index: int, sessions: Sequence[ClientSession]) -> tuple[str, dict[ClientKey, int]]:
    """Each session a record of its own (a re-run of the shard writes the file anew)."""
    path = os.path.join(job.spill_dir, f"sessions.shard{index}.pickle")
    offsets: dict[ClientKey, int] = {}
    with open(path, "wb") as f:
        for session in sessions:
            offsets[session.key] = f.tell()
            write_record(f, session)
    return path, offsets


def _load_session(result: ShardResult, client: ClientKey) -> ClientSession:
    """The session of ``client`` (of the shard ``result`` describes) as the worker kept it (``keep_sessions``)."""
    offsets = result.session_offsets
    if result.sessions_file is None or offsets is None:
        raise RuntimeError(f"shard {result.shard} kept no sessions")
    session: ClientSession = next(read_records(result.sessions_file, offsets[client], 1))
    return session


def _write_views(job: ShardJob, index: int, views: tuple[ClientSession, ...]) -> tuple[str, ViewIndex]:
    """The views, each a record of the file, and their index."""
    path = os.path.join(job.spill_dir, f"views.shard{index}.pickle")
    offsets = []
    with open(path, "wb") as f:
        for view in views:
            offsets.append(f.tell())
            write_record(f, view)
    return path, ViewIndex.build(offsets, [view_tokens(view) for view in views], naming_views(views))


def _load_views(results: Sequence[ShardResult]) -> list[ClientSession]:
    """The shards' views that keep an event once pruned (``shard_views.pruned_views``), pruned: a view left
    with none would equal its client's summary, which stands for it."""
    total: Counter[int] = Counter()
    for result in results:
        total.update(result.view_index.tokens)  # a view's tokens are distinct: counted once per client
    shared = {token for token, clients in total.items() if clients > 1}
    del total
    out: list[ClientSession] = []
    for result in results:
        out.extend(pruned_views(read_records_at(result.views_file, result.view_index.wanted(shared)), shared))
    return out


def _decided_otherwise(result: ShardResult, facts: TrackFacts) -> bool:
    """Whether the whole input's decisions differ from the shard's own where the shard is concerned."""
    for path in result.counts.xff_hops:
        if (path in result.facts.xff_inputs) != (path in facts.xff_inputs):
            return True
    multi, mine = facts.multi_address_hosts, result.facts.multi_address_hosts
    return any((host in multi) != (host in mine) for host in result.counts.host_addresses)


def linked_shards(results: Sequence[ShardResult], facts: TrackFacts, identity: str) -> list[list[int]]:
    """Groups of shards that must be judged as one, because one client's requests are in each of them.

    The partitioning is by client address, and what a shard cannot hold whole is routed by client
    (``route_of``), so this is rare, but it happens: an address or an X-Forwarded-For user both in a
    whole-file input (a small HAR exported from a capture, tshark-engine captures) and in another shard; a
    connection seen without its handshake whose sides were guessed wrong. Shards are linked by the client
    addresses they judged and, in the inputs whose clients are told apart by it, the first hops; across
    inputs, as one process groups them. Each group is sorted, of two shards or more; the groups are
    disjoint, in the order of their first shard.
    """

    def by_hop(path: str) -> bool:
        return identity == "xff" or (identity == "auto" and path in facts.xff_inputs)

    lead = {r.shard: r.shard for r in results}

    def find(shard: int) -> int:
        while lead[shard] != shard:
            lead[shard] = lead[lead[shard]]
            shard = lead[shard]
        return shard

    first_seen: dict[tuple[str, str], int] = {}
    """(kind, client) -> the first shard that saw it."""
    for result in sorted(results, key=lambda r: r.shard):
        counts = result.local if result.local is not None else result.counts  # not what it routed away
        named = [("ip", ip) for ips in counts.client_ips.values() for ip in ips]
        named += [("xff", hop) for path, hops in counts.xff_hops.items() if by_hop(path) for hop in hops]
        for name in named:
            seen = first_seen.setdefault(name, result.shard)
            a, b = find(seen), find(result.shard)
            if a != b:
                lead[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for shard in sorted(lead):
        groups.setdefault(find(shard), []).append(shard)
    return [group for _, group in sorted(groups.items()) if len(group) > 1]


def _work(conn: Connection, job: ShardJob, shards: Sequence[int]) -> None:
    gc.disable()  # as in the CLI: millions of long-lived acyclic objects
    try:
        for index in shards:
            conn.send(("result", analyze_shard(job, index, None)[0]))
            if index != shards[-1]:  # the last shard's cycles go with the process (or the next request)
                gc.collect()
        while True:
            message = conn.recv()
            if message[0] == "done":
                break
            gc.collect()
            if message[0] == "route":
                _, target, facts, sources = message
                conn.send(("result", analyze_routed(job, target, facts, sources)[0]))
                continue
            _, index, facts, joined = message
            conn.send(("result", analyze_shard(job, index, facts, joined)[0]))
    except BaseException as exc:  # everything goes back to the parent, which decides
        _send_error(conn, exc)
    finally:
        conn.close()


# -- the parent ---------------------------------------------------------------------------------


def _receive(conn: Connection, kind: str, progress: Progress | None = None) -> Any:
    """The next message of ``kind`` from a child (progress reports go to ``progress`` meanwhile); the
    child's failure is raised here, as the parent's error."""
    while True:
        try:
            message = conn.recv()
        except EOFError:
            raise WorkerFailed("a worker process ended unexpectedly (out of memory?); retry with --jobs 1") from None
        if message[0] == "error":
            _, name, text, expected = message
            if expected:
                raise StickyError(text)
            raise WorkerFailed(f"a worker failed with {name}: {text.strip().splitlines()[-1]}")
        if message[0] == "progress" and progress is not None:
            progress(*message[1])
            continue
        assert message[0] == kind, message[0]
        return message[1]


def _send_error(conn: Connection, exc: BaseException) -> None:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        exc = StickyError(
            f"no space left in {tempfile.gettempdir()} for the spill files (they take about the size of the"
            " captures): point TMPDIR at a larger disk (`analyze --jobs 1 --shard-mb 0` needs none: one process,"
            " in memory)"
        )
    message_text = str(exc) if isinstance(exc, StickyError) else "".join(traceback.format_exception(exc))
    with contextlib.suppress(BrokenPipeError, OSError):
        conn.send(("error", type(exc).__name__, message_text, isinstance(exc, StickyError)))


def in_child(function: Callable[[Progress | None], Any], progress: Progress | None) -> Any:
    """``function(progress)`` run in a forked process, its progress relayed: what it allocates goes when it ends
    (the partitioning pass), so the workers forked later do not inherit it."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()

    def relay(label: str, done: int, total: int) -> None:
        theirs.send(("progress", (label, done, total)))

    def run() -> None:
        gc.disable()
        try:
            theirs.send(("result", function(relay if progress is not None else None)))
        except BaseException as exc:  # the parent decides
            _send_error(theirs, exc)
        finally:
            theirs.close()

    proc = context.Process(target=run, daemon=True)
    proc.start()
    theirs.close()
    try:
        return _receive(ours, "result", progress)
    finally:
        ours.close()
        proc.join()


class _Workers:
    def __init__(self, count: int, job: ShardJob) -> None:
        context = multiprocessing.get_context("fork")
        self.count = count
        self.conns: list[Connection] = []
        self.procs = []
        self.closed = False
        # Objects made so far go to the permanent generation: the workers' collections do not walk them,
        # so their pages stay shared with this process (Python's gc docs, gc.freeze). -10 MiB PSS at -j 2.
        gc.freeze()
        for k in range(count):
            ours, theirs = context.Pipe()
            mine = list(range(k, job.shards, count))
            proc = context.Process(target=_work, args=(theirs, job, mine), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)
        gc.unfreeze()

    def gather(self, kind: str, expected: int, tick: Callable[[int], None] | None = None) -> list[Any]:
        """``expected`` messages of ``kind`` from whichever workers are ready first."""
        out: list[Any] = []
        while len(out) < expected:
            for conn in wait(self.conns):
                assert isinstance(conn, Connection)
                out.append(self._receive(conn, kind))
                if tick is not None:
                    tick(len(out))
                if len(out) == expected:
                    break
        return out

    def ask(self, requests: Sequence[tuple[Any, ...]], kind: str) -> list[Any]:
        """Each ``("run", shard, ...)`` request to the shard's owner, and their answers, in the order they come.

        One request at a time per worker: an answer can be larger than a pipe holds, and a worker blocked
        sending it reads no more requests, while this process, blocked sending it the next one (the facts
        can be large too), would read no answer: sending every request first hung the HTML report of a
        capture with thousands of clients with findings, when whole sessions came back this way.
        """
        queued: dict[int, list[tuple[Any, ...]]] = {}
        for request in requests:
            queued.setdefault(request[1] % self.count, []).append(request)
        for waiting in queued.values():
            waiting.reverse()  # popped from the end: in the given order
        busy: dict[Connection, int] = {}
        for k, waiting in queued.items():
            self.conns[k].send(waiting.pop())
            busy[self.conns[k]] = k
        out: list[Any] = []
        while busy:
            for conn in wait(list(busy)):
                assert isinstance(conn, Connection)
                out.append(self._receive(conn, kind))
                waiting = queued[busy[conn]]
                if waiting:
                    conn.send(waiting.pop())
                else:
                    del busy[conn]
        return out

    def _receive(self, conn: Connection, kind: str) -> Any:
        return _receive(conn, kind)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for conn in self.conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("done",))
            conn.close()
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()


def analyze_sharded(
    files: Sequence[str],
    formats: Sequence[str],
    config: Config,
    options: Any,
    rules: tuple[Rule, ...],
    jobs: int,
    shards: int,
    *,
    detail: DetailWanted | None = None,
    progress: Progress | None = None,
    visit: SessionVisitor | None = None,
    cited: CitedWanted | None = None,
) -> AnalysisReport:
    """The report of ``analyze`` computed in ``shards`` passes by ``jobs`` worker processes.

    ``progress`` is told (label, shards done, shards) as the shards finish; ``visit``: as ``analyze``'s.
    """
    CookieClassifier()  # read the cookie catalog once, here: the workers inherit it
    names = tuple(distinct_names(files))
    with tempfile.TemporaryDirectory(prefix="stickyforensics-spill-") as spill_dir:
        partitions, har_partitions = in_child(
            functools.partial(_partition, files, formats, names, options, shards, spill_dir), progress
        )
        job = ShardJob(
            tuple(files),
            tuple(formats),
            options,
            config,
            rules,
            shards,
            partitions,
            spill_dir,
            keep_sessions="whole" if detail is not None or visit is not None else "cited" if cited is not None else "",
            # clients named in advance: no other whole session is ever asked for (nor a cited part of one)
            whole_clients=detail if isinstance(detail, frozenset) and visit is None and cited is None else None,
            har_partitions=har_partitions,
            names=names,
        )
        return _run_shards(job, min(jobs, shards), detail, progress, visit, cited)


def _partition(
    files: Sequence[str],
    formats: Sequence[str],
    names: Sequence[str],
    options: Any,
    shards: int,
    directory: str,
    progress: Progress | None,
) -> tuple[dict[int, Partition], dict[int, HarPartition]]:
    """Split every capture the native engine reads, and every HAR that holds many clients, into ``shards``
    spill files (one pass each)."""
    from stickyforensics.ingest.partition import SPREAD_AFTER, partition_capture
    from stickyforensics.malloc_tuning import keep_freed_buffers

    keep_freed_buffers()  # this process only streams chunks, and ends with the pass

    out: dict[int, Partition] = {}
    hars: dict[int, HarPartition] = {}
    for index, (path, fmt) in enumerate(zip(files, formats, strict=True)):
        if fmt == "har":
            if shards > 1 and splits_by_client(path):
                from stickyforensics.ingest.har_partition import partition_har

                label = f"splitting {os.path.basename(path)} by client (MB)"
                told = in_megabytes(progress, label) if progress is not None else None
                if told is not None:
                    told(0, os.stat(path).st_size)
                hars[index] = partition_har(
                    path,
                    shards,
                    directory,
                    input_index=index,
                    keep_body_prefix=options.keep_body_prefix,
                    progress=told,
                    client_label=names[index],
                )
            continue
        if options.engine != "native" or options.tls_keylog:
            continue
        size = os.stat(path).st_size
        told = in_megabytes(progress, f"splitting {os.path.basename(path)} by client (MB)") if progress else None
        tick = (lambda done, told=told, size=size: told(done, size)) if told is not None else None
        if told is not None:
            told(0, size)
        out[index] = partition_capture(
            path, shards, directory, input_index=index, progress=tick, pipelined=True, spread_after=SPREAD_AFTER
        )
        if told is not None:
            told(size, size)
    return out, hars


def _run_shards(
    job: ShardJob,
    jobs: int,
    detail: DetailWanted | None,
    progress: Progress | None,
    visit: SessionVisitor | None,
    cited: CitedWanted | None,
) -> AnalysisReport:
    files, shards = job.files, job.shards
    workers = _Workers(jobs, job)
    try:
        label = f"analysing {len(files)} input(s): {shards} group(s) of clients on {workers.count} process(es)"
        tick = (lambda done: progress(label, done, shards)) if progress is not None else None
        if progress is not None:
            progress(label, 0, shards)
        results: dict[int, ShardResult] = {r.shard: r for r in workers.gather("result", shards, tick)}
        counts = FactCounts()
        for result in results.values():
            counts.merge(result.counts)
        facts = counts.decide()
        again = [("run", i, facts, ()) for i, r in results.items() if _decided_otherwise(r, facts)]
        for result in workers.ask(again, "result"):
            results[result.shard] = result
        sources: dict[int, list[int]] = {}
        for result in results.values():
            for target in result.routed_to:
                sources.setdefault(target, []).append(result.shard)
        linked = linked_shards(list(results.values()), facts, job.config.client_identity)
        requests = [("run", group[0], facts, tuple(group[1:])) for group in linked]
        requests += [("route", target, facts, tuple(sorted(shards))) for target, shards in sorted(sources.items())]
        if requests and progress is not None:
            progress(f"analysing {len(requests)} more group(s) of clients", 0, len(requests))
        for result in workers.ask(requests, "result"):
            results[result.shard] = result
        for group in linked:
            for index in group[1:]:
                del results[index]  # judged with group[0], in its result
        ordered = [results[i] for i in sorted(results)]
        workers.close()  # nothing more to ask them: their memory goes before the parent's report grows
        report, home = _merge(job, ordered)

        def load(key: ClientKey) -> ClientSession:
            return _load_session(results[home[key]], key)

        report = with_sessions_asked(report, load, home, detail, cited)
        if visit is not None:
            # One at a time, while the spill files last: every client's whole session, never all of them.
            visit(report, (load(s.key) for s in report.sessions))
        return report
    finally:
        workers.close()


def with_sessions_asked(
    report: AnalysisReport,
    load: Callable[[ClientKey], ClientSession],
    home: Mapping[ClientKey, int],
    detail: DetailWanted | None,
    cited: CitedWanted | None,
) -> AnalysisReport:
    """The report of summaries with the whole sessions ``detail`` names (read shard by shard) and, for the
    other clients, the parts holding the transactions ``cited`` asks for."""
    by_name: dict[str, list[ClientKey]] = {}
    for s in report.sessions:
        by_name.setdefault(s.key.value, []).append(s.key)
    asked = () if detail is None else detail if isinstance(detail, frozenset) else detail(report)
    whole = {key for client in asked for key in by_name.get(client, ())}
    loaded = {key: load(key) for key in sorted(whole, key=home.__getitem__)}
    if cited is not None:
        loaded.update(cited_sessions(cited(report), by_name, loaded, load))
    if not loaded:
        return report
    return replace(report, sessions=tuple(loaded.get(s.key, s) for s in report.sessions))


def cited_sessions(
    citations: Iterable[tuple[Sequence[str], Collection[str]]],
    by_name: Mapping[str, Sequence[ClientKey]],
    loaded: Mapping[ClientKey, ClientSession],
    load: Callable[[ClientKey], ClientSession],
) -> dict[ClientKey, ClientSession]:
    """Sessions holding the transactions the citations name (``CitedWanted``), beside the ``loaded`` whole ones.

    A citation's transactions are looked for in its clients' sessions, in order, until all are found: a
    finding's evidence cites its own client's transactions, and a cross-client finding's (SF401 names every
    client given an address-disclosing cookie) those of the first clients it names. Each session opened keeps
    only the transactions and backend observations some citation names (``shard_views.cited_part``), so the
    memory is that of the evidence, not of the sessions.
    """
    asked = [(clients, set(ids)) for clients, ids in citations]
    wanted: set[str] = set().union(*(ids for _, ids in asked))
    found = {tx.id for s in loaded.values() for tx in s.transactions if tx.id in wanted}
    opened: set[ClientKey] = set(loaded)
    out: dict[ClientKey, ClientSession] = {}
    for clients, ids in asked:
        for client in clients:
            if ids <= found:
                break
            for key in by_name.get(client, ()):
                if key not in opened:
                    opened.add(key)
                    part = cited_part(load(key), wanted)
                    found.update(tx.id for tx in part.transactions)
                    out[key] = part
    return out


def _merge(job: ShardJob, results: Sequence[ShardResult]) -> tuple[AnalysisReport, dict[ClientKey, int]]:
    """The report, and which shard holds each client."""
    config, rules = job.config, job.rules
    summaries = sorted((s for r in results for s in r.summaries), key=session_order)
    viewed = {view.key: view for view in _load_views(results)}
    views = tuple(viewed.get(s.key, s) for s in summaries)  # a summary is the view with no events
    del viewed
    home = {s.key: r.shard for r in results for s in r.summaries}
    inputs = with_rotation_notes(_merge_inputs(job, results, summaries))
    digest = SetCookieDigest()
    for result in results:
        digest.merge(result.digest)
    global_findings, global_runs = run_rules(rules, views, inputs, config, scope="global", digest=digest)
    runs = merge_rule_runs([global_runs, *(r.runs for r in results)])
    # A rule that crashed for some clients gives no findings, as in one process (``run_rules``).
    errored = {run.code for run in runs if run.status == "errored"}
    found = [f for f in (*global_findings, *(f for r in results for f in r.findings)) if f.rule not in errored]
    findings = sorted(found, key=finding_sort_key)
    report = AnalysisReport(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        inputs=inputs,
        sessions=tuple(summaries),
        findings=tuple(findings),
        rule_runs=runs,
        stats=(
            ("inputs", len(inputs)),
            ("clients", len(summaries)),
            ("transactions", sum(i.transactions for i in inputs)),
            ("findings", len(findings)),
        ),
    )
    return report, home


def _merge_inputs(
    job: ShardJob, shards: Sequence[ShardResult], summaries: Sequence[ClientSession]
) -> tuple[InputSummary, ...]:
    from stickyforensics.ingest.native import assemble_capture, partition_part

    clients: dict[str, int] = {}
    for s in summaries:
        for path in s.inputs:
            clients[path] = clients.get(path, 0) + 1
    out = []
    for index, path in enumerate(job.files):
        parts = [p for r in shards for p in r.inputs if p.index == index]
        partition = job.partitions.get(index)
        count = sum(p.transaction_count for p in parts)
        firsts = [p.first_time for p in parts if p.first_time is not None]
        lasts = [p.last_time for p in parts if p.last_time is not None]
        if partition is not None:
            captured = [partition_part(partition), *(p.capture for p in parts if p.capture is not None)]
            result = assemble_capture(captured, transaction_count=count)
        elif index in job.har_partitions:
            result = job.har_partitions[index].result
        else:
            owned = [p.result for p in parts if p.result is not None]
            result = owned[0]
        out.append(
            InputSummary(
                path=path,
                format=result.format,
                engine=result.engine,
                transactions=count,
                clients=clients.get(path, 0),
                diagnostics=result.diagnostics,
                cookie_data=result.cookie_data,
                first_time=min(firsts, default=None),
                last_time=max(lasts, default=None),
            )
        )
    return tuple(out)
