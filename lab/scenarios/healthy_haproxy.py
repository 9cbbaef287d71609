"""Healthy HAProxy cookie persistence, with ``/static/`` balanced freely (seed 001).

HAProxy ``cookie SERVERID insert indirect nocache`` pins ``/app`` and ``/upload`` to one backend per
client, while ``/static/`` goes to a second HAProxy backend with plain round-robin and no persistence,
as Stingray's docs suggest for images and scripts. Static responses therefore come from several nodes
for the same client: that is by design and must not be reported.
"""

from __future__ import annotations

from lab.curlclient import CurlClient
from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import backends_seen, browse, expect_ok, login, sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules

STATIC = ["/static/style.css", "/static/app.js", "/static/logo.svg"]


def run(stack: Stack) -> Outcome:
    backends = [stack.backend(f"s{i}", 20 + i, 1) for i in (1, 2, 3)]
    stack.wait_backends(backends)
    port = stack.port(0)
    stack.haproxy(
        "haproxy", sticky_haproxy(f"{stack.lb_ip}:{port}", backends, static_round_robin=True), [(stack.lb_ip, port)]
    )
    log: list[Exchange] = []
    with stack.capture([port]):
        py = [HttpClient(stack.client_ip(k), stack.lb_ip, port, log) for k in (1, 2)]
        curl = CurlClient(stack.client_ip(3), f"http://{stack.lb_ip}:{port}", stack.workdir, log, http2=False)
        for k, c in enumerate(py, 1):
            login(c, f"user{k}")
        expect_ok(curl.run([("POST", "/login", b"user=user3")])[0], "curl login")
        for round_ in range(2):
            for c in py:
                browse(c, ["/app/home", *STATIC, "/app/profile"])
                expect_ok(c.request("PUT", f"/upload/report-{round_}.doc", b"x" * 300), "upload")
            for ex in curl.run(
                [
                    ("GET", "/app/home", None),
                    *[("GET", s, None) for s in STATIC],
                    ("PUT", f"/upload/notes-{round_}.doc", b"y" * 200),
                ]
            ):
                expect_ok(ex, "curl browsing")
        for c in py:
            c.close()
    static_nodes = backends_seen(log, "/static/")
    if len(static_nodes) < 2:
        raise LabError(f"healthy_haproxy: static content came from {static_nodes} only; round-robin did not spread it")
    clients = [stack.client_ip(k) for k in (1, 2, 3)]
    return Outcome(
        description=(
            "Three clients (two Python http.client, one curl) log in through HAProxy (cookie SERVERID insert "
            "indirect nocache) in front of three backends with unshared sessions, browse /app/, upload files and "
            f"fetch /static/. /static/ is balanced round-robin without persistence (seed 001): it came from "
            f"{len(static_nodes)} different backends ({', '.join(sorted(static_nodes))}) and that is not a flip."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=("SERVERID",), session="JSESSIONID"),
        exchanges=log,
        clients=clients,
        intended=set(),
        extra={"lb": "haproxy", "static_round_robin": True},
    )


SCENARIO = Scenario("healthy_haproxy", 1, "001", ("haproxy", "tcpdump", "curl"), run)
