"""What every detector receives: the sessions, the inputs and the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.config import Config
from stickyforensics.detect.rule import Rule
from stickyforensics.detect.stickiness import Incident, classify_session
from stickyforensics.model import ClientSession, Confidence, Evidence, Finding, InputSummary, Severity


@dataclass
class DetectContext:
    sessions: tuple[ClientSession, ...]
    inputs: tuple[InputSummary, ...]
    config: Config
    _incidents: dict[str, list[Incident]] = field(default_factory=dict)

    def incidents(self, session: ClientSession) -> list[Incident]:
        """The session's root-cause incidents, computed once and shared by the stickiness rules."""
        key = session.key.strategy + ":" + session.key.value
        if key not in self._incidents:
            self._incidents[key] = classify_session(session, self.config)
        return self._incidents[key]

    def input_format(self, path: str) -> str:
        for summary in self.inputs:
            if summary.path == path:
                return summary.format
        return "unknown"


def make_finding(
    rule: Rule,
    *,
    message: str,
    input: str,
    client: str,
    first_seen: float,
    last_seen: float,
    evidence: tuple[Evidence, ...] | list[Evidence] = (),
    cookie: str | None = None,
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    details: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    root_cause: str | None = None,
    clients: tuple[str, ...] = (),
) -> Finding:
    remediation = "\n".join(f"{vendor}: {fix}" for vendor, fix in rule.remediation)
    return Finding(
        rule=rule.code,
        rule_name=rule.name,
        kind=rule.kind,
        title=rule.title,
        severity=severity if severity is not None else rule.severity,
        confidence=confidence if confidence is not None else rule.confidence,
        message=message,
        input=input,
        client=client,
        first_seen=first_seen,
        last_seen=last_seen,
        cookie=cookie,
        evidence=tuple(evidence),
        details=tuple(details),
        root_cause=root_cause,
        remediation=remediation,
        clients=clients,
    )
