"""The single immutable result every reporter renders."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from stickyforensics.model.diagnostics import Diagnostic
from stickyforensics.model.findings import Finding
from stickyforensics.model.session import ClientSession

SCHEMA_VERSION = "1.0"
"""JSON contract version: bump the minor for additions, the major for breaking changes."""


@dataclass(frozen=True, slots=True)
class InputSummary:
    path: str
    format: str
    """``har``, ``pcap``, ``pcapng``."""
    engine: str
    """``har``, ``native``, ``tshark``."""
    transactions: int
    clients: int
    diagnostics: tuple[Diagnostic, ...] = ()
    cookie_data: str = "present"
    """``present``, ``absent`` (sanitized / stripped) or ``partial``."""
    first_time: float | None = None
    last_time: float | None = None


@dataclass(frozen=True, slots=True)
class RuleRun:
    """How one rule fared on this analysis (for JUnit and for 'skipped' views)."""

    code: str
    name: str
    kind: str
    title: str
    category: str
    status: str
    """``ran``, ``skipped`` (not applicable or disabled), ``errored``."""
    findings: int = 0
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AnalysisReport:
    schema_version: str
    tool_version: str
    inputs: tuple[InputSummary, ...]
    sessions: tuple[ClientSession, ...]
    findings: tuple[Finding, ...]
    """Sorted by ``finding_sort_key``."""
    rule_runs: tuple[RuleRun, ...] = ()
    stats: tuple[tuple[str, int], ...] = field(default=())


DetailAsked = Callable[[AnalysisReport], set[str]]
"""Given a report of session summaries, the clients whose whole sessions a format renders (``report.wanted``)."""

DetailWanted = DetailAsked | frozenset[str]
"""The clients whose whole sessions will be rendered (``pipeline.analyze(detail=...)``: with ``--jobs`` the
report holds summaries): asked of the report of summaries, or the clients' names themselves when they are
known before the analysis (``stickyforensics cookies --client``), so that no other whole session is kept."""

CitedWanted = Callable[[AnalysisReport], Iterable[tuple[Sequence[str], Collection[str]]]]
"""Given a report of session summaries, the transactions its evidence rows join (``report.common.TxIndex``):
(clients that may hold them, in order; transaction ids), one pair per finding shown."""
