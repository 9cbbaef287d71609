"""Hypothesis property: reusing an identical request's events never changes the cookie timeline.

A client's requests are drawn from a few Cookie headers, hosts, paths and Set-Cookie responses
(routing and session cookies, ordinary ones, rejections, deletions, cookies set for a path or
another site, requests whose headers the engine could not attribute), so that requests repeat the
one before them with the same cookies held, sent and tracked, and sometimes with a change in
between. The timeline with reuse must equal the one that works every request out from scratch.
"""

from __future__ import annotations

from dataclasses import replace

from conftest import treq, tresp, ttx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.model import Transaction
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.timeline import cookie_timeline, tx_cookies

IDENTIFY = CookieClassifier().identify
SID = "A1b2C3d4E5f6G7h8I9j0K1l2"
COOKIES = (
    None,
    f"SERVERID=s1; JSESSIONID={SID}",
    f"SERVERID=s1; JSESSIONID={SID}; _ga=GA1.2.3.4",
    "SERVERID=s2",
    f"JSESSIONID={SID}",
    "SERVERID=s1; SERVERID=s2",
    "_ga=GA1.2.3.4",
)
SET_COOKIES = (
    (),
    (),
    ("SERVERID=s1; Path=/",),
    ("SERVERID=s2; Path=/",),
    (f"JSESSIONID={SID}; Path=/; HttpOnly",),
    ("JSESSIONID=Z9y8X7w6V5u4T3s2R1q0P9o8; Path=/app",),
    ("SERVERID=s1; Max-Age=0; Path=/",),
    ("SERVERID=s3; Path=/; Secure",),  # rejected over http
    ("_ga=GA1.2.3.4; Path=/",),
    ("SERVERID=s1; Domain=other.example; Path=/",),  # another site's: rejected
)
TARGETS = (("app.example", "/"), ("app.example", "/app/x"), ("app.example", "/app/x"), ("cdn.example.net", "/a.js"))

requests = st.tuples(
    st.sampled_from(COOKIES),
    st.sampled_from(SET_COOKIES),
    st.sampled_from(TARGETS),
    st.sampled_from([0.5, 1.0, 1.0, 5000.0]),
    st.sampled_from([False, False, False, True]),
)


Drawn = tuple[str | None, tuple[str, ...], tuple[str, str], float, bool]
"""Cookie header, Set-Cookie lines, (host, path), seconds since the request before, unattributed."""


def _transactions(drawn: list[Drawn]) -> list[Transaction]:
    out: list[Transaction] = []
    at = 1_700_000_000.0
    for n, (cookie, sets, (host, path), advance, unattributed) in enumerate(drawn):
        at += advance
        request = treq("GET", f"http://{host}{path}", [("Cookie", cookie)] if cookie else [])
        tx = ttx(n, at=at, request=request, response=tresp(200, [("Set-Cookie", sc) for sc in sets]))
        out.append(replace(tx, notes=("tshark.headers_unattributed",)) if unattributed else tx)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests, min_size=2, max_size=30))
def test_reused_events_equal_events_worked_out_again(drawn: list[Drawn]) -> None:
    txs = _transactions(drawn)
    parsed = [tx_cookies(tx) for tx in txs]
    assert cookie_timeline(txs, IDENTIFY, parsed) == cookie_timeline(txs, IDENTIFY, parsed, reuse_requests=False)
