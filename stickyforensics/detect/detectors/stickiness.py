"""The four per-client stickiness rules: each reports the incidents of its root-cause kind."""

from __future__ import annotations

from stickyforensics.detect.context import DetectContext, make_finding
from stickyforensics.detect.rule import Rule
from stickyforensics.model import Finding, Severity


def incidents_of_kind(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out: list[Finding] = []
    for session in ctx.sessions:
        if not any(rule.applies(ctx.input_format(p)) for p in session.inputs):
            continue
        for inc in ctx.incidents(session):
            if inc.kind.value != rule.kind:
                continue
            severity = inc.severity if inc.severity is not None else rule.severity
            if inc.severity is not None and inc.severity > rule.severity:
                severity = rule.severity
            out.append(
                make_finding(
                    rule,
                    message=inc.message,
                    input=inc.input,
                    client=inc.client,
                    first_seen=inc.first_seen,
                    last_seen=inc.last_seen,
                    evidence=inc.evidence,
                    cookie=inc.cookie,
                    severity=Severity(severity),
                    confidence=inc.confidence,
                    details=inc.details,
                    root_cause=inc.root_cause,
                )
            )
    return out
