"""What the cross-client rules read of the classified ``Set-Cookie`` events, in a form that merges.

SF201 (``hygiene.insecure_persistence_cookie``) reports, per routing cookie, the first ``Set-Cookie`` that
lacks Secure (over HTTPS) or HttpOnly. SF401 (``hygiene.internal_address_disclosed``) reports, per cookie
whose value discloses an internal address, the first such ``Set-Cookie``, the time of the last, every
client that received one and every address. SF305 (``replay.cacheable_set_cookie``) reports, per host and
routing or session cookie, the responses a shared cache may store that set it: how many, the first five,
the last, every client and every path. "First" is in the rules' reading order: sessions by
``session_order``, then each session's events; a ``Position`` spells it out.

A digest holds just that, so with ``--jobs`` each worker builds one over its shard and the parent merges
them: a client is in one shard, so the merged digest is the one built over every session at once. The
parent then loads no routing events at all (``shard_views.global_view``): they were one event and one
transaction per client, the largest part of its memory on a capture with many clients (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from stickyforensics.detect.cacheability import cacheable_because
from stickyforensics.model import ClientSession, CookieEvent, Transaction
from stickyforensics.track.enum_members import ROUTING, SET_OR_CHANGED, TRACKED_ROLES
from stickyforensics.track.sessions import SessionOrder, session_order

Position = tuple[float, str, str, int]
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


CACHEABLE_QUOTED = 5
"""Responses an SF305 finding quotes (its first ones)."""


@dataclass(frozen=True, slots=True)
class CacheableSighting:
    """One response a shared cache may store that set a tracked cookie (SF305)."""

    position: Position
    client: str
    transaction: Transaction
    why: str
    """What lets a cache store it (a header quoted: ``cacheability.cacheable_because``)."""


@dataclass(slots=True)
class CacheableSetCookies:
    """SF305's facts about one cookie name set by one host on responses a shared cache may store."""

    first: list[CacheableSighting]
    """The first ``CACHEABLE_QUOTED`` of them, in order."""
    count: int
    last: Position
    last_started: float
    """When the request of the last one started (the finding's ``last_seen``)."""
    clients: dict[str, Position]
    """Each client that received one, at its first."""
    paths: dict[str, Position]
    """Each request path, at its first."""

    def merge(self, other: CacheableSetCookies) -> None:
        self.first = sorted(self.first + other.first, key=_sighting_position)[:CACHEABLE_QUOTED]
        self.count += other.count
        if other.last > self.last:
            self.last, self.last_started = other.last, other.last_started
        _keep_first(self.clients, other.clients)
        _keep_first(self.paths, other.paths)

    def ordered_clients(self) -> tuple[str, ...]:
        return tuple(sorted(self.clients, key=self.clients.__getitem__))

    def ordered_paths(self) -> list[str]:
        return sorted(self.paths, key=self.paths.__getitem__)


def _sighting_position(sighting: CacheableSighting) -> Position:
    return sighting.position


def _keep_first(ours: dict[str, Position], theirs: dict[str, Position]) -> None:
    for key, position in theirs.items():
        if key not in ours or position < ours[key]:
            ours[key] = position


@dataclass(slots=True)
class SetCookieDigest:
    insecure: dict[str, tuple[Sighting, tuple[str, ...]]] = field(default_factory=dict)
    """SF201: per routing cookie name, its first ``Set-Cookie`` that lacks an attribute, and what it lacks."""
    disclosures: dict[str, Disclosure] = field(default_factory=dict)
    """SF401: per cookie name whose value discloses an internal address."""
    cacheable: dict[tuple[str, str], CacheableSetCookies] = field(default_factory=dict)
    """SF305: per (host, cookie name) set on responses a shared cache may store."""

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
            _keep_first(ours.clients, theirs.clients)
            ours.backends |= theirs.backends
        for key, group in other.cacheable.items():
            mine_group = self.cacheable.get(key)
            if mine_group is None:
                self.cacheable[key] = mine_group = CacheableSetCookies([], 0, group.last, group.last_started, {}, {})
            mine_group.merge(group)

    def transaction_ids(self) -> set[str]:
        """The transactions the digest's findings can quote (what ``--jobs`` keeps for their evidence rows)."""
        ids = {sighting.transaction.id for sighting, _ in self.insecure.values()}
        ids.update(disclosure.first.transaction.id for disclosure in self.disclosures.values())
        ids.update(s.transaction.id for group in self.cacheable.values() for s in group.first)
        return ids

    def insecure_in_order(self) -> list[tuple[str, Sighting, tuple[str, ...]]]:
        """SF201's cookies in the order the rule meets them."""
        return [(n, s, lacks) for n, (s, lacks) in sorted(self.insecure.items(), key=lambda i: i[1][0].position)]

    def disclosures_in_order(self) -> list[tuple[str, Disclosure]]:
        """SF401's cookies in the order the rule meets them."""
        return sorted(self.disclosures.items(), key=lambda item: item[1].first.position)

    def cacheable_in_order(self) -> list[tuple[tuple[str, str], CacheableSetCookies]]:
        """SF305's (host, cookie name) groups in the order the rule meets them."""
        return sorted(self.cacheable.items(), key=lambda item: item[1].first[0].position)


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
    digest = SetCookieDigest()
    insecure, disclosures, cacheable = digest.insecure, digest.disclosures, digest.cacheable
    for session in sessions:
        order: SessionOrder | None = None
        by_id: dict[str, Transaction] | None = None
        present = session.cookie_data == "present"
        for index, ev in enumerate(session.cookie_events):
            info = ev.persistence
            if info is None or ev.kind not in SET_OR_CHANGED:
                continue
            routing = info.role is ROUTING
            tracked = present and info.role in TRACKED_ROLES
            if not (info.discloses_internal_address or routing or tracked):
                continue
            if by_id is None:
                by_id = {tx.id: tx for tx in session.transactions}
                order = session_order(session)
            assert order is not None
            tx = by_id[ev.transaction_id]
            position = (*order, index)
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
            if tracked and tx.response is not None:
                why = cacheable_because(tx.response)
                if why:
                    _add_cacheable(cacheable, (tx.request.host, ev.name), position, client, tx, why, keep)
    return digest


def _add_cacheable(
    cacheable: dict[tuple[str, str], CacheableSetCookies],
    key: tuple[str, str],
    position: Position,
    client: str,
    tx: Transaction,
    why: str,
    keep: Callable[[Transaction], Transaction],
) -> None:
    """One more cacheable response for ``key``, met in the rules' reading order (positions increase)."""
    group = cacheable.get(key)
    if group is None:
        group = cacheable[key] = CacheableSetCookies([], 0, position, tx.timing.started, {}, {})
    if len(group.first) < CACHEABLE_QUOTED:
        group.first.append(CacheableSighting(position, client, keep(tx), why))
    group.count += 1
    group.last, group.last_started = position, tx.timing.started
    group.clients.setdefault(client, position)
    group.paths.setdefault(tx.request.path, position)
