"""Seed 004: load-balancer session timeouts, idle and forced (maximum lifetime).

HAProxy ``cookie SRV insert indirect nocache maxidle 4s maxlife 10s`` writes the cookie's last-seen and
first-seen dates into its value (``label|last|first``, 4-second resolution) and ignores a cookie whose
idle time or age exceeds the limit: the request is balanced afresh and lands on a backend that does not
know the session.

* Client .11 works, then goes idle ~8.5 s (more than maxidle even at the dates' resolution): its next
  request is rebalanced -> 401 BAD SESSION -> login.
* Client .12 keeps a background poll (``/poll?UA=0`` every second, like OWA's keep-alives in the
  NetScaler forced-timeout article) so it is never idle; once its persistence is older than maxlife,
  HAProxy re-balances the poll, and its next real request fails -> login.
* Client .13 works briefly, well inside both limits, and is healthy.
"""

from __future__ import annotations

import time

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.lbcookies import haproxy_dates
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import expect_ok, login, sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules

COOKIE = "SRV"
MAXIDLE, MAXLIFE = 4, 10
IDLE_FOR = 8.5
POLL_EVERY = 1.0
DEADLINE = 25.0


def _recover(client: HttpClient, user: str) -> None:
    ex = client.request("GET", "/app/mail")
    if ex.status == 401:
        login(client, user)
        expect_ok(client.request("GET", "/app/mail"), "after logging in again")


def run(stack: Stack) -> Outcome:
    backends = [stack.backend(f"owa{i}", 20 + i, 1) for i in (1, 2, 3)]
    stack.wait_backends(backends)
    port = stack.port(0)
    cookie_line = f"cookie {COOKIE} insert indirect nocache maxidle {MAXIDLE}s maxlife {MAXLIFE}s"
    stack.haproxy(
        "haproxy", sticky_haproxy(f"{stack.lb_ip}:{port}", backends, cookie=cookie_line), [(stack.lb_ip, port)]
    )
    log: list[Exchange] = []
    with stack.capture([port]):
        idle, poller, brief = (HttpClient(stack.client_ip(k), stack.lb_ip, port, log) for k in (1, 2, 3))
        # login order brief, idle, poller: with three servers in round-robin, the next unpinned request goes
        # to brief's server, i.e. away from idle's, and the one after that away from poller's
        for c, user in ((brief, "gus"), (idle, "hana"), (poller, "ivan")):
            login(c, user)
        t0 = time.monotonic()
        brief_at = [0.5, 1.5, 2.5]
        idle_done = poller_done = False
        next_poll = 0.2
        poll_label = haproxy_dates(poller.jar.values[COOKIE])[0]
        expect_ok(idle.request("GET", "/app/mail"), "idle client's work")
        while not (idle_done and poller_done):
            now = time.monotonic() - t0
            if now > DEADLINE:
                raise LabError("idle_maxlife_timeout: HAProxy never expired the poller's cookie (maxlife)")
            if brief_at and now >= brief_at[0]:
                brief_at.pop(0)
                expect_ok(brief.request("GET", "/app/mail"), "brief client")
            if not idle_done and now >= IDLE_FOR + 0.2:
                _recover(idle, "hana")
                idle_done = True
            if not poller_done and now >= next_poll:
                next_poll += POLL_EVERY
                expect_ok(poller.request("GET", "/poll?UA=0"), "poll")
                if haproxy_dates(poller.jar.values[COOKIE])[0] != poll_label:
                    _recover(poller, "ivan")
                    poller_done = True
            time.sleep(0.05)
        for c in (idle, poller, brief):
            c.close()
    rejected = sorted({e.client for e in log if e.status == 401})
    if rejected != sorted([idle.ip, poller.ip]):
        raise LabError(f"idle_maxlife_timeout: expected both timed-out clients to lose their session, got {rejected}")
    return Outcome(
        description=(
            f"Seed 004. HAProxy '{cookie_line}' in front of three backends. Client {idle.ip} went idle "
            f"{IDLE_FOR} s (> maxidle {MAXIDLE} s): its next request was rebalanced -> 401 -> login (idle timeout). "
            f"Client {poller.ip} polled /poll?UA=0 every {POLL_EVERY:.0f} s, never idle, until its persistence "
            f"was older than maxlife {MAXLIFE} s: HAProxy rebalanced the poll, and its next /app request got 401 -> "
            f"login (forced/maximum-lifetime timeout despite the polling). Client {brief.ip} worked briefly inside "
            "both limits."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=(COOKIE,), session="JSESSIONID", maxidle=MAXIDLE, maxlife=MAXLIFE),
        exchanges=log,
        clients=[idle.ip, poller.ip, brief.ip],
        intended={("session_timeout", idle.ip, COOKIE), ("session_timeout", poller.ip, COOKIE)},
        extra={"lb": "haproxy", "timeouts": {idle.ip: "maxidle", poller.ip: "maxlife"}},
    )


SCENARIO = Scenario("idle_maxlife_timeout", 7, "004", ("haproxy", "tcpdump"), run)
