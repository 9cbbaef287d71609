"""Findings: what the rules report, with evidence a person can verify."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (info, low, medium, high, critical)") from None


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FindingKind(StrEnum):
    """Stable snake_case kinds, part of the JSON contract."""

    MISSING_COOKIE = "missing_cookie"
    SERVER_FLIP = "server_flip"
    DATACENTER_FLIP = "datacenter_flip"
    CACHED_SET_COOKIE_REPLAY = "cached_set_cookie_replay"
    SESSION_TIMEOUT = "session_timeout"
    CACHEABLE_SET_COOKIE = "cacheable_set_cookie"
    INTERNAL_ADDRESS_DISCLOSED = "internal_address_disclosed"
    INSECURE_PERSISTENCE_COOKIE = "insecure_persistence_cookie"
    COOKIE_SCOPE_DROPS = "cookie_scope_drops"
    DUPLICATE_COOKIE = "duplicate_cookie"
    OVERSIZED_COOKIE_HEADER = "oversized_cookie_header"
    COOKIE_DATA_ABSENT = "cookie_data_absent"
    SESSION_KEEPALIVE_POLLING = "session_keepalive_polling"
    TLS_NOT_DECRYPTED = "tls_not_decrypted"
    EXPECTATION_VIOLATED = "expectation_violated"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One verifiable piece of evidence: a transaction and what it shows."""

    input: str
    time: float
    summary: str
    """One line: ``GET /upload/.test.txt -> 401 (no NSC_xyz cookie)``."""
    transaction_id: str | None = None
    frames: tuple[int, ...] = ()
    """Wireshark frame numbers (request first)."""
    har_entry: int | None = None
    tcp_stream: int | None = None
    wireshark_filter: str | None = None
    excerpts: tuple[str, ...] = ()
    """Header lines (raw, e.g. ``Cookie: NSC_x=...``); redacted when rendered."""
    role: str = "evidence"
    """``trigger`` (the cause), ``effect`` (consequence), ``context``, ``evidence``."""

    @property
    def frame(self) -> int | None:
        return self.frames[0] if self.frames else None


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem."""

    rule: str
    """Rule code, e.g. ``SF301``."""
    rule_name: str
    kind: str
    """A ``FindingKind`` value."""
    title: str
    severity: Severity
    confidence: Confidence
    message: str
    input: str
    """Input path (the first, when a client spans several)."""
    client: str
    """Client identity (IP for captures, HAR file name for HARs), or ``*`` for cross-client findings."""
    first_seen: float
    last_seen: float
    cookie: str | None = None
    evidence: tuple[Evidence, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    """Ordered key facts (``backend_before``, ``traits``, ``consequence``...)."""
    root_cause: str | None = None
    """One sentence naming the cause, for the report's verdict."""
    remediation: str | None = None
    clients: tuple[str, ...] = field(default=())
    """All clients involved (cross-client findings)."""

    @property
    def fingerprint(self) -> str:
        """Stable id that ignores frames and times, so baselines match new recordings."""
        basis = "\x1f".join((self.rule, self.kind, self.client, self.cookie or "", *sorted(self.clients)))
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def detail(self, key: str) -> str | None:
        for k, v in self.details:
            if k == key:
                return v
        return None


def finding_sort_key(f: Finding) -> tuple[int, str, str, float, str, str, str]:
    """Severity descending, rule code, client, first evidence time; then cookie, message and first evidence's
    transaction: a total order, so the report's order does not depend on which process found what (two
    clients may share a name: ``ip 10.0.0.5`` and ``xff 10.0.0.5``)."""
    first = (f.evidence[0].transaction_id or "") if f.evidence else ""
    return (-int(f.severity), f.rule, f.client, f.first_seen, f.cookie or "", f.message, first)
