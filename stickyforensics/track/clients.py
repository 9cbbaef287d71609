"""Who is a client: grouping transactions by client identity.

Captures: the client IP by default. Behind a proxy or NAT, where one address carries many users:

* ``X-Forwarded-For``'s first hop names them better; ``auto`` switches an input to it when it tells
  more users apart than the addresses do (``capture_facts``);
* otherwise the lineage of their session cookies tells the browsers behind one address apart
  (``lineage``, key strategy ``ip+lineage``, values ``10.0.0.1#1``, ``10.0.0.1#2``...). ``auto``
  splits an address this way only when two lineages clearly run at the same time (they alternate
  different session tokens of one cookie); identity ``lineage`` splits wherever the evidence shows
  several browsers. An address that stays whole keeps the ``ip`` strategy.

HAR: one file is one browser profile, so the file name is the client.
"""

from __future__ import annotations

from collections.abc import Iterable

from stickyforensics.model import ClientKey, Transaction
from stickyforensics.track.capture_facts import decide_facts, xff_first_hop
from stickyforensics.track.lineage import Identify, LineageSplitter


def client_key(tx: Transaction, strategy: str) -> ClientKey:
    """The client identity of one transaction under ``strategy`` (``ip``, ``xff``, ``har-file``).

    ``ip+lineage`` needs the address's other transactions: see ``group_by_client``.
    """
    if tx.client_label is not None and tx.client is None:
        return ClientKey("har-file", tx.client_label)
    if strategy == "xff":
        hop = xff_first_hop(tx)
        if hop:
            return ClientKey("xff", hop)
    if tx.client is not None:
        return ClientKey("ip", tx.client.ip)
    return ClientKey("input", tx.input)


def group_by_client(
    transactions: Iterable[Transaction],
    identity: str = "auto",
    *,
    xff_inputs: frozenset[str] | None = None,
    identify: Identify | None = None,
) -> dict[ClientKey, list[Transaction]]:
    """Transactions per client, each list in capture order (start time, then id).

    ``xff_inputs``: the inputs whose clients ``auto`` tells apart by X-Forwarded-For (see
    ``capture_facts``); found from ``transactions`` when not given. ``identify``: the cookie
    classifier (declared cookies included) that says which cookies name a backend rather than a
    browser (``lineage``); the shipped catalog when not given.
    """
    groups = group_by_address(transactions, identity, xff_inputs=xff_inputs)
    if identity in ("auto", "lineage"):
        _split_by_lineage(groups, LineageSplitter(identify), require_proof=identity == "auto")
    return groups


def group_by_address(
    transactions: Iterable[Transaction], identity: str = "auto", *, xff_inputs: frozenset[str] | None = None
) -> dict[ClientKey, list[Transaction]]:
    """``group_by_client`` before the lineage split: each address that identity ``auto`` or
    ``lineage`` may split into browsers is one ``ip`` client here."""
    by_input: dict[str, list[Transaction]] = {}
    for tx in transactions:
        by_input.setdefault(tx.input, []).append(tx)
    groups: dict[ClientKey, list[Transaction]] = {}
    for txs in by_input.values():
        strategy = identity
        if identity == "auto":
            decided = xff_inputs if xff_inputs is not None else decide_facts(txs).xff_inputs
            strategy = "xff" if txs[0].input in decided else "ip"
        by_ip: dict[str, list[Transaction]] = {}
        """Plain address keys, grouped by the address string first: a ClientKey per request is slow to hash."""
        for tx in txs:
            if strategy != "xff" and tx.client is not None and tx.client_label is None:
                found = by_ip.get(tx.client.ip)
                if found is None:
                    found = by_ip[tx.client.ip] = groups.setdefault(ClientKey("ip", tx.client.ip), [])
                found.append(tx)
            else:
                groups.setdefault(client_key(tx, strategy), []).append(tx)
    for txs in groups.values():
        txs.sort(key=lambda t: (t.timing.started, t.id))
    return groups


def _split_by_lineage(
    groups: dict[ClientKey, list[Transaction]], splitter: LineageSplitter, *, require_proof: bool
) -> None:
    """Replace each address that holds several browsers by one ``ip+lineage`` client per browser."""
    for key in [k for k in groups if k.strategy == "ip"]:
        browsers = splitter.split(groups[key], require_proof=require_proof)
        if browsers is None:
            continue
        del groups[key]
        for n, txs in enumerate(browsers, start=1):
            groups[ClientKey("ip+lineage", f"{key.value}#{n}")] = txs
