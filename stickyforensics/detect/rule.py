"""A rule of the catalog, as loaded from its YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.model import Confidence, Severity

CATEGORY_PREFIX = {
    "capture": "0",
    "http": "1",
    "cookies": "2",
    "persistence": "3",
    "backend": "4",
    "timing": "5",
    "expectations": "6",
}
STATUSES = ("experimental", "test", "stable", "deprecated")


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    title: str
    kind: str
    category: str
    status: str
    since: str
    severity: Severity
    confidence: Confidence
    applies_to: tuple[str, ...]
    detector: str
    summary: str
    why: str
    example: str
    what_to_check: tuple[str, ...]
    remediation: tuple[tuple[str, str], ...]
    falsepositives: tuple[str, ...]
    references: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = field(default=())
    related: tuple[str, ...] = field(default=())
    path: str = ""

    def applies(self, input_format: str) -> bool:
        fmt = "pcap" if input_format in ("pcap", "pcapng") else input_format
        return fmt in self.applies_to
