"""Who is a client: grouping transactions by client identity.

Captures: the client IP by default. Behind a proxy or NAT, where one address
carries many users, ``X-Forwarded-For``'s first hop names them better; ``auto``
switches to it per input when it tells more users apart than the addresses do.
HAR: one file is one browser profile, so the file name is the client.
"""

from __future__ import annotations

from collections.abc import Iterable

from stickyforensics.model import ClientKey, Transaction
from stickyforensics.track.capture_facts import decide_facts, xff_first_hop


def client_key(tx: Transaction, strategy: str) -> ClientKey:
    """The client identity of one transaction under ``strategy`` (``ip``, ``xff``, ``har-file``)."""
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
    transactions: Iterable[Transaction], identity: str = "auto", *, xff_inputs: frozenset[str] | None = None
) -> dict[ClientKey, list[Transaction]]:
    """Transactions per client, each list in capture order (start time, then id).

    ``xff_inputs``: the inputs whose clients ``auto`` tells apart by X-Forwarded-For (see
    ``capture_facts``); found from ``transactions`` when not given.
    """
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
