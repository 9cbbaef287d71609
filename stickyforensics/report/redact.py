"""Secret redaction shared by every reporter.

Cookie values, Authorization credentials and bodies are replaced by a short keyed
hash (HMAC-SHA256), so equal secrets show the same pseudonym everywhere in one
report ("token A seen by clients 1 and 3") without exposing the value. The key is
random per run unless the caller fixes it (tests, or comparing two reports).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import replace

from stickyforensics.model import AnalysisReport, Evidence, Finding

_SENSITIVE_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization", "x-api-key"})
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Secrets some applications carry in URLs: session ids (``;jsessionid=``, ``?sid=``), tokens, keys,
# passwords, OAuth codes and states, CAS tickets, SAML messages. Only such names: ``?page=2`` stays.
_URL_SECRET = re.compile(
    r"(?i)([;?&#](?:[\w.-]*?(?:sess|token|auth|key|pass|pwd|secret|ticket|signature|saml|jwt|cred)[\w.-]*"
    r"|sid|code|sig|state)=)([^;&#?/\s\"'<>()\[\]]+)"
)


class Redactor:
    """Turns secret values into stable pseudonyms like ``<h:3fa91c>``."""

    def __init__(self, key: bytes | None = None, *, reveal: bool = False) -> None:
        self.key = key if key is not None else os.urandom(16)
        self.reveal = reveal

    def token(self, value: str) -> str:
        """The pseudonym for one secret value (or the value itself with ``reveal``)."""
        if self.reveal:
            return value
        if value == "":
            return "<empty>"
        digest = hmac.new(self.key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
        return f"<h:{digest[:8]}>"

    def cookie_pair(self, name: str, value: str) -> str:
        return f"{name}={self.token(value)}"

    def cookie_header(self, header_value: str) -> str:
        """Redact every value of a ``Cookie`` header, keeping names and order."""
        if self.reveal:
            return header_value
        parts = []
        for item in header_value.split(";"):
            name, sep, value = item.strip().partition("=")
            parts.append(f"{name}={self.token(value)}" if sep else self.token(name))
        return "; ".join(parts)

    def set_cookie_header(self, header_value: str) -> str:
        """Redact the value of a ``Set-Cookie`` header, keeping its attributes."""
        if self.reveal:
            return header_value
        first, sep, attrs = header_value.partition(";")
        name, eq, value = first.strip().partition("=")
        head = f"{name}={self.token(value)}" if eq else self.token(name)
        return head + (sep + attrs if sep else "")

    def header(self, name: str, value: str) -> str:
        """A header value as it may be shown."""
        lname = name.lower()
        if self.reveal or lname not in _SENSITIVE_HEADERS:
            return value
        if lname == "cookie":
            return self.cookie_header(value)
        if lname == "set-cookie":
            return self.set_cookie_header(value)
        scheme, _, cred = value.partition(" ")
        return f"{scheme} {self.token(cred)}" if cred else self.token(value)

    def text(self, text: str) -> str:
        """Free text (a request target, a finding message) with URL-borne secrets replaced by pseudonyms."""
        if self.reveal or "=" not in text:
            return text
        return _URL_SECRET.sub(lambda m: m.group(1) + self.token(m.group(2)), text)

    def excerpt(self, line: str) -> str:
        """Redact a ``Name: value`` header line."""
        name, sep, value = line.partition(":")
        if not sep:
            return line
        return f"{name}: {self.header(name.strip(), value.strip())}"


def clean_text(text: str, limit: int = 400) -> str:
    """Captured text made safe for a terminal or log: control characters replaced, length bounded."""
    text = _CTRL.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence_text(ev: Evidence, redactor: Redactor) -> Evidence:
    # Cookie lines are redacted value by value when shown; only the other lines can carry URLs.
    excerpts = tuple(
        line if line.split(":", 1)[0].strip().lower() in ("cookie", "set-cookie") else redactor.text(line)
        for line in ev.excerpts
    )
    return replace(ev, summary=redactor.text(ev.summary), excerpts=excerpts)


def _finding_text(f: Finding, redactor: Redactor) -> Finding:
    return replace(
        f,
        message=redactor.text(f.message),
        root_cause=redactor.text(f.root_cause) if f.root_cause else f.root_cause,
        details=tuple((k, redactor.text(v)) for k, v in f.details),
        evidence=tuple(_evidence_text(ev, redactor) for ev in f.evidence),
    )


def redacted_report(report: AnalysisReport, redactor: Redactor) -> AnalysisReport:
    """The report with URL-borne secrets redacted in every captured text it carries.

    Detectors quote requests and redirects (``GET /report?sessionid=... -> 302``, ``redirect to
    login (/login?token=...)``) in messages, evidence summaries and details; every reporter
    renders this copy, so no format shows those values unless the redactor reveals them.
    """
    if redactor.reveal:
        return report
    inputs = tuple(
        replace(i, diagnostics=tuple(replace(d, message=redactor.text(d.message)) for d in i.diagnostics))
        for i in report.inputs
    )
    return replace(report, inputs=inputs, findings=tuple(_finding_text(f, redactor) for f in report.findings))
