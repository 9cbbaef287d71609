"""The JUnit XML report: the analysis as CI test results, one test case per rule and input.

Shape (valid against the common JUnit XSD, ``docs/schemas/junit.xsd``)::

    <testsuites name="stickyforensics" tests= failures= errors=>
      <testsuite name="<input path>" tests= failures= errors= skipped=>
        <testcase classname="stickyforensics.<category>" name="<code> <name>">
          <failure message="N finding(s): first message" type="<severity>">every finding + evidence</failure>
          <system-out>findings below --fail-on</system-out>
        </testcase>

Test names are stable across runs (rule code and name), so CI history tracks each rule. A finding
belongs to the suite of ``finding.input`` even when its client spans several inputs. Text is built
with ElementTree (which escapes markup) after removing characters XML 1.0 cannot carry at all.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping

from stickyforensics.model import AnalysisReport, Finding, RuleRun, Severity
from stickyforensics.report.common import (
    RuleDoc,
    TxIndex,
    cited_transactions,
    display,
    evidence_row,
    fmt_time,
    remediation_lines,
)
from stickyforensics.report.redact import Redactor, redacted_report

EVIDENCE_PER_FINDING = 10
FINDINGS_PER_CASE = 100

# Characters outside XML 1.0's Char production (plus the C1 range, which display() already escapes).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Text an XML 1.0 document can hold: anything it cannot becomes U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _finding_text(f: Finding, index: TxIndex, redactor: Redactor) -> str:
    client = "all clients" if f.client == "*" else f.client
    lines = [
        f"[{f.severity.label}] {f.rule} {f.title}",
        f"  client: {display(client, 200)}"
        + (f" (with {', '.join(display(c, 80) for c in f.clients)})" if len(f.clients) > 1 else ""),
        f"  message: {display(f.message, 1000)}",
    ]
    if f.root_cause and f.root_cause not in f.message:
        lines.append(f"  root cause: {display(f.root_cause, 600)}")
    if f.cookie:
        lines.append(f"  cookie: {display(f.cookie, 120)}")
    lines.append(f"  seen: {fmt_time(f.first_seen)} .. {fmt_time(f.last_seen)}; fingerprint {f.fingerprint}")
    for k, v in f.details[:12]:
        lines.append(f"  {display(k, 60)}: {display(v, 300)}")
    for ev in f.evidence[:EVIDENCE_PER_FINDING]:
        row = evidence_row(ev, index, redactor)
        where = row.where or "no frame"
        lines.append(f"  - {where} of {row.input} at {row.time} ({row.role}): {row.summary}")
        if row.wireshark_filter:
            lines.append(f"      wireshark filter: {row.wireshark_filter}")
        for c in row.cookies_sent[:6]:
            lines.append(f"      sent: {c}")
        for c in row.set_cookies[:4]:
            lines.append(f"      set-cookie: {c}")
    if len(f.evidence) > EVIDENCE_PER_FINDING:
        lines.append(f"  - and {len(f.evidence) - EVIDENCE_PER_FINDING} more evidence item(s)")
    for line in remediation_lines(f.remediation)[:6]:
        lines.append(f"  fix: {line}")
    return "\n".join(lines)


def _findings_text(findings: list[Finding], index: TxIndex, redactor: Redactor) -> str:
    text = "\n\n".join(_finding_text(f, index, redactor) for f in findings[:FINDINGS_PER_CASE])
    if len(findings) > FINDINGS_PER_CASE:
        text += f"\n\n... and {len(findings) - FINDINGS_PER_CASE} more finding(s)"
    return xml_safe(text) + "\n"


def _case(
    run: RuleRun, findings: list[Finding], fail_on: Severity, index: TxIndex, redactor: Redactor, counts: dict[str, int]
) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": xml_safe(f"stickyforensics.{display(run.category, 60)}"),
            "name": xml_safe(f"{display(run.code, 20)} {display(run.name, 100)}"),
            "time": "0",
        },
    )
    counts["tests"] += 1
    if run.status == "errored":
        counts["errors"] += 1
        reason = display(run.reason or "the rule raised an error", 1000)
        err = ET.SubElement(case, "error", {"message": xml_safe(reason), "type": "RuleError"})
        err.text = xml_safe(reason) + "\n"
        return case
    if run.status == "skipped":
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", {"message": xml_safe(display(run.reason or "not applicable", 1000))})
        return case
    failing = [f for f in findings if f.severity >= fail_on]
    below = [f for f in findings if f.severity < fail_on]
    if failing:
        counts["failures"] += 1
        worst = max(f.severity for f in failing)
        message = f"{len(failing)} finding(s): {display(failing[0].message, 300)}"
        fail = ET.SubElement(case, "failure", {"message": xml_safe(message), "type": worst.label})
        fail.text = _findings_text(failing, index, redactor)
    if below:
        out = ET.SubElement(case, "system-out")
        out.text = f"{len(below)} finding(s) below --fail-on {fail_on.label}:\n\n" + _findings_text(
            below, index, redactor
        )
    return case


def _runs(report: AnalysisReport) -> list[RuleRun]:
    """The rule runs, plus a synthetic run for any finding whose rule is not listed (nothing is lost)."""
    runs = list(report.rule_runs)
    known = {r.code for r in runs}
    for f in report.findings:
        if f.rule not in known:
            known.add(f.rule)
            runs.append(
                RuleRun(code=f.rule, name=f.rule_name, kind=f.kind, title=f.title, category="other", status="ran")
            )
    return runs


def cited(report: AnalysisReport) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The transactions the failures' evidence cites (``model.report.CitedWanted``)."""
    return cited_transactions(report.findings, EVIDENCE_PER_FINDING)


def render_junit(
    report: AnalysisReport,
    *,
    redactor: Redactor,
    fail_on: Severity = Severity.HIGH,
    rule_docs: Mapping[str, RuleDoc] | None = None,
) -> str:
    """The report as JUnit XML (``rule_docs`` is accepted for a uniform signature; JUnit has no place for it)."""
    del rule_docs
    report = redacted_report(report, redactor)
    index = TxIndex(report)
    runs = _runs(report)
    paths = list(dict.fromkeys([i.path for i in report.inputs] + [f.input for f in report.findings]))
    root = ET.Element("testsuites", {"name": "stickyforensics"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths or ["stickyforensics"]:
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite", {"name": xml_safe(display(path, 500))})
        mine = [f for f in report.findings if f.input == path]
        if runs:
            for run in runs:
                suite.append(_case(run, [f for f in mine if f.rule == run.code], fail_on, index, redactor, counts))
        else:
            ET.SubElement(suite, "testcase", {"classname": "stickyforensics", "name": "analysis", "time": "0"})
            counts["tests"] += 1
        for key in ("tests", "failures", "errors", "skipped"):
            suite.set(key, str(counts[key]))
            totals[key] += counts[key]
        suite.set("time", "0")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(totals[key]))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
