"""An incident: one root cause of one client's stickiness anomalies, before it becomes a Finding."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.model import Confidence, Evidence, FindingKind, Severity

__all__ = ["Incident"]


@dataclass
class Incident:
    """One root cause for one client (becomes a Finding through its rule)."""

    kind: FindingKind
    client: str
    input: str
    cookie: str | None
    message: str
    root_cause: str
    evidence: list[Evidence]
    first_seen: float
    last_seen: float
    confidence: Confidence = Confidence.HIGH
    severity: Severity | None = None
    details: list[tuple[str, str]] = field(default_factory=list)
