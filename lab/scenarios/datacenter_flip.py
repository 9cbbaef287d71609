"""Seed 002: a front tier without persistence alternates between two datacenters.

Each "datacenter" HAProxy inserts its own opaque persistence cookie under the same name
(``lbs=!<base64>``, like an encrypted BIG-IP cookie) in front of its own backend; the front HAProxy
(the CDN in the seed) balances round-robin over the two with no persistence. A client going through the
front therefore sees ``lbs`` replaced on every other request, its session token re-issued by the other
datacenter, and its login fail. A client that talks to one datacenter directly stays logged in.

The capture holds the client-facing ports only (the front, and datacenter 1's direct port), the view
from a client's machine; the front's own connections to the datacenters are not in it.
"""

from __future__ import annotations

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.lbcookies import opaque_dc_cookie_value
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import HEALTH, backend_section, browse
from lab.stack import HAPROXY_DEFAULTS, Stack
from lab.truth import Rules

COOKIE = "lbs"
SESSION = "ASP.NET_SessionId"


def run(stack: Stack) -> Outcome:
    dc_backends = [stack.backend(f"dc{i}-web1", 20 + i, 1, cookie=SESSION, style="aspnet") for i in (1, 2)]
    stack.wait_backends(dc_backends)
    front_port, internal_port, direct_port = stack.port(0), stack.port(2), stack.port(3)
    dc_ips = [stack.ip(31), stack.ip(32)]
    dc_values = [opaque_dc_cookie_value(), opaque_dc_cookie_value()]
    for i, (ip, backend, value) in enumerate(zip(dc_ips, dc_backends, dc_values, strict=True), 1):
        binds = [f"    bind {ip}:{internal_port}"] + ([f"    bind {ip}:{direct_port}"] if i == 1 else [])
        config = (
            "\n".join(
                [
                    HAPROXY_DEFAULTS,
                    f"frontend dc{i}",
                    *binds,
                    "    default_backend web",
                    *backend_section(
                        "web",
                        [backend],
                        cookie=f"cookie {COOKIE} insert indirect nocache httponly",
                        labels={backend.node: value},
                    ),
                ]
            )
            + "\n"
        )
        listens = [(ip, internal_port)] + ([(ip, direct_port)] if i == 1 else [])
        stack.haproxy(f"haproxy-dc{i}", config, listens)
    front = (
        "\n".join(
            [
                HAPROXY_DEFAULTS,
                "frontend cdn_edge",
                f"    bind {stack.lb_ip}:{front_port}",
                "    default_backend datacenters",
                "",
                "backend datacenters",
                "    balance roundrobin",
                "    option httpchk GET /health",
                *[f"    server dc{i} {ip}:{internal_port} {HEALTH}" for i, ip in enumerate(dc_ips, 1)],
            ]
        )
        + "\n"
    )
    stack.haproxy("haproxy-front", front, [(stack.lb_ip, front_port)])
    log: list[Exchange] = []
    with stack.capture([front_port, direct_port]):
        via_front = HttpClient(stack.client_ip(1), stack.lb_ip, front_port, log)
        direct = HttpClient(stack.client_ip(2), dc_ips[0], direct_port, log)
        failures = 0
        for attempt in range(3):
            via_front.request("GET", "/login", note=f"login page, attempt {attempt + 1}")
            via_front.request(
                "POST", "/login", b"user=carol", headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
            ex = via_front.request("GET", "/app/account")
            failures += ex.status == 401
            via_front.request("GET", "/app/orders")
        direct.request("GET", "/login")
        direct.request("POST", "/login", b"user=dave", headers={"Content-Type": "application/x-www-form-urlencoded"})
        browse(direct, ["/app/account", "/app/orders", "/app/account", "/app/orders"])
        via_front.close()
        direct.close()
    if failures == 0:
        raise LabError("datacenter_flip: the front tier never sent the client to the other datacenter")
    values = {v: f"dc{i}" for i, v in enumerate(dc_values, 1)}
    return Outcome(
        description=(
            "Seed 002. A front HAProxy without persistence (the CDN) balances round-robin over two datacenter "
            f"HAProxies; each inserts its own opaque cookie {COOKIE}=!<base64> for its own backend. Client "
            f"{via_front.ip} goes through the front: {COOKIE} alternates between the two datacenters' values, "
            f"{SESSION} is re-issued by the other datacenter and /app/account failed with 401 on {failures} of 3 "
            f"login attempts. Client {direct.ip} talks to datacenter 1 directly and stays logged in."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=(COOKIE,), session=SESSION),
        exchanges=log,
        clients=[via_front.ip, direct.ip],
        intended={("datacenter_flip", via_front.ip, COOKIE)},
        extra={"lb": "haproxy", "datacenter_cookie_values": values},
    )


SCENARIO = Scenario("datacenter_flip", 5, "002", ("haproxy", "tcpdump"), run)
