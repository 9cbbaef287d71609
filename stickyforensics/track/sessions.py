"""Transactions -> ClientSessions: clients, cookie timelines and backend timelines."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from stickyforensics.config import Config
from stickyforensics.model import ClientSession, CookieRole, PersistenceInfo, Transaction
from stickyforensics.track.backends import observe_backend
from stickyforensics.track.capture_facts import TrackFacts, decide_facts
from stickyforensics.track.clients import group_by_client
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.timeline import cookie_timeline, tx_cookies


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a stage that builds many acyclic objects.

    Tracking and detection allocate hundreds of thousands of small immutable objects (events,
    observations, findings) that hold no reference cycles; every few thousand allocations the
    collector would otherwise walk the whole heap, the ingested transactions included, which cost
    about a third of these stages on a 200k-packet capture. Reference counting still frees
    everything as usual; the collector is re-enabled (if it was on) when the stage ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def session_order(session: ClientSession) -> tuple[float, str]:
    """Sessions by first activity, then identity."""
    return (session.first_seen or 0.0, session.key.value)


def build_sessions(
    transactions: Sequence[Transaction],
    config: Config,
    *,
    classifier: CookieClassifier | None = None,
    cookie_data: Mapping[str, str] | None = None,
    facts: TrackFacts | None = None,
) -> tuple[ClientSession, ...]:
    """One ClientSession per client, ordered by first activity then identity.

    ``cookie_data`` maps input path -> ``present``/``absent``/``partial`` (sanitized inputs).
    ``facts``: decisions across all clients (``capture_facts``), found from ``transactions`` when not
    given (with ``--jobs``, each process gets the merged ones).
    """
    with gc_paused():
        return _build_sessions(transactions, config, classifier=classifier, cookie_data=cookie_data, facts=facts)


def _build_sessions(
    transactions: Sequence[Transaction],
    config: Config,
    *,
    classifier: CookieClassifier | None,
    cookie_data: Mapping[str, str] | None,
    facts: TrackFacts | None,
) -> tuple[ClientSession, ...]:
    classifier = classifier or CookieClassifier(declared=config.declared_cookies())
    identify = classifier.identify
    if facts is None:
        facts = decide_facts(transactions)
    multi = facts.multi_address_hosts
    sessions: list[ClientSession] = []
    by_client = group_by_client(
        transactions, config.client_identity, xff_inputs=facts.xff_inputs, identify=identify
    )
    for key, txs in by_client.items():
        parsed = {tx.id: tx_cookies(tx) for tx in txs}
        events = cookie_timeline(txs, identify, parsed)
        backends = tuple(
            observe_backend(tx, identify, config, multi_address_hosts=multi, cookies=parsed[tx.id]) for tx in txs
        )
        persistence: dict[str, PersistenceInfo] = {}
        for ev in events:
            if ev.persistence is not None and ev.persistence.role in (CookieRole.ROUTING, CookieRole.SESSION):
                persistence.setdefault(ev.name, ev.persistence)
        inputs = tuple(dict.fromkeys(tx.input for tx in txs))
        states = {(cookie_data or {}).get(path, "present") for path in inputs}
        data = "absent" if states == {"absent"} else ("partial" if states - {"present"} else "present")
        sessions.append(
            ClientSession(
                key=key,
                inputs=inputs,
                transactions=tuple(txs),
                cookie_events=events,
                backends=backends,
                persistence_cookies=tuple(sorted(persistence.items())),
                cookie_data=data,
            )
        )
    sessions.sort(key=session_order)
    return tuple(sessions)
