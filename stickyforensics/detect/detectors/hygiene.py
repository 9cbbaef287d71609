"""Cookie hygiene rules: disclosure of internal addresses, missing Secure/HttpOnly, duplicate names,
oversized Cookie headers, scopes that make browsers drop a cookie, background polling."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from stickyforensics.detect.context import DetectContext, make_finding
from stickyforensics.detect.facts import evidence, request_line
from stickyforensics.detect.rule import Rule
from stickyforensics.model import CookieEvent, CookiePair, Finding, Transaction
from stickyforensics.track.cookieparse import parse_cookie_header
from stickyforensics.track.enum_members import REJECTED, TRACKED_ROLES

_TRACKED = TRACKED_ROLES


def internal_address_disclosed(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out = []
    for name, seen in ctx.set_cookie_digest().disclosures_in_order():
        client, ev, tx = seen.first.client, seen.first.event, seen.first.transaction
        info = ev.persistence
        assert info is not None
        decoded = ", ".join(f"{k}={v}" for k, v in info.decoded)
        backends = sorted(seen.backends)
        out.append(
            make_finding(
                rule,
                message=f"{name} ({info.vendor}) reveals internal backend address(es) {', '.join(backends[:5])} "
                f"to every client ({decoded})",
                input=tx.input,
                client=client,
                first_seen=tx.timing.started,
                last_seen=seen.last_started,
                evidence=[
                    evidence(
                        tx,
                        f"{request_line(tx)}: Set-Cookie {name} decodes to {info.backend}",
                        role="trigger",
                        names=(),
                        response_names=("Set-Cookie",),
                    )
                ],
                cookie=name,
                details=[("vendor", info.vendor), ("backends", ", ".join(backends))],
                clients=seen.ordered_clients(),
            )
        )
    return out


def insecure_persistence_cookie(ctx: DetectContext, rule: Rule) -> list[Finding]:
    return [
        make_finding(
            rule,
            message=f"persistence cookie {name} is set without {' and '.join(lacks)}",
            input=first.transaction.input,
            client=first.client,
            first_seen=first.transaction.timing.started,
            last_seen=first.transaction.timing.started,
            evidence=[
                evidence(
                    first.transaction,
                    f"{request_line(first.transaction)}: Set-Cookie {name} lacks {', '.join(lacks)}",
                    role="trigger",
                    names=(),
                    response_names=("Set-Cookie",),
                )
            ],
            cookie=name,
            details=[("missing_attribute", lack) for lack in lacks],
        )
        for name, first, lacks in ctx.set_cookie_digest().insecure_in_order()
    ]


def _doubled_pairs(pairs: Iterable[CookiePair]) -> tuple[str, ...]:
    """Names carried with two or more different values, in order of first appearance."""
    first: dict[str, str] = {}
    twice: set[str] = set()
    for pair in pairs:
        seen = first.setdefault(pair.name, pair.value)
        if seen != pair.value:
            twice.add(pair.name)
    return tuple(name for name in first if name in twice)


@lru_cache(maxsize=4096)
def _doubled(header: str) -> tuple[str, ...]:
    """``_doubled_pairs`` of one ``Cookie`` header value: a client repeats the same header many times."""
    pairs = parse_cookie_header(header)
    if len({pair.name for pair in pairs}) == len(pairs):
        return ()  # no name twice (the usual header): no value to compare
    return _doubled_pairs(pairs)


def duplicate_cookie(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out = []
    for session in ctx.sessions:
        tracked = {n for n, i in session.persistence_cookies if i.role in _TRACKED}
        if not tracked:
            continue
        hits: dict[str, list[Transaction]] = defaultdict(list)
        for tx, headers in zip(session.transactions, ctx.cookie_headers(session), strict=True):
            if len(headers) == 1:
                doubled = _doubled(headers[0])
                if not doubled:
                    continue  # the usual request: no name twice
                names = [n for n in doubled if n in tracked]
            else:
                names = [n for n in _doubled_pairs(p for h in headers for p in parse_cookie_header(h)) if n in tracked]
            for name in names:
                hits[name].append(tx)
        for name, txs in hits.items():
            out.append(
                make_finding(
                    rule,
                    message=f"{len(txs)} request(s) carried {name} twice with different values (cookies with the same "
                    "name on different Domain/Path): the load balancer may read the stale one",
                    input=txs[0].input,
                    client=session.key.value,
                    first_seen=txs[0].timing.started,
                    last_seen=txs[-1].timing.started,
                    evidence=[evidence(tx, f"{request_line(tx)}: two {name} values", role="trigger") for tx in txs[:5]],
                    cookie=name,
                )
            )
    return out


def oversized_cookie_header(ctx: DetectContext, rule: Rule) -> list[Finding]:
    limit = 8190
    out = []
    for session in ctx.sessions:
        big: list[Transaction] = []
        size = 0  # the largest of the headers over the limit
        for tx, headers in zip(session.transactions, ctx.cookie_headers(session), strict=True):
            total = sum(map(len, headers))
            if total > limit:
                big.append(tx)
                size = max(size, total)
        if big:
            out.append(
                make_finding(
                    rule,
                    message=f"{len(big)} request(s) carried a Cookie header larger than {limit} bytes (up to {size}); "
                    "servers and load balancers reject or truncate such headers (400/431), "
                    "dropping the persistence cookie",
                    input=big[0].input,
                    client=session.key.value,
                    first_seen=big[0].timing.started,
                    last_seen=big[-1].timing.started,
                    evidence=[
                        evidence(tx, f"{request_line(tx)}: Cookie header too large", role="trigger", names=())
                        for tx in big[:5]
                    ],
                    details=[("largest_bytes", str(size))],
                )
            )
    return out


def cookie_scope_drops(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out = []
    for session in ctx.sessions:
        by_id = ctx.tx_by_id(session)
        groups: dict[tuple[str, str], list[CookieEvent]] = defaultdict(list)
        for ev in session.cookie_events:
            if ev.kind is REJECTED and ev.persistence is not None and ev.persistence.role in _TRACKED:
                groups[(ev.name, ev.reason or "rejected")].append(ev)
        for (name, reason), evs in groups.items():
            tx = by_id[evs[0].transaction_id]
            out.append(
                make_finding(
                    rule,
                    message=f"the client must reject {name} when it is set ({reason}): browsers drop it, so "
                    "requests go without it and the load balancer cannot keep the user on one backend",
                    input=tx.input,
                    client=session.key.value,
                    first_seen=evs[0].at,
                    last_seen=evs[-1].at,
                    evidence=[
                        evidence(
                            by_id[e.transaction_id],
                            f"{request_line(by_id[e.transaction_id])}: Set-Cookie {name} rejected ({reason})",
                            role="trigger",
                            names=(),
                        )
                        for e in evs[:5]
                    ],
                    cookie=name,
                    details=[("rule", reason)],
                )
            )
    return out


def keepalive_polling(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out = []
    for session in ctx.sessions:
        if not any(i.role in _TRACKED for _n, i in session.persistence_cookies):
            continue
        for path, interval, count, first, last in ctx.polling(session):
            span = last - first
            forced = ctx.config.forced_timeout
            if forced is not None and span < forced:
                continue
            txs = [tx for tx in session.transactions if tx.request.target == path]
            out.append(
                make_finding(
                    rule,
                    message=f"{path} was requested every {interval:.1f} s ({count} times over {span:.0f} s): "
                    "background "
                    "polling keeps the session active, so an idle timeout never ends it"
                    + (f" (it outlived the configured forced timeout of {forced:.0f} s)" if forced else ""),
                    input=txs[0].input,
                    client=session.key.value,
                    first_seen=first,
                    last_seen=last,
                    evidence=[evidence(tx, request_line(tx), role="evidence") for tx in txs[:3]],
                    details=[("path", path), ("interval_seconds", f"{interval:.1f}"), ("requests", str(count))],
                )
            )
    return out
