"""View helpers shared by the HTML, Markdown, JUnit, SARIF and GitHub reporters.

Every reporter is a pure function of the immutable ``AnalysisReport``; what they share is
here so that the same finding reads the same way in every format:

* ``RuleDoc``: a rule's documentation, filled by the CLI from the catalog (the report layer
  never loads rules itself);
* ``display``: the one place captured text is made displayable. Captured bytes are hostile
  and arbitrary: control characters, bidi overrides and lone surrogates (from
  ``surrogateescape`` decoding) become visible escapes, so they can neither reorder what a
  reader sees nor break an encoder when the report is written;
* ``TxIndex`` and ``evidence_rows``: evidence joined with its transaction (request line,
  cookies sent, Set-Cookie received, backend), always through the ``Redactor``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from stickyforensics.model import (
    AnalysisReport,
    ClientSession,
    Evidence,
    Finding,
    Severity,
    Transaction,
)
from stickyforensics.report.redact import Redactor
from stickyforensics.report.verdict import verdict

TOOL_NAME = "stickyforensics"
INFORMATION_URI = "https://pypi.org/project/stickyforensics/"


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """What a reader needs to understand a rule and fix what it found (from the rule catalog)."""

    code: str
    name: str
    title: str
    kind: str
    category: str
    severity: Severity
    summary: str
    why: str
    example: str
    what_to_check: tuple[str, ...]
    remediation: tuple[tuple[str, str], ...]
    """(vendor or family id, fix) pairs; ``general`` applies to every vendor."""
    falsepositives: tuple[str, ...]
    references: tuple[str, ...]


# Bidi embeddings/overrides/isolates, marks and zero-width format characters: they change what a
# reader sees without being visible themselves (CVE-2021-42574 "trojan source").
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = re.compile("[\t\n]")


def display(text: str | None, limit: int = 400) -> str:
    """Captured text as a reader may see it: invisible and control characters shown as escapes.

    Newlines and tabs become spaces (one record is one line), C0/C1 controls become ``\\xNN``,
    bidi and zero-width characters become ``\\uNNNN``, lone surrogates (undecodable bytes kept by
    ``surrogateescape``) become ``\\xNN`` of the original byte. Bounded to ``limit`` characters.
    """
    if not text:
        return ""
    out = _WS.sub(" ", text)
    out = _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) & 0xFF:02x}", out)
    out = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", out)
    out = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def redact_target(target: str, redactor: Redactor) -> str:
    """A request target with URL-borne session identifiers replaced by their pseudonyms."""
    return redactor.text(target)


def fmt_time(epoch: float | None, *, date: bool = True) -> str:
    """Capture time as UTC text (``2023-11-14 22:13:20.123Z``); never the time of the run."""
    if epoch is None:
        return "-"
    try:
        moment = datetime.fromtimestamp(epoch, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return f"{epoch:.3f}"
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z"


def fmt_duration(seconds: float) -> str:
    """``+1 h 02 m``, ``+3 m 20 s``, ``+12.5 s``: offsets on a timeline axis."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"+{seconds:.1f} s" if seconds < 10 and seconds != int(seconds) else f"+{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"+{minutes} m {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"+{hours} h {minutes:02d} m"
    days, hours = divmod(hours, 24)
    return f"+{days} d {hours:02d} h"


def locator(ev: Evidence) -> str:
    """``frames 12, 14`` / ``frame 12`` / ``HAR entry 3``, or ``""`` when the evidence has neither."""
    if ev.har_entry is not None:
        return f"HAR entry {ev.har_entry}"
    if ev.frames:
        label = "frame" if len(ev.frames) == 1 else "frames"
        return f"{label} {', '.join(str(n) for n in ev.frames)}"
    return ""


def finding_locators(f: Finding, limit: int = 3) -> str:
    """Where to look for a finding, in one line: ``frames 12, 14; frames 40, 41 (+3 more)``."""
    places = [loc for loc in (locator(ev) for ev in f.evidence) if loc]
    places = list(dict.fromkeys(places))
    if not places:
        return ""
    text = "; ".join(places[:limit])
    if len(places) > limit:
        text += f" (+{len(places) - limit} more)"
    return text


def first_filter(f: Finding) -> str | None:
    """The Wireshark display filter of the finding's first evidence that has one."""
    for ev in f.evidence:
        if ev.wireshark_filter:
            return ev.wireshark_filter
    return None


def sarif_level(severity: Severity) -> str:
    """critical/high -> ``error``, medium -> ``warning``, low/info -> ``note`` (SARIF levels)."""
    if severity >= Severity.HIGH:
        return "error"
    if severity >= Severity.MEDIUM:
        return "warning"
    return "note"


def input_path(path: str) -> str:
    """An input path with forward slashes and no ``./`` (GitHub's ``file=`` wants repository paths).

    Absolute paths stay absolute: the report does not know the repository root, and guessing it
    from the working directory would make output depend on where it was rendered.
    """
    norm = path.replace("\\", "/")
    if norm:
        norm = posixpath.normpath(norm)
        norm = "" if norm == "." else norm
    return _SURROGATE.sub(lambda m: chr(ord(m.group()) & 0xFF), norm)


def artifact_uri(path: str) -> str:
    """An input path as a URI reference (SARIF ``artifactLocation.uri``).

    Relative paths stay relative (what code scanning resolves against the repository); absolute
    ones (``/x``, ``C:\\x``) become ``file://`` URIs. Characters a URI may not hold, and ``:``
    (which would read as a scheme), are percent-encoded, so a hostile file name stays one path.
    """
    norm = input_path(path)
    if _DRIVE.match(norm):
        return "file:///" + norm[:2] + quote(norm[2:], safe=_URI_SAFE)
    if norm.startswith("/"):
        return "file://" + quote(norm, safe=_URI_SAFE)
    return quote(norm, safe=_URI_SAFE)


_DRIVE = re.compile(r"^[A-Za-z]:/")
_URI_SAFE = "/-._~!$&'()*+,;=@"


@dataclass(frozen=True, slots=True)
class VerdictView:
    status: str
    """``broken``, ``sticky``, ``undetermined`` or ``no-traffic`` (see ``report.verdict``)."""
    headline: str
    sentence: str


_HEADLINES = {
    "broken": "Stickiness is broken",
    "sticky": "Sessions stayed sticky",
    "undetermined": "Cannot be judged: cookie data absent",
    "no-traffic": "No HTTP traffic found",
}


def verdict_view(report: AnalysisReport) -> VerdictView:
    status, sentence = verdict(report)
    return VerdictView(status=status, headline=_HEADLINES.get(status, status), sentence=display(sentence, 1000))


def group_by_client(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings per client, clients in order of their worst finding (findings arrive sorted)."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.client, []).append(f)
    return list(groups.items())


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(sorted(Severity, reverse=True), 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


class TxIndex:
    """Transactions and backend observations by transaction id, across every client.

    With ``--jobs`` the sessions are summaries: the reporters that build one ask ``analyze`` for the
    transactions their evidence cites (``cited``, from ``cited_transactions``), or the rows would lose them.
    """

    def __init__(self, report: AnalysisReport) -> None:
        self._tx: dict[str, tuple[ClientSession, Transaction]] = {}
        self._backend: dict[str, str] = {}
        for session in report.sessions:
            for tx in session.transactions:
                self._tx.setdefault(tx.id, (session, tx))
            for obs in session.backends:
                if obs.backend is not None:
                    self._backend.setdefault(obs.transaction_id, obs.backend)

    def get(self, tx_id: str | None) -> tuple[ClientSession, Transaction] | None:
        return self._tx.get(tx_id) if tx_id is not None else None

    def backend(self, tx_id: str | None) -> str | None:
        return self._backend.get(tx_id) if tx_id is not None else None


def cited_transactions(
    findings: Iterable[Finding], per_finding: int | None
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """What a report that joins the first ``per_finding`` evidence items (None: all) of each of ``findings``
    with their transactions reads (``model.report.CitedWanted``): the finding's clients, the transaction ids."""
    for f in findings:
        ids = tuple(ev.transaction_id for ev in f.evidence[:per_finding] if ev.transaction_id is not None)
        if ids:
            yield (f.client, *f.clients), ids


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One evidence line joined with its transaction; every text field is display-safe and redacted."""

    time: str
    clock: str
    where: str
    input: str
    role: str
    request: str
    status: str
    backend: str
    client: str
    cookies_sent: tuple[str, ...]
    set_cookies: tuple[str, ...]
    other_excerpts: tuple[str, ...]
    summary: str
    wireshark_filter: str


def _split_excerpts(lines: Iterable[str], redactor: Redactor) -> tuple[list[str], list[str], list[str]]:
    sent: list[str] = []
    received: list[str] = []
    other: list[str] = []
    for line in lines:
        name, sep, value = line.partition(":")
        lname = name.strip().lower()
        if sep and lname == "cookie":
            sent.extend(p for p in redactor.cookie_header(value.strip()).split("; ") if p)
        elif sep and lname == "set-cookie":
            received.append(redactor.set_cookie_header(value.strip()))
        else:
            other.append(redactor.excerpt(line))
    return sent, received, other


def evidence_row(ev: Evidence, index: TxIndex, redactor: Redactor) -> EvidenceRow:
    """Evidence as a table row: the transaction's cookies (redacted) or, failing it, the excerpts."""
    found = index.get(ev.transaction_id)
    sent, received, other = _split_excerpts(ev.excerpts, redactor)
    request = status = client = ""
    if found is not None:
        session, tx = found
        client = session.key.value
        request = f"{tx.request.method} {redact_target(tx.request.target, redactor)}"
        tx_sent = [p for v in tx.request.headers.get_all("Cookie") for p in redactor.cookie_header(v).split("; ") if p]
        sent = tx_sent or sent
        if tx.response is not None:
            status = f"{tx.response.status} {tx.response.reason}".strip()
            received = [redactor.set_cookie_header(v) for v in tx.response.headers.get_all("Set-Cookie")] or received
        else:
            status = "no response"
    return EvidenceRow(
        time=fmt_time(ev.time),
        clock=fmt_time(ev.time, date=False),
        where=locator(ev),
        input=display(ev.input, 200),
        role=display(ev.role, 20),
        request=display(request, 200),
        status=display(status, 60),
        backend=display(index.backend(ev.transaction_id) or "", 80),
        client=display(client, 80),
        cookies_sent=tuple(display(c, 200) for c in sent),
        set_cookies=tuple(display(c, 300) for c in received),
        other_excerpts=tuple(display(c, 300) for c in other),
        summary=display(ev.summary, 400),
        wireshark_filter=display(ev.wireshark_filter or "", 300),
    )


def rule_doc_for(code: str, rule_docs: Mapping[str, RuleDoc] | None) -> RuleDoc | None:
    return rule_docs.get(code) if rule_docs else None


def remediation_for(doc: RuleDoc, families: Iterable[str]) -> list[tuple[str, str]]:
    """The doc's fixes, the ones for the vendors seen in this client's cookies first."""
    seen = set(families)
    first = [(v, t) for v, t in doc.remediation if v in seen]
    rest = [(v, t) for v, t in doc.remediation if v not in seen]
    return first + rest


def relevant_fixes(doc: RuleDoc, families: Iterable[str]) -> list[tuple[str, str]]:
    """The fixes that apply here: those for the vendors seen, then ``general``; all when none match."""
    seen = set(families)
    picked = [(v, t) for v, t in doc.remediation if v in seen] + [(v, t) for v, t in doc.remediation if v == "general"]
    return picked or list(doc.remediation)


def remediation_lines(text: str | None) -> tuple[str, ...]:
    """A finding's own remediation text (``vendor: fix`` lines) as display-safe lines."""
    return tuple(display(line, 1000) for line in (text or "").splitlines() if line.strip())
