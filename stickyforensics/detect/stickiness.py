"""Root-cause classification of one client's stickiness anomalies.

Theory of operation
-------------------
A client's anomalies form one incident per root cause; the effects (a flip, a
rejected session, a re-login) are evidence of that cause, not findings of their
own. So the classification runs in a fixed order and every transaction it
explains is *consumed*, so later, weaker explanations cannot claim it again:

1. ``session_timeout`` — the session died of time: a persistence cookie expired
   in the client, an LB cookie's own dates (HAProxy ``maxidle``/``maxlife``) say
   the LB discarded it, or the session was lost right after an idle gap that is
   long for this client (or while only background polling kept it alive).
2. ``missing_cookie`` — a request lacked a routing/session cookie the jar says
   it should carry (``client_dropped``: no RFC 6265 rule explains it, a client
   bug), or a scope rule dropped it on a request that needed the session.
3. ``server_flip`` / ``datacenter_flip`` — the client kept sending its cookie
   and still reached another backend, or the LB replaced the cookie; opaque
   cookies that keep being re-issued, or alternate between values, point at
   LB tiers / datacenters that do not share persistence.

Static content (seed 001: images, scripts) may be balanced freely and never
counts as a flip.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from stickyforensics.config import Config
from stickyforensics.detect.facts import evidence, is_login, request_line, session_lost
from stickyforensics.model import (
    BackendObservation,
    ChangeMeaning,
    ClientSession,
    Confidence,
    CookieEvent,
    CookieEventKind,
    CookieRole,
    Evidence,
    FindingKind,
    MissingReason,
    PersistenceInfo,
    Severity,
    Transaction,
)

_ASSET = re.compile(r"(?i)\.(css|js|mjs|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|map)$")
_SCOPE_REASONS = {
    MissingReason.OUT_OF_PATH.value,
    MissingReason.OUT_OF_DOMAIN.value,
    MissingReason.SECURE_OVER_HTTP.value,
    MissingReason.SAMESITE.value,
    MissingReason.REJECTED.value,
    MissingReason.DELETED.value,
}

Polling = tuple[str, float, int, float, float]
"""(path, interval s, count, first, last) of one regularly polled path."""


@dataclass
class Incident:
    """One root cause for one client (becomes a Finding through its rule)."""

    kind: FindingKind
    client: str
    input: str
    cookie: str | None
    message: str
    root_cause: str
    evidence: list[Evidence]
    first_seen: float
    last_seen: float
    confidence: Confidence = Confidence.HIGH
    severity: Severity | None = None
    details: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _View:
    """Indexes over one session, built once so the classification never rescans lists."""

    session: ClientSession
    config: Config
    txs: Sequence[Transaction]
    events: dict[str, list[CookieEvent]]
    backend: dict[str, BackendObservation]
    info: dict[str, PersistenceInfo]
    consumed: set[str] = field(default_factory=set)
    by_kind: dict[tuple[str, CookieEventKind], list[CookieEvent]] = field(default_factory=dict)
    """(transaction id, kind) -> that transaction's events of that kind, in timeline order."""
    _lost: dict[str, str | None] = field(default_factory=dict)
    _last_backends: list[str | None] | None = None
    _starts: list[float] | None = None
    polling: list[Polling] | None = None
    """``find_polling`` of the transactions when the caller already has it."""

    def role(self, name: str) -> CookieRole | None:
        info = self.info.get(name)
        return info.role if info is not None else None

    def ev(self, tx: Transaction, kind: CookieEventKind, names: set[str] | None = None) -> list[CookieEvent]:
        found = self.by_kind.get((tx.id, kind))
        if not found:
            return []
        if names is None:
            return list(found)
        return [e for e in found if e.name in names]

    def served_by(self, tx: Transaction) -> str | None:
        obs = self.backend.get(tx.id)
        if obs is None or obs.backend is None or obs.source.startswith("cookie:"):
            return None
        return obs.backend

    def lost(self, tx: Transaction) -> str | None:
        """``session_lost`` of one transaction, computed once (several passes ask)."""
        try:
            return self._lost[tx.id]
        except KeyError:
            found = self._lost[tx.id] = session_lost(tx, self.config)
            return found

    def last_backend(self, i: int) -> str | None:
        """The backend that last served (``served_by``) the host of request ``i`` before it."""
        if self._last_backends is None:
            last: dict[str, str] = {}
            out: list[str | None] = []
            for tx in self.txs:
                host = tx.request.host
                out.append(last.get(host))
                served = self.served_by(tx)
                if served is not None:
                    last[host] = served
            self._last_backends = out
        return self._last_backends[i]

    def session_start(self, upto: int) -> float:
        """When the session last (re)started at or before request ``upto``: the last time a routing or
        session cookie was set or changed, else the first request."""
        if self._starts is None:
            session_names = _names(self, CookieRole.SESSION) | _names(self, CookieRole.ROUTING)
            start = self.txs[0].timing.started
            starts: list[float] = []
            for tx in self.txs:
                for ev in self.events.get(tx.id, ()):
                    if ev.name in session_names and ev.kind in (CookieEventKind.SET, CookieEventKind.CHANGED):
                        start = ev.at
                starts.append(start)
            self._starts = starts
        return self._starts[upto]


def _view(session: ClientSession, config: Config) -> _View:
    events: dict[str, list[CookieEvent]] = defaultdict(list)
    by_kind: dict[tuple[str, CookieEventKind], list[CookieEvent]] = defaultdict(list)
    for ev in session.cookie_events:
        events[ev.transaction_id].append(ev)
        by_kind[(ev.transaction_id, ev.kind)].append(ev)
    info = dict(session.persistence_cookies)
    return _View(
        session,
        config,
        session.transactions,
        events,
        {b.transaction_id: b for b in session.backends},
        info,
        by_kind=by_kind,
    )


def _names(view: _View, role: CookieRole) -> set[str]:
    return {n for n, i in view.info.items() if i.role is role}


def _decoded_dates(info: PersistenceInfo | None) -> tuple[float | None, float | None]:
    """(last_seen, first_seen) epoch seconds an LB cookie encodes (HAProxy / Tengine dates)."""
    if info is None:
        return None, None
    last = first = None
    for key, value in info.decoded:
        k = key.lower()
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


def _gaps(view: _View) -> list[float | None]:
    """Idle time before each request since the previous one to the same host (None for the first)."""
    last_end: dict[str, float] = {}
    out: list[float | None] = []
    for tx in view.txs:
        host = tx.request.host
        end = last_end.get(host)
        out.append(None if end is None else max(0.0, tx.timing.started - end))
        finished = tx.timing.finished or tx.timing.started
        last_end[host] = max(finished, last_end.get(host, finished))
    return out


def find_polling(txs: Sequence[Transaction], min_requests: int) -> list[Polling]:
    """Periodic background requests: (path, interval s, count, first, last) per path polled regularly."""
    by_path: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for tx in txs:
        if tx.response is not None and tx.response.from_cache:
            continue  # served by the browser's cache: not traffic that keeps a server session alive
        if tx.request.method in ("GET", "HEAD") and _ASSET.search(tx.request.path):
            continue
        by_path[(tx.request.host, tx.request.method, tx.request.target)].append(tx.timing.started)
    out = []
    for (_host, _method, path), times in by_path.items():
        if len(times) < max(min_requests, 5):
            continue
        gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
        if len(gaps) < min_requests - 1:
            continue
        mean = statistics.fmean(gaps)
        if mean <= 0.05:
            continue
        spread = statistics.pstdev(gaps) / mean
        if spread <= 0.35:
            out.append((path, mean, len(times), times[0], times[-1]))
    return out


def _consequence(view: _View, tx: Transaction, before_backend: str | None, routing: set[str]) -> list[str]:
    """What happened to this request: session rejected, another backend, new routing cookie."""
    out: list[str] = []
    lost = view.lost(tx)
    if lost:
        out.append(f"session rejected ({lost})")
    now = view.served_by(tx)
    if now is not None and before_backend is not None and now != before_backend:
        out.append(f"routed to another backend ({before_backend} -> {now})")
    tx_events = view.events.get(tx.id, ())
    for ev in tx_events:
        if ev.name not in routing or ev.kind not in (CookieEventKind.SET, CookieEventKind.CHANGED):
            continue
        sent = next(
            (
                e
                for e in tx_events
                if e.name == ev.name and e.kind in (CookieEventKind.SENT, CookieEventKind.UNEXPECTED)
            ),
            None,
        )
        if sent is None:
            out.append(f"the load balancer issued a new {ev.name}")
            break
        old_b = sent.persistence.backend if sent.persistence is not None else None
        new_b = ev.persistence.backend if ev.persistence is not None else None
        if old_b != new_b:
            out.append(f"the load balancer replaced {ev.name}")
            break
    for ev in view.events.get(tx.id, ()):
        if ev.kind is CookieEventKind.CHANGED and view.role(ev.name) is CookieRole.SESSION:
            out.append(f"the application re-issued its session token {ev.name}")
            break
    return out


def _last_backend(view: _View, i: int) -> str | None:
    return view.last_backend(i)


def _session_start(view: _View, upto: int) -> float:
    return view.session_start(upto)


# --- 1. timeouts ---------------------------------------------------------------------------------


def _timeouts(view: _View, out: list[Incident]) -> None:
    client = view.session.key.value
    routing = _names(view, CookieRole.ROUTING)
    cfg = view.config
    # (a) persistence cookie expired in the client
    for i, tx in enumerate(view.txs):
        for ev in view.ev(tx, CookieEventKind.MISSING):
            if ev.reason != MissingReason.EXPIRED.value or view.role(ev.name) is None or tx.id in view.consumed:
                continue
            if cfg.is_static(tx.request.path, tx.request.method):
                continue
            effects = _consequence(view, tx, _last_backend(view, i), routing)
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
    # (b) LB cookie dates (HAProxy maxidle / maxlife): the LB discarded a cookie the client sent
    before = _gaps(view)
    max_idle_ok = 0.0
    max_life_ok = 0.0
    dates: dict[int, tuple[float | None, float | None]] = {}
    """``_decoded_dates`` per PersistenceInfo object (events share them; all alive during the view)."""
    by_kind = view.by_kind
    for _i, tx in enumerate(view.txs):
        if (tx.id, CookieEventKind.SENT) not in by_kind:
            continue
        sent = {e.name: e for e in view.ev(tx, CookieEventKind.SENT, routing)}
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
                changed = {e.name: e for e in view.ev(tx, CookieEventKind.CHANGED, routing)}
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
                prior = [g for g in before[:_i] if g is not None]
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
            effects = _consequence(view, tx, _last_backend(view, _i), routing)
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
    # (c) the session was lost after a long idle gap, or while only polling kept it alive
    gaps = [g for g in before if g is not None]
    typical = statistics.median(gaps) if gaps else 0.0
    polling = view.polling if view.polling is not None else find_polling(view.txs, cfg.polling_min_requests)
    for i, tx in enumerate(view.txs):
        if tx.id in view.consumed or cfg.is_static(tx.request.path, tx.request.method):
            continue
        lost = view.lost(tx)
        if not lost:
            continue
        window = max(3.0, 2 * typical)
        if any(abs(inc.last_seen - tx.timing.started) <= window for inc in out if inc.client == client):
            continue  # the same death, already explained by the cookie's own dates or expiry
        if any(e.name in routing | _names(view, CookieRole.SESSION) for e in view.ev(tx, CookieEventKind.MISSING)):
            continue  # a missing cookie explains it better
        gap = before[i] or 0.0
        threshold = cfg.idle_timeout if cfg.idle_timeout is not None else max(cfg.min_idle_gap, 3 * typical)
        age = tx.timing.started - _session_start(view, i - 1 if i else 0)
        active_polls = [p for p in polling if p[3] <= tx.timing.started <= p[4] + 2 * p[1]]
        if gap >= threshold:
            cause = f"the session idle timeout: the session was rejected after {_fmt_s(gap)} without requests"
            details = [
                ("timeout_type", "idle"),
                ("idle_seconds", f"{gap:.0f}"),
                ("typical_gap_seconds", f"{typical:.1f}"),
            ]
        elif active_polls or (cfg.forced_timeout is not None and age >= cfg.forced_timeout):
            cause = f"a forced (maximum lifetime) timeout: the session was rejected {_fmt_s(age)} after it began"
            details = [("timeout_type", "forced"), ("session_age_seconds", f"{age:.0f}")]
            for path, interval, count, _first, _last in active_polls:
                details.append(("kept_alive_by", f"polling {path} every {interval:.1f} s ({count} requests)"))
            if active_polls:
                cause += " although background polling kept it active (an idle timeout could never fire)"
        else:
            continue
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


# --- 2. missing cookies --------------------------------------------------------------------------

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


def _missing(view: _View, out: list[Incident]) -> None:
    client = view.session.key.value
    routing = _names(view, CookieRole.ROUTING)
    tracked = routing | _names(view, CookieRole.SESSION)
    groups: dict[tuple[str, str], list[tuple[int, CookieEvent]]] = defaultdict(list)
    for i, tx in enumerate(view.txs):
        if tx.id in view.consumed:
            continue
        missing = view.ev(tx, CookieEventKind.MISSING, tracked)
        if not missing:
            continue
        credentialless = "Cookie" not in tx.request.headers and (
            tx.request.method == "OPTIONS" or view.config.is_static(tx.request.path, tx.request.method)
        )
        for ev in missing:
            if credentialless:
                continue  # a CORS preflight or an anonymous asset fetch carries no cookies by design
            if ev.reason == MissingReason.CLIENT_DROPPED.value or (
                ev.reason in _SCOPE_REASONS and not view.config.is_static(tx.request.path, tx.request.method)
            ):
                groups[(ev.name, ev.reason or "")].append((i, ev))
    merged: dict[tuple[str, frozenset[str]], list[str]] = defaultdict(list)
    for (name, reason), items in groups.items():
        merged[(reason, frozenset(view.txs[i].id for i, _ in items))].append(name)
    for (reason, _ids), names in merged.items():
        names.sort(key=lambda n: (view.role(n) is not CookieRole.ROUTING, n))
        name, also = names[0], names[1:]
        items = groups[(name, reason)]
        sent_ids = {
            e.transaction_id for e in view.session.cookie_events if e.name == name and e.kind is CookieEventKind.SENT
        }
        affected = [view.txs[i] for i, _ in items]
        unaffected = [tx for tx in view.txs if tx.id in sent_ids]
        consequences: list[str] = []
        ev_list: list[Evidence] = []
        for i, _ev in items:
            tx = view.txs[i]
            effects = _consequence(view, tx, _last_backend(view, i), routing)
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


# --- 3. flips --------------------------------------------------------------------------------------


def _flips(view: _View, out: list[Incident]) -> None:
    client = view.session.key.value
    cfg = view.config
    routing = _names(view, CookieRole.ROUTING)
    session_names = _names(view, CookieRole.SESSION)
    learned: dict[tuple[str, str], str] = {}
    flips: list[tuple[Transaction, str, str, str, list[str], str]] = []  # tx, cookie, before, after, effects, how
    reissues: dict[str, list[tuple[Transaction, str, str, list[str]]]] = defaultdict(list)
    datacenters: dict[str, str] = {}
    prev_backend: dict[str, str] = {}
    for _i, tx in enumerate(view.txs):
        host = tx.request.host
        served = view.served_by(tx)
        static = cfg.is_static(tx.request.path, tx.request.method)
        if tx.id in view.consumed or static:
            if served is not None and not static:
                prev_backend[host] = served
            continue
        effects = _consequence(view, tx, None, set())
        sent = {e.name: e for e in view.ev(tx, CookieEventKind.SENT, routing)}
        changed = {e.name: e for e in view.ev(tx, CookieEventKind.CHANGED, routing)}
        for name, sev in sent.items():
            value = sev.value or ""
            info = sev.persistence or view.info.get(name)
            new = changed.get(name)
            if new is not None and (info is None or info.change_meaning is not ChangeMeaning.ROTATES):
                new_info = new.persistence
                before = info.backend if info is not None else None
                after = new_info.backend if new_info is not None else None
                dc_before = info.datacenter if info is not None else None
                dc_after = new_info.datacenter if new_info is not None else None
                if dc_before and dc_after and dc_before != dc_after:
                    reissues[name].append(
                        (tx, value, new.value or "", [*effects, f"datacenter {dc_before} -> {dc_after}"])
                    )
                elif (
                    before is not None
                    and after is not None
                    and before != after
                    and info is not None
                    and info.status == "decoded"
                ):
                    flips.append((tx, name, before, after, effects, "the load balancer re-assigned the client"))
                elif before is None or after is None or (info is not None and info.status != "decoded"):
                    reissues[name].append((tx, value, new.value or "", effects))
            elif served is not None:
                key = (name, value)
                expected = learned.get(key)
                if expected is None:
                    learned[key] = served
                elif expected != served:
                    flips.append((tx, name, expected, served, effects, "the load balancer did not honour the cookie"))
        if served is not None:
            obs = view.backend.get(tx.id)
            dc = obs.datacenter if obs is not None else None
            if dc:
                if host in datacenters and datacenters[host] != dc and view.lost(tx):
                    reissues["(datacenter header)"].append((tx, datacenters[host], dc, effects))
                datacenters[host] = dc
            if not sent and not routing and host in prev_backend and prev_backend[host] != served:
                session_sent = view.ev(tx, CookieEventKind.SENT, session_names)
                if session_sent and view.lost(tx):
                    flips.append(
                        (
                            tx,
                            session_sent[0].name,
                            prev_backend[host],
                            served,
                            effects,
                            "no persistence cookie is in play although the session lives on one backend",
                        )
                    )
            prev_backend[host] = served

    for name, items in reissues.items():
        values_seen: list[str] = []
        alternating = False
        for _tx, old_value, new_value, _eff in items:
            if new_value in values_seen or old_value in values_seen[:-1]:
                alternating = True
            values_seen.extend([old_value, new_value])
        if len(items) >= 2 or alternating or name == "(datacenter header)":
            ev_list = [
                evidence(
                    tx,
                    f"{request_line(tx)}: sent {name}, got a different one" + (f" -> {'; '.join(eff)}" if eff else ""),
                    role="trigger",
                )
                for tx, _o, _n, eff in items[:20]
            ]
            distinct = len(set(values_seen))
            effects_all = list(dict.fromkeys(e for *_rest, eff in items for e in eff))
            cause = (
                f"requests alternate between load-balancer tiers or datacenters that do not share persistence: "
                f"each one replaces the {name} cookie the other issued "
                f"({len(items)} re-issues, {distinct} distinct values)"
            )
            for tx, *_ in items:
                view.consumed.add(tx.id)
            out.append(
                Incident(
                    FindingKind.DATACENTER_FLIP,
                    client,
                    items[0][0].input,
                    None if name.startswith("(") else name,
                    cause + (f"; consequence: {'; '.join(effects_all[:3])}" if effects_all else ""),
                    cause,
                    ev_list,
                    items[0][0].timing.started,
                    items[-1][0].timing.started,
                    confidence=Confidence.HIGH
                    if name == "(datacenter header)" or any("datacenter" in e for *_r, eff in items for e in eff)
                    else Confidence.MEDIUM,
                    details=[
                        ("reissues", str(len(items))),
                        ("distinct_values", str(distinct)),
                        ("alternating", "yes" if alternating else "no"),
                    ]
                    + [("consequence", e) for e in effects_all[:5]],
                    severity=None if effects_all else Severity.MEDIUM,
                )
            )
        else:
            tx, _old, _new, eff = items[0]
            flips.append(
                (
                    tx,
                    name,
                    "(unknown)",
                    "(unknown)",
                    eff,
                    "the load balancer replaced the cookie the client sent (opaque value: backend unknown)",
                )
            )

    if not flips:
        return
    by_cookie: dict[str, list[tuple[Transaction, str, str, str, list[str], str]]] = defaultdict(list)
    for flip in flips:
        if flip[0].id not in view.consumed:
            by_cookie[flip[1]].append(flip)
    for name, flip_items in by_cookie.items():
        effects_all = list(dict.fromkeys(e for item in flip_items for e in item[4]))
        how = flip_items[0][5]
        moves = list(dict.fromkeys(f"{b} -> {a}" for _t, _n, b, a, _e, _h in flip_items))
        cause = f"{how}: the client sent {name} and was served by another backend ({', '.join(moves[:3])})"
        unknown = all(b == "(unknown)" for _t, _n, b, _a, _e, _h in flip_items)
        ev_list = [
            evidence(
                t,
                f"{request_line(t)}: {b} -> {a}" + (f"; {'; '.join(e)}" if e else ""),
                role="trigger",
                response_names=("Set-Cookie", *cfg.backend_headers),
            )
            for t, _n, b, a, e, _h in flip_items[:20]
        ]
        for t, *_ in flip_items:
            view.consumed.add(t.id)
        out.append(
            Incident(
                FindingKind.SERVER_FLIP,
                client,
                flip_items[0][0].input,
                name,
                f"{len(flip_items)} request(s) that needed the session reached another backend ({', '.join(moves[:3])})"
                + (f"; consequence: {'; '.join(effects_all[:3])}" if effects_all else ""),
                cause,
                ev_list,
                flip_items[0][0].timing.started,
                flip_items[-1][0].timing.started,
                confidence=Confidence.MEDIUM if unknown else Confidence.HIGH,
                severity=None if effects_all else Severity.MEDIUM,
                details=[("moves", ", ".join(moves[:10])), ("flips", str(len(flip_items)))]
                + [("consequence", e) for e in effects_all[:5]],
            )
        )


def classify_session(session: ClientSession, config: Config, *, polling: list[Polling] | None = None) -> list[Incident]:
    """Every stickiness incident of one client, each under its root cause.

    ``polling``: ``find_polling(session.transactions, config.polling_min_requests)`` when the caller
    has it already (the detect context shares it with the keep-alive rule).
    """
    if session.cookie_data != "present" or not session.transactions:
        return []
    view = _view(session, config)
    view.polling = polling
    out: list[Incident] = []
    _timeouts(view, out)
    _missing(view, out)
    _flips(view, out)
    return out
