"""A backend dies mid-session; HAProxy (``option redispatch``) moves its clients elsewhere.

The client keeps sending the same ``SERVERID`` cookie, but the server it names is down (health checks
every 500 ms, and a failed connect is redispatched), so HAProxy balances the request to another backend,
which has no such session: ``401 BAD SESSION`` and a new ``SERVERID``. The other clients, pinned to
living backends, see nothing.
"""

from __future__ import annotations

import signal
import time

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import browse, expect_ok, login, sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules


def run(stack: Stack) -> Outcome:
    backends = [stack.backend(f"app{i}", 20 + i, 1) for i in (1, 2, 3)]
    stack.wait_backends(backends)
    port = stack.port(0)
    stack.haproxy(
        "haproxy",
        sticky_haproxy(f"{stack.lb_ip}:{port}", backends, app_options=["option redispatch", "retries 2"]),
        [(stack.lb_ip, port)],
    )
    log: list[Exchange] = []
    with stack.capture([port]):
        clients = [HttpClient(stack.client_ip(k), stack.lb_ip, port, log) for k in (1, 2, 3)]
        pinned = {c.ip: login(c, f"user{k}").backend for k, c in enumerate(clients, 1)}
        for c in clients:
            browse(c, ["/app/home", "/app/inbox"])
        victim = clients[0]
        dead = next(b for b in backends if b.node == pinned[victim.ip])
        stack.kill(dead.proc, signal.SIGKILL)  # a crash, not a graceful drain
        time.sleep(1.2)  # two health-check intervals: HAProxy marks it DOWN
        for c in clients:
            ex = c.request("GET", "/app/inbox")
            if ex.status == 401:
                login(c, "user-again")
            else:
                expect_ok(ex, "after the crash")
        for c in clients:
            browse(c, ["/app/home", "/static/style.css", "/app/inbox"])
            c.close()
    moved = [e for e in log if e.client == victim.ip and e.status == 401]
    if not moved:
        raise LabError("backend_killed_redispatch: the victim was never rejected after its backend died")
    return Outcome(
        description=(
            "HAProxy (cookie SERVERID insert indirect nocache, option redispatch, health checks every 500 ms) in "
            f"front of three backends. Backend {dead.node} ({dead.addr}), where client {victim.ip} was pinned, "
            f"is killed with SIGKILL mid-session; the client keeps sending SERVERID={pinned[victim.ip]}, lands on "
            f"{moved[0].backend}, gets 401 BAD SESSION and a new SERVERID, and logs in again. The other clients "
            "(pinned to living backends) are unaffected."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=("SERVERID",), session="JSESSIONID"),
        exchanges=log,
        clients=[c.ip for c in clients],
        intended={("server_flip", victim.ip, "SERVERID")},
        extra={"lb": "haproxy", "killed_backend": dead.node},
    )


SCENARIO = Scenario("backend_killed_redispatch", 4, None, ("haproxy", "tcpdump"), run)
