"""analyze(inputs, config) -> AnalysisReport: the only place the stages are wired together.

ingest (per file) -> track (clients, cookie jar, backends) -> detect (rules) -> one immutable report.
No printing and no exit codes here: that is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stickyforensics import __version__
from stickyforensics.config import Config
from stickyforensics.errors import InputError
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.rotation import with_rotation_notes
from stickyforensics.model import SCHEMA_VERSION, AnalysisReport, ClientSession, InputSummary, Transaction
from stickyforensics.model.report import CitedWanted, DetailWanted
from stickyforensics.track.body_prefix import body_prefix_filter

if TYPE_CHECKING:
    from stickyforensics.detect.rule import Rule
    from stickyforensics.ingest.har_split import EarlyFeed
    from stickyforensics.track.early import EarlyTracking
    from stickyforensics.track.lb import CookieClassifier

SessionVisitor = Callable[[AnalysisReport, Iterator[ClientSession]], None]
"""Given the report and its whole sessions, one at a time in the report's order (``analyze(visit=...)``)."""

Progress = Callable[[str, int, int], None]
"""Called as (path, index, total) before each input is read."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    engine: str = "native"
    """``native`` (own pcap reader) or ``tshark`` (Wireshark's dissectors: TLS, HTTP/2)."""
    tls_keylog: str | None = None
    keep_body_prefix: Callable[[bytes], bool] | None = None
    """Native engine: which body prefixes to keep (``track.body_prefix``); every one when None."""
    har_processes: int = 1
    """Processes that read one large HAR file (``ingest.har_split``: two halves of its entries)."""


def read_input(
    path: str,
    index: int,
    options: EngineOptions,
    progress: Callable[[int, int], None] | None = None,
    early: EarlyFeed | None = None,
    label: str | None = None,
) -> IngestResult:
    """Read one input file with the engine its format needs; ``progress``: (bytes read, size) of a HAR file;
    ``early``: tracking begun while a HAR file read by two processes is still being read; ``label``: the
    name of a HAR file's client (``ingest.input_names``; its base name by default)."""
    from stickyforensics.ingest.sniff import sniff

    fmt = sniff(path)
    if fmt == "har":
        from stickyforensics.ingest.har import read_har

        return read_har(
            path,
            input_index=index,
            keep_body_prefix=options.keep_body_prefix,
            processes=options.har_processes,
            progress=progress,
            early=early,
            client_label=label,
        )
    if options.engine == "tshark" or options.tls_keylog:
        from stickyforensics.ingest.tshark import read_capture_tshark

        return read_capture_tshark(path, input_index=index, keylog=options.tls_keylog)
    from stickyforensics.ingest.native import read_capture

    return read_capture(path, input_index=index, keep_body_prefix=options.keep_body_prefix)


MB = 1_000_000


def in_megabytes(progress: Progress, label: str) -> Callable[[int, int], None]:
    """``progress`` told (bytes done, bytes in all) in MB: the bar's counts are read by people."""

    def told(done: int, total: int) -> None:
        megabytes = -(-max(total, 1) // MB)
        progress(label, min(-(-done // MB), megabytes), megabytes)

    return told


def _summaries(results: Sequence[IngestResult], sessions: Sequence[ClientSession]) -> tuple[InputSummary, ...]:
    out = []
    for res in results:
        clients = sum(1 for s in sessions if res.path in s.inputs)
        times = [tx.timing.started for tx in res.transactions]
        out.append(
            InputSummary(
                path=res.path,
                format=res.format,
                engine=res.engine,
                transactions=len(res.transactions),
                clients=clients,
                diagnostics=res.diagnostics,
                cookie_data=res.cookie_data,
                first_time=min(times) if times else None,
                last_time=max(times) if times else None,
            )
        )
    return tuple(out)


def analyze_results(
    results: Sequence[IngestResult],
    config: Config,
    *,
    rules: tuple[Rule, ...] | None = None,
    classifier: CookieClassifier | None = None,
    early: EarlyTracking | None = None,
) -> AnalysisReport:
    """Track and detect over already-ingested inputs (used by tests and by ``analyze``); ``early``: what
    ``read_input`` began tracking as it read."""
    # The track and detect layers are imported here, not with this module (about 0.1 s): a HAR read by two
    # processes forks its child before, and this process imports them while the child reads (``har_split``).
    from stickyforensics.track.sessions import build_sessions

    transactions: list[Transaction] = [tx for res in results for tx in res.transactions]
    sessions = build_sessions(
        transactions,
        config,
        classifier=classifier,
        cookie_data={res.path: res.cookie_data for res in results},
        early=early,
    )
    inputs = with_rotation_notes(_summaries(results, sessions))
    from stickyforensics.detect.catalog import load_rules
    from stickyforensics.detect.engine import run_rules

    findings, runs = run_rules(rules if rules is not None else load_rules(), sessions, inputs, config)
    stats = (
        ("inputs", len(inputs)),
        ("clients", len(sessions)),
        ("transactions", len(transactions)),
        ("findings", len(findings)),
    )
    return AnalysisReport(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        inputs=inputs,
        sessions=sessions,
        findings=findings,
        rule_runs=runs,
        stats=stats,
    )


def analyze(
    paths: Sequence[str],
    config: Config | None = None,
    *,
    engine: EngineOptions | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    detail: DetailWanted | None = None,
    shard_bytes: int | None = None,
    visit: SessionVisitor | None = None,
    cited: CitedWanted | None = None,
    rules: tuple[Rule, ...] | None = None,
) -> AnalysisReport:
    """Analyze files and folders (recursed) and return the report every output format renders.

    ``jobs`` > 1 splits the work by client over that many processes (``sharded``; a lone HAR file is read
    by two processes instead, ``ingest.har_split``), and so does a
    capture larger than ``shard_bytes`` (default ``sharded.SHARD_BYTES``; 0: never), in several
    passes to bound memory: the same report, except that sessions are summaries (no transactions)
    unless ``detail`` names them, holding only the transactions ``cited`` asks for (and their backends)
    otherwise. ``visit`` is given the report and every whole session, each read when it is
    reached (``stickyforensics cookies``: every client's timeline, in the memory of one client). ``rules``:
    the rules to run (default: the catalog's; none for a view that shows no finding, such as the timelines).
    Raises ``InputError`` when an input cannot be used at all (missing, unknown format, unreadable).
    """
    from stickyforensics.ingest.input_names import distinct_names
    from stickyforensics.ingest.sniff import expand_inputs

    config = config or Config()
    options = engine or EngineOptions()
    if options.keep_body_prefix is None:
        options = replace(options, keep_body_prefix=body_prefix_filter(config))
    files = expand_inputs(paths)
    if not files:
        raise InputError(", ".join(paths) or "(no input)", "no pcap, pcapng or HAR files found")
    if jobs > 1 or shard_bytes != 0:
        from stickyforensics.ingest.har_partition import splits_by_client
        from stickyforensics.ingest.sniff import sniff

        formats = [sniff(path) for path in files]
        jobs = max(jobs, 1)
        if formats == ["har"] and not splits_by_client(files[0]):
            # A browser's HAR file is one client: no shards to spread; its entries are read by two processes.
            options = replace(options, har_processes=min(jobs, 2))
        else:
            from stickyforensics.detect.catalog import load_rules
            from stickyforensics.sharded import SHARD_BYTES, analyze_sharded, shard_count  # multiprocessing: ~10 ms

            shards = shard_count(files, formats, jobs, shard_bytes or SHARD_BYTES) if shard_bytes != 0 else jobs
            if shards > 1:
                return analyze_sharded(
                    files,
                    formats,
                    config,
                    options,
                    rules if rules is not None else load_rules(),
                    jobs,
                    shards,
                    detail=detail,
                    progress=progress,
                    visit=visit,
                    cited=cited,
                )
    results: list[IngestResult] = []
    # A lone HAR read by two processes: its client is tracked as its transactions come (``track.early``).
    early = feed = None
    if options.har_processes > 1 and len(files) == 1:
        from stickyforensics.track.early import EarlyTracking

        early = EarlyTracking(config)
        feed = _EarlyAnalysis(early)
    names = distinct_names(files)
    for index, path in enumerate(files):
        if progress is not None:
            progress(f"reading {names[index]}", index, len(files))
        # One file: its bytes are the bar (a large HAR takes a while; a capture's reader has no hook).
        told = (
            in_megabytes(progress, f"reading {names[index]} (MB)") if progress is not None and len(files) == 1 else None
        )
        results.append(read_input(path, index, options, progress=told, early=feed, label=names[index]))
    report = analyze_results(results, config, rules=rules, early=early)
    if visit is not None:
        visit(report, iter(report.sessions))
    return report


class _EarlyAnalysis:
    """The early feed of a lone HAR read by two processes: its client tracked as the transactions come
    (``track.early``) and, once this process's half is in, the detect layer loaded (about 0.1 s), which the
    end of the analysis needs: while the other process still reads."""

    __slots__ = ("loaded", "tracking")

    def __init__(self, tracking: EarlyTracking) -> None:
        self.tracking = tracking
        self.loaded = False

    def feed(self, batch: Sequence[Transaction]) -> None:
        self.tracking.feed(batch)
        if not self.loaded:
            self.loaded = True
            import stickyforensics.detect.engine  # noqa: F401  (see the class docstring)

    def abandon(self) -> None:
        self.tracking.abandon()
