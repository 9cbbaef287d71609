"""Cross-client rules: one user's session cookie handed to others, and cacheable Set-Cookie responses."""

from __future__ import annotations

from collections import defaultdict

from stickyforensics.detect.cacheability import CACHE_HEADERS, cache_signals
from stickyforensics.detect.context import DetectContext, make_finding
from stickyforensics.detect.facts import evidence, request_line
from stickyforensics.detect.rule import Rule
from stickyforensics.model import (
    CookieRole,
    Finding,
    PersistenceInfo,
    Transaction,
)
from stickyforensics.track.enum_members import ROTATES, ROUTING, SENT, SESSION, SET_OR_CHANGED


def per_client_token(info: PersistenceInfo | None, value: str) -> bool:
    """Values that should differ per user, so the same one reaching two users is a leak."""
    if info is None or len(value) < 8:
        return False
    if info.role is SESSION:
        return True
    # Per-response encrypted routing values (AWSALB) are unique per client; date-stamped ones (HAProxy
    # maxidle) are not: two clients on one server within the same 4 s share a value legitimately.
    return info.role is ROUTING and info.change_meaning is ROTATES


def cached_set_cookie_replay(ctx: DetectContext, rule: Rule) -> list[Finding]:
    receivers: dict[tuple[str, str], list[tuple[float, str, Transaction, str]]] = defaultdict(list)
    infos: dict[str, PersistenceInfo] = {}
    for session in ctx.sessions:
        if session.cookie_data != "present":
            continue
        by_id = ctx.tx_by_id(session)
        for ev in session.cookie_events:
            value = ev.value or ""
            if ev.kind in SET_OR_CHANGED and per_client_token(ev.persistence, value):
                receivers[(ev.name, value)].append((ev.at, session.key.value, by_id[ev.transaction_id], "set"))
                if ev.persistence is not None:
                    infos[ev.name] = ev.persistence
            elif ev.kind is SENT and ev.detail and per_client_token(ev.persistence, value):
                # a token the client presented without receiving it in view
                receivers[(ev.name, value)].append((ev.at, session.key.value, by_id[ev.transaction_id], "sent"))
    out: list[Finding] = []
    for (name, _value), items in receivers.items():
        if len(items) < 2:
            continue  # one receiver: nothing was shared
        clients = list(dict.fromkeys(c for _t, c, _tx, _k in sorted(items, key=lambda x: (x[0], x[1]))))
        if len(clients) < 2:
            continue
        items.sort(key=lambda x: (x[0], x[1]))
        origin_client = clients[0]
        origin = next(i for i in items if i[1] == origin_client)
        for victim in clients[1:]:
            got = [i for i in items if i[1] == victim]
            ev_list = []
            signals_all: list[str] = []
            for _at, _c, tx, how in got[:10]:
                signals = cache_signals(tx.response) if tx.response is not None else []
                if tx.response is not None and origin[2].response is not None:
                    d1 = tx.response.headers.get("Date")
                    d0 = origin[2].response.headers.get("Date")
                    if d1 and d0 and d1 == d0 and tx.timing.started - origin[2].timing.started >= 1.0:
                        signals.append(f"Date identical to {origin_client}'s response ({d1})")
                signals_all.extend(signals)
                verb = "received" if how == "set" else "presented"
                ev_list.append(
                    evidence(
                        tx,
                        f"{request_line(tx)}: {victim} {verb} {origin_client}'s {name}"
                        + (f" ({', '.join(signals)})" if signals else ""),
                        role="trigger",
                        response_names=(*CACHE_HEADERS, "Set-Cookie"),
                    )
                )
            ev_list.append(
                evidence(
                    origin[2],
                    f"{request_line(origin[2])}: {name} first issued to {origin_client}",
                    role="context",
                    response_names=(*CACHE_HEADERS, "Set-Cookie"),
                )
            )
            role = infos.get(name)
            kind_word = "session" if role is None or role.role is CookieRole.SESSION else "persistence"
            cause = (
                f"a shared cache replayed a response carrying {origin_client}'s Set-Cookie to {victim}"
                if signals_all
                else f"the same {kind_word} cookie value was issued to {origin_client} and {victim}"
            )
            out.append(
                make_finding(
                    rule,
                    message=f"{victim} was given the {name} {kind_word} cookie first issued to {origin_client}"
                    + (f" ({', '.join(dict.fromkeys(signals_all))})" if signals_all else ""),
                    input=got[0][2].input,
                    client=victim,
                    first_seen=got[0][0],
                    last_seen=got[-1][0],
                    evidence=ev_list,
                    cookie=name,
                    details=[("origin_client", origin_client), ("victim_client", victim)]
                    + [("cache_signal", s) for s in dict.fromkeys(signals_all)],
                    root_cause=cause,
                    clients=(origin_client, victim),
                )
            )
    return out


def cacheable_set_cookie(ctx: DetectContext, rule: Rule) -> list[Finding]:
    """SF305, from the ``Set-Cookie`` digest: it compares clients (one finding per host and cookie, whoever
    received it), so with ``--jobs`` it runs once over the workers' merged digests."""
    out = []
    for (host, name), group in ctx.set_cookie_digest().cacheable_in_order():
        first = group.first[0]
        paths = group.ordered_paths()
        where = f"{host}{paths[0]}" + (f" and {len(paths) - 1} other path(s)" if len(paths) > 1 else "")
        out.append(
            make_finding(
                rule,
                message=f"{where} set {name} on responses shared caches may store ({first.why}); "
                f"without 'private' or no-cache=\"Set-Cookie\" a cache can hand this cookie to other users",
                input=first.transaction.input,
                client=first.client,
                first_seen=first.transaction.timing.started,
                last_seen=group.last_started,
                evidence=[
                    evidence(
                        s.transaction,
                        f"{request_line(s.transaction)}: Set-Cookie {name} with {s.why}",
                        role="trigger",
                        response_names=(*CACHE_HEADERS, "Set-Cookie", "Expires"),
                    )
                    for s in group.first
                ],
                cookie=name,
                details=[("host", host), ("responses", str(group.count))] + [("path", p) for p in paths[:10]],
                clients=group.ordered_clients(),
            )
        )
    return out
