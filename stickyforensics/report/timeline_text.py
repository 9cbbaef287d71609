"""`stickyforensics cookies`: each client's cookie timeline as plain text (redacted)."""

from __future__ import annotations

import datetime as dt

from stickyforensics.model import AnalysisReport, ClientSession, CookieEventKind
from stickyforensics.report.redact import Redactor, clean_text

_ARROW = {
    CookieEventKind.SET: "set     <-",
    CookieEventKind.CHANGED: "changed <-",
    CookieEventKind.DELETED: "deleted <-",
    CookieEventKind.REJECTED: "REJECTED<-",
    CookieEventKind.SENT: "sent    ->",
    CookieEventKind.MISSING: "MISSING  ",
    CookieEventKind.UNEXPECTED: "odd     ->",
    CookieEventKind.EXPIRED: "expired  ",
}


def _ts(at: float) -> str:
    return dt.datetime.fromtimestamp(at, tz=dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def render_timelines(report: AnalysisReport, *, redactor: Redactor, limit_per_client: int = 400) -> str:
    text = "".join(client_timeline(s, redactor=redactor, limit=limit_per_client) for s in report.sessions)
    return text or "\n"


def client_timeline(session: ClientSession, *, redactor: Redactor, limit: int = 400) -> str:
    """One client's part of ``render_timelines``: its heading, its events, a blank line."""
    lines: list[str] = []
    tx_by_id = {tx.id: tx for tx in session.transactions}
    cookies = ", ".join(f"{n} ({i.vendor}, {i.role.value})" for n, i in session.persistence_cookies) or "none"
    lines.append(
        f"== client {clean_text(session.key.value)} ({session.key.strategy}); "
        f"{len(session.transactions)} transactions; cookies: {clean_text(cookies)}"
    )
    if session.cookie_data != "present":
        lines.append("   cookie data absent: stickiness cannot be judged")
    shown = 0
    last_sent: dict[str, str] = {}
    for ev in session.cookie_events:
        if ev.kind is CookieEventKind.SENT and last_sent.get(ev.name) == ev.value and not ev.detail:
            continue  # repeated sends of the same value add nothing
        if ev.kind is CookieEventKind.SENT and ev.value is not None:
            last_sent[ev.name] = ev.value
        tx = tx_by_id.get(ev.transaction_id)
        where = tx.provenance.locator() if tx is not None else "?"
        req = f"{tx.request.method} {redactor.text(tx.request.target)[:60]}" if tx is not None else ""
        status = f" -> {tx.response.status}" if tx is not None and tx.response is not None else ""
        value = redactor.token(ev.value) if ev.value is not None else ""
        extra = []
        if ev.previous is not None and ev.kind in (CookieEventKind.CHANGED, CookieEventKind.UNEXPECTED):
            extra.append(f"was {redactor.token(ev.previous)}")
        if ev.persistence is not None and ev.persistence.backend and ev.persistence.status == "decoded":
            extra.append(f"backend {ev.persistence.backend}")
        if ev.reason:
            extra.append(f"reason {ev.reason}")
        if ev.detail:
            extra.append(redactor.text(ev.detail))
        if ev.attributes and ev.kind in (CookieEventKind.SET, CookieEventKind.CHANGED):
            extra.append("; ".join(ev.attributes))
        lines.append(
            clean_text(
                f"   {_ts(ev.at)} {where:<14} {_ARROW.get(ev.kind, ev.kind.value):<10} {ev.name}={value}  "
                f"[{req}{status}]" + (f"  ({'; '.join(extra)})" if extra else ""),
                500,
            )
        )
        shown += 1
        if shown >= limit:
            lines.append(f"   ... more events not shown (limit {limit})")
            break
    lines.append("")
    return "\n".join(lines) + "\n"
