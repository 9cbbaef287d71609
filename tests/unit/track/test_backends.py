from __future__ import annotations

from dataclasses import replace

from conftest import treq, tresp, ttx

from stickyforensics.config import Config
from stickyforensics.model import BodyInfo
from stickyforensics.track.backends import hosts_with_several_addresses, observe_backend
from stickyforensics.track.lb import CookieClassifier

IDENTIFY = CookieClassifier().identify


def observe(headers: list[tuple[str, str]], body: bytes = b"", *, config: Config | None = None, multi: bool = False):
    resp = replace(tresp(200, headers), body=BodyInfo(size=len(body), prefix=body))
    tx = ttx(1, request=treq(headers=[("Cookie", "SERVERID=s9")]), response=resp)
    hosts = frozenset({tx.request.host}) if multi else frozenset()
    return observe_backend(tx, IDENTIFY, config or Config(), multi_address_hosts=hosts)


def test_header_wins_and_names_its_source() -> None:
    obs = observe([("X-Served-By", "web-03"), ("Set-Cookie", "SERVERID=s2; path=/")])
    assert (obs.backend, obs.source, obs.confidence) == ("web-03", "header:X-Served-By", "high")


def test_set_cookie_decoded_backend() -> None:
    obs = observe([("Set-Cookie", "BIGipServerweb=1677787402.20480.0000; path=/")])
    assert obs.backend == "10.1.1.100:80" and obs.source == "set-cookie:BIGipServerweb"


def test_opaque_cookie_is_labelled_without_its_value() -> None:
    obs = observe([("Set-Cookie", "X-Mapping-abcdefgh=0123456789ABCDEF0123456789ABCDEF; path=/")])
    assert obs.backend is not None and obs.backend.startswith("X-Mapping-abcdefgh#")
    assert "0123456789ABCDEF" not in obs.backend


def test_body_marker_names_the_backend() -> None:
    obs = observe([], b"<div>Served by node2</div>")
    assert (obs.backend, obs.source) == ("node2", "body-marker")


def test_cloudflare_ray_gives_the_pop() -> None:
    obs = observe([("CF-Ray", "7d2c0a1b2c3d4e5f-FRA"), ("X-Backend", "a")])
    assert obs.datacenter == "cloudflare-FRA"


def test_sent_cookie_is_only_what_was_asked() -> None:
    obs = observe([])
    assert obs.source == "cookie:SERVERID" and obs.confidence == "low"


def test_server_address_counts_only_when_a_host_has_several() -> None:
    assert observe([], multi=True).source == "server-address"
    a = ttx(1, server="10.0.0.1")
    b = ttx(2, server="10.0.0.2")
    assert hosts_with_several_addresses([a, b]) == frozenset({"app.example"})
