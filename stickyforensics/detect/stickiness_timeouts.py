"""Stickiness pass 1, ``session_timeout``: the session died of time.

A persistence cookie expired in the client, an LB cookie's own dates (HAProxy ``maxidle``/``maxlife``)
say the LB discarded it, or the session was lost right after an idle gap that is long for this client
(or while only background polling kept it alive).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from stickyforensics.detect.facts import evidence, is_static, request_line
from stickyforensics.detect.incident import Incident
from stickyforensics.detect.polling import Polling, find_polling
from stickyforensics.detect.stickiness_view import SessionView, names_with_role, request_consequences
from stickyforensics.model import (
    Confidence,
    CookieEvent,
    FindingKind,
    PersistenceInfo,
    Severity,
)
from stickyforensics.track.enum_members import CHANGED, EXPIRED, MISSING, ROUTING, SENT, SESSION

__all__ = ["timeout_incidents"]


def timeout_incidents(view: SessionView, out: list[Incident]) -> None:
    """Append the session's timeout incidents to ``out``, strongest evidence first."""
    gaps = _gaps(view)
    _expired_in_client(view, out)
    _discarded_by_lb(view, out, gaps)
    _lost_after_idle(view, out, gaps)


def _expired_in_client(view: SessionView, out: list[Incident]) -> None:
    """(a) A persistence cookie expired in the client, so a request went without it."""
    if not any(ev.kind is MISSING and ev.reason == EXPIRED for ev in view.session.cookie_events):
        return  # nothing expired in this client (one pass over its events instead of one look per request)
    client = view.session.key.value
    routing = names_with_role(view, ROUTING)
    cfg = view.config
    for i, tx in enumerate(view.txs):
        for ev in view.ev(tx, MISSING):
            if ev.reason != EXPIRED or view.role(ev.name) is None or tx.id in view.consumed:
                continue
            if is_static(cfg, tx.request.path, tx.request.method):
                continue
            effects = request_consequences(view, tx, view.last_backend(i), routing)
            view.consumed.add(tx.id)
            out.append(
                Incident(
                    FindingKind.SESSION_TIMEOUT,
                    client,
                    tx.input,
                    ev.name,
                    f"{ev.name} had expired in the client ({ev.detail}), so the request went without it"
                    + (f": {'; '.join(effects)}" if effects else ""),
                    f"the {ev.name} cookie's lifetime (Expires/Max-Age) is shorter than the user's session",
                    [evidence(tx, f"{request_line(tx)}: {ev.name} expired, not sent", role="trigger")],
                    tx.timing.started,
                    tx.timing.started,
                    details=[("timeout_type", "cookie_lifetime"), ("detail", ev.detail or "")]
                    + [("consequence", e) for e in effects],
                    severity=Severity.HIGH if effects else Severity.MEDIUM,
                )
            )


def _discarded_by_lb(view: SessionView, out: list[Incident], before: list[float | None]) -> None:
    """(b) The LB cookie's own dates (HAProxy maxidle / maxlife) say the LB discarded the cookie the client sent.

    ``before``: ``_gaps(view)``.
    """
    client = view.session.key.value
    routing = names_with_role(view, ROUTING)
    cfg = view.config
    max_idle_ok = 0.0
    max_life_ok = 0.0
    dates: dict[int, tuple[float | None, float | None]] = {}
    """``_decoded_dates`` per PersistenceInfo object (events share them; all alive during the view)."""

    sent_infos = {id(ev.persistence): ev.persistence for ev in view.session.cookie_events
                  if ev.kind is SENT and ev.name in routing}  # fmt: skip
    if not any(_decoded_dates(info)[0] is not None for info in sent_infos.values()):
        return  # no routing cookie sent here carries the load balancer's own dates
    by_kind = view.by_kind
    for i, tx in enumerate(view.txs):
        if (tx.id, SENT) not in by_kind:
            continue
        sent = {e.name: e for e in view.ev(tx, SENT, routing)}
        changed: dict[str, CookieEvent] | None = None
        for name, sev in sent.items():
            info_key = id(sev.persistence)
            got = dates.get(info_key)
            if got is None:
                got = dates[info_key] = _decoded_dates(sev.persistence)
            last, first = got
            if last is None:
                continue
            if changed is None:
                changed = {e.name: e for e in view.ev(tx, CHANGED, routing)}
            at = tx.timing.started
            idle = at - last
            life = at - (first if first is not None else last)
            new = changed.get(name)
            if new is None:
                max_idle_ok = max(max_idle_ok, idle)
                max_life_ok = max(max_life_ok, life)
                continue
            _nlast, nfirst = _decoded_dates(new.persistence)
            if first is not None and nfirst is not None and nfirst == first:
                continue  # same persistence session, dates refreshed
            if tx.id in view.consumed:
                continue
            if idle > max(max_idle_ok * 1.5, cfg.min_idle_gap):
                prior = [g for g in before[:i] if g is not None]
                ttype, amount, bound = "idle", idle, max(prior) if prior else max_idle_ok
                cause = (
                    f"the load balancer's idle timeout for {name} (maxidle) expired: the client was idle "
                    f"{_fmt_s(idle)} (by the cookie's own last-seen date)"
                    + (f"; earlier pauses of up to {_fmt_s(bound)} were accepted" if bound >= 1.0 else "")
                )
            else:
                ttype, amount, bound = "lifetime", life, max_life_ok
                cause = (
                    f"the load balancer's maximum lifetime for {name} (maxlife) expired: the persistence session "
                    f"was {_fmt_s(life)} old; ages up to {_fmt_s(bound)} were accepted"
                )
            effects = request_consequences(view, tx, view.last_backend(i), routing)
            view.consumed.add(tx.id)
            out.append(
                Incident(
                    FindingKind.SESSION_TIMEOUT,
                    client,
                    tx.input,
                    name,
                    f"{cause}; the cookie was replaced" + (f" and {'; '.join(effects)}" if effects else ""),
                    cause,
                    [evidence(tx, f"{request_line(tx)}: {name} discarded by the load balancer", role="trigger")],
                    tx.timing.started,
                    tx.timing.started,
                    details=[
                        ("timeout_type", ttype),
                        ("observed_seconds", f"{amount:.0f}"),
                        ("accepted_up_to_seconds", f"{bound:.0f}"),
                        ("source", "cookie dates"),
                    ]
                    + [("consequence", e) for e in effects],
                    severity=Severity.HIGH if effects else Severity.MEDIUM,
                )
            )


def _lost_after_idle(view: SessionView, out: list[Incident], before: list[float | None]) -> None:
    """(c) The session was lost after an idle gap long for this client, or while only polling kept it alive.

    ``before``: ``_gaps(view)``. A loss already explained by an incident in ``out`` near it is skipped.
    """
    client = view.session.key.value
    routing = names_with_role(view, ROUTING)
    cfg = view.config
    gaps = [g for g in before if g is not None]
    typical = statistics.median(gaps) if gaps else 0.0
    polling = view.polling if view.polling is not None else find_polling(view.txs, cfg.polling_min_requests)
    window = max(3.0, 2 * typical)
    threshold = cfg.idle_timeout if cfg.idle_timeout is not None else max(cfg.min_idle_gap, 3 * typical)
    forced = cfg.forced_timeout
    txs = view.txs
    if not polling and forced is None:  # then only a pause as long as the threshold can tell a timeout
        candidates: Iterable[int] = [i for i, gap in enumerate(before) if (gap or 0.0) >= threshold]
    else:
        candidates = range(len(txs))
    for i in candidates:
        tx = txs[i]
        if tx.id in view.consumed or is_static(cfg, tx.request.path, tx.request.method):
            continue
        # The timing tests before ``lost``: a response body is searched for session-lost markers only
        # after a long pause, while polling kept the session alive, or past the forced timeout.
        started = tx.timing.started
        gap = before[i] or 0.0
        active_polls: list[Polling] = []
        age = 0.0
        if gap < threshold:
            active_polls = [p for p in polling if p[3] <= started <= p[4] + 2 * p[1]]
            if not active_polls and forced is None:
                continue
            age = started - view.session_start(i - 1 if i else 0)
            if not active_polls and forced is not None and age < forced:
                continue
        lost = view.lost(tx)
        if not lost:
            continue
        if any(abs(inc.last_seen - started) <= window for inc in out if inc.client == client):
            continue  # the same death, already explained by the cookie's own dates or expiry
        if any(e.name in routing | names_with_role(view, SESSION) for e in view.ev(tx, MISSING)):
            continue  # a missing cookie explains it better
        if gap >= threshold:
            cause = f"the session idle timeout: the session was rejected after {_fmt_s(gap)} without requests"
            details = [
                ("timeout_type", "idle"),
                ("idle_seconds", f"{gap:.0f}"),
                ("typical_gap_seconds", f"{typical:.1f}"),
            ]
        else:  # polling kept it alive, or it outlived the forced timeout (tested above)
            cause = f"a forced (maximum lifetime) timeout: the session was rejected {_fmt_s(age)} after it began"
            details = [("timeout_type", "forced"), ("session_age_seconds", f"{age:.0f}")]
            for path, interval, count, _first, _last in active_polls:
                details.append(("kept_alive_by", f"polling {path} every {interval:.1f} s ({count} requests)"))
            if active_polls:
                cause += " although background polling kept it active (an idle timeout could never fire)"
        view.consumed.add(tx.id)
        out.append(
            Incident(
                FindingKind.SESSION_TIMEOUT,
                client,
                tx.input,
                None,
                f"{cause} ({lost})",
                cause,
                [evidence(tx, f"{request_line(tx)}: session lost ({lost})", role="trigger")],
                tx.timing.started,
                tx.timing.started,
                confidence=Confidence.MEDIUM,
                details=details,
            )
        )


def _decoded_dates(info: PersistenceInfo | None) -> tuple[float | None, float | None]:
    """(last_seen, first_seen) epoch seconds an LB cookie encodes (HAProxy / Tengine dates)."""
    if info is None:
        return None, None
    last = first = None
    for key, value in info.decoded:
        k = key.lower()
        if "last" not in k and "first" not in k:
            continue  # no date field (an address, a server id...): not worth a failing ``float``
        try:
            number = float(value)
        except ValueError:
            continue
        if "last" in k and number > 1e8:
            last = number
        elif "first" in k and number > 1e8:
            first = number
    return last, first


def _fmt_s(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _gaps(view: SessionView) -> list[float | None]:
    """Idle time before each request since the previous one to the same host (None for the first)."""
    last_end: dict[str, float] = {}
    out: list[float | None] = []
    for tx in view.txs:
        host = tx.request.host
        timing = tx.timing
        end = last_end.get(host)
        out.append(None if end is None else max(0.0, timing.started - end))
        finished = timing.finished or timing.started
        last_end[host] = end if end is not None and end > finished else finished  # the later of the two
    return out
