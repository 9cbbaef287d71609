"""Every verified vector of ``cookie_vectors.json`` (our copy of shared/reference) is a test case.

Each vector is checked against the decoder of its vendor; where the vector records
how a value was built (hash inputs), the test also recomputes it, so a wrong
vector and a wrong decoder both fail.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stickyforensics.track.lb import (
    CookieClassifier,
    a10,
    barracuda,
    envoy,
    f5,
    gclb,
    haproxy,
    ingress_nginx,
    java,
    netscaler,
    nginx_sticky,
    radware,
    tengine,
    traefik,
)

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "cookie_vectors.json").read_text())


def _pairs(info: Any) -> dict[str, str]:
    return dict(info.decoded)


def check_netscaler(v: dict[str, Any]) -> None:
    info = netscaler.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    assert info.status == "decoded"
    assert info.backend == f"{want['server_ip']}:{want['server_port']}"
    assert _pairs(info).get("vserver") == want["vserver_name"]


def check_f5(v: dict[str, Any]) -> None:
    info = f5.decode("BIGipServer~Common~pool", v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert pairs["pool"] == "/Common/pool"
    assert pairs["format"] == want["format"]
    if want["format"] == "encrypted":
        assert info.status == "encrypted"
        assert info.backend == v["cookie_value"]
        return
    assert info.status == "decoded"
    assert pairs["ip"] == want["ip"]
    assert pairs["port"] == str(want["port"])
    if "route_domain" in want:
        assert pairs["route_domain"] == str(want["route_domain"])


def check_a10(v: dict[str, Any]) -> None:
    info = a10.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert info.confidence == "medium"
    assert (pairs["ip"], pairs["port"], pairs["vport"]) == (want["ip"], str(want["port"]), str(want["vport"]))
    assert pairs.get("service_group") == want["suffix"]


def check_haproxy(v: dict[str, Any]) -> None:
    info = haproxy.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    if "server_cookie" in want:
        pairs = _pairs(info)
        assert info.backend == want["server_cookie"]
        assert pairs["last_seen_epoch"] == str(want["last_seen_epoch"])
        assert pairs["first_seen_epoch"] == str(want["first_seen_epoch"])
    else:
        assert info.status == "opaque" and info.backend == v["cookie_value"]
        key, ip, port = want["dynamic_cookie_key"], want["server_ip"], want["server_port"]
        assert haproxy.dynamic_cookie(key, ip, port) == v["cookie_value"]


def check_ingress(v: dict[str, Any]) -> None:
    info = ingress_nginx.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert pairs["upstream_key"] == want["upstream_key"] and pairs["backend_key"] == want["backend_key"]
    assert info.backend == want["upstream_key"]
    backend = want["backend"]
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    assert md5(backend + want["endpoint"]) == want["upstream_key"]
    assert md5(md5(backend) + backend) == want["backend_key"]


def check_traefik(v: dict[str, Any]) -> None:
    want = v["decoded"]
    if "service_name" in want:
        digest = hashlib.sha1(("_TRAEFIK_BACKEND_" + want["service_name"]).encode()).hexdigest()
        assert "_" + digest[:5] == v["cookie_name"]
        info = CookieClassifier().identify(v["cookie_name"], "df5bd2f9c0180410")
        assert info is not None and info.family == "traefik"
    if v["cookie_value"] is None:
        return
    info = traefik.decode(v["cookie_name"], v["cookie_value"])
    assert info.status == "opaque" and info.backend == v["cookie_value"]
    url = want["server_url"].encode()
    if want["hash"].startswith("sha256"):
        assert hashlib.sha256(url).hexdigest()[:16] == v["cookie_value"]
    else:
        h = 0xCBF29CE484222325
        for byte in url:
            h = ((h * 0x100000001B3) & (2**64 - 1)) ^ byte
        assert format(h, "x") == v["cookie_value"]


def check_envoy(v: dict[str, Any]) -> None:
    info = envoy.decode("session-cookie", v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert info.backend == want["address"]
    assert pairs["format"] == want["format"]
    if "expires_monotonic_s" in want:
        assert pairs["expires_monotonic_s"] == str(want["expires_monotonic_s"])


def check_nginx_sticky(v: dict[str, Any]) -> None:
    info = nginx_sticky.decode(v["cookie_name"], v["cookie_value"])
    assert info.status == "opaque" and info.backend == v["cookie_value"]
    host, port = v["decoded"]["upstream_server"].split(":")
    if "sockaddr" in v["decoded"]["hash_input"]:
        data = struct.pack("<H", socket.AF_INET) + struct.pack(">H", int(port)) + socket.inet_aton(host) + bytes(8)
    else:
        data = v["decoded"]["upstream_server"].encode()
    assert hashlib.md5(data).hexdigest() == v["cookie_value"]


def check_tengine(v: dict[str, Any]) -> None:
    info = tengine.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert info.backend == want["sid"]
    assert pairs["last_seen_epoch"] == str(want["last_seen_epoch"])
    assert pairs["first_seen_epoch"] == str(want["first_seen_epoch"])
    assert hashlib.md5(want["upstream_peer"].encode()).hexdigest() == want["sid"]


def check_gclb(v: dict[str, Any]) -> None:
    info = gclb.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert info.backend == want["field1_hex"] == pairs["field1_hex"]
    assert int(want["field1_hex"], 16) == want["protobuf_fields"]["1"]
    assert pairs.get("field2") == str(want["protobuf_fields"]["2"])
    assert info.confidence == "medium"


def check_barracuda(v: dict[str, Any]) -> None:
    info = barracuda.decode(v["cookie_name"], v["cookie_value"])
    assert info.backend == f"{v['decoded']['ip']}:{v['decoded']['port']}"


def check_radware(v: dict[str, Any]) -> None:
    info = radware.decode(v["cookie_name"], v["cookie_value"])
    assert info.backend == v["decoded"]["bytes4_7_as_LE_IPv4"]
    assert info.confidence == "medium"


def check_java(v: dict[str, Any]) -> None:
    info = java.decode(v["cookie_name"], v["cookie_value"])
    want = v["decoded"]
    pairs = _pairs(info)
    assert want["session_id"] not in str(info.decoded)  # the session id is a secret: never displayed
    if "jvm_route" in want:
        assert info.family == "tomcat-jsessionid" and info.backend == want["jvm_route"]
    elif "primary_jvmid_hash" in want:
        assert info.family == "weblogic" and info.backend == str(want["primary_jvmid_hash"])
    else:
        assert info.family == "websphere"
        assert pairs["cache_id"] == want["cache_id"]
        assert pairs["clone_ids"] == ":".join(want["clone_ids"])
        assert info.backend is None  # clone id -1 = not routed by clone


CHECKERS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("Citrix NetScaler", check_netscaler),
    ("F5 BIG-IP", check_f5),
    ("A10 Networks", check_a10),
    ("HAProxy", check_haproxy),
    ("Kubernetes ingress-nginx", check_ingress),
    ("Traefik", check_traefik),
    ("Envoy", check_envoy),
    ("nginx-sticky-module-ng", check_nginx_sticky),
    ("Tengine", check_tengine),
    ("Google Cloud", check_gclb),
    ("Barracuda", check_barracuda),
    ("Radware Alteon", check_radware),
    ("Apache Tomcat", check_java),
    ("Oracle WebLogic", check_java),
    ("IBM WebSphere", check_java),
]


def test_vector_file_is_the_reference_set() -> None:
    assert len(VECTORS) == 50
    assert all({"vendor", "cookie_name", "cookie_value", "decoded", "verification"} <= set(v) for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{i}-{v['cookie_name']}" for i, v in enumerate(VECTORS)])
def test_vector(vector: dict[str, Any]) -> None:
    checker = next((c for prefix, c in CHECKERS if vector["vendor"].startswith(prefix)), None)
    assert checker is not None, f"no checker for vendor {vector['vendor']!r}"
    checker(vector)


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if v["cookie_value"] and not v["cookie_name"].startswith("<")],
    ids=lambda v: v["cookie_name"],
)
def test_vector_through_classifier(vector: dict[str, Any]) -> None:
    """The classifier reaches the same decoder by name (or by value for custom names)."""
    info = CookieClassifier().identify(vector["cookie_name"], vector["cookie_value"])
    assert info is not None
    assert info.status in {"decoded", "opaque", "encrypted"}
    assert info.family not in {"heuristic-routing", "heuristic-session"}
