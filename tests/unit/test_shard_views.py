"""``shard_views``: the summaries and cross-client views a ``--jobs`` worker keeps are exactly what
``dataclasses.replace`` would make, and share equal parts (each pickled once)."""

from __future__ import annotations

import glob
from dataclasses import replace
from pathlib import Path

import pytest

from stickyforensics.config import Config
from stickyforensics.detect.detectors.replay import per_client_token
from stickyforensics.model import (
    BodyInfo,
    ClientSession,
    CookieEventKind,
    Headers,
    Provenance,
    Request,
    Response,
    Timing,
    Transaction,
)
from stickyforensics.pipeline import analyze
from stickyforensics.shard_views import (
    VIEW_REQUEST_HEADERS,
    VIEW_RESPONSE_HEADERS,
    global_view,
    summary_of,
    trimmed_transaction,
)

ROOT = Path(__file__).resolve().parents[2]


def _reference_view(session: ClientSession, config: Config) -> ClientSession:
    """``global_view`` as ``dataclasses.replace`` spells it (the implementation builds it positionally)."""
    every_sent = config.expectations.no_shared_session_tokens
    events = tuple(
        ev
        for ev in session.cookie_events
        if (
            ev.kind in (CookieEventKind.SET, CookieEventKind.CHANGED)
            or (ev.kind is CookieEventKind.SENT and (every_sent or ev.detail))
        )
        and per_client_token(ev.persistence, ev.value or "")
    )
    wanted = {ev.transaction_id for ev in events}

    def trimmed(tx: Transaction) -> Transaction:
        req = replace(
            tx.request,
            headers=Headers(tuple(h for h in tx.request.headers.items if h[0].lower() in VIEW_REQUEST_HEADERS)),
            body=replace(tx.request.body, prefix=b""),
        )
        resp = tx.response
        if resp is not None:
            resp = replace(
                resp,
                headers=Headers(tuple(h for h in resp.headers.items if h[0].lower() in VIEW_RESPONSE_HEADERS)),
                body=replace(resp.body, prefix=b""),
            )
        return replace(tx, request=req, response=resp)

    summary = replace(
        session, transactions=(), cookie_events=(), backends=(), transaction_count=session.transaction_count,
        first_seen=session.first_seen, last_seen=session.last_seen, backend_keys=session.backends_seen,
    )  # fmt: skip
    return replace(
        summary, transactions=tuple(trimmed(tx) for tx in session.transactions if tx.id in wanted), cookie_events=events
    )


@pytest.mark.parametrize("every_sent", [False, True])
def test_views_equal_the_field_by_field_reference(every_sent: bool) -> None:
    config = replace(Config(), expectations=replace(Config().expectations, no_shared_session_tokens=every_sent))
    report = analyze(sorted(glob.glob(str(ROOT / "samples/*/*.pcap"))), config, shard_bytes=0)
    assert report.sessions
    for session in report.sessions:
        view = global_view(session, config)
        assert view == _reference_view(session, config) and repr(view) == repr(_reference_view(session, config))
        assert summary_of(session) == replace(view, transactions=(), cookie_events=())
        assert not summary_of(session).backends and summary_of(session).backend_keys == session.backends_seen


def test_trimmed_shares_header_names_and_bodies() -> None:
    body = BodyInfo(12, b"hello world!", True)
    headers = Headers((("Set-Cookie", "a=1"), ("Server", "x"), ("DATE", "Mon"), ("Cookie", "no")))
    request = Request("GET", "/", "http://h/", "http", "h", "/", headers=Headers((("cookie", "a=1"), ("Host", "h"))))
    response = Response(200, headers=headers, body=body)
    tx = Transaction("1.0.0", "in", request, response, Timing(1.0), Provenance("in", "pcap"))
    first, second = trimmed_transaction(tx), trimmed_transaction(replace(tx, id="1.0.1"))
    assert first.request.headers.items == (("cookie", "a=1"),)
    assert first.response is not None and second.response is not None
    assert first.response.headers.items == (("Set-Cookie", "a=1"), ("DATE", "Mon"))
    assert first.response.body == BodyInfo(12, b"", True) and first.request.body == BodyInfo()
    assert second.response.body is first.response.body  # equal trimmed bodies: one object to pickle
    # another message spelling the names alike (other string objects) gets the same strings
    copied = Headers(tuple(("".join(list(name)), value) for name, value in headers.items))
    third = trimmed_transaction(replace(tx, response=Response(200, headers=copied)))
    assert third.response is not None
    pairs = zip(third.response.headers.items, first.response.headers.items, strict=True)
    assert all(a is b for (a, _), (b, _) in pairs)
    url = "".join(list(request.url))  # an equal URL, another string object
    assert trimmed_transaction(replace(tx, request=replace(request, url=url))).request.url is first.request.url


FIXTURES = sorted(p for p in glob.glob(str(ROOT / "tests/rules/SF*/*")) if p.endswith((".har", ".pcap", ".pcapng")))


def _global_findings(views: list[ClientSession], inputs: object, config: Config, digest: object) -> str:
    from stickyforensics.detect.catalog import load_rules
    from stickyforensics.detect.engine import run_rules

    findings, runs = run_rules(load_rules(), tuple(views), inputs, config, scope="global", digest=digest)  # type: ignore[arg-type]
    return repr((findings, runs))


@pytest.mark.parametrize("inputs", [[str(ROOT / "samples")], *([f] for f in FIXTURES)], ids=lambda p: Path(p[0]).name)
def test_pruned_views_give_the_cross_client_rules_the_same_findings(inputs: list[str]) -> None:
    from stickyforensics.config import load_config
    from stickyforensics.detect.set_cookie_digest import digest_sessions
    from stickyforensics.shard_views import pruned_views, token_counts
    from stickyforensics.track.sessions import session_order

    config, _ = load_config(None, start=Path(inputs[0]).parent)
    for every_sent in (False, True):
        config = replace(config, expectations=replace(config.expectations, no_shared_session_tokens=every_sent))
        report = analyze(inputs, config, shard_bytes=0)
        digest = digest_sessions(report.sessions)
        views = sorted((global_view(s, config) for s in report.sessions), key=session_order)
        counts = token_counts(views)
        shared = {token for token, clients in counts.items() if clients > 1}
        pruned = pruned_views(views, shared)
        assert _global_findings(pruned, report.inputs, config, digest) == _global_findings(
            views, report.inputs, config, digest
        )


def test_private_session_tokens_and_their_transactions_are_pruned() -> None:
    from stickyforensics.shard_views import pruned_views, token_counts

    report = analyze([str(ROOT / "samples")], Config(), shard_bytes=0)
    views = [global_view(s, Config()) for s in report.sessions]
    pruned = pruned_views(views, shared=set())
    before = sum(len(v.cookie_events) for v in views)
    after = sum(len(v.cookie_events) for v in pruned)
    assert after < before
    kept = {tx.id for v in pruned for tx in v.transactions}
    assert kept == {ev.transaction_id for v in pruned for ev in v.cookie_events}
    # With every token shared, nothing goes.
    every = set(token_counts(views))
    assert sum(len(v.cookie_events) for v in pruned_views(views, every)) == before


@pytest.mark.parametrize("inputs", [[str(ROOT / "samples")], *([f] for f in FIXTURES)], ids=lambda p: Path(p[0]).name)
def test_the_views_a_parent_loads_prune_to_what_every_view_prunes_to(inputs: list[str]) -> None:
    """``sharded._load_views`` loads only the views among ``naming_views`` or with a shared token: pruned, they
    must be exactly the views that pruning all of them leaves any event to (the others are summaries)."""
    import random

    from stickyforensics.shard_views import naming_views, pruned_views, token_counts, view_tokens

    report = analyze(inputs, Config(), shard_bytes=0)
    views = [v for v in (global_view(s, Config()) for s in report.sessions) if v.cookie_events]
    random.Random(7).shuffle(views)  # a worker's order need not be the report's
    counts = token_counts(views)
    tokens = sorted(counts)
    truly_shared = {token for token, clients in counts.items() if clients > 1}
    naming = naming_views(views)
    for shared in (set(), truly_shared, set(tokens[::2]), set(tokens)):
        loaded = [v for i, v in enumerate(views) if i in naming or not shared.isdisjoint(view_tokens(v))]
        assert pruned_views(loaded, shared) == [v for v in pruned_views(views, shared) if v.cookie_events]
