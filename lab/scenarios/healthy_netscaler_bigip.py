"""Healthy persistence with cookies byte-for-byte like NetScaler's and BIG-IP's.

One HAProxy plays two appliances: a "NetScaler vserver" frontend whose inserted cookie is
``NSC_<vserver name, letters shifted +1>=ffffffff<ip^0x03081E11><constant><port^0x3630>`` and a
"BIG-IP virtual server" frontend whose cookie is ``BIGipServer<pool>=<ip LE int>.<port swapped>.0000``,
each value encoding the real 127.0.2.x address and port of the backend behind it, so an analyzer's
decoders can name the real backend. Every client stays on its backend.
"""

from __future__ import annotations

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.lbcookies import bigip_cookie_name, bigip_cookie_value, netscaler_cookie_name, netscaler_cookie_value
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import backend_section, browse, expect_ok, login
from lab.stack import HAPROXY_DEFAULTS, Stack
from lab.truth import Rules

VSERVER = "vs_stickylab_http"
POOL = "/Common/stickylab_pool"


def run(stack: Stack) -> Outcome:
    ns_backends = [stack.backend(f"ns{i}", 20 + i, 1) for i in (1, 2, 3)]
    f5_backends = [stack.backend(f"f5{i}", 30 + i, 2) for i in (1, 2)]
    stack.wait_backends(ns_backends + f5_backends)
    ns_port, f5_port = stack.port(0), stack.port(10)
    ns_cookie, f5_cookie = netscaler_cookie_name(VSERVER), bigip_cookie_name(POOL)
    config = (
        "\n".join(
            [
                HAPROXY_DEFAULTS,
                "frontend netscaler_vserver",
                f"    bind {stack.lb_ip}:{ns_port}",
                "    default_backend ns_app",
                "",
                "frontend bigip_virtual",
                f"    bind {stack.lb_ip}:{f5_port}",
                "    default_backend f5_pool",
                *backend_section(
                    "ns_app",
                    ns_backends,
                    cookie=f"cookie {ns_cookie} insert indirect nocache httponly",
                    labels={b.node: netscaler_cookie_value(b.ip, b.port) for b in ns_backends},
                ),
                *backend_section(
                    "f5_pool",
                    f5_backends,
                    cookie=f"cookie {f5_cookie} insert indirect nocache",
                    labels={b.node: bigip_cookie_value(b.ip, b.port) for b in f5_backends},
                ),
            ]
        )
        + "\n"
    )
    stack.haproxy("haproxy", config, [(stack.lb_ip, ns_port), (stack.lb_ip, f5_port)])
    log: list[Exchange] = []
    with stack.capture([ns_port, f5_port]):
        clients = [
            HttpClient(stack.client_ip(k), stack.lb_ip, ns_port if k <= 2 else f5_port, log) for k in (1, 2, 3, 4)
        ]
        for k, c in enumerate(clients, 1):
            login(c, f"user{k}")
        for round_ in range(3):
            for c in clients:
                browse(c, ["/app/home", "/static/style.css", "/app/files"])
                expect_ok(c.request("POST", f"/upload/file-{round_}.doc", b"z" * 128), "upload")
        for c in clients:
            c.close()
    decoded = {b.node: f"{b.ip}:{b.port}" for b in ns_backends + f5_backends}
    return Outcome(
        description=(
            f"HAProxy imitates a NetScaler vserver '{VSERVER}' (cookie {ns_cookie}, classic COOKIEINSERT value "
            f"encoding the service IP:port) for clients .11/.12 and a BIG-IP pool '{POOL}' (cookie {f5_cookie}, "
            "value <ip as little-endian int>.<byte-swapped port>.0000) for clients .13/.14. The values decode to "
            f"the real backends: {', '.join(f'{k}={v}' for k, v in sorted(decoded.items()))}. All clients stay sticky."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=(ns_cookie, f5_cookie), session="JSESSIONID"),
        exchanges=log,
        clients=[stack.client_ip(k) for k in (1, 2, 3, 4)],
        intended=set(),
        extra={
            "lb": "haproxy",
            "cookie_values": {
                ns_cookie: {netscaler_cookie_value(b.ip, b.port): b.addr for b in ns_backends},
                f5_cookie: {bigip_cookie_value(b.ip, b.port): b.addr for b in f5_backends},
            },
        },
    )


SCENARIO = Scenario("healthy_netscaler_bigip", 2, None, ("haproxy", "tcpdump"), run)
