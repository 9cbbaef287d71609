"""The HTML report: one self-contained file a support engineer opens offline or attaches to a ticket.

Theory of operation: this module turns the ``AnalysisReport`` into a plain view model (frozen
dataclasses of display-ready, redacted strings and precomputed SVG geometry) and hands it to
Jinja2 templates in ``report/templates``. The split keeps every decision testable in Python and
keeps the templates free of logic beyond loops.

Safety invariants (captured text is hostile):

* autoescaping is on for every template, and captured text only ever reaches the page as
  element content or as an escaped attribute value, never in ``href``/``src``/``style``/event
  attributes, and never inside ``<style>``;
* every captured string goes through ``common.display`` first (controls, bidi overrides and lone
  surrogates become visible escapes) and every cookie value / credential through the ``Redactor``;
* the page carries a Content-Security-Policy with ``default-src 'none'`` and no script at all:
  folding uses ``<details>``, so even a missed escape could not run code or reach the network.

Size invariants (large captures stay readable): evidence tables, clients, incidents, diagnostics
and swimlanes are capped, with the remainder folded or counted (see the ``*_LIMIT`` constants).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import jinja2

from stickyforensics.model import AnalysisReport, ClientSession, Finding, InputSummary, Severity
from stickyforensics.report.common import (
    EvidenceRow,
    RuleDoc,
    TxIndex,
    VerdictView,
    cited_transactions,
    display,
    evidence_row,
    fmt_duration,
    fmt_time,
    group_by_client,
    redact_target,
    relevant_fixes,
    remediation_for,
    remediation_lines,
    severity_counts,
    verdict_view,
)
from stickyforensics.report.redact import Redactor, redacted_report

EVIDENCE_SHOWN = 8
"""Evidence rows shown per finding before the rest is folded."""
EVIDENCE_FOLDED = 100
"""Evidence rows kept inside the fold; beyond that only a count (the JSON report has all)."""
CLIENT_GROUPS_SHOWN = 30
"""Clients whose incidents are shown in full; the rest become one compact, folded table."""
COMPACT_ROWS = 500
CLIENT_ROWS_SHOWN = 50
CLIENT_ROWS_FOLDED = 1000
DIAGNOSTICS_SHOWN = 20
DIAGNOSTICS_FOLDED = 500
LANES_LIMIT = 40
"""Swimlanes drawn; clients with findings come first."""
LANE_MARKS_LIMIT = 240
"""Above this many requests a lane is drawn as this many time columns (stacked by backend)."""
LANE_MARKERS_LIMIT = 200

PALETTE = ("#4e79a7", "#59a14f", "#edc948", "#b07aa1", "#76b7b2", "#9c755f", "#f28e2b", "#ff9da7", "#86bcb6", "#e15759")
OTHER_COLOUR = "#6b6b6b"
UNKNOWN_COLOUR = "#d0d4da"

# Swimlane geometry, in viewBox units (the SVG scales to its container).
SVG_WIDTH = 1000
PLOT_X0 = 190
PLOT_X1 = 985
AXIS_H = 34
LANE_H = 36
MARKER_Y = 8
TICK_Y = 15
TICK_H = 17

MARKER_KINDS = {
    "missing_cookie": "missing",
    "server_flip": "flip",
    "datacenter_flip": "flip",
    "cached_set_cookie_replay": "replay",
    "session_timeout": "timeout",
}
MARKER_LABELS = (
    ("missing", "Persistence cookie missing"),
    ("flip", "Server / datacenter flip"),
    ("replay", "Cached Set-Cookie replay"),
    ("timeout", "Session timeout"),
)


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    y: float
    w: float
    h: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    y: float
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class Lane:
    y: float
    label: str
    full_label: str
    requests: int
    marks: tuple[Mark, ...]
    markers: tuple[Marker, ...]
    downsampled: bool
    anchor: str | None


@dataclass(frozen=True, slots=True)
class Swimlane:
    width: int
    height: int
    lane_h: int
    plot_x0: int
    plot_x1: int
    lanes: tuple[Lane, ...]
    ticks: tuple[tuple[float, str], ...]
    legend: tuple[tuple[str, str], ...]
    start: str
    span: str
    hidden_lanes: int
    downsampled_lanes: int


@dataclass(frozen=True, slots=True)
class DocView:
    code: str
    name: str
    title: str
    summary: str
    why: str
    example: str
    what_to_check: tuple[str, ...]
    remediation: tuple[tuple[str, str], ...]
    falsepositives: tuple[str, ...]
    references: tuple[tuple[str, bool], ...]
    """(text, is a plain http(s) link): only catalog URLs that are plainly http(s) become links."""


@dataclass(frozen=True, slots=True)
class FindingView:
    anchor: str
    severity: str
    rule: str
    rule_name: str
    title: str
    kind: str
    confidence: str
    message: str
    root_cause: str
    remediation: tuple[str, ...]
    """The finding's own remediation lines, shown only when no rule doc gives vendor-ordered fixes."""
    cookie: str
    clients: tuple[str, ...]
    input: str
    first_seen: str
    last_seen: str
    fingerprint: str
    details: tuple[tuple[str, str], ...]
    evidence: tuple[EvidenceRow, ...]
    evidence_folded: tuple[EvidenceRow, ...]
    evidence_hidden: int
    doc: DocView | None
    fixes: tuple[tuple[str, str], ...]
    relevant: tuple[tuple[str, str], ...]
    """Fixes for the vendors seen in this client's cookies, then ``general``."""
    doc_open: bool


@dataclass(frozen=True, slots=True)
class CookieView:
    name: str
    family: str
    vendor: str
    role: str
    status: str
    backend: str
    datacenter: str
    decoded: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ClientGroup:
    anchor: str
    label: str
    worst: str
    findings: tuple[FindingView, ...]
    cookies: tuple[CookieView, ...]
    backends: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompactRow:
    severity: str
    rule: str
    client: str
    message: str
    where: str


@dataclass(frozen=True, slots=True)
class ClientRow:
    label: str
    anchor: str | None
    identity: str
    inputs: str
    transactions: int
    first: str
    last: str
    backends: str
    cookies: str
    cookie_data: str
    findings: int


@dataclass(frozen=True, slots=True)
class DiagView:
    level: str
    code: str
    message: str
    position: str
    count: int


@dataclass(frozen=True, slots=True)
class InputView:
    path: str
    format: str
    engine: str
    transactions: int
    clients: int
    cookie_data: str
    first: str
    last: str
    diagnostics: tuple[DiagView, ...]
    diagnostics_folded: tuple[DiagView, ...]
    diagnostics_hidden: int


@dataclass(frozen=True, slots=True)
class Page:
    tool_version: str
    schema_version: str
    verdict: VerdictView
    fail_on: str
    failing: int
    counts: tuple[tuple[str, int], ...]
    summary: tuple[tuple[str, str], ...]
    swimlane: Swimlane | None
    groups: tuple[ClientGroup, ...]
    compact: tuple[CompactRow, ...]
    compact_hidden: int
    clients: tuple[ClientRow, ...]
    clients_folded: tuple[ClientRow, ...]
    clients_hidden: int
    inputs: tuple[InputView, ...]
    rule_runs: tuple[tuple[str, str, str, str, int, str], ...]
    docs: tuple[DocView, ...]
    stats: tuple[tuple[str, int], ...] = field(default=())


def _doc_view(doc: RuleDoc) -> DocView:
    refs = tuple(
        (display(r, 300), r.startswith(("https://", "http://")) and not any(c in r for c in " \"'<>`\\"))
        for r in doc.references
    )
    return DocView(
        code=display(doc.code, 20),
        name=display(doc.name, 80),
        title=display(doc.title, 200),
        summary=display(doc.summary, 2000),
        why=display(doc.why, 2000),
        example=doc.example.strip(),
        what_to_check=tuple(display(x, 600) for x in doc.what_to_check),
        remediation=tuple((display(v, 60), display(t, 1000)) for v, t in doc.remediation),
        falsepositives=tuple(display(x, 600) for x in doc.falsepositives),
        references=refs,
    )


def _finding_view(
    f: Finding, n: int, index: TxIndex, redactor: Redactor, doc: RuleDoc | None, families: Sequence[str], doc_open: bool
) -> FindingView:
    rows = [evidence_row(ev, index, redactor) for ev in f.evidence[: EVIDENCE_SHOWN + EVIDENCE_FOLDED]]
    own = display(f.client, 80)
    rows = [replace(r, client="") if r.client == own else r for r in rows]
    return FindingView(
        anchor=f"f{n}",
        severity=f.severity.label,
        rule=display(f.rule, 20),
        rule_name=display(f.rule_name, 80),
        title=display(f.title, 200),
        kind=display(f.kind, 60),
        confidence=f.confidence.value,
        message=display(f.message, 2000),
        root_cause=display(f.root_cause, 1000) if f.root_cause and f.root_cause not in f.message else "",
        remediation=() if doc else remediation_lines(f.remediation),
        cookie=display(f.cookie, 120),
        clients=tuple(display(c, 120) for c in f.clients),
        input=display(f.input, 300),
        first_seen=fmt_time(f.first_seen),
        last_seen=fmt_time(f.last_seen),
        fingerprint=f.fingerprint,
        details=tuple((display(k, 80), display(v, 600)) for k, v in f.details[:40]),
        evidence=tuple(rows[:EVIDENCE_SHOWN]),
        evidence_folded=tuple(rows[EVIDENCE_SHOWN:]),
        evidence_hidden=max(0, len(f.evidence) - EVIDENCE_SHOWN - EVIDENCE_FOLDED),
        doc=_doc_view(doc) if doc else None,
        fixes=tuple((display(v, 60), display(t, 1000)) for v, t in remediation_for(doc, families)) if doc else (),
        relevant=tuple((display(v, 60), display(t, 1000)) for v, t in relevant_fixes(doc, families)) if doc else (),
        doc_open=doc_open,
    )


def _cookie_views(session: ClientSession | None) -> tuple[CookieView, ...]:
    if session is None:
        return ()
    return tuple(
        CookieView(
            name=display(name, 120),
            family=display(info.family, 60),
            vendor=display(info.vendor, 80),
            role=info.role.value,
            status=display(info.status, 20),
            backend=display(info.backend or "", 120),
            datacenter=display(info.datacenter or "", 120),
            decoded=tuple((display(k, 60), display(v, 200)) for k, v in info.decoded[:20]),
        )
        for name, info in session.persistence_cookies[:30]
    )


def _backend_colours(report: AnalysisReport) -> dict[str, str]:
    # Ranked by how many clients a backend served: known from session summaries too (``--jobs``).
    counts: Counter[str] = Counter(b for s in report.sessions for b in s.backends_seen)
    ranked = sorted(counts, key=lambda b: (-counts[b], b))
    return {b: PALETTE[i] if i < len(PALETTE) else OTHER_COLOUR for i, b in enumerate(ranked)}


def _lane_marks(
    session: ClientSession, y: float, tmin: float, span: float, colours: Mapping[str, str], redactor: Redactor
) -> tuple[tuple[Mark, ...], bool]:
    scale = (PLOT_X1 - PLOT_X0) / span
    backend = {o.transaction_id: o.backend for o in session.backends}
    txs = session.transactions
    if len(txs) <= LANE_MARKS_LIMIT:
        width = min(5.0, max(2.0, (PLOT_X1 - PLOT_X0) / max(len(txs), 1) * 0.4))
        marks = []
        for tx in txs:
            b = backend.get(tx.id)
            status = tx.response.status if tx.response is not None else "no response"
            where = tx.provenance.locator()
            title = (
                f"{fmt_time(tx.timing.started)} {tx.request.method} {redact_target(tx.request.target, redactor)}"
                f" -> {status} · backend {b or 'unknown'} · {where}"
            )
            x = PLOT_X0 + (tx.timing.started - tmin) * scale
            colour = colours.get(b, UNKNOWN_COLOUR) if b else UNKNOWN_COLOUR
            marks.append(
                Mark(round(x - width / 2, 1), y + TICK_Y, round(width, 1), TICK_H, colour, display(title, 300))
            )
        return tuple(marks), False
    # Downsample: one column per slot, stacked by backend share, so flips stay visible.
    cols: dict[int, Counter[str]] = {}
    col_w = (PLOT_X1 - PLOT_X0) / LANE_MARKS_LIMIT
    for tx in txs:
        col = min(LANE_MARKS_LIMIT - 1, int((tx.timing.started - tmin) * scale / col_w))
        cols.setdefault(col, Counter())[backend.get(tx.id) or ""] += 1
    marks = []
    for col, counter in sorted(cols.items()):
        total = sum(counter.values())
        top = y + TICK_Y
        x = PLOT_X0 + col * col_w
        start = fmt_time(tmin + col * col_w / scale, date=False)
        desc = ", ".join(f"{b or 'unknown'} ×{n}" for b, n in counter.most_common(4))
        title = display(f"{total} request(s) from {start}: {desc}", 300)
        for b, n in counter.most_common(4):
            h = TICK_H * n / total
            marks.append(
                Mark(
                    round(x, 1),
                    round(top, 2),
                    round(max(col_w - 0.4, 0.8), 2),
                    round(h, 2),
                    colours.get(b, UNKNOWN_COLOUR) if b else UNKNOWN_COLOUR,
                    title,
                )
            )
            top += h
    return tuple(marks), True


def _markers(report: AnalysisReport, index: TxIndex) -> dict[str, list[tuple[float, str, str]]]:
    """(time, marker kind, title) per client, from the trigger/effect evidence of stickiness findings."""
    out: dict[str, list[tuple[float, str, str]]] = {}
    seen: set[tuple[str, str, str]] = set()
    for f in report.findings:
        kind = MARKER_KINDS.get(f.kind)
        if kind is None:
            continue
        evs = [e for e in f.evidence if e.role != "context"] or list(f.evidence)
        for e in evs:
            found = index.get(e.transaction_id)
            client = found[0].key.value if found else f.client
            key = (client, e.transaction_id or f"{e.time}", kind)
            if key in seen:
                continue
            seen.add(key)
            out.setdefault(client, []).append((e.time, kind, display(f"{f.rule} {f.title}: {e.summary}", 300)))
    return out


def _ranked_sessions(report: AnalysisReport) -> list[ClientSession]:
    """Swimlane order: clients with findings (in report order), then the busiest."""
    order = {c: i for i, (c, _) in enumerate(group_by_client(report.findings))}
    return sorted(report.sessions, key=lambda s: (order.get(s.key.value, len(order)), -s.transaction_count))


def clients_shown(report: AnalysisReport) -> set[str]:
    """The clients whose whole sessions the HTML report draws: its lanes (``analyze(detail=...)``).

    With ``--jobs`` every session asked for is re-read into this process: asking for every client a finding
    names made the HTML report of a 1M-packet capture hold all 14k sessions. The evidence rows ask for
    their transactions only (``cited``).
    """
    return {s.key.value for s in _ranked_sessions(report)[:LANES_LIMIT]}


def cited(report: AnalysisReport) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The transactions the evidence rows join (``model.report.CitedWanted``): rows are drawn for the first
    ``CLIENT_GROUPS_SHOWN`` clients' findings only (the others are one-line rows), at most ``EVIDENCE_SHOWN +
    EVIDENCE_FOLDED`` per finding. (The lanes' markers join a lane's own transactions: its session is whole.)
    """
    groups = group_by_client(report.findings)[:CLIENT_GROUPS_SHOWN]
    return cited_transactions((f for _, fs in groups for f in fs), EVIDENCE_SHOWN + EVIDENCE_FOLDED)


def _swimlane(
    report: AnalysisReport, index: TxIndex, redactor: Redactor, anchors: Mapping[str, str]
) -> Swimlane | None:
    firsts = [s.first_seen for s in report.sessions if s.first_seen is not None]
    lasts = [s.last_seen for s in report.sessions if s.last_seen is not None]
    if not firsts or not lasts:
        return None
    tmin, tmax = min(firsts), max(lasts)
    span = max(tmax - tmin, 1e-3)
    colours = _backend_colours(report)
    markers = _markers(report, index)
    ranked = _ranked_sessions(report)
    lanes = []
    for i, s in enumerate(ranked[:LANES_LIMIT]):
        y = AXIS_H + i * LANE_H
        marks, down = _lane_marks(s, y, tmin, span, colours, redactor)
        scale = (PLOT_X1 - PLOT_X0) / span
        lane_markers = tuple(
            Marker(round(PLOT_X0 + (t - tmin) * scale, 1), y + MARKER_Y, kind, title)
            for t, kind, title in sorted(markers.get(s.key.value, []))[:LANE_MARKERS_LIMIT]
        )
        label = display(s.key.value, 200)
        lanes.append(
            Lane(
                y=y,
                label=label if len(label) <= 26 else label[:25] + "…",
                full_label=label,
                requests=s.transaction_count,
                marks=marks,
                markers=lane_markers,
                downsampled=down,
                anchor=anchors.get(s.key.value),
            )
        )
    ticks = tuple((round(PLOT_X0 + (PLOT_X1 - PLOT_X0) * k / 5, 1), fmt_duration(span * k / 5)) for k in range(6))
    legend = [(display(b, 60), c) for b, c in colours.items() if c != OTHER_COLOUR]
    if len(legend) < len(colours):
        legend.append((f"{len(colours) - len(legend)} other backend(s)", OTHER_COLOUR))
    legend.append(("backend unknown", UNKNOWN_COLOUR))
    return Swimlane(
        width=SVG_WIDTH,
        height=AXIS_H + max(1, len(lanes)) * LANE_H + 6,
        lane_h=LANE_H,
        plot_x0=PLOT_X0,
        plot_x1=PLOT_X1,
        lanes=tuple(lanes),
        ticks=ticks,
        legend=tuple(legend),
        start=fmt_time(tmin),
        span=fmt_duration(tmax - tmin).lstrip("+"),
        hidden_lanes=max(0, len(ranked) - LANES_LIMIT),
        downsampled_lanes=sum(1 for lane in lanes if lane.downsampled),
    )


def _client_row(s: ClientSession, anchor: str | None, nfind: int) -> ClientRow:
    backends = s.backends_seen
    shown = ", ".join(backends[:6]) + (f" (+{len(backends) - 6})" if len(backends) > 6 else "")
    return ClientRow(
        label=display(s.key.value, 200),
        anchor=anchor,
        identity=display(s.key.strategy, 30),
        inputs=display(", ".join(s.inputs), 300),
        transactions=s.transaction_count,
        first=fmt_time(s.first_seen) if s.first_seen is not None else "-",
        last=fmt_time(s.last_seen) if s.last_seen is not None else "-",
        backends=display(shown, 300) or "-",
        cookies=display(", ".join(n for n, _ in s.persistence_cookies[:8]), 300) or "-",
        cookie_data=display(s.cookie_data, 20),
        findings=nfind,
    )


def _input_view(i: InputSummary) -> InputView:
    diags = [
        DiagView(
            level=d.level.value,
            code=display(d.code, 80),
            message=display(d.message, 500),
            position=display(d.position, 120),
            count=d.count,
        )
        for d in i.diagnostics[: DIAGNOSTICS_SHOWN + DIAGNOSTICS_FOLDED]
    ]
    return InputView(
        path=display(i.path, 300),
        format=display(i.format, 20),
        engine=display(i.engine, 20),
        transactions=i.transactions,
        clients=i.clients,
        cookie_data=display(i.cookie_data, 20),
        first=fmt_time(i.first_time),
        last=fmt_time(i.last_time),
        diagnostics=tuple(diags[:DIAGNOSTICS_SHOWN]),
        diagnostics_folded=tuple(diags[DIAGNOSTICS_SHOWN:]),
        diagnostics_hidden=max(0, len(i.diagnostics) - DIAGNOSTICS_SHOWN - DIAGNOSTICS_FOLDED),
    )


def build_page(
    report: AnalysisReport,
    *,
    redactor: Redactor,
    fail_on: Severity = Severity.HIGH,
    rule_docs: Mapping[str, RuleDoc] | None = None,
) -> Page:
    """The whole view model (exposed for tests: geometry and caps are checked without parsing HTML)."""
    report = redacted_report(report, redactor)
    index = TxIndex(report)
    by_key = {s.key.value: s for s in report.sessions}
    grouped = group_by_client(report.findings)
    anchors = {client: f"c{i}" for i, (client, _) in enumerate(grouped[:CLIENT_GROUPS_SHOWN])}
    groups = []
    compact: list[CompactRow] = []
    seen_rules: set[str] = set()
    n = 0
    for gi, (client, findings) in enumerate(grouped):
        if gi >= CLIENT_GROUPS_SHOWN:
            compact.extend(
                CompactRow(
                    f.severity.label,
                    display(f.rule, 20),
                    display(f.client, 120),
                    display(f.message, 300),
                    display(f.input, 200),
                )
                for f in findings
            )
            continue
        session = by_key.get(client)
        families = [info.family for _, info in session.persistence_cookies] if session else []
        views = []
        for f in findings:
            doc = rule_docs.get(f.rule) if rule_docs else None
            views.append(_finding_view(f, n, index, redactor, doc, families, f.rule not in seen_rules))
            seen_rules.add(f.rule)
            n += 1
        groups.append(
            ClientGroup(
                anchor=anchors[client],
                label="all clients" if client == "*" else display(client, 200),
                worst=findings[0].severity.label,
                findings=tuple(views),
                cookies=_cookie_views(session),
                backends=tuple(display(b, 120) for b in (session.backends_seen[:20] if session else ())),
            )
        )
    nfind = Counter(f.client for f in report.findings)
    rows = [
        _client_row(s, anchors.get(s.key.value), nfind.get(s.key.value, 0))
        for s in sorted(report.sessions, key=lambda s: (-nfind.get(s.key.value, 0), s.key.value))[
            : CLIENT_ROWS_SHOWN + CLIENT_ROWS_FOLDED
        ]
    ]
    counts = severity_counts(report.findings)
    cookies = sorted({f"{name} ({info.vendor})" for s in report.sessions for name, info in s.persistence_cookies})
    backends = sorted({b for s in report.sessions for b in s.backends_seen})
    summary = (
        ("Inputs", str(len(report.inputs))),
        ("Clients", str(len(report.sessions))),
        ("Transactions", str(sum(i.transactions for i in report.inputs))),
        ("Findings", str(len(report.findings))),
        ("Persistence cookies", display(", ".join(cookies[:10]) + (" …" if len(cookies) > 10 else ""), 600) or "none"),
        (
            "Backends",
            display(", ".join(backends[:10]) + (f" (+{len(backends) - 10})" if len(backends) > 10 else ""), 600)
            or "not identified",
        ),
    )
    docs_used = [rule_docs[c] for c in sorted({f.rule for f in report.findings}) if rule_docs and c in rule_docs]
    return Page(
        tool_version=display(report.tool_version, 40),
        schema_version=display(report.schema_version, 20),
        verdict=verdict_view(report),
        fail_on=fail_on.label,
        failing=sum(1 for f in report.findings if f.severity >= fail_on),
        counts=tuple((s.label, c) for s, c in counts.items()),
        summary=summary,
        swimlane=_swimlane(report, index, redactor, anchors),
        groups=tuple(groups),
        compact=tuple(compact[:COMPACT_ROWS]),
        compact_hidden=max(0, len(compact) - COMPACT_ROWS),
        clients=tuple(rows[:CLIENT_ROWS_SHOWN]),
        clients_folded=tuple(rows[CLIENT_ROWS_SHOWN:]),
        clients_hidden=max(0, len(report.sessions) - CLIENT_ROWS_SHOWN - CLIENT_ROWS_FOLDED),
        inputs=tuple(_input_view(i) for i in report.inputs),
        rule_runs=tuple(
            (
                display(r.code, 20),
                display(r.name, 80),
                display(r.category, 40),
                r.status,
                r.findings,
                display(r.reason, 300),
            )
            for r in report.rule_runs
        ),
        docs=tuple(_doc_view(d) for d in docs_used),
        stats=tuple((display(k, 60), v) for k, v in report.stats),
    )


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """One Environment per process; templates ship inside the package (found with the package loader)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("stickyforensics.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    report: AnalysisReport,
    *,
    redactor: Redactor,
    fail_on: Severity = Severity.HIGH,
    rule_docs: Mapping[str, RuleDoc] | None = None,
) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG, no script, strict CSP)."""
    page = build_page(report, redactor=redactor, fail_on=fail_on, rule_docs=rule_docs)
    return _environment().get_template("report.html.j2").render(page=page, marker_labels=MARKER_LABELS)
