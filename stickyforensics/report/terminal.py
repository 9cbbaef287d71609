"""The terminal view (rich): summary, then findings grouped by client with evidence.

Captured text is hostile: it only ever enters rich as ``Text`` objects (never markup strings),
after control characters are replaced, so a header cannot inject markup or terminal escapes.
"""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from stickyforensics.model import AnalysisReport, Finding, Severity
from stickyforensics.report.redact import Redactor, clean_text, redacted_report
from stickyforensics.report.verdict import STICKINESS_KINDS, verdict

_SEV_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_VERDICT_STYLE = {"broken": "bold red", "sticky": "bold green", "undetermined": "bold yellow", "no-traffic": "yellow"}
EVIDENCE_LIMIT = 6
CLIENT_GROUPS_SHOWN = 30
"""Clients whose findings are drawn in full (as the HTML report does); the findings of the others become
one line each, up to ``COMPACT_ROWS``: a capture with thousands of clients with findings took longer to
print (4 s, 3 MB of text on the 1M-packet bench capture) than to analyse on two cores, and every finding is
in ``--format json`` and ``html``."""
COMPACT_ROWS = 200


def _t(text: str, style: str = "") -> Text:
    return Text(clean_text(text, 600), style=style)


def _summary(report: AnalysisReport) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    cookies = sorted({f"{n} ({i.vendor})" for s in report.sessions for n, i in s.persistence_cookies})
    backends = sorted({b for s in report.sessions for b in s.backends_seen})
    table.add_row("Inputs", _t(", ".join(f"{i.path} [{i.format}, {i.transactions} tx]" for i in report.inputs)))
    table.add_row("Clients", Text(str(len(report.sessions))))
    table.add_row("Transactions", Text(str(sum(i.transactions for i in report.inputs))))
    table.add_row("Persistence cookies", _t(", ".join(cookies) or "none seen"))
    shown = ", ".join(backends[:12]) + (f" (+{len(backends) - 12} more)" if len(backends) > 12 else "")
    table.add_row("Backends", _t(shown or "not identified"))
    counts: dict[Severity, int] = defaultdict(int)
    for f in report.findings:
        counts[f.severity] += 1
    sticky = [f for f in report.findings if f.kind in STICKINESS_KINDS]
    if sticky:
        by_kind: dict[str, set[str]] = defaultdict(set)
        for f in sticky:
            by_kind[f.kind].add(f.client)
        table.add_row(
            "Incidents",
            _t(
                "; ".join(
                    f"{kind}: {', '.join(sorted(clients)[:4])}" + (" ..." if len(clients) > 4 else "")
                    for kind, clients in sorted(by_kind.items())
                )
            ),
        )
    table.add_row(
        "Findings",
        Text(", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True)) or "none"),
    )
    return table


def _short(path: str, limit: int = 28) -> str:
    name = path.rsplit("/", 1)[-1]
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _finding(f: Finding, redactor: Redactor, many_inputs: bool = False) -> Group:
    head = Text()
    head.append(f" {f.severity.label.upper()} ", style=_SEV_STYLE[f.severity])
    head.append(f" {f.rule} ", style="bold")
    head.append(f.kind, style="magenta")
    if f.cookie:
        head.append("  cookie ", style="dim")
        head.append_text(_t(f.cookie, "bold"))
    head.append(f"  confidence {f.confidence.value}", style="dim")
    parts: list[Text | Table] = [head, _t(f.message)]
    if f.root_cause and f.root_cause not in f.message:
        parts.append(Text.assemble(("Root cause: ", "bold"), _t(f.root_cause)))
    if f.evidence:
        table = Table(show_header=True, header_style="bold dim", box=None, padding=(0, 1), expand=True)
        table.add_column("where", no_wrap=True, max_width=30)
        table.add_column("evidence", ratio=1)
        for ev in f.evidence[:EVIDENCE_LIMIT]:
            where = (
                f"entry {ev.har_entry}"
                if ev.har_entry is not None
                else ("frame " + ",".join(str(x) for x in ev.frames) if ev.frames else "-")
            )
            lines = [_t(ev.summary)]
            if ev.wireshark_filter:
                lines.append(Text.assemble(("filter: ", "dim"), _t(ev.wireshark_filter, "green")))
            for ex in ev.excerpts[:4]:
                lines.append(_t("  " + redactor.excerpt(ex), "dim"))
            label = f"{where}\n{_short(ev.input)}" if many_inputs else where
            table.add_row(_t(label), Group(*lines))
        if len(f.evidence) > EVIDENCE_LIMIT:
            table.add_row("", Text(f"... {len(f.evidence) - EVIDENCE_LIMIT} more in --format json/html", style="dim"))
        parts.append(table)
    if f.remediation:
        parts.append(Text("How to fix:", style="bold"))
        for line in f.remediation.splitlines()[:4]:
            parts.append(_t(f"  - {line}", "dim"))
    parts.append(Text(""))
    return Group(*parts)


def render_text(report: AnalysisReport, *, redactor: Redactor, width: int = 110, color: bool = False) -> str:
    """The whole text report as a string (tests render with a fixed width and no colour)."""
    report = redacted_report(report, redactor)
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        color_system="auto" if color else None,
        force_terminal=color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    status, sentence = verdict(report)
    console.print(
        Panel(_t(sentence), title=Text(f"stickyforensics: {status}", style=_VERDICT_STYLE.get(status, "")), expand=True)
    )
    console.print(_summary(report))
    console.print()
    diags = [(i.path, d) for i in report.inputs for d in i.diagnostics]
    if diags:
        console.print(Text("Diagnostics", style="bold underline"))
        for path, d in diags[:20]:
            where = f" at {d.position}" if d.position else ""
            count = f" (x{d.count})" if d.count > 1 else ""
            console.print(_t(f"  {d.level.value}: {path}{where}: {d.code}: {d.message}{count}"))
        if len(diags) > 20:
            console.print(Text(f"  ... {len(diags) - 20} more diagnostics in --format json", style="dim"))
        console.print()
    if not report.findings:
        console.print(Text("No findings.", style="green"))
        return buf.getvalue()
    by_client: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_client[f.client].append(f)
    groups = list(by_client.items())
    for client, findings in groups[:CLIENT_GROUPS_SHOWN]:
        label = "all clients" if client == "*" else client
        console.print(
            Text.assemble(("Client ", "bold"), _t(label, "bold cyan"), (f"  ({len(findings)} finding(s))", "dim"))
        )
        for f in findings:
            console.print(_finding(f, redactor, many_inputs=len(report.inputs) > 1))
    rest = [f for _, findings in groups[CLIENT_GROUPS_SHOWN:] for f in findings]
    if rest:
        _compact(console, rest, len(groups) - CLIENT_GROUPS_SHOWN)
    return buf.getvalue()


def _compact(console: Console, findings: list[Finding], clients: int) -> None:
    """The findings of the clients beyond the first ``CLIENT_GROUPS_SHOWN``: one line each, then a count."""
    console.print(Text(f"{len(findings)} more finding(s) of {clients} more client(s):", style="bold"))
    lines = Text()
    for f in findings[:COMPACT_ROWS]:
        lines.append(f"  {f.severity.label:<8} ", style=_SEV_STYLE[f.severity])
        lines.append(clean_text(f"{f.rule} {f.client}: {f.message}", 200) + "\n")
    console.print(lines, end="", no_wrap=True, overflow="ellipsis")  # one line each, cut at the width
    if len(findings) > COMPACT_ROWS:
        console.print(
            Text(f"  ... {len(findings) - COMPACT_ROWS} more: every finding is in --format json and html", style="dim")
        )
