"""What a ``--jobs`` worker keeps of a client session after judging it (``sharded``).

``summary_of``: the session without transactions, events and observations, as the reports list it.
``global_view``: what the cross-client rules read of the events (per-client tokens set or changed, or
presented without being received), with the transactions they came in, trimmed to the headers those
rules quote; what they read of routing and address-disclosing cookies comes from each worker's
``detect.set_cookie_digest`` instead (one routing event per client was most of the parent's memory). Views
are pickled to the spill directory and loaded by the parent, so they are built with the model's fast
constructors and share equal strings, bodies and lists (each pickled once).
``cited_part``: the summary with the transactions a report's evidence cites (``analyze(cited=...)``).
``token_counts`` / ``pruned_views``: the parent keeps only the session tokens two clients hold (the
workers count them), so what it loads no longer grows with every client's own session ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import replace

from stickyforensics.config import Config
from stickyforensics.detect.detectors.replay import per_client_token
from stickyforensics.model import (
    BodyInfo,
    ClientSession,
    CookieEvent,
    CookieEventKind,
    Headers,
    PersistenceInfo,
    Transaction,
)
from stickyforensics.model.builders import new_body_info, new_headers, new_request, new_response, new_transaction
from stickyforensics.track.memo import Memo
from stickyforensics.track.sessions import session_order


def summary_of(session: ClientSession) -> ClientSession:
    """The session without its transactions, events and observations: what the reports list."""
    return _summary(session, (), ())


def cited_part(session: ClientSession, transactions: Container[str]) -> ClientSession:
    """The summary with the transactions among ``transactions`` and their backend observations: what the
    reports join evidence with (``report.common.TxIndex``), for a client whose lane no report draws."""
    txs = tuple(tx for tx in session.transactions if tx.id in transactions)
    backends = tuple(obs for obs in session.backends if obs.transaction_id in transactions)
    return replace(_summary(session, txs, ()), backends=backends)


def _summary(
    session: ClientSession, transactions: tuple[Transaction, ...], events: tuple[CookieEvent, ...]
) -> ClientSession:
    # Positional, not ``dataclasses.replace``: once per client per shard, and replace walks the
    # fields by name. A given transaction_count means ``__post_init__`` keeps the figures given.
    return ClientSession(
        session.key,
        _INPUTS.one(session.inputs),
        transactions,
        events,
        (),
        _PERSISTENCE.one(session.persistence_cookies),
        session.cookie_data,
        session.transaction_count,
        session.first_seen,
        session.last_seen,
        _BACKEND_KEYS.one(session.backends_seen),
    )


_BACKEND_KEYS: Memo[tuple[str, ...], tuple[str, ...]] = Memo(4096)
"""One tuple per distinct list of backends seen (most clients see the same few): pickled once."""
_INPUTS: Memo[tuple[str, ...], tuple[str, ...]] = Memo(4096)
"""One tuple per distinct list of inputs (every client of a capture has the same)."""
_PERSISTENCE: Memo[tuple[tuple[str, PersistenceInfo], ...], tuple[tuple[str, PersistenceInfo], ...]] = Memo(4096)
"""One tuple per distinct set of persistence cookies held (the cookies' names and what their first values
revealed: clients pinned to one backend hold the same). With ``_INPUTS``, a summary in the parent holds about
half the bytes it did (560 -> 290 per client on bench/data/large.pcap)."""


def global_view(session: ClientSession, config: Config) -> ClientSession:
    """What the cross-client rules read of a session: the per-client tokens it was set or presented
    without receiving them (and, for the ``no_shared_session_tokens`` expectation, every one it sent),
    with the transactions they came in."""
    every_sent = config.expectations.no_shared_session_tokens
    kept = (CookieEventKind.SET, CookieEventKind.CHANGED)
    sent = CookieEventKind.SENT
    events = tuple(
        ev
        for ev in session.cookie_events
        if (ev.kind in kept or (ev.kind is sent and (every_sent or ev.detail))) and _is_token(ev)
    )
    wanted = {ev.transaction_id for ev in events}
    transactions = tuple(trimmed_transaction(tx) for tx in session.transactions if tx.id in wanted) if wanted else ()
    return _summary(session, transactions, events)


VIEW_REQUEST_HEADERS = frozenset({"cookie"})
VIEW_RESPONSE_HEADERS = frozenset(
    {
        "set-cookie",
        "expires",
        "date",
        "age",
        "via",
        "cache-control",
        "x-cache",
        "x-cache-status",
        "cf-cache-status",
        "x-cache-lookup",
        "x-proxy-cache",
        "x-varnish",
    }
)
"""The headers the cross-client rules read or quote (``detect.detectors.replay``, ``hygiene``,
``expectations``); a view keeps only these. The tests comparing --jobs 1 and 2 guard the list."""


class _ViewHeaderName(Memo[str, str | None]):
    """Raw header name -> the one string object of that spelling when a view keeps it, else None.

    Each spelling is lower-cased once, not per message; and the views share one string per spelling
    (pickled once, not once per message). Bounded: a capture of random header names empties it.
    """

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__(4096)
        self._names = names

    def __missing__(self, key: str) -> str | None:
        return self.remember(key, key if key.lower() in self._names else None)


_view_request_header = _ViewHeaderName(VIEW_REQUEST_HEADERS)
_view_response_header = _ViewHeaderName(VIEW_RESPONSE_HEADERS)


def _trimmed_headers(headers: Headers, keep: _ViewHeaderName) -> Headers:
    kept: list[tuple[str, str]] = []
    for item in headers.items:
        name = keep[item[0]]
        if name is not None:
            kept.append(item if name is item[0] else (name, item[1]))
    return new_headers(tuple(kept))


_BODIES: Memo[tuple[int, bool], BodyInfo] = Memo(4096)
"""Trimmed bodies by value: responses repeat bodies, and the views pickle each object once."""


def _without_prefix(body: BodyInfo) -> BodyInfo:
    if not body.prefix:
        return body
    key = (body.size, body.complete)
    trimmed = _BODIES.get(key)
    if trimmed is None:
        trimmed = _BODIES.remember(key, new_body_info(body.size, b"", body.complete))
    return trimmed


_TEXTS: Memo[str, str] = Memo(16384)
"""One string per distinct request target, URL and path (clients repeat them): pickled once."""
_one_text = _TEXTS.one


def trimmed_transaction(tx: Transaction) -> Transaction:
    """The transaction with only the headers a view keeps and no body prefixes (equal to building
    it anew: unchanged parts are shared); also what a worker's ``Set-Cookie`` digest quotes."""
    req = tx.request
    request = new_request(
        req.method,
        _one_text(req.target),
        _one_text(req.url),
        req.scheme,
        req.host,
        _one_text(req.path),
        req.version,
        _trimmed_headers(req.headers, _view_request_header),
        _without_prefix(req.body),
    )
    response = tx.response
    if response is not None:
        response = new_response(
            response.status,
            response.reason,
            response.version,
            _trimmed_headers(response.headers, _view_response_header),
            _without_prefix(response.body),
            response.from_cache,
        )
    return new_transaction(
        tx.id,
        tx.input,
        request,
        response,
        tx.timing,
        tx.provenance,
        tx.client,
        tx.server,
        tx.client_label,
        tx.connection,
        tx.depth,
        tx.error,
        tx.notes,
    )


def _is_token(ev: CookieEvent) -> bool:
    """A per-client token event the cross-client rules compare between clients (``replay``, the
    ``no_shared_session_tokens`` expectation): the only events a view keeps."""
    return per_client_token(ev.persistence, ev.value or "")


def _token(ev: CookieEvent) -> int:
    return hash((ev.name, ev.value or ""))


def token_counts(views: Iterable[ClientSession]) -> Counter[int]:
    """In how many of these clients each per-client token (a hash of name and value) appears (a view's
    events are all tokens: ``global_view``)."""
    counts: Counter[int] = Counter()
    for view in views:
        counts.update(view_tokens(view))
    return counts


def view_tokens(view: ClientSession) -> frozenset[int]:
    """The hashes of the per-client tokens in a view's events (what ``pruned_views`` compares with ``shared``)."""
    return frozenset({_token(ev) for ev in view.cookie_events})


def _last_by_name(ordered: Iterable[ClientSession]) -> dict[str, tuple[int, CookieEvent]]:
    """Per cookie name, the last event that is not ``sent`` in views in ``session_order``, with its view's position."""
    last: dict[str, tuple[int, CookieEvent]] = {}
    for position, view in enumerate(ordered):
        for ev in view.cookie_events:
            if ev.kind is not CookieEventKind.SENT:
                last[ev.name] = (position, ev)
    return last


def naming_views(views: Sequence[ClientSession]) -> frozenset[int]:
    """The positions in ``views`` of those holding the last event of a cookie name that ``pruned_views`` keeps
    whatever ``shared`` is: with those whose tokens meet ``shared``, the only views it leaves any event to
    (the others are their summaries), so the parent loads only these (``sharded._load_views``)."""
    order = sorted(range(len(views)), key=lambda i: session_order(views[i]))
    return frozenset(order[position] for position, _ in _last_by_name(views[i] for i in order).values())


def pruned_views(views: Iterable[ClientSession], shared: Container[int]) -> list[ClientSession]:
    """``views`` (sorted by ``session_order``) without the per-client tokens that no other client has.

    Exact for the cross-client rules: such an event can make no replay or shared-token finding (they
    need a value held by two clients); replay names a cookie's kind after the last token event of
    that name, which is kept (the last of these views: the last of all is among the kept ones). The
    transactions no kept event refers to go too. ``shared``: the hashes of tokens held by two clients
    (``token_counts`` summed over every shard); a hash collision only keeps more. Given only some of a
    shard's views, it gives the same for them as given all, as long as ``naming_views`` are among them.
    """
    ordered = sorted(views, key=session_order)
    naming = {id(ev) for _, ev in _last_by_name(ordered).values()}
    out = []
    for view in ordered:
        events = tuple(ev for ev in view.cookie_events if id(ev) in naming or _token(ev) in shared)
        if len(events) == len(view.cookie_events):
            out.append(view)
            continue
        wanted = {ev.transaction_id for ev in events}
        transactions = tuple(tx for tx in view.transactions if tx.id in wanted)
        out.append(replace(view, transactions=transactions, cookie_events=events))
    return out
