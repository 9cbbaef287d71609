"""The one-line verdict every view opens with: sticky, broken, or cannot be judged."""

from __future__ import annotations

from stickyforensics.model import AnalysisReport, FindingKind

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
