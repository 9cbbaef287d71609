"""build_sessions: one pass per address (parse once, split into browsers, track each) equals tracking
each client of ``group_by_client`` on its own."""

from __future__ import annotations

from dataclasses import replace

from conftest import treq, tresp, ttx

from stickyforensics.config import Config
from stickyforensics.model import Transaction
from stickyforensics.track.backends import observe_backend
from stickyforensics.track.capture_facts import decide_facts
from stickyforensics.track.clients import group_by_client
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.sessions import build_sessions, session_order
from stickyforensics.track.timeline import cookie_timeline

NAT = "10.0.0.9"
T0 = 1_700_000_000.0
SID_A = "A1b2C3d4E5f6G7h8I9j0K1l2"
SID_B = "Z9y8X7w6V5u4T3s2R1q0P9o8"


def browser(n0: int, start: float, sid: str, server: str, pages: int = 5) -> list[Transaction]:
    """A cookie-less login that sets a routing and a session cookie, then pages every 2 s carrying both."""
    login = tresp(200, [("Set-Cookie", f"SERVERID={server}; path=/"), ("Set-Cookie", f"JSESSIONID={sid}; Path=/")])
    out = [ttx(n0, at=T0 + start, request=treq("GET", "http://app.example/login"), response=login, client=NAT)]
    for i in range(1, pages + 1):
        cookie = [("Cookie", f"SERVERID={server}; JSESSIONID={sid}")]
        request = treq("GET", f"http://app.example/app/p{i}", cookie)
        out.append(ttx(n0 + i, at=T0 + start + 2 * i, request=request, response=tresp(200, []), client=NAT))
    return out


def ids(txs: list[Transaction] | tuple[Transaction, ...]) -> set[str]:
    return {t.id for t in txs}


def _capture() -> list[Transaction]:
    """Two browsers behind the NAT address (SF302's proof: their session values alternate) and one
    browser alone on another address."""
    nat = browser(0, 0.0, SID_A, "s1") + browser(100, 1.0, SID_B, "s2")
    lone = browser(200, 0.5, "Q1w2E3r4T5y6U7i8O9p0", "s1", pages=3)
    return nat + [replace(t, client=replace(t.client, ip="10.0.0.8")) if t.client else t for t in lone]


def test_sessions_are_the_clients_of_group_by_client_each_tracked_alone() -> None:
    txs = _capture()
    identify = CookieClassifier().identify
    facts = decide_facts(txs)
    sessions = build_sessions(txs, Config())
    groups = group_by_client(txs, xff_inputs=facts.xff_inputs, identify=identify)
    assert {s.key.value for s in sessions} == {f"{NAT}#1", f"{NAT}#2", "10.0.0.8"}
    assert [(s.key, ids(s.transactions)) for s in sessions] == sorted(
        ((key, ids(group)) for key, group in groups.items()),
        key=lambda kv: (min(t.timing.started for t in txs if t.id in kv[1]), kv[0].value),
    )
    for session in sessions:
        group = groups[session.key]
        assert list(session.transactions) == group
        assert session.cookie_events == cookie_timeline(group, identify)
        assert session.backends == tuple(
            observe_backend(tx, identify, Config(), multi_address_hosts=facts.multi_address_hosts) for tx in group
        )
    assert list(sessions) == sorted(sessions, key=session_order)


def test_identity_ip_keeps_the_address_whole() -> None:
    sessions = build_sessions(_capture(), replace(Config(), client_identity="ip"))
    assert [s.key.value for s in sessions] == [NAT, "10.0.0.8"]
