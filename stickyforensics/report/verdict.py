"""The one-line verdict every view opens with: sticky, broken, or cannot be judged."""

from __future__ import annotations

from stickyforensics.model import AnalysisReport, FindingKind
from stickyforensics.model.diagnostics import HEADS_CUT

STICKINESS_KINDS = frozenset(
    {
        FindingKind.MISSING_COOKIE.value,
        FindingKind.SERVER_FLIP.value,
        FindingKind.DATACENTER_FLIP.value,
        FindingKind.CACHED_SET_COOKIE_REPLAY.value,
        FindingKind.SESSION_TIMEOUT.value,
    }
)


def verdict(report: AnalysisReport) -> tuple[str, str]:
    """(``broken`` | ``sticky`` | ``undetermined`` | ``no-traffic``, one sentence naming the root cause)."""
    sticky_findings = [f for f in report.findings if f.kind in STICKINESS_KINDS]
    if sticky_findings:
        top = sticky_findings[0]
        clients = sorted({f.client for f in sticky_findings})
        cause = top.root_cause or top.message
        more = f" ({len(sticky_findings)} incident(s) across {len(clients)} client(s))"
        return "broken", f"Stickiness is broken for {top.client}: {cause}{more}."
    if not report.sessions:
        return "no-traffic", "No HTTP transactions were found in the inputs."
    unread = _unread_headers(report)
    if unread is not None:
        return "undetermined", unread
    if all(s.cookie_data != "present" for s in report.sessions):
        return "undetermined", "Cookie data is absent from the inputs: stickiness cannot be judged."
    with_cookies = [s for s in report.sessions if s.persistence_cookies]
    if not with_cookies:
        return "sticky", (
            f"No stickiness anomalies in {len(report.sessions)} client(s); no persistence or session cookie was seen, "
            "so any stickiness relies on source addresses."
        )
    suppressed = dict(report.stats).get("suppressed_by_baseline", 0)
    note = f" ({suppressed} known finding(s) suppressed by the baseline)" if suppressed else ""
    return "sticky", f"No stickiness anomalies: {len(report.sessions)} client(s) kept their sessions{note}."


CUT_SHARE = 0.1
"""The share of requests with a cut header block from which finding nothing says nothing about stickiness: a few
cut by lost packets change little, a short snaplen cuts them all (``tcpdump -s 300`` cuts every Cookie header)."""


def _unread_headers(report: AnalysisReport) -> str | None:
    """The verdict's sentence when too many header blocks were cut to judge (``HEADS_CUT``), else None."""
    cut = sum(d.count for i in report.inputs for d in i.diagnostics if d.code == HEADS_CUT)
    exchanges = sum(i.transactions for i in report.inputs)
    if not exchanges or cut < CUT_SHARE * exchanges:
        return None
    return (
        f"No stickiness anomaly was seen, but the header blocks of {cut} of {exchanges} requests were cut (a "
        "short snaplen, or capture gaps): the cookies they carried could not be read, so stickiness cannot be "
        "judged; recapture with -s 0 (whole packets)."
    )
