"""``--jobs N``: the same analysis on N processes, split by client.

Every worker reads every capture but reassembles only the connections of the clients it owns
(``reconstruct.shard``); HAR files (one client each) go whole to one worker. The protocol, over
one pipe per worker:

1. worker -> parent: ``FactCounts`` of what it read (addresses, X-Forwarded-For hops, hosts);
2. parent -> worker: the merged ``TrackFacts``, so every worker tracks as one process would;
3. worker -> parent: a ``ShardResult``: per-input counts and diagnostics, a summary of every client,
   the findings of the per-client rules, and each client's ``global_view`` (only the cookie events
   and transactions the cross-client rules read);
4. parent -> worker, optionally: the clients whose whole sessions a report shows (the HTML
   swimlanes); worker -> parent: those sessions.

The parent runs the cross-client rules over the views and merges everything in the order one
process gives, so the report is the same whatever N is (tests/unit/test_sharded.py checks it).
Memory: each worker holds only its clients; the parent holds summaries.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from stickyforensics import __version__
from stickyforensics.config import Config
from stickyforensics.detect.engine import merge_rule_runs, run_rules
from stickyforensics.detect.rule import Rule
from stickyforensics.errors import StickyError
from stickyforensics.ingest.base import IngestResult
from stickyforensics.model import (
    SCHEMA_VERSION,
    AnalysisReport,
    ClientSession,
    CookieEventKind,
    Finding,
    InputSummary,
    RuleRun,
    Transaction,
    finding_sort_key,
)
from stickyforensics.reconstruct.shard import Shard
from stickyforensics.track.capture_facts import FactCounts, TrackFacts, count_facts
from stickyforensics.track.sessions import build_sessions, session_order

if TYPE_CHECKING:
    from stickyforensics.pipeline import DetailWanted



@dataclass(frozen=True, slots=True)
class InputPart:
    """One worker's share of one input, without its transactions."""

    index: int
    result: IngestResult | None
    """A HAR or tshark-engine input, in the worker that owns it (transactions dropped)."""
    capture: Any | None
    """``native.CapturePart`` of a capture read by the native engine (transactions dropped)."""
    transaction_count: int
    first_time: float | None
    last_time: float | None


@dataclass(frozen=True, slots=True)
class ShardResult:
    inputs: tuple[InputPart, ...]
    summaries: tuple[ClientSession, ...]
    views: tuple[ClientSession, ...]
    findings: tuple[Finding, ...]
    runs: tuple[RuleRun, ...]


class WorkerFailed(StickyError):
    """A worker process ended without a result."""


def summary_of(session: ClientSession) -> ClientSession:
    """The session without its transactions, events and observations: what the reports list."""
    return replace(
        session,
        transactions=(),
        cookie_events=(),
        backends=(),
        transaction_count=session.transaction_count,
        first_seen=session.first_seen,
        last_seen=session.last_seen,
        backend_keys=session.backends_seen,
    )


def global_view(session: ClientSession, config: Config) -> ClientSession:
    """What the cross-client rules read of a session: cookies set or changed, tokens presented
    without being received (and, for the ``no_shared_session_tokens`` expectation, every cookie
    sent), with the transactions they came in."""
    every_sent = config.expectations.no_shared_session_tokens
    events = tuple(
        ev
        for ev in session.cookie_events
        if ev.kind in (CookieEventKind.SET, CookieEventKind.CHANGED)
        or (ev.kind is CookieEventKind.SENT and (every_sent or ev.detail))
    )
    wanted = {ev.transaction_id for ev in events}
    return replace(
        summary_of(session),
        transactions=tuple(tx for tx in session.transactions if tx.id in wanted),
        cookie_events=events,
    )


# -- the worker ---------------------------------------------------------------------------------


def _read_share(files: Sequence[str], formats: Sequence[str], shard: Shard, options: Any) -> tuple[
    list[InputPart], list[Transaction], dict[str, str]
]:
    from stickyforensics.ingest.native import assemble_capture, read_capture_part
    from stickyforensics.pipeline import read_input

    parts: list[InputPart] = []
    transactions: list[Transaction] = []
    cookie_data: dict[str, str] = {}
    for index, (path, fmt) in enumerate(zip(files, formats, strict=True)):
        if fmt != "har" and options.engine == "native" and not options.tls_keylog:
            part = read_capture_part(path, input_index=index, shard=shard)
            txs = part.transactions
            cookie_data[path] = assemble_capture([part]).cookie_data
            parts.append(_input_part(index, None, replace(part, transactions=()), txs))
        elif shard.owns_input(index):
            result = read_input(path, index, options)
            txs = result.transactions
            cookie_data[path] = result.cookie_data
            parts.append(_input_part(index, replace(result, transactions=()), None, txs))
        else:
            continue
        transactions.extend(txs)
    return parts, transactions, cookie_data


def _input_part(index: int, result: IngestResult | None, capture: Any, txs: Sequence[Transaction]) -> InputPart:
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


def _work(
    conn: Connection,
    shard: Shard,
    files: Sequence[str],
    formats: Sequence[str],
    options: Any,
    config: Config,
    rules: tuple[Rule, ...],
) -> None:
    gc.disable()  # as in the CLI: millions of long-lived acyclic objects
    try:
        parts, transactions, cookie_data = _read_share(files, formats, shard, options)
        conn.send(("facts", count_facts(transactions)))
        facts: TrackFacts = conn.recv()
        sessions = build_sessions(transactions, config, cookie_data=cookie_data, facts=facts)
        del transactions
        findings, runs = run_rules(rules, sessions, _local_inputs(files, formats, parts), config, scope="session")
        conn.send(
            (
                "result",
                ShardResult(
                    inputs=tuple(parts),
                    summaries=tuple(summary_of(s) for s in sessions),
                    views=tuple(global_view(s, config) for s in sessions),
                    findings=findings,
                    runs=runs,
                ),
            )
        )
        wanted: set[str] | None = conn.recv()
        if wanted:
            conn.send(("detail", tuple(s for s in sessions if s.key.value in wanted)))
    except BaseException as exc:  # everything goes back to the parent, which decides
        message = str(exc) if isinstance(exc, StickyError) else "".join(traceback.format_exception(exc))
        with contextlib.suppress(BrokenPipeError, OSError):
            conn.send(("error", type(exc).__name__, message, isinstance(exc, StickyError)))
    finally:
        conn.close()


# -- the parent ---------------------------------------------------------------------------------


class _Workers:
    def __init__(self, count: int, files: Sequence[str], formats: Sequence[str], options: Any, config: Config,
                 rules: tuple[Rule, ...]) -> None:
        context = multiprocessing.get_context("fork")
        self.conns: list[Connection] = []
        self.procs = []
        for index in range(count):
            ours, theirs = context.Pipe()
            proc = context.Process(
                target=_work,
                args=(theirs, Shard(index, count), files, formats, options, config, rules),
                daemon=True,
            )
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)

    def receive(self, kind: str) -> list[Any]:
        out = []
        for conn in self.conns:
            try:
                message = conn.recv()
            except EOFError:
                raise WorkerFailed(
                    "a worker process ended unexpectedly (out of memory?); retry with --jobs 1"
                ) from None
            if message[0] == "error":
                _, name, text, expected = message
                if expected:
                    raise StickyError(text)
                raise WorkerFailed(f"a worker failed with {name}: {text.strip().splitlines()[-1]}")
            assert message[0] == kind, message[0]
            out.append(message[1])
        return out

    def send(self, payload: Any) -> None:
        for conn in self.conns:
            conn.send(payload)

    def close(self) -> None:
        for conn in self.conns:
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
    *,
    detail: DetailWanted | None = None,
) -> AnalysisReport:
    workers = _Workers(jobs, files, formats, options, config, rules)
    try:
        counts = FactCounts()
        for part in workers.receive("facts"):
            counts.merge(part)
        workers.send(counts.decide())
        shards: list[ShardResult] = workers.receive("result")
        summaries = sorted((s for r in shards for s in r.summaries), key=session_order)
        views = tuple(sorted((s for r in shards for s in r.views), key=session_order))
        inputs = _merge_inputs(files, shards, summaries)
        global_findings, global_runs = run_rules(rules, views, inputs, config, scope="global")
        findings = sorted([*global_findings, *(f for r in shards for f in r.findings)], key=finding_sort_key)
        runs = merge_rule_runs([global_runs, *(r.runs for r in shards)])
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
        wanted = detail(report) if detail is not None else set()
        workers.send(wanted or None)
        if wanted:
            full = {s.key: s for part in workers.receive("detail") for s in part}
            report = replace(report, sessions=tuple(full.get(s.key, s) for s in summaries))
        return report
    finally:
        workers.close()


def _merge_inputs(
    files: Sequence[str], shards: Sequence[ShardResult], summaries: Sequence[ClientSession]
) -> tuple[InputSummary, ...]:
    from stickyforensics.ingest.native import assemble_capture

    clients: dict[str, int] = {}
    for s in summaries:
        for path in s.inputs:
            clients[path] = clients.get(path, 0) + 1
    out = []
    for index, path in enumerate(files):
        parts = [p for r in shards for p in r.inputs if p.index == index]
        count = sum(p.transaction_count for p in parts)
        firsts = [p.first_time for p in parts if p.first_time is not None]
        lasts = [p.last_time for p in parts if p.last_time is not None]
        if parts and parts[0].capture is not None:
            result = assemble_capture([p.capture for p in parts if p.capture is not None], transaction_count=count)
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
