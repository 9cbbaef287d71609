"""What a lineage of one client address shows, and when two lineages cannot be one browser.

The records (``SentCookies``, ``IssuedCookie``, ``TxFacts``) are built by ``lineage``; a ``Lineage``
indexes them by scope and by cookie name so that ``contradict`` compares a small lineage with a
large group in time proportional to the small one. The rules are described in ``lineage``'s module
notes (step 4).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from stickyforensics.track.cookiescope import domain_match, path_match

Scope = tuple[str, str]
"""(host, first path segment) a request went to."""

SCOPE_WALK = 8
"""Requests or sets walked past to find one a ``Set-Cookie`` applies to (other hosts, paths)."""


def path_segment(path: str) -> str:
    """``/app/cart`` -> ``app``; ``/`` -> ``""``."""
    if not path.startswith("/"):
        return ""
    end = path.find("/", 1)  # no list of parts: this runs for every request of every address
    return path[1:] if end == -1 else path[1:end]


@dataclass(frozen=True, slots=True)
class SentCookies:
    """The cookies one request carried."""

    order: int
    """Position in the address's capture order."""
    at: float
    host: str
    path: str
    values: Mapping[str, frozenset[str]]
    tokens: frozenset[str]
    """Names whose values include a token."""


@dataclass(frozen=True, slots=True)
class IssuedCookie:
    """One ``Set-Cookie`` a response carried."""

    order: int
    done: float
    """When the response was complete: requests after this carry the new value."""
    name: str
    value: str | None
    """None for a deletion."""
    token: bool
    host: str
    domain: str | None
    path: str

    def reaches(self, sent: SentCookies) -> bool:
        """Whether the cookie set here applies to that request (domain and path)."""
        host_ok = domain_match(sent.host, self.domain) if self.domain else sent.host == self.host
        return host_ok and path_match(sent.path, self.path)


@dataclass(frozen=True, slots=True)
class TxFacts:
    """What one transaction tells about who sent it."""

    order: int
    at: float
    agent: str | None
    connection: tuple[str, str] | None
    sent: SentCookies | None
    """None when the request's cookies are unknown."""
    issued: tuple[IssuedCookie, ...]
    tokens: tuple[tuple[str, str], ...]
    """(name, value) tokens sent or set."""


def _order(item: SentCookies) -> int:
    return item.order


def _at(item: SentCookies) -> float:
    return item.at


def _done(item: IssuedCookie) -> float:
    return item.done


@dataclass(slots=True)
class Lineage:
    """What a lineage (or a group of them) shows, indexed for the contradiction checks."""

    orders: list[int]
    agents: set[str] = field(default_factory=set)
    established: bool = False
    """It sent a token."""
    by_scope: dict[Scope, list[SentCookies]] = field(default_factory=dict)
    by_name: dict[str, list[SentCookies]] = field(default_factory=dict)
    issued: dict[str, list[IssuedCookie]] = field(default_factory=dict)
    """Per cookie name, by completion time."""

    @classmethod
    def of(cls, facts: Iterable[TxFacts]) -> Lineage:
        facts = list(facts)
        lineage = cls([f.order for f in facts])
        for f in facts:
            if f.agent:
                lineage.agents.add(f.agent)
            if f.sent is not None:
                sent = f.sent
                lineage.established = lineage.established or bool(sent.tokens)
                lineage.by_scope.setdefault((sent.host, path_segment(sent.path)), []).append(sent)
                for name in sent.values:
                    lineage.by_name.setdefault(name, []).append(sent)
            for issue in f.issued:
                lineage.issued.setdefault(issue.name, []).append(issue)
        for issues in lineage.issued.values():
            issues.sort(key=_done)
        return lineage

    def absorb(self, other: Lineage) -> None:
        self.orders = sorted(self.orders + other.orders)
        self.agents |= other.agents
        self.established = self.established or other.established
        for scope, items in other.by_scope.items():
            self.by_scope[scope] = sorted(self.by_scope.get(scope, []) + items, key=_order)
        for name, items in other.by_name.items():
            self.by_name[name] = sorted(self.by_name.get(name, []) + items, key=_order)
        for name, issues in other.issued.items():
            self.issued[name] = sorted(self.issued.get(name, []) + issues, key=_done)


@dataclass(frozen=True, slots=True)
class Address:
    """What the contradiction checks need to know about the whole address."""

    several_browsers: bool
    """Proven (module notes, 3): cookie-less interleaving then counts as another browser."""
    set_times: Mapping[tuple[str, str], list[float]]
    """(host, cookie name) -> completion times of every ``Set-Cookie`` of it, sorted."""

    def set_between(self, host: str, name: str, lo: float, hi: float) -> bool:
        times = self.set_times.get((host, name))
        if not times:
            return False
        i = bisect_right(times, lo)
        return i < len(times) and times[i] < hi


def _contradicts(sent: SentCookies, before: SentCookies, after: SentCookies, address: Address) -> bool:
    """Whether ``sent`` (between ``before`` and ``after``, consecutive requests of another lineage to
    the same scope) cannot come from that lineage's browser."""
    if not sent.values:
        return address.several_browsers and bool(before.tokens & after.tokens)
    for name, held in before.values.items():
        mine = sent.values.get(name)
        theirs = after.values.get(name)
        if mine is None or theirs is None or not mine.isdisjoint(held | theirs):
            continue
        if name in sent.tokens and name in before.tokens and name in after.tokens:
            return True
        if held == theirs and not address.set_between(sent.host, name, before.at, after.at):
            return True
    return False


def _between(inner: list[SentCookies], outer: list[SentCookies], address: Address) -> bool:
    """Whether a request of ``inner`` contradicts the two requests of ``outer`` around it."""
    if len(inner) <= len(outer):
        for sent in inner:
            i = bisect_left(outer, sent.order, key=_order)
            if 0 < i < len(outer) and _contradicts(sent, outer[i - 1], outer[i], address):
                return True
        return False
    for before, after in pairwise(outer):
        lo = bisect_right(inner, before.order, key=_order)
        hi = bisect_left(inner, after.order, key=_order)
        if any(_contradicts(sent, before, after, address) for sent in inner[lo:hi]):
            return True
    return False


def _interleaved(a: Lineage, b: Lineage, address: Address) -> bool:
    for scope, mine in a.by_scope.items():
        theirs = b.by_scope.get(scope)
        if theirs is not None and (_between(mine, theirs, address) or _between(theirs, mine, address)):
            return True
    return False


def _latest_reaching(issues: Sequence[IssuedCookie], sent: SentCookies) -> IssuedCookie | None:
    """The newest of ``issues`` complete before ``sent`` and applying to it."""
    i = bisect_left(issues, sent.at, key=_done)
    for issue in reversed(issues[max(0, i - SCOPE_WALK) : i]):
        if issue.reaches(sent):
            return issue
    return None


def _ignores_sets(receiver: Lineage, issuer: Lineage) -> bool:
    """Whether ``receiver`` (walked request by request) sent another value of a token ``issuer`` was set."""
    for name, sent_list in receiver.by_name.items():
        theirs_all = issuer.issued.get(name)
        if not theirs_all:
            continue
        own_all = receiver.issued.get(name, [])
        for sent in sent_list:
            theirs = _latest_reaching(theirs_all, sent)
            if theirs is None or theirs.value is None or not theirs.token:
                continue
            own = _latest_reaching(own_all, sent)
            if (own is None or own.done < theirs.done) and theirs.value not in sent.values[name]:
                return True
    return False


def _sets_ignored(issuer: Lineage, receiver: Lineage) -> bool:
    """The same relation as ``_ignores_sets``, walked set by set (when the issuer is the small side)."""
    for name, issues in issuer.issued.items():
        sent_list = receiver.by_name.get(name)
        if not sent_list:
            continue
        for issue in issues:
            if issue.value is None or not issue.token:
                continue
            i = bisect_right(sent_list, issue.done, key=_at)
            sent = next((s for s in sent_list[i : i + SCOPE_WALK] if issue.reaches(s)), None)
            if sent is None or issue.value in sent.values[name]:
                continue
            newest = [
                found
                for found in (_latest_reaching(issues, sent), _latest_reaching(receiver.issued.get(name, []), sent))
                if found is not None
            ]
            if max(newest, key=_done) is issue:
                return True
    return False


def contradict(small: Lineage, big: Lineage, address: Address) -> bool:
    """Whether two lineages cannot be one browser (module notes, 4); ``small`` is walked in full."""
    if small.agents and big.agents and small.agents.isdisjoint(big.agents):
        return True
    return _interleaved(small, big, address) or _ignores_sets(small, big) or _sets_ignored(small, big)
