"""Seed 003: a shared cache stores a response with ``Set-Cookie`` and hands one user's session to others.

nginx (``proxy_cache`` with ``proxy_ignore_headers Set-Cookie Cache-Control Expires``, the same mistake
as IIS kernel caching ISAPI responses) caches the landing page ``/welcome``, which starts a session. The
first visitor gets a fresh ``ASP.NET_SessionId`` (``X-Cache-Status: MISS``); the next visitors get the
cached response, *including that Set-Cookie* (``HIT``), and then use the first visitor's session, who
has meanwhile logged in: a session swap. Which clients received whose session is taken from the
backend's own log (the session was created for the first visitor's address, per X-Forwarded-For).
"""

from __future__ import annotations

import json

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import browse, expect_ok, login
from lab.stack import Stack
from lab.truth import Rules

SESSION = "ASP.NET_SessionId"


def _nginx_http(listen: str, upstream: str) -> str:
    return f"""
    proxy_cache_path @PREFIX@/cache levels=1:2 keys_zone=pages:1m max_size=10m inactive=5m use_temp_path=off;
    upstream app {{ server {upstream}; keepalive 8; }}
    server {{
        listen {listen};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-Forwarded-For $remote_addr;
        location = /welcome {{
            proxy_pass http://app;
            proxy_cache pages;
            proxy_cache_valid 200 5m;
            proxy_ignore_headers Set-Cookie Cache-Control Expires;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
        location / {{
            proxy_pass http://app;
        }}
    }}
"""


def _created_for(log_path: str) -> dict[str, str]:
    """Session id -> the client address it was created for, from the backend's own log."""
    out: dict[str, str] = {}
    with open(log_path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["event"] == "session_created":
                out[rec["sid"]] = rec["client"]
    return out


def run(stack: Stack) -> Outcome:
    backend = stack.backend("iis1", 21, 1, cookie=SESSION, style="aspnet")
    stack.wait_backends([backend])
    port = stack.port(0)
    stack.nginx("nginx", _nginx_http(f"{stack.lb_ip}:{port}", backend.addr), [(stack.lb_ip, port)])
    log: list[Exchange] = []
    with stack.capture([port]):
        first, *others = [HttpClient(stack.client_ip(k), stack.lb_ip, port, log) for k in (1, 2, 3)]
        control = HttpClient(stack.client_ip(4), stack.lb_ip, port, log)
        miss = expect_ok(first.request("GET", "/welcome"), "first visit")
        login(first, "erin")
        browse(first, ["/app/account"])
        for c in others:
            expect_ok(c.request("GET", "/welcome"), "cached visit")
            browse(c, ["/app/account", "/app/orders"])  # works: it is erin's session
        login(control, "frank")  # logs in without the cached page: a session of its own
        browse(control, ["/app/account"])
        for c in (first, *others, control):
            c.close()
    created_for = _created_for(str(backend.log))
    victims = []
    for ex in log:
        for sc in ex.set_cookies:
            owner = created_for.get(sc.value)
            if sc.name == SESSION and owner is not None and owner != ex.client:
                victims.append((ex.client, owner, ex.cache))
    if miss.cache != "MISS" or not victims or any(cache != "HIT" for _v, _o, cache in victims):
        raise LabError(f"cached_set_cookie: the cache did not replay the first Set-Cookie as designed: {victims}")
    return Outcome(
        description=(
            "Seed 003. nginx proxy_cache with 'proxy_ignore_headers Set-Cookie Cache-Control Expires' caches "
            f"/welcome, which starts a session. Client {first.ip} got a fresh {SESSION} (X-Cache-Status: MISS) "
            f"and logged in; clients {', '.join(v for v, _o, _c in victims)} received the cached response "
            f"with {first.ip}'s Set-Cookie (HIT) and browsed /app/account as that user (the backend's log shows the "
            f"session was created for {first.ip}). Client {control.ip} logged in without the cached page and "
            f"is healthy; {first.ip} itself received its own session and is not a victim."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=(), session=SESSION),
        exchanges=log,
        clients=[first.ip, *(c.ip for c in others), control.ip],
        intended={("cached_set_cookie_replay", c.ip, SESSION) for c in others},
        extra={"lb": "nginx", "session_owner": first.ip},
    )


SCENARIO = Scenario("cached_set_cookie", 6, "003", ("nginx", "tcpdump"), run)
