"""Facts about a whole input that tracking needs before it can judge any one client.

Two decisions look across clients: whether an input's clients are told apart by
``X-Forwarded-For`` (identity ``auto``) and which hosts are served from several server addresses
(then the address names the backend). With ``--jobs`` each process sees only its clients, so
each one counts what it saw (``FactCounts``), the counts are merged, and every process tracks with
the same decisions (``TrackFacts``) as one process would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stickyforensics.model import Transaction
from stickyforensics.track.header_names import HeaderNameIs


@dataclass(frozen=True, slots=True)
class TrackFacts:
    xff_inputs: frozenset[str]
    """Inputs whose X-Forwarded-For first hops tell more clients apart than their addresses do."""
    multi_address_hosts: frozenset[str]
    """Hosts served from more than one server address."""


@dataclass(slots=True)
class FactCounts:
    """What one process saw; ``merge`` several, then ``decide``."""

    client_ips: dict[str, set[str]] = field(default_factory=dict)
    """Per input: client addresses."""
    xff_hops: dict[str, set[str]] = field(default_factory=dict)
    """Per input: X-Forwarded-For first hops."""
    host_addresses: dict[str, set[str]] = field(default_factory=dict)
    """Per Host: server addresses."""

    def merge(self, other: FactCounts) -> None:
        for mine, theirs in (
            (self.client_ips, other.client_ips),
            (self.xff_hops, other.xff_hops),
            (self.host_addresses, other.host_addresses),
        ):
            for key, values in theirs.items():
                mine.setdefault(key, set()).update(values)

    def decide(self) -> TrackFacts:
        xff = frozenset(path for path, hops in self.xff_hops.items() if len(hops) > len(self.client_ips.get(path, ())))
        multi = frozenset(host for host, addrs in self.host_addresses.items() if len(addrs) > 1)
        return TrackFacts(xff, multi)


IS_XFF = HeaderNameIs("X-Forwarded-For")


def xff_first_hop(tx: Transaction) -> str | None:
    # ``Headers.get("X-Forwarded-For")`` unrolled: this runs for every request, and most have none
    is_xff = IS_XFF
    for key, value in tx.request.headers.items:
        if is_xff[key]:
            if not value:
                return None
            first = value.split(",", 1)[0].strip()
            return first or None
    return None


def count_facts(transactions: Iterable[Transaction]) -> FactCounts:
    counts = FactCounts()
    ips, hops, hosts = counts.client_ips, counts.xff_hops, counts.host_addresses
    for tx in transactions:
        # ``setdefault(key, set())`` would build a set for every request: look up first
        if tx.client is not None:
            found = ips.get(tx.input)
            if found is None:
                found = ips[tx.input] = set()
            found.add(tx.client.ip)
        hop = xff_first_hop(tx)
        if hop:
            hops.setdefault(tx.input, set()).add(hop)
        if tx.server is not None:
            found = hosts.get(tx.request.host)
            if found is None:
                found = hosts[tx.request.host] = set()
            found.add(tx.server.ip)
    return counts


def decide_facts(transactions: Sequence[Transaction]) -> TrackFacts:
    return count_facts(transactions).decide()
