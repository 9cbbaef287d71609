"""GitHub Actions workflow commands: one annotation per finding (``::error file=...,title=...::msg``).

Escaping follows the Actions toolkit (``@actions/core`` ``command.ts``): in the message ``%``,
``\\r`` and ``\\n`` become ``%25``, ``%0D`` and ``%0A``; in property values ``:`` and ``,`` also
become ``%3A`` and ``%2C``. A hostile header therefore cannot end the line and start a command of
its own (``::add-mask::``, ``::stop-commands::``) or smuggle a property. Findings at or above
``--fail-on`` are errors, so the annotations agree with the exit code; below it, medium
findings are warnings and the rest notices.
"""

from __future__ import annotations

from collections.abc import Mapping

from stickyforensics.model import AnalysisReport, Finding, Severity
from stickyforensics.report.common import (
    RuleDoc,
    display,
    finding_locators,
    first_filter,
    input_path,
    verdict_view,
)
from stickyforensics.report.redact import Redactor, redacted_report


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_level(severity: Severity, fail_on: Severity) -> str:
    if severity >= fail_on:
        return "error"
    if severity >= Severity.MEDIUM:
        return "warning"
    return "notice"


def _line(f: Finding, fail_on: Severity) -> str:
    message = display(f.message, 1000)
    client = "all clients" if f.client == "*" else display(f.client, 120)
    where = finding_locators(f)
    ws_filter = first_filter(f)
    extra = [f"client {client}"]
    if where:
        extra.append(where)
    if ws_filter:
        extra.append(f"Wireshark filter: {display(ws_filter, 300)}")
    if f.root_cause and f.root_cause not in f.message:
        message += f". Root cause: {display(f.root_cause, 600)}"
    title = display(f"{f.rule} {f.title}", 200)
    props = f"file={escape_property(display(input_path(f.input), 500))},title={escape_property(title)}"
    return f"::{annotation_level(f.severity, fail_on)} {props}::{escape_data(message + ' (' + '; '.join(extra) + ')')}"


def render_github(
    report: AnalysisReport,
    *,
    redactor: Redactor,
    fail_on: Severity = Severity.HIGH,
    rule_docs: Mapping[str, RuleDoc] | None = None,
) -> str:
    """Workflow commands, one line per finding; with no finding, one notice carrying the verdict.

    An annotation carries the finding's message, client and locators, never header excerpts or
    cookie values; URL-borne secrets quoted in messages are redacted (``redacted_report``).
    """
    del rule_docs
    report = redacted_report(report, redactor)
    lines = [_line(f, fail_on) for f in report.findings]
    if not lines:
        v = verdict_view(report)
        lines.append(f"::notice title={escape_property('stickyforensics: ' + v.headline)}::{escape_data(v.sentence)}")
    return "\n".join(lines) + "\n"
