"""Ground truth: which client suffered which stickiness problem, derived from exchanges.

The lab knows more than any analyzer (it chose the cookie names, it knows ``X-Backend`` names the node
that answered, it knows the HAProxy ``maxidle``/``maxlife`` it configured), so this is a small, exact
oracle for the lab's own traffic, not a general detector. It runs twice: on the clients' own logs
(what the lab did; written to ``expected.json``) and on the exchanges read back from the capture or HAR
by ``lab.verify`` (what is on the wire); both must agree.

One finding per (kind, client, cookie): the root cause, with its effects (401, re-login) consumed, the
way a support engineer would count incidents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lab.exchange import Exchange, SetCookie
from lab.lbcookies import haproxy_dates

STICKINESS_KINDS = ("missing_cookie", "server_flip", "datacenter_flip", "cached_set_cookie_replay", "session_timeout")


@dataclass(frozen=True)
class Rules:
    """What the oracle needs to know about one scenario's traffic."""

    persistence: tuple[str, ...]
    """Load-balancer cookie names."""
    session: str
    """The application's session cookie name."""
    static_prefix: str = "/static/"
    maxidle: float | None = None
    maxlife: float | None = None


@dataclass(frozen=True, order=True)
class Fact:
    kind: str
    client: str
    cookie: str | None
    why: str = field(default="", compare=False)

    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.client, self.cookie)

    def to_json(self) -> dict[str, str]:
        out = {"kind": self.kind, "client": self.client}
        if self.cookie is not None:
            out["cookie"] = self.cookie
        return out


def session_lost(ex: Exchange) -> bool:
    return ex.status == 401 or "BAD SESSION" in ex.body


def _by_client(exchanges: Iterable[Exchange]) -> dict[str, list[Exchange]]:
    out: dict[str, list[Exchange]] = defaultdict(list)
    for ex in exchanges:
        out[ex.client].append(ex)
    for lst in out.values():
        lst.sort(key=lambda e: e.time)
    return out


def _set(ex: Exchange, name: str) -> SetCookie | None:
    for c in ex.set_cookies:
        if c.name == name and not c.deletes:
            return c
    return None


def _is_refresh(sent: str, new: str) -> bool:
    """HAProxy re-sends its cookie to move the last-seen date: same server, same first date."""
    a_label, _a_last, a_first = haproxy_dates(sent)
    b_label, _b_last, b_first = haproxy_dates(new)
    return "|" in sent and a_label == b_label and a_first is not None and a_first == b_first


def _consume_effects(txs: Sequence[Exchange], start: int, consumed: set[int], rules: Rules) -> None:
    """The rejected requests and the re-login that follow a cause belong to the same incident."""
    for j in range(start, len(txs)):
        ex = txs[j]
        if ex.path.startswith(rules.static_prefix):
            continue
        if j > start and not session_lost(ex) and ex.path != "/login":
            break
        consumed.add(j)
        if ex.path == "/login" and ex.status == 200:
            break


def _timeouts(client: str, txs: Sequence[Exchange], rules: Rules, consumed: set[int]) -> list[Fact]:
    out: list[Fact] = []
    for i, ex in enumerate(txs):
        for name in rules.persistence:
            sent = ex.cookies.get(name)
            new = _set(ex, name)
            if sent is None or new is None or "|" not in sent or new.value == sent or _is_refresh(sent, new.value):
                continue
            _label, last, first = haproxy_dates(sent)
            idle = ex.time - last if last is not None else None
            life = ex.time - first if first is not None else None
            reasons = []
            if rules.maxidle is not None and idle is not None and idle > rules.maxidle:
                reasons.append(f"idle {idle:.0f} s > maxidle {rules.maxidle:.0f} s")
            if rules.maxlife is not None and life is not None and life > rules.maxlife:
                reasons.append(f"age {life:.0f} s > maxlife {rules.maxlife:.0f} s")
            if not reasons:
                continue
            out.append(
                Fact("session_timeout", client, name, f"{client}: HAProxy dropped {name} ({'; '.join(reasons)})")
            )
            _consume_effects(txs, i, consumed, rules)
    return out


def _missing(client: str, txs: Sequence[Exchange], rules: Rules, consumed: set[int]) -> list[Fact]:
    out: list[Fact] = []
    held: dict[str, str] = {}
    reported: set[str] = set()
    for i, ex in enumerate(txs):
        if i not in consumed and not ex.path.startswith(rules.static_prefix):
            for name in rules.persistence:
                if name in held and name not in ex.cookies and name not in reported:
                    nxt = next((t for t in txs[i + 1 :] if not t.path.startswith(rules.static_prefix)), None)
                    if session_lost(ex) or (nxt is not None and session_lost(nxt)):
                        reported.add(name)
                        out.append(
                            Fact(
                                "missing_cookie",
                                client,
                                name,
                                f"{client}: {ex.method} {ex.target} went without {name} -> session lost",
                            )
                        )
                        _consume_effects(txs, i, consumed, rules)
        for c in ex.set_cookies:
            if c.deletes:
                held.pop(c.name, None)
            else:
                held[c.name] = c.value
    return out


def _flips(client: str, txs: Sequence[Exchange], rules: Rules, consumed: set[int]) -> list[Fact]:
    out: list[Fact] = []
    for name in rules.persistence:
        replacements: list[tuple[int, str, str]] = []
        for i, ex in enumerate(txs):
            if i in consumed:
                continue
            sent = ex.cookies.get(name)
            new = _set(ex, name)
            if sent is not None and new is not None and new.value != sent and not _is_refresh(sent, new.value):
                replacements.append((i, sent, new.value))
        seen: set[str] = set()
        alternating = False
        for _i, old, fresh in replacements:
            if fresh in seen:
                alternating = True
            seen.update((old, fresh))
        if len(replacements) >= 2 or alternating:
            out.append(
                Fact(
                    "datacenter_flip",
                    client,
                    name,
                    f"{client}: {name} replaced {len(replacements)} times by tiers that do not share persistence",
                )
            )
            for i, _o, _n in replacements:
                _consume_effects(txs, i, consumed, rules)
        pinned: dict[str, str] = {}
        for i, ex in enumerate(txs):
            sent = ex.cookies.get(name)
            if i in consumed or sent is None or ex.backend is None or ex.path.startswith(rules.static_prefix):
                continue
            label = haproxy_dates(sent)[0]
            expected = pinned.setdefault(label, ex.backend)
            if expected != ex.backend:
                out.append(
                    Fact(
                        "server_flip",
                        client,
                        name,
                        f"{client}: sent {name} for {expected} but {ex.backend} answered {ex.method} {ex.target}",
                    )
                )
                _consume_effects(txs, i, consumed, rules)
                break
    return out


def _replays(by_client: dict[str, list[Exchange]], rules: Rules) -> list[Fact]:
    """A client handed a session id that another client received first (a shared cache replaying it)."""
    first_owner: dict[str, tuple[float, str]] = {}
    receipts: list[tuple[float, str, str, Exchange]] = []
    for client, txs in by_client.items():
        for ex in txs:
            c = _set(ex, rules.session)
            if c is not None:
                receipts.append((ex.time, client, c.value, ex))
    receipts.sort(key=lambda r: r[0])
    out: list[Fact] = []
    reported: set[str] = set()
    for at, client, value, ex in receipts:
        owner = first_owner.setdefault(value, (at, client))
        if owner[1] != client and client not in reported:
            reported.add(client)
            hit = f" (X-Cache-Status: {ex.cache})" if ex.cache else ""
            out.append(
                Fact(
                    "cached_set_cookie_replay",
                    client,
                    rules.session,
                    f"{client}: received {owner[1]}'s {rules.session}{hit}",
                )
            )
    return out


def derive(exchanges: Iterable[Exchange], rules: Rules) -> list[Fact]:
    """Every stickiness fact in these exchanges, sorted."""
    by_client = _by_client(exchanges)
    facts: list[Fact] = []
    for client, txs in by_client.items():
        consumed: set[int] = set()
        facts += _timeouts(client, txs, rules, consumed)
        facts += _missing(client, txs, rules, consumed)
        facts += _flips(client, txs, rules, consumed)
    facts += _replays(by_client, rules)
    return sorted(set(facts))


def healthy(clients: Iterable[str], facts: Iterable[Fact]) -> list[str]:
    bad = {f.client for f in facts}
    return sorted(c for c in set(clients) if c not in bad)
