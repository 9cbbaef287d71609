"""What every detector receives: the sessions, the inputs and the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.config import Config
from stickyforensics.detect.facts import BodyMarkers
from stickyforensics.detect.rule import Rule
from stickyforensics.detect.set_cookie_digest import SetCookieDigest, digest_sessions
from stickyforensics.detect.stickiness import Incident, Polling, classify_session, find_polling
from stickyforensics.model import (
    ClientSession,
    Confidence,
    Evidence,
    Finding,
    InputSummary,
    Severity,
    Transaction,
)
from stickyforensics.track.cookieparse import cookie_header_values


@dataclass
class DetectContext:
    sessions: tuple[ClientSession, ...]
    inputs: tuple[InputSummary, ...]
    config: Config
    scope: str = "all"
    """``all``, ``session`` or ``global`` (see ``engine.run_rules``)."""
    digest: SetCookieDigest | None = None
    """The ``Set-Cookie`` digest of every client, given by ``--jobs`` (built from ``sessions`` otherwise)."""
    _incidents: dict[str, list[Incident]] = field(default_factory=dict)
    _by_id: dict[int, dict[str, Transaction]] = field(default_factory=dict)
    _polling: dict[int, list[Polling]] = field(default_factory=dict)
    _markers: BodyMarkers | None = None
    _cookie_headers: dict[int, list[tuple[str, ...]]] = field(default_factory=dict)

    def incidents(self, session: ClientSession) -> list[Incident]:
        """The session's root-cause incidents, computed once and shared by the stickiness rules."""
        key = session.key.strategy + ":" + session.key.value
        if key not in self._incidents:
            judged = session.cookie_data == "present" and session.transactions
            polling = self.polling(session) if judged else None
            if self._markers is None:
                self._markers = BodyMarkers(self.config.body_markers)
            self._incidents[key] = classify_session(session, self.config, polling=polling, markers=self._markers)
        return self._incidents[key]

    def tx_by_id(self, session: ClientSession) -> dict[str, Transaction]:
        """The session's transactions by id, built once for all the rules (do not modify)."""
        found = self._by_id.get(id(session))
        if found is None:
            found = self._by_id[id(session)] = {tx.id: tx for tx in session.transactions}
        return found

    def cookie_headers(self, session: ClientSession) -> list[tuple[str, ...]]:
        """The ``Cookie`` header values of each of the session's requests, in order, read once for the
        rules that look at them (do not modify)."""
        found = self._cookie_headers.get(id(session))
        if found is None:
            found = self._cookie_headers[id(session)] = [
                cookie_header_values(tx.request.headers) for tx in session.transactions
            ]
        return found

    def polling(self, session: ClientSession) -> list[Polling]:
        """``find_polling`` over the session's transactions, computed once (do not modify)."""
        found = self._polling.get(id(session))
        if found is None:
            found = self._polling[id(session)] = find_polling(session.transactions, self.config.polling_min_requests)
        return found

    def set_cookie_digest(self) -> SetCookieDigest:
        """What SF201, SF305 and SF401 read (``set_cookie_digest``), built once."""
        if self.digest is None:
            self.digest = digest_sessions(self.sessions)
        return self.digest

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
