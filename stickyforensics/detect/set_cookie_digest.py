"""What the cross-client hygiene rules read of the classified ``Set-Cookie`` events, in a form that merges.

SF201 (``hygiene.insecure_persistence_cookie``) reports, per routing cookie, the first ``Set-Cookie`` that
lacks Secure (over HTTPS) or HttpOnly. SF401 (``hygiene.internal_address_disclosed``) reports, per cookie
whose value discloses an internal address, the first such ``Set-Cookie``, the time of the last, every
client that received one and every address. "First" is in the rules' reading order: sessions by
``session_order``, then each session's events; a ``Position`` spells it out.

A digest holds just that, so with ``--jobs`` each worker builds one over its shard and the parent merges
them: a client is in one shard, so the merged digest is the one built over every session at once. The
parent then loads no routing events at all (``shard_views.global_view``): they were one event and one
transaction per client, the largest part of its memory on a capture with many clients (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from stickyforensics.model import ClientSession, CookieEvent, Transaction
from stickyforensics.track.enum_members import ROUTING, SET_OR_CHANGED
from stickyforensics.track.sessions import session_order

Position = tuple[float, str, int]
"""``session_order`` of the session, then the event's index in it."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One ``Set-Cookie`` event a finding quotes."""

    position: Position
    client: str
    event: CookieEvent
    transaction: Transaction


@dataclass(slots=True)
class Disclosure:
    """SF401's facts about one cookie name."""

    first: Sighting
    last: Position
    last_started: float
    """When the request of the last such ``Set-Cookie`` started (the finding's ``last_seen``)."""
    clients: dict[str, Position]
    """Each client that received one, at its first."""
    backends: set[str]

    def ordered_clients(self) -> tuple[str, ...]:
        return tuple(sorted(self.clients, key=self.clients.__getitem__))


@dataclass(slots=True)
class SetCookieDigest:
    insecure: dict[str, tuple[Sighting, tuple[str, ...]]]
    """SF201: per routing cookie name, its first ``Set-Cookie`` that lacks an attribute, and what it lacks."""
    disclosures: dict[str, Disclosure]
    """SF401: per cookie name whose value discloses an internal address."""

    def merge(self, other: SetCookieDigest) -> None:
        """Take in the digest of other sessions (no client in both)."""
        for name, found in other.insecure.items():
            mine = self.insecure.get(name)
            if mine is None or found[0].position < mine[0].position:
                self.insecure[name] = found
        for name, theirs in other.disclosures.items():
            ours = self.disclosures.get(name)
            if ours is None:
                self.disclosures[name] = Disclosure(
                    theirs.first, theirs.last, theirs.last_started, dict(theirs.clients), set(theirs.backends)
                )
                continue
            if theirs.first.position < ours.first.position:
                ours.first = theirs.first
            if theirs.last > ours.last:
                ours.last, ours.last_started = theirs.last, theirs.last_started
            for client, position in theirs.clients.items():
                if client not in ours.clients or position < ours.clients[client]:
                    ours.clients[client] = position
            ours.backends |= theirs.backends

    def insecure_in_order(self) -> list[tuple[str, Sighting, tuple[str, ...]]]:
        """SF201's cookies in the order the rule meets them."""
        return [(n, s, lacks) for n, (s, lacks) in sorted(self.insecure.items(), key=lambda i: i[1][0].position)]

    def disclosures_in_order(self) -> list[tuple[str, Disclosure]]:
        """SF401's cookies in the order the rule meets them."""
        return sorted(self.disclosures.items(), key=lambda item: item[1].first.position)


def missing_attributes(event: CookieEvent, tx: Transaction) -> tuple[str, ...]:
    """What a routing ``Set-Cookie`` lacks for SF201."""
    lacks = []
    if tx.request.scheme == "https" and "Secure" not in event.attributes:
        lacks.append("Secure (set over HTTPS)")
    if "HttpOnly" not in event.attributes:
        lacks.append("HttpOnly")
    return tuple(lacks)


def _same(tx: Transaction) -> Transaction:
    return tx


def digest_sessions(
    sessions: Iterable[ClientSession], keep: Callable[[Transaction], Transaction] = _same
) -> SetCookieDigest:
    """The digest of ``sessions``; ``keep`` gives what to hold of a quoted transaction (a worker trims it)."""
    digest = SetCookieDigest({}, {})
    insecure, disclosures = digest.insecure, digest.disclosures
    for session in sessions:
        order: tuple[float, str] | None = None
        by_id: dict[str, Transaction] | None = None
        for index, ev in enumerate(session.cookie_events):
            info = ev.persistence
            if info is None or ev.kind not in SET_OR_CHANGED:
                continue
            routing = info.role is ROUTING
            if not (info.discloses_internal_address or routing):
                continue
            if by_id is None:
                by_id = {tx.id: tx for tx in session.transactions}
                order = session_order(session)
            assert order is not None
            tx = by_id[ev.transaction_id]
            position = (order[0], order[1], index)
            client = session.key.value
            if routing:
                found = insecure.get(ev.name)
                if found is None or position < found[0].position:
                    lacks = missing_attributes(ev, tx)
                    if lacks:
                        insecure[ev.name] = (Sighting(position, client, ev, keep(tx)), lacks)
            if info.discloses_internal_address:
                seen = disclosures.get(ev.name)
                if seen is None:
                    seen = disclosures[ev.name] = Disclosure(
                        Sighting(position, client, ev, keep(tx)), position, tx.timing.started, {}, set()
                    )
                elif position < seen.first.position:
                    seen.first = Sighting(position, client, ev, keep(tx))
                if position > seen.last:
                    seen.last, seen.last_started = position, tx.timing.started
                if client not in seen.clients or position < seen.clients[client]:
                    seen.clients[client] = position
                if info.backend:
                    seen.backends.add(info.backend)
    return digest
