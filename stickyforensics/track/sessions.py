"""Transactions -> ClientSessions: clients, cookie timelines and backend timelines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stickyforensics.config import Config
from stickyforensics.gc_pause import gc_paused
from stickyforensics.model import ClientKey, ClientSession, CookieEvent, PersistenceInfo, Transaction
from stickyforensics.track.backends import BackendObserver
from stickyforensics.track.capture_facts import TrackFacts, decide_facts
from stickyforensics.track.clients import group_by_address
from stickyforensics.track.early import EarlyTracking
from stickyforensics.track.enum_members import TRACKED_ROLES
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.lineage import Identify, LineageSplitter
from stickyforensics.track.timeline import TxCookies, cookie_timeline, tx_cookies

SessionOrder = tuple[float, str, str]


def session_order(session: ClientSession) -> SessionOrder:
    """Sessions by first activity, then identity (name, then how it was told: ``ip`` and ``xff`` may share one)."""
    return (session.first_seen or 0.0, session.key.value, session.key.strategy)


def build_sessions(
    transactions: Sequence[Transaction],
    config: Config,
    *,
    classifier: CookieClassifier | None = None,
    cookie_data: Mapping[str, str] | None = None,
    facts: TrackFacts | None = None,
    early: EarlyTracking | None = None,
) -> tuple[ClientSession, ...]:
    """One ClientSession per client, ordered by first activity then identity.

    ``cookie_data`` maps input path -> ``present``/``absent``/``partial`` (sanitized inputs).
    ``facts``: decisions across all clients (``capture_facts``), found from ``transactions`` when not
    given (with ``--jobs``, each process gets the merged ones). ``early``: a client's tracking begun
    while its HAR was read (``track.early``), used for the client whose transactions it covers, and
    emptied once used; its classifier is the one used when ``classifier`` is not given.
    """
    with gc_paused():
        return _build_sessions(
            transactions, config, classifier=classifier, cookie_data=cookie_data, facts=facts, early=early
        )


def _build_sessions(
    transactions: Sequence[Transaction],
    config: Config,
    *,
    classifier: CookieClassifier | None,
    cookie_data: Mapping[str, str] | None,
    facts: TrackFacts | None,
    early: EarlyTracking | None,
) -> tuple[ClientSession, ...]:
    if classifier is None:
        classifier = early.classifier if early is not None else CookieClassifier(declared=config.declared_cookies())
    if early is not None and early.classifier is not classifier:
        early = None  # its events were judged by another classifier
    identify = classifier.identify
    if facts is None:
        facts = decide_facts(transactions)
    identity = config.client_identity
    splitter = LineageSplitter(identify) if identity in ("auto", "lineage") else None
    track = _ClientTracker(identify, config, facts.multi_address_hosts, cookie_data or {})
    sessions: list[ClientSession] = []
    split: list[ClientSession] = []
    """Browsers told apart behind one address: after the other clients, as ``group_by_client`` orders them."""
    for key, txs in group_by_address(transactions, identity, xff_inputs=facts.xff_inputs).items():
        ahead = early if early is not None and early.covers(txs) else None
        # Each request is parsed once, for the lineage split, the cookie timeline and the backends.
        parsed = ahead.parsed if ahead is not None else [tx_cookies(tx) for tx in txs]
        browsers = None
        if splitter is not None and key.strategy == "ip":
            browsers = splitter.split_positions(
                txs, require_proof=identity == "auto", cookies=[pairs for pairs, _sets in parsed]
            )
        if browsers is None:
            sessions.append(track.session(key, txs, parsed, ahead.events() if ahead is not None else None))
            continue
        for n, positions in enumerate(browsers, start=1):
            browser = ClientKey("ip+lineage", f"{key.value}#{n}")
            split.append(track.session(browser, [txs[i] for i in positions], [parsed[i] for i in positions]))
    if early is not None:
        early.abandon()  # consumed: its parsed cookies (about 0.5 KB per transaction) go now, not with the report
    sessions.extend(split)
    sessions.sort(key=session_order)
    return tuple(sessions)


class _ClientTracker:
    """Builds one client's ``ClientSession``; keeps what is shared between clients."""

    def __init__(
        self, identify: Identify, config: Config, multi_address_hosts: frozenset[str], cookie_data: Mapping[str, str]
    ) -> None:
        self.identify = identify
        self.cookie_data = cookie_data
        self.backends = BackendObserver(identify, config, multi_address_hosts)

    def session(
        self,
        key: ClientKey,
        txs: list[Transaction],
        parsed: list[TxCookies],
        events: tuple[CookieEvent, ...] | None = None,
    ) -> ClientSession:
        """``events``: the cookie timeline of ``txs``, when it was made as they were read (``track.early``)."""
        if events is None:
            events = cookie_timeline(txs, self.identify, parsed)
        observe = self.backends.observe
        backends = tuple([observe(tx, cookies) for tx, cookies in zip(txs, parsed, strict=True)])
        persistence: dict[str, PersistenceInfo] = {}
        for ev in events:  # each name's first routing or session info, in event order
            info = ev.persistence
            if info is not None and ev.name not in persistence and info.role in TRACKED_ROLES:
                persistence[ev.name] = info
        inputs = tuple(dict.fromkeys(tx.input for tx in txs))
        states = {self.cookie_data.get(path, "present") for path in inputs}
        data = "absent" if states == {"absent"} else ("partial" if states - {"present"} else "present")
        return ClientSession(
            key=key,
            inputs=inputs,
            transactions=tuple(txs),
            cookie_events=events,
            backends=backends,
            persistence_cookies=tuple(sorted(persistence.items())),
            cookie_data=data,
        )
