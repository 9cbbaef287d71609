"""The Markdown report: a summary to paste into a support ticket, an issue or a chat.

Captured text is escaped for CommonMark/GFM: inline text gets every Markdown-active ASCII
punctuation backslash-escaped (``<`` included, so no raw HTML survives), table cells also get
``|`` escaped, and code spans are fenced with more backticks than the text contains. Control
and bidi characters are shown as escapes first (``common.display``). Cookie values and
credentials go through the ``Redactor``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from stickyforensics.model import AnalysisReport, Finding, Severity
from stickyforensics.report.common import (
    RuleDoc,
    TxIndex,
    cited_transactions,
    display,
    evidence_row,
    fmt_time,
    relevant_fixes,
    remediation_lines,
    severity_counts,
    verdict_view,
)
from stickyforensics.report.redact import Redactor, redacted_report

FINDINGS_DETAILED = 25
"""Findings written out in full; the table still lists every one up to ``TABLE_ROWS``."""
TABLE_ROWS = 200
EVIDENCE_LINES = 5

_ACTIVE = re.compile(r"([\\`*_{}\[\]<|~&$])")
_LINE_START = re.compile(r"^(\s*)([#+=>-]|\d+(?=[.)](?:\s|$)))")
_BACKTICKS = re.compile(r"`+")


def md_text(text: str | None, limit: int = 400) -> str:
    """Inline Markdown text that renders literally.

    Emphasis, code, link, HTML, entity, table, strikethrough and math characters are
    backslash-escaped anywhere; list, heading and setext markers only where they could act, at
    the start (the text may begin a line). ``(``, ``!`` and ``:`` need no escape once ``[`` and
    ``<`` are escaped: no link or raw-HTML construct can open.
    """
    out = _ACTIVE.sub(r"\\\1", display(text, limit)).lstrip()
    match = _LINE_START.match(out)
    if match:
        marker = match.group(2)
        if marker[0].isdigit():
            end = match.end()
            return out[:end] + "\\" + out[end:]
        return "\\" + out
    return out


def md_cell(text: str | None, limit: int = 200) -> str:
    """Text for a GFM table cell (``|`` is escaped by ``md_text`` already)."""
    return md_text(text, limit) or " "


def md_code(text: str | None, limit: int = 400) -> str:
    """An inline code span holding ``text`` verbatim, whatever backticks it contains."""
    body = display(text, limit)
    if not body:
        return ""
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or longest else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _finding_block(
    n: int, f: Finding, index: TxIndex, redactor: Redactor, doc: RuleDoc | None, families: list[str]
) -> list[str]:
    client = "all clients" if f.client == "*" else f.client
    head = f"{md_text(f.rule, 20)} {md_text(f.title, 200)} ({f.severity.label}, client {md_text(client, 120)})"
    out = [f"### {n}. {head}", ""]
    out.append(md_text(f.message, 1000))
    out.append("")
    if f.root_cause and f.root_cause not in f.message:
        out += [f"**Root cause:** {md_text(f.root_cause, 600)}", ""]
    facts = [
        f"input {md_code(f.input, 200)}",
        f"seen {fmt_time(f.first_seen)} to {fmt_time(f.last_seen)}",
        f"confidence {f.confidence.value}",
        f"fingerprint `{f.fingerprint}`",
    ]
    if f.cookie:
        facts.insert(0, f"cookie {md_code(f.cookie, 120)}")
    if len(f.clients) > 1:
        facts.append("clients " + ", ".join(md_text(c, 80) for c in f.clients[:10]))
    out += ["- " + "; ".join(facts), ""]
    if f.details:
        out.append("- " + "; ".join(f"{md_text(k, 60)}: {md_text(v, 200)}" for k, v in f.details[:12]))
        out.append("")
    if f.evidence:
        out.append("**Evidence:**")
        out.append("")
        for ev in f.evidence[:EVIDENCE_LINES]:
            row = evidence_row(ev, index, redactor)
            where = row.where or "no frame"
            line = f"- {md_text(where, 60)} of {md_code(ev.input, 200)} at {row.time}, {md_text(ev.role, 20)}: "
            line += md_text(ev.summary, 300)
            if row.backend:
                line += f" (backend {md_code(row.backend, 80)})"
            if row.wireshark_filter:
                line += f"; filter {md_code(row.wireshark_filter, 300)}"
            out.append(line)
            for c in row.cookies_sent[:4]:
                out.append(f"  - sent {md_code(c, 200)}")
            for c in row.set_cookies[:3]:
                out.append(f"  - received Set-Cookie {md_code(c, 300)}")
        if len(f.evidence) > EVIDENCE_LINES:
            out.append(f"- and {len(f.evidence) - EVIDENCE_LINES} more (see the JSON or HTML report)")
        out.append("")
    if doc:
        fixes = relevant_fixes(doc, families)[:3]
        out += ["**Fix:** " + " ".join(f"{md_text(v, 40)}: {md_text(t, 400)}" for v, t in fixes), ""]
    elif f.remediation:
        out += ["**Fix:** " + " ".join(md_text(line, 400) for line in remediation_lines(f.remediation)), ""]
    if doc:
        out += [f"*Why it matters:* {md_text(doc.why, 600)}", ""]
    return out


def cited(report: AnalysisReport) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The transactions the detailed findings' evidence cites (``model.report.CitedWanted``)."""
    return cited_transactions(report.findings[:FINDINGS_DETAILED], EVIDENCE_LINES)


def render_markdown(
    report: AnalysisReport,
    *,
    redactor: Redactor,
    fail_on: Severity = Severity.HIGH,
    rule_docs: Mapping[str, RuleDoc] | None = None,
) -> str:
    """The report as GitHub-flavoured Markdown: verdict, findings table, top evidence per finding."""
    report = redacted_report(report, redactor)
    v = verdict_view(report)
    counts = severity_counts(report.findings)
    failing = sum(1 for f in report.findings if f.severity >= fail_on)
    out = [
        "## stickyforensics report",
        "",
        f"**Verdict: {md_text(v.headline)}.** {md_text(v.sentence, 1000)}",
        "",
        "- Inputs: "
        + ", ".join(
            f"{md_code(i.path, 200)} ({md_text(i.format, 10)}, {i.transactions} transactions)"
            for i in report.inputs[:10]
        )
        + ("" if report.inputs else "none"),
        f"- Clients: {len(report.sessions)}; transactions: {sum(i.transactions for i in report.inputs)}",
        "- Findings: "
        + (", ".join(f"{n} {s.label}" for s, n in counts.items() if n) or "none")
        + f" ({failing} at or above {fail_on.label})",
        "",
    ]
    if not report.findings:
        out += ["No findings.", ""]
    else:
        out += ["| Severity | Rule | Client | Message |", "| --- | --- | --- | --- |"]
        for f in report.findings[:TABLE_ROWS]:
            client = "all clients" if f.client == "*" else f.client
            out.append(
                f"| {f.severity.label} | {md_cell(f.rule, 20)} {md_cell(f.rule_name, 60)} | "
                f"{md_cell(client, 80)} | {md_cell(f.message, 300)} |"
            )
        if len(report.findings) > TABLE_ROWS:
            out.append(f"| | | | and {len(report.findings) - TABLE_ROWS} more |")
        out.append("")
        index = TxIndex(report)
        families = {s.key.value: [i.family for _, i in s.persistence_cookies] for s in report.sessions}
        for n, f in enumerate(report.findings[:FINDINGS_DETAILED], start=1):
            doc = rule_docs.get(f.rule) if rule_docs else None
            out += _finding_block(n, f, index, redactor, doc, families.get(f.client, []))
        if len(report.findings) > FINDINGS_DETAILED:
            out += [f"*{len(report.findings) - FINDINGS_DETAILED} more finding(s) are listed in the table only.*", ""]
    diags = [(i.path, d) for i in report.inputs for d in i.diagnostics]
    if diags:
        out += ["<details><summary>Input diagnostics</summary>", ""]
        for path, d in diags[:30]:
            where = f" at {md_text(d.position, 80)}" if d.position else ""
            count = f" (x{d.count})" if d.count > 1 else ""
            out.append(
                f"- {d.level.value}: {md_code(path, 200)}{where}: {md_code(d.code, 80)} "
                f"{md_text(d.message, 300)}{count}"
            )
        if len(diags) > 30:
            out.append(f"- and {len(diags) - 30} more")
        out += ["", "</details>", ""]
    out.append(
        f"<sub>stickyforensics {md_text(report.tool_version, 40)}; capture times in UTC; "
        "cookie values and credentials shown as keyed pseudonyms.</sub>"
    )
    return "\n".join(out) + "\n"
