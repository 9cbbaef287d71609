"""Pieces several scenarios share: a sticky HAProxy configuration and the usual client steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.procs import LabError
from lab.stack import HAPROXY_DEFAULTS, Backend

HEALTH = "check inter 500ms fall 1 rise 1"


def backend_section(
    name: str,
    backends: Sequence[Backend],
    *,
    cookie: str | None = "cookie SERVERID insert indirect nocache",
    labels: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """One HAProxy ``backend``: round-robin with health checks, sticky when ``cookie`` is given."""
    labels = labels or {b.node: b.node for b in backends}
    lines = ["", f"backend {name}", "    balance roundrobin", "    option httpchk GET /health"]
    if cookie:
        lines.append(f"    {cookie}")
    lines += [f"    {opt}" for opt in options]
    for b in backends:
        label = f" cookie {labels[b.node]}" if cookie else ""
        lines.append(f"    server {b.node} {b.addr}{label} {HEALTH}")
    return lines


def sticky_haproxy(
    bind: str,
    backends: Sequence[Backend],
    *,
    cookie: str = "cookie SERVERID insert indirect nocache",
    labels: Mapping[str, str] | None = None,
    static_round_robin: bool = False,
    app_options: Sequence[str] = (),
) -> str:
    """HAProxy in front of ``backends``: ``/app`` sticky by an inserted cookie; ``/static/`` optionally
    balanced freely with no persistence at all (seed 001: Stingray persisting only some paths)."""
    lines = [HAPROXY_DEFAULTS, "frontend fe", f"    bind {bind}"]
    if static_round_robin:
        lines.append("    use_backend static if { path_beg /static/ }")
    lines.append("    default_backend app")
    lines += backend_section("app", backends, cookie=cookie, labels=labels, options=app_options)
    if static_round_robin:
        lines += backend_section("static", backends, cookie=None)
    return "\n".join(lines) + "\n"


def login(client: HttpClient, user: str) -> Exchange:
    ex = client.request(
        "POST", "/login", f"user={user}".encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    if ex.status != 200:
        raise LabError(f"login of {client.ip} failed: {ex.status} {ex.body[:80]!r}")
    return ex


def expect_ok(ex: Exchange, what: str) -> Exchange:
    if ex.status is None or ex.status >= 400:
        raise LabError(
            f"{what}: {ex.client} {ex.method} {ex.target} -> {ex.status} {ex.body[:60]!r} (backend {ex.backend})"
        )
    return ex


def browse(client: HttpClient, targets: Sequence[str]) -> list[Exchange]:
    return [expect_ok(client.request("GET", t), "healthy browsing") for t in targets]


def backends_seen(exchanges: Sequence[Exchange], prefix: str) -> set[str]:
    return {e.backend for e in exchanges if e.path.startswith(prefix) and e.backend}
