"""Cross-client rules: one user's session cookie handed to others, and cacheable Set-Cookie responses."""

from __future__ import annotations

import re
from collections import defaultdict

from stickyforensics.detect.context import DetectContext, make_finding
from stickyforensics.detect.facts import evidence, request_line
from stickyforensics.detect.rule import Rule
from stickyforensics.model import (
    CookieRole,
    Finding,
    PersistenceInfo,
    Response,
    Transaction,
)
from stickyforensics.track.enum_members import ROTATES, ROUTING, SENT, SESSION, SET_OR_CHANGED, TRACKED_ROLES
from stickyforensics.track.memo import Memo

_HIT = re.compile(r"\bhit\b", re.IGNORECASE)
_CACHE_HEADERS = ("Age", "X-Cache", "X-Cache-Status", "CF-Cache-Status", "X-Varnish", "Via", "Date", "Cache-Control")


def per_client_token(info: PersistenceInfo | None, value: str) -> bool:
    """Values that should differ per user, so the same one reaching two users is a leak."""
    if info is None or len(value) < 8:
        return False
    if info.role is SESSION:
        return True
    # Per-response encrypted routing values (AWSALB) are unique per client; date-stamped ones (HAProxy
    # maxidle) are not: two clients on one server within the same 4 s share a value legitimately.
    return info.role is ROUTING and info.change_meaning is ROTATES


def cache_signals(resp: Response) -> list[str]:
    """What says this response came out of a shared cache."""
    out: list[str] = []
    age = resp.headers.get("Age")
    if age and age.strip().isdigit() and int(age.strip()) > 0:
        out.append(f"Age: {age.strip()}")
    for name in ("X-Cache", "X-Cache-Status", "CF-Cache-Status", "X-Cache-Lookup", "X-Proxy-Cache"):
        value = resp.headers.get(name)
        if value and _HIT.search(value):
            out.append(f"{name}: {value.strip()[:60]}")
    varnish = resp.headers.get("X-Varnish")
    if varnish and len(varnish.split()) >= 2:
        out.append(f"X-Varnish: {varnish.strip()[:60]} (two ids: a hit)")
    return out


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
                        response_names=(*_CACHE_HEADERS, "Set-Cookie"),
                    )
                )
            ev_list.append(
                evidence(
                    origin[2],
                    f"{request_line(origin[2])}: {name} first issued to {origin_client}",
                    role="context",
                    response_names=(*_CACHE_HEADERS, "Set-Cookie"),
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


_ASK_SIGNALS = "\x00signals"
"""``_by_cache_control``'s answer when Cache-Control leaves it to the cache headers (``cache_signals``)."""

_BY_CACHE_CONTROL: Memo[str | None, str | None] = Memo(1024)
"""``_by_cache_control`` per Cache-Control value: a site sends a handful."""


def _cacheable(resp: Response) -> str | None:
    raw = resp.headers.get("Cache-Control")
    if raw in _BY_CACHE_CONTROL:
        verdict = _BY_CACHE_CONTROL[raw]
    else:
        verdict = _BY_CACHE_CONTROL.remember(raw, _by_cache_control(raw))
    if verdict is not _ASK_SIGNALS:
        return verdict
    signals = cache_signals(resp)
    if signals:
        return signals[0]
    return None


def _by_cache_control(raw: str | None) -> str | None:
    """What the Cache-Control value alone says: why a cache may store the response, None when it may
    not, or ``_ASK_SIGNALS``."""
    cc = (raw or "").lower()
    if any(tok in cc for tok in ("private", "no-store")) or re.search(r"no-cache(?!\s*=)", cc):
        return None
    if re.search(r'no-cache\s*=\s*"?[^"]*set-cookie', cc):
        return None
    if "public" in cc:
        return f"Cache-Control: {cc}"
    m = re.search(r"(s-maxage|max-age)\s*=\s*(\d+)", cc)
    if m and int(m.group(2)) > 0:
        return f"Cache-Control: {cc}"
    return _ASK_SIGNALS


def cacheable_set_cookie(ctx: DetectContext, rule: Rule) -> list[Finding]:
    groups: dict[tuple[str, str, str], list[tuple[str, Transaction, str]]] = defaultdict(list)
    for session in ctx.sessions:
        if session.cookie_data != "present":
            continue
        by_id = ctx.tx_by_id(session)
        for ev in session.cookie_events:
            if ev.kind not in SET_OR_CHANGED or ev.persistence is None:
                continue
            if ev.persistence.role not in TRACKED_ROLES:
                continue
            tx = by_id[ev.transaction_id]
            if tx.response is None:
                continue
            why = _cacheable(tx.response)
            if why:
                groups[(tx.request.host, "", ev.name)].append((session.key.value, tx, why))
    out = []
    for (host, _unused, name), items in groups.items():
        clients = tuple(dict.fromkeys(c for c, _t, _w in items))
        first = items[0]
        paths = list(dict.fromkeys(tx.request.path for _c, tx, _w in items))
        where = f"{host}{paths[0]}" + (f" and {len(paths) - 1} other path(s)" if len(paths) > 1 else "")
        out.append(
            make_finding(
                rule,
                message=f"{where} set {name} on responses shared caches may store ({first[2]}); "
                f"without 'private' or no-cache=\"Set-Cookie\" a cache can hand this cookie to other users",
                input=first[1].input,
                client=first[0],
                first_seen=first[1].timing.started,
                last_seen=items[-1][1].timing.started,
                evidence=[
                    evidence(
                        tx,
                        f"{request_line(tx)}: Set-Cookie {name} with {why}",
                        role="trigger",
                        response_names=(*_CACHE_HEADERS, "Set-Cookie", "Expires"),
                    )
                    for _c, tx, why in items[:5]
                ],
                cookie=name,
                details=[("host", host), ("responses", str(len(items)))] + [("path", p) for p in paths[:10]],
                clients=clients,
            )
        )
    return out
