"""Stickiness pass 2, ``missing_cookie``: a request lacked a routing or session cookie it should carry.

Either the jar says no RFC 6265 rule explains the omission (``client_dropped``: a client bug), or a
scope rule dropped the cookie on a request that needed the session (and the session suffered for it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from stickyforensics.detect.facts import evidence, is_login, is_static, request_line
from stickyforensics.detect.incident import Incident
from stickyforensics.detect.stickiness_view import SessionView, names_with_role, request_consequences
from stickyforensics.model import (
    Confidence,
    CookieEvent,
    CookieRole,
    Evidence,
    FindingKind,
    MissingReason,
    Severity,
    Transaction,
)
from stickyforensics.track.enum_members import CLIENT_DROPPED, MISSING, ROUTING, SENT, SESSION

__all__ = ["missing_cookie_incidents"]

_SCOPE_REASONS = {
    MissingReason.OUT_OF_PATH.value,
    MissingReason.OUT_OF_DOMAIN.value,
    MissingReason.SECURE_OVER_HTTP.value,
    MissingReason.SAMESITE.value,
    MissingReason.REJECTED.value,
    MissingReason.DELETED.value,
}

_TRAITS = (
    ("file name begins with a dot", lambda tx: tx.request.path.rstrip("/").rsplit("/", 1)[-1].startswith(".")),
    ("method is POST", lambda tx: tx.request.method == "POST"),
    ("method is PUT", lambda tx: tx.request.method == "PUT"),
    ("method is GET", lambda tx: tx.request.method == "GET"),
    ("URL has a query string", lambda tx: "?" in tx.request.target),
    ("path has percent-encoding", lambda tx: "%" in tx.request.path),
    ("request has a body", lambda tx: tx.request.body.size > 0),
)


def _traits(affected: Sequence[Transaction], unaffected: Sequence[Transaction]) -> list[str]:
    """What the requests without the cookie share that the requests with it do not."""
    out: list[str] = []
    if not affected:
        return out
    for label, test in _TRAITS:
        hit = sum(1 for tx in affected if test(tx)) / len(affected)
        miss = sum(1 for tx in unaffected if test(tx)) / len(unaffected) if unaffected else 0.0
        if hit >= 0.9 and miss <= 0.1:
            out.append(label)
    for header, label in (("User-Agent", "user agent"), ("Content-Type", "content type"), ("Host", "host")):
        values = {tx.request.headers.get(header) for tx in affected}
        if len(values) == 1 and None not in values:
            value = next(iter(values))
            if value is not None and all(tx.request.headers.get(header) != value for tx in unaffected):
                out.append(f"{label} is {value[:80]!r}")
    segs = {tx.request.path.split("/")[1] if tx.request.path.count("/") > 1 else "" for tx in affected}
    if len(segs) == 1:
        seg = next(iter(segs))
        if (
            seg
            and unaffected
            and all(
                (tx.request.path.split("/")[1] if tx.request.path.count("/") > 1 else "") != seg for tx in unaffected
            )
        ):
            out.append(f"path under /{seg}/")
    return out


def missing_cookie_incidents(view: SessionView, out: list[Incident]) -> None:
    if not any(ev.kind is MISSING for ev in view.session.cookie_events):
        return  # nothing went missing (one pass over the events instead of one look per request)
    client = view.session.key.value
    routing = names_with_role(view, ROUTING)
    tracked = routing | names_with_role(view, SESSION)
    groups: dict[tuple[str, str], list[tuple[int, CookieEvent]]] = defaultdict(list)
    for i, tx in enumerate(view.txs):
        if tx.id in view.consumed:
            continue
        missing = view.ev(tx, MISSING, tracked)
        if not missing:
            continue
        credentialless = "Cookie" not in tx.request.headers and (
            tx.request.method == "OPTIONS" or is_static(view.config, tx.request.path, tx.request.method)
        )
        for ev in missing:
            if credentialless:
                continue  # a CORS preflight or an anonymous asset fetch carries no cookies by design
            if ev.reason == CLIENT_DROPPED or (
                ev.reason in _SCOPE_REASONS and not is_static(view.config, tx.request.path, tx.request.method)
            ):
                groups[(ev.name, ev.reason or "")].append((i, ev))
    merged: dict[tuple[str, frozenset[str]], list[str]] = defaultdict(list)
    for (name, reason), items in groups.items():
        merged[(reason, frozenset(view.txs[i].id for i, _ in items))].append(name)
    for (reason, _ids), names in merged.items():
        names.sort(key=lambda n: (view.role(n) is not CookieRole.ROUTING, n))
        name, also = names[0], names[1:]
        items = groups[(name, reason)]
        sent_ids = {e.transaction_id for e in view.session.cookie_events if e.name == name and e.kind is SENT}
        affected = [view.txs[i] for i, _ in items]
        unaffected = [tx for tx in view.txs if tx.id in sent_ids]
        consequences: list[str] = []
        ev_list: list[Evidence] = []
        for i, _ev in items:
            tx = view.txs[i]
            effects = request_consequences(view, tx, view.last_backend(i), routing)
            # the consequence may show on the next request (re-login)
            if not effects and i + 1 < len(view.txs):
                nxt = view.txs[i + 1]
                lost = view.lost(nxt)
                if lost:
                    effects = [f"next request's session rejected ({lost})"]
            consequences.extend(effects)
            note = f" -> {'; '.join(effects)}" if effects else ""
            ev_list.append(evidence(tx, f"{request_line(tx)}: no {name} cookie{note}", role="trigger"))
        hard = [c for c in consequences if "rejected" in c or "another backend" in c]
        if reason != MissingReason.CLIENT_DROPPED.value and not hard:
            continue  # a browser rule dropped it and the session survived: not an incident
        for i, _ in items:
            view.consumed.add(view.txs[i].id)
            # a re-login right after the rejection is part of the same incident
            if i + 1 < len(view.txs) and is_login(view.txs[i + 1].request.path, view.config):
                view.consumed.add(view.txs[i + 1].id)
        if unaffected:
            ex = unaffected[0]
            ev_list.append(evidence(ex, f"{request_line(ex)}: {name} sent as expected", role="context"))
        traits = _traits(affected, unaffected)
        uniq_conseq = list(dict.fromkeys(consequences))
        if reason == MissingReason.CLIENT_DROPPED.value:
            cause = (
                f"the client omitted the {name} cookie although it held it and every cookie rule "
                f"(domain, path, Secure, expiry) says it must be sent: a client bug"
            )
            if traits:
                cause += f"; the affected requests share: {', '.join(traits)}"
        else:
            detail = items[0][1].detail or reason
            cause = f"the {name} cookie's scope or attributes made the client drop it ({reason}: {detail})"
        if also:
            cause += f" (the same requests also lacked {', '.join(also)})"
        message = (
            f"{len(items)} request(s) went without the {name} cookie"
            + (f" (and {', '.join(also)})" if also else "")
            + (f" ({', '.join(traits)})" if traits else "")
            + (
                f"; consequence: {'; '.join(uniq_conseq[:3])}"
                if uniq_conseq
                else "; no visible consequence (the responses were served normally)"
            )
        )
        severity = None if uniq_conseq else Severity.LOW
        confidence = Confidence.HIGH if uniq_conseq else Confidence.LOW
        out.append(
            Incident(
                FindingKind.MISSING_COOKIE,
                client,
                affected[0].input,
                name,
                message,
                cause,
                ev_list,
                affected[0].timing.started,
                affected[-1].timing.started,
                severity=severity,
                confidence=confidence,
                details=[
                    ("reason", reason),
                    ("requests_without_cookie", str(len(items))),
                    *(("also_missing", a) for a in also),
                    ("requests_with_cookie", str(len(unaffected))),
                ]
                + [("trait", t) for t in traits]
                + [("consequence", c) for c in uniq_conseq[:5]],
            )
        )
