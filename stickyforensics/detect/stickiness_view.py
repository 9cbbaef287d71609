"""Indexes over one client session for the stickiness classification, and what a request led to.

``SessionView`` is built once per session so the passes (``stickiness_timeouts``,
``stickiness_missing``, ``stickiness_flips``) never rescan lists; its ``consumed`` set is how a pass
claims the transactions it explained, so later, weaker explanations cannot claim them again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from stickyforensics.config import Config
from stickyforensics.detect.facts import BodyMarkers, session_lost
from stickyforensics.detect.polling import Polling
from stickyforensics.model import (
    BackendObservation,
    ClientSession,
    CookieEvent,
    CookieEventKind,
    CookieRole,
    PersistenceInfo,
    Transaction,
)
from stickyforensics.track.enum_members import CHANGED, ROUTING, SENT_OR_UNEXPECTED, SESSION, SET_OR_CHANGED

__all__ = ["SessionView", "names_with_role", "request_consequences", "session_view"]


@dataclass
class SessionView:
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
    markers: BodyMarkers | None = None
    """The analysis' body-marker search, shared across sessions (``session_lost``)."""

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
            found = self._lost[tx.id] = session_lost(tx, self.config, self.markers)
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
            session_names = names_with_role(self, SESSION) | names_with_role(self, ROUTING)
            start = self.txs[0].timing.started
            starts: list[float] = []
            for tx in self.txs:
                for ev in self.events.get(tx.id, ()):
                    if ev.name in session_names and ev.kind in SET_OR_CHANGED:
                        start = ev.at
                starts.append(start)
            self._starts = starts
        return self._starts[upto]


def session_view(session: ClientSession, config: Config) -> SessionView:
    events: dict[str, list[CookieEvent]] = defaultdict(list)
    by_kind: dict[tuple[str, CookieEventKind], list[CookieEvent]] = defaultdict(list)
    for ev in session.cookie_events:
        events[ev.transaction_id].append(ev)
        by_kind[(ev.transaction_id, ev.kind)].append(ev)
    info = dict(session.persistence_cookies)
    return SessionView(
        session,
        config,
        session.transactions,
        events,
        {b.transaction_id: b for b in session.backends},
        info,
        by_kind=by_kind,
    )


def names_with_role(view: SessionView, role: CookieRole) -> set[str]:
    return {n for n, i in view.info.items() if i.role is role}


def request_consequences(
    view: SessionView, tx: Transaction, before_backend: str | None, routing: set[str]
) -> list[str]:
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
        if ev.name not in routing or ev.kind not in SET_OR_CHANGED:
            continue
        sent = next(
            (e for e in tx_events if e.name == ev.name and e.kind in SENT_OR_UNEXPECTED),
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
        if ev.kind is CHANGED and view.role(ev.name) is SESSION:
            out.append(f"the application re-issued its session token {ev.name}")
            break
    return out
