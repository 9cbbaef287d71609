"""The SARIF 2.1.0 report, shaped for GitHub code scanning.

Captures have no source lines, so every result points at its input file with ``startLine: 1``
and carries where to look (frames, HAR entries, Wireshark filter) in its message and in
``properties``. ``partialFingerprints`` use ``Finding.fingerprint``, which ignores frames and
times, so code scanning tracks the same problem across new recordings. Result levels follow
severity (critical/high -> error, medium -> warning, low/info -> note), independent of
``--fail-on``, so the same capture always gives the same alerts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

from stickyforensics.model import AnalysisReport, Finding, RuleRun, Severity
from stickyforensics.report.common import (
    INFORMATION_URI,
    TOOL_NAME,
    RuleDoc,
    TxIndex,
    artifact_uri,
    cited_transactions,
    display,
    evidence_row,
    finding_locators,
    first_filter,
    sarif_level,
)
from stickyforensics.report.json import write_json_payload
from stickyforensics.report.redact import Redactor, redacted_report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
EVIDENCE_PER_RESULT = 20
FINGERPRINT_KEY = "stickyforensics/v1"


def _help(doc: RuleDoc) -> tuple[str, str]:
    """(plain text, Markdown) help for a rule: what, why, what to check, fixes, references."""
    text = [doc.summary.strip(), "", f"Why it matters: {doc.why.strip()}"]
    md = [doc.summary.strip(), "", f"**Why it matters:** {doc.why.strip()}"]
    if doc.example.strip():
        fence = "`" * max(3, 1 + max((len(m) for m in re.findall("`+", doc.example)), default=0))
        md += ["", "**Example**", "", fence, doc.example.strip("\n"), fence]
    if doc.what_to_check:
        text += ["", "What to check:"] + [f"- {x}" for x in doc.what_to_check]
        md += ["", "**What to check**", ""] + [f"- {x}" for x in doc.what_to_check]
    if doc.remediation:
        text += ["", "Remediation:"] + [f"- {v}: {t}" for v, t in doc.remediation]
        md += ["", "**Remediation**", ""] + [f"- *{v}*: {t}" for v, t in doc.remediation]
    if doc.falsepositives:
        text += ["", "False positives:"] + [f"- {x}" for x in doc.falsepositives]
        md += ["", "**False positives**", ""] + [f"- {x}" for x in doc.falsepositives]
    if doc.references:
        text += ["", "References:"] + [f"- {x}" for x in doc.references]
        md += ["", "**References**", ""] + [f"- {x}" for x in doc.references]
    return "\n".join(text), "\n".join(md)


def _rule(code: str, doc: RuleDoc | None, run: RuleRun | None, sample: Finding | None) -> dict[str, Any]:
    name = doc.name if doc else (run.name if run else (sample.rule_name if sample else code))
    title = doc.title if doc else (run.title if run else (sample.title if sample else code))
    category = doc.category if doc else (run.category if run else "other")
    kind = doc.kind if doc else (run.kind if run else (sample.kind if sample else ""))
    severity = doc.severity if doc else (sample.severity if sample else Severity.MEDIUM)
    rule: dict[str, Any] = {
        "id": code,
        "name": name,
        "shortDescription": {"text": title},
        "defaultConfiguration": {"level": sarif_level(severity)},
        "properties": {"tags": [t for t in ("stickiness", category, kind) if t], "severity": severity.label},
    }
    if doc:
        text, md = _help(doc)
        rule["fullDescription"] = {"text": doc.summary.strip() or title}
        rule["help"] = {"text": text, "markdown": md}
    else:
        rule["fullDescription"] = {"text": title}
    return rule


def _result(f: Finding, rule_index: int, index: TxIndex, redactor: Redactor) -> dict[str, Any]:
    where = finding_locators(f)
    ws_filter = first_filter(f)
    text = display(f.message, 2000)
    if where:
        text += f" ({where}"
        text += f"; Wireshark filter: {display(ws_filter, 300)})" if ws_filter else ")"
    evidence = []
    for ev in f.evidence[:EVIDENCE_PER_RESULT]:
        row = evidence_row(ev, index, redactor)
        item: dict[str, Any] = {"input": row.input, "time": row.time, "role": row.role, "summary": row.summary}
        if ev.frames:
            item["frames"] = list(ev.frames)
        if ev.har_entry is not None:
            item["harEntry"] = ev.har_entry
        if ev.tcp_stream is not None:
            item["tcpStream"] = ev.tcp_stream
        if row.wireshark_filter:
            item["wiresharkFilter"] = row.wireshark_filter
        if row.backend:
            item["backend"] = row.backend
        if row.cookies_sent:
            item["cookiesSent"] = list(row.cookies_sent)
        if row.set_cookies:
            item["setCookies"] = list(row.set_cookies)
        evidence.append(item)
    props: dict[str, Any] = {
        "severity": f.severity.label,
        "confidence": f.confidence.value,
        "kind": f.kind,
        "client": display(f.client, 200),
        "firstSeen": f.first_seen,
        "lastSeen": f.last_seen,
        "evidence": evidence,
    }
    if f.clients:
        props["clients"] = [display(c, 200) for c in f.clients]
    if f.cookie:
        props["cookie"] = display(f.cookie, 200)
    if f.root_cause:
        props["rootCause"] = display(f.root_cause, 1000)
    if f.details:
        props["details"] = {display(k, 80): display(v, 600) for k, v in f.details}
    if len(f.evidence) > EVIDENCE_PER_RESULT:
        props["evidenceOmitted"] = len(f.evidence) - EVIDENCE_PER_RESULT
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity),
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(f.input)},
                    "region": {"startLine": 1},
                },
                "message": {"text": where or "whole input"},
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": props,
    }


def cited(report: AnalysisReport) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The transactions the results' evidence cites (``model.report.CitedWanted``)."""
    return cited_transactions(report.findings, EVIDENCE_PER_RESULT)


def sarif_dict(
    report: AnalysisReport, *, redactor: Redactor, rule_docs: Mapping[str, RuleDoc] | None = None
) -> dict[str, Any]:
    """The SARIF log as a dict (tests validate it against the vendored 2.1.0 schema)."""
    report = redacted_report(report, redactor)
    runs = {r.code: r for r in report.rule_runs}
    samples: dict[str, Finding] = {}
    for f in report.findings:
        samples.setdefault(f.rule, f)
    codes = sorted(set(runs) | set(samples))
    rules = [_rule(c, rule_docs.get(c) if rule_docs else None, runs.get(c), samples.get(c)) for c in codes]
    position = {c: i for i, c in enumerate(codes)}
    index = TxIndex(report)
    notifications: list[dict[str, Any]] = [
        {
            "descriptor": {"id": r.code},
            "level": "error",
            "message": {"text": display(f"{r.code} {r.name} failed: {r.reason or 'error'}", 1000)},
        }
        for r in report.rule_runs
        if r.status == "errored"
    ]
    notifications += [
        {
            "descriptor": {"id": display(d.code, 80)},
            "level": "error" if d.level.value == "error" else "warning",
            "message": {"text": display(f"{d.message}" + (f" ({d.position})" if d.position else ""), 600)},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(i.path)}}}],
        }
        for i in report.inputs
        for d in i.diagnostics[:50]
        if d.level.value in ("error", "warning")
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not any(r.status == "errored" for r in report.rule_runs)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": report.tool_version,
                        "semanticVersion": report.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "artifacts": [
                    {"location": {"uri": artifact_uri(i.path)}, "roles": ["analysisTarget"]} for i in report.inputs
                ],
                "results": [_result(f, position[f.rule], index, redactor) for f in report.findings],
                "properties": {"schemaVersion": report.schema_version},
            }
        ],
    }


def render_sarif(
    report: AnalysisReport,
    *,
    redactor: Redactor,
    fail_on: Severity = Severity.HIGH,
    rule_docs: Mapping[str, RuleDoc] | None = None,
) -> str:
    """The report as a SARIF 2.1.0 log (``fail_on`` does not change levels; see the module docstring)."""
    del fail_on
    out = io.StringIO()
    write_json_payload(sarif_dict(report, redactor=redactor, rule_docs=rule_docs), out)  # as render_json writes
    return out.getvalue()
