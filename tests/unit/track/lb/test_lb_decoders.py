"""Table-driven tests per decoder: synthetic and real-shaped values, and malformed ones.

Malformed values must come back as status ``unknown`` (never an exception, never a
made-up backend).
"""

from __future__ import annotations

import pytest

from stickyforensics.model import ChangeMeaning, PersistenceInfo
from stickyforensics.track.lb import DECODERS, a10, akamai, apache, aws, f5, generic, haproxy, netscaler, vtm
from stickyforensics.track.lb._common import (
    b64decode,
    hostport,
    is_internal_ip,
    parse_hostport,
    parse_protobuf,
)

# (decoder, cookie name, value, expected backend, expected pairs subset, internal address?)
DECODED = [
    (
        "netscaler",
        "NSC_ozdbewjq3.gxnsn.ofu",
        "ffffffff0a0a0a0b45525d5f4f58455e445a4a423660",
        "9.2.20.26:80",
        {"vserver": "nycadvip3.fwmrm.net"},
        False,
    ),
    ("f5_bigip", "BIGipServerweb_80", "16777343.20480.0000", "127.0.0.1:80", {"pool": "web_80"}, True),
    (
        "f5_bigip",
        "BIGipServer~DMZ_V101~web_443",
        "1677787402.47873.0000",
        "10.1.1.100:443",
        {"pool": "/DMZ_V101/web_443", "format": "ipv4"},
        True,
    ),
    (
        "f5_bigip",
        "BIGipServerv6",
        "vife800000000000000000000000000001.47873",
        "[fe80::1]:443",
        {"format": "ipv6"},
        True,
    ),
    ("a10", "sto-id", "AKAAAAAKFAAA", "10.0.0.10:80", {}, True),
    ("haproxy", "SERVERID", "web-01", "web-01", {"mode": "insert"}, False),
    ("haproxy", "SERVERID", "s1|ZVP11", "s1", {"last_seen_epoch": "1700001236"}, False),
    ("haproxy", "JSESSIONID", "app2~B0F3A1C5D2E4F607", "app2", {"mode": "prefix"}, False),
    (
        "java_session",
        "JSESSIONID",
        "0001AbCdEfGhIjKlMnOpQrStUvW:c1a2:c3b4",
        "c1a2:c3b4",
        {"clone_ids": "c1a2:c3b4"},
        False,
    ),
    (
        "java_session",
        "JSESSIONID",
        "Xy12Ab34Cd56!-314662473!987654321!1700000000000",
        "-314662473",
        {"secondary_jvm_hash": "987654321", "created_ms": "1700000000000"},
        False,
    ),
    ("apache_balancer", "ROUTEID", ".app12", "app12", {"route": "app12"}, False),
    ("apache_balancer", "BALANCEID", "balancer.node-2", "node-2", {}, False),
    (
        "akamai",
        "akaalb_shop",
        "1735649402~op=shop_rule:dc-ams|~rv=48~m=dc-ams:0|~os=" + "a" * 32 + "~id=" + "b" * 32,
        "dc-ams",
        {"origin": "dc-ams", "rule": "shop_rule", "expires": "2024-12-31T12:50:02Z"},
        False,
    ),
    (
        "akamai",
        "akaalb_multi",
        "~op=r1:east|r2:west|~rv=3~m=east:0|west:0|~id=" + "c" * 32,
        "east|west",
        {"origin": "east|west"},
        False,
    ),
    ("envoy", "sticky", "Wzo6MV06ODA4MA==", "[::1]:8080", {"format": "legacy"}, True),
    (
        "ingress_nginx",
        "route",
        "1700000000.123.4567.89012|" + "d" * 32,
        "1700000000.123.4567.89012",
        {"mode": "balanced", "worker_pid": "4567", "created": "2023-11-14T22:13:20Z"},
        False,
    ),
    ("ingress_nginx", "INGRESSCOOKIE", "e" * 40, "e" * 40, {}, False),
    ("traefik", "_TRAEFIK_BACKEND", "http://10.0.2.51:8080", "10.0.2.51:8080", {"format": "v1 server URL"}, True),
    ("traefik", "_TRAEFIK_BACKEND", "https://app.internal/", "app.internal:443", {}, False),
    ("tengine", "route", "node7|1700001234|1700000000", "node7", {"sid_form": "plain server id"}, False),
    ("nginx_sticky", "route", "1", "1", {"peer_index": "1"}, False),
    ("nginx_sticky", "srv_id", "192.168.1.10:8080", "192.168.1.10:8080", {}, True),
    ("nginx_sticky", "route", "b" * 40, "b" * 40, {"hash_form": "sha1"}, False),
    (
        "vtm",
        "X-Mapping-hglpomgk",
        "4A3A3083379D97CE4177670FEED6E830",
        "4A3A3083379D97CE4177670FEED6E830",
        {"persistence_class_hash": "hglpomgk"},
        False,
    ),
    ("vtm", "X-Zeus-Backend", "10.1.1.20:80", "10.1.1.20:80", {"node": "10.1.1.20:80"}, True),
    ("vtm", "X-Zeus-Backend", "web3", "web3", {"node": "web3"}, False),
    ("label", "amlbcookie", "01", "01", {"label": "01"}, False),
]


@pytest.mark.parametrize(("decoder", "name", "value", "backend", "pairs", "internal"), DECODED)
def test_decodes(
    decoder: str, name: str, value: str, backend: str | None, pairs: dict[str, str], internal: bool
) -> None:
    info = DECODERS[decoder](name, value)
    assert info.status in {"decoded", "opaque", "encrypted"}, info
    if backend is not None:
        assert info.backend == backend
    assert pairs.items() <= dict(info.decoded).items()
    assert info.discloses_internal_address is internal


def test_gclb_single_field() -> None:
    info = DECODERS["gclb"]("GCLB", "CKHhmvX0rdj7Gw")
    assert info.status == "decoded"
    assert info.backend is not None and len(info.backend) == 16
    assert "field2" not in dict(info.decoded)


MALFORMED = [
    ("netscaler", "NSC_abc", "hello"),
    ("netscaler", "NSC_abc", "ffffffffc3a0f70e45525d5f4f58455e445a4a42378"),  # 43 hex, too short to be encrypted
    ("f5_bigip", "BIGipServerp", "1677787402.36895"),
    ("f5_bigip", "BIGipServerp", "99999999999.80.0000"),
    ("f5_bigip", "BIGipServerp", "1677787402.99999.0000"),
    ("f5_bigip", "BIGipServerp", "rd5o00000000000000000000ffffc00002zzo80"),
    ("f5_bigip", "BIGipServerp", "vi20010112000000000000000000000030.99999"),
    ("f5_bigip", "BIGipServerp", "!short"),
    ("f5_bigip", "BIGipServerp", "!" + "A" * 21),  # base64 length that cannot be valid
    ("f5_bigip", "BIGipServerp", "0" * 120),  # rewrite placeholder never rewritten
    ("a10", "sto-id-20480", "CBLMMCMKFAA"),
    ("a10", "sto-id-20480", "CBLMMCMKFAAZ"),
    ("radware_alteon", "AlteonP", "ANb/I8gTFAob0dYT$$"),
    ("radware_alteon", "AlteonP", "not base64 at all!!!!!"),
    ("barracuda", "BNI_persistence", "00000000000000000000000z6902c80a00008223"),
    ("haproxy", "SERVERID", "s1|AAAAA"),  # a date in 1970
    ("haproxy", "SERVERID", "s1|ZV*11"),
    ("haproxy", "SERVERID", "a b"),
    ("haproxy", "SERVERID", "x" * 65),
    ("java_session", "JSESSIONID", "ab;cd"),
    ("apache_balancer", "ROUTEID", "noroute"),
    ("apache_balancer", "ROUTEID", "trailing."),
    ("akamai", "akaalb_x", "no tildes here"),
    ("akamai", "akaalb_x", "12ab~op=x:y"),
    ("akamai", "akaalb_x", "~rv=1~id=00"),  # no origin field
    ("akamai", "akacd_x", "2147483647~id=00"),  # no rv
    ("akamai", "akavpau_x", "~=nokey"),
    ("envoy", "c", "%%%"),
    ("envoy", "c", "aGVsbG8gd29ybGQ="),  # base64 of "hello world": neither ip:port nor protobuf
    ("envoy", "c", "MTAuMC4wLjU6OTk5OTk="),  # 10.0.0.5:99999
    ("ingress_nginx", "INGRESSCOOKIE", "zz|zz"),
    ("ingress_nginx", "route", "0000000001.1.2"),  # timestamp before 2000
    ("traefik", "_TRAEFIK_BACKEND", "http://"),
    ("traefik", "_abcde", "xyz-not-hex"),
    ("tengine", "route", "sid|1|2"),
    ("tengine", "route", "a|b"),
    ("gclb", "GCLB", "EAM"),  # field 2 only
    ("gclb", "GCLB", "!!!"),
    ("gclb", "GCLB", "CP__________________AQ"),  # varint wider than 64 bits
    ("nginx_sticky", "route", "a|b c"),
    ("vtm", "X-Mapping-abcdefgh", "4A3A3083379D97CE"),
    ("vtm", "X-Zeus-Backend", "a b c"),
    ("aws_alb", "AWSALB", "short"),
    ("aws_alb", "AWSALBAPP-1", "_remove_"),
    ("label", "amlbcookie", "x" * 65),
]


@pytest.mark.parametrize(("decoder", "name", "value"), MALFORMED)
def test_malformed_is_unknown(decoder: str, name: str, value: str) -> None:
    info = DECODERS[decoder](name, value)
    assert isinstance(info, PersistenceInfo)
    assert info.status == "unknown", info
    assert info.backend is None
    assert info.confidence == "low"


def test_every_decoder_handles_empty_and_garbage() -> None:
    for name, decode in DECODERS.items():
        for value in ("", " ", "\x00\x01", "é" * 40, "=" * 50, "|~|~|"):
            info = decode("NSC_x", value)
            assert info.status == "unknown", (name, value, info)


def test_netscaler_names() -> None:
    assert netscaler.vserver_from_name("NSC_W.TJUFEFGFOEFS.OBTEBR.443") == "V.SITEDEFENDER.NASDAQ.443"
    assert netscaler.vserver_from_name("NSC_bAZ") == "aZY"  # wrap-around both cases
    assert netscaler.vserver_from_name("RIS_Cookie") is None
    assert netscaler.looks_random(netscaler.vserver_from_name("NSC_JO0ork0tdyr4qd4blzcfyrcuwai1eb0") or "")
    for real in (
        "V.SITEDEFENDER.NASDAQ.443",
        "dna1-prod-wwa-lb-ssl",
        "VS-LB-K12NET",
        "vsrv-alterian-public-http",
        "lb_tcqt",
        "nycadvip3.fwmrm.net",
    ):
        assert not netscaler.looks_random(real), real
    for rnd in ("aB3dE5fG7hJ9kL", "Xq7Lm2Np9Rs4Tv6W", "a" * 25):
        assert netscaler.looks_random(rnd), rnd


def test_netscaler_random_name_hides_vserver_but_decodes_value() -> None:
    info = netscaler.decode("NSC_JO0ork0tdyr4qd4blzcfyrcuwai1eb0", "ffffffffc3a0f70e45525d5f4f58455e445a4a42378b")
    assert info.backend == "192.168.233.31:443"
    assert "vserver" not in dict(info.decoded)
    assert info.note and "hashed" in info.note


def test_netscaler_loose_layout_is_medium() -> None:
    info = netscaler.decode("NSC_x", "0123abcd" + "c3a0f70e" + "0" * 24 + "378b")
    assert info.status == "decoded" and info.confidence == "medium"
    assert info.backend == "192.168.233.31:443"


def test_netscaler_secured_cookie_is_encrypted_and_tracked() -> None:
    value = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5"
    info = netscaler.decode("NSC_W.TJUFEFGFOEFS.OBTEBR.443", value)
    assert info.status == "encrypted" and info.backend == value
    assert dict(info.decoded)["vserver"] == "V.SITEDEFENDER.NASDAQ.443"


def test_f5_pool_and_encrypted() -> None:
    assert f5.pool_from_name("BIGipServer~Common~app~pool") == "/Common/app/pool"
    assert f5.pool_from_name("BIGipServer") is None
    info = f5.decode(
        "lbs",
        "!GV5Yy2cYv344wI3jE2oBe50eA+UGWA7f1BrBpPINpuVLab5+I/HGywXuPGP8jH4Jvi5oATYegQPYvPfoYCC8QLS9hoyHNDvkUgTIWGs=",
    )
    assert info.status == "encrypted"
    assert "pool" not in dict(info.decoded)


def test_a10_without_port_in_name() -> None:
    info = a10.decode("sto-id", "CBLMMCMKFAAA")
    assert "vport" not in dict(info.decoded)
    assert info.backend == "202.194.188.33:80"


def test_haproxy_dynamic_cookie_helper() -> None:
    assert haproxy.dynamic_cookie("mysecretkey", "10.0.0.1", 8080) == "9dc3ee63bcef8674"
    assert haproxy.dynamic_cookie("k", "not-an-ip", 80) is None
    assert haproxy.dynamic_cookie("k", "10.0.0.1", 70000) is None
    assert haproxy.dynamic_cookie("k", "::1", 443) is not None
    assert haproxy.xxh64(b"") == 0xEF46DB3751D8E999  # XXH64 reference value
    assert haproxy.xxh64(b"x" * 100) != haproxy.xxh64(b"x" * 99)  # long-input path runs


def test_haproxy_empty_label_clears() -> None:
    assert haproxy.b64_date("ZVP11") == 1700001236
    assert haproxy.b64_date("ZVP1") is None


def test_akamai_fields() -> None:
    assert akamai.split_fields("2147483647~rv=3~id=ab") == (2147483647, {"rv": "3", "id": "ab"})
    assert akamai.split_fields("x~rv=3") is None
    phased = akamai.decode("akacd_beta", "2147483647~rv=7~id=" + "f" * 32)
    assert phased.family == "akamai-phased" and phased.backend == "rv=7"
    assert dict(phased.decoded)["expires"] == "never"
    vp = akamai.decode("akavpau_queue", "1700000000~id=" + "f" * 32)
    assert vp.family == "akamai-vp" and vp.backend is None


def test_apache_route_after_first_dot() -> None:
    assert apache.decode("ROUTEID", "abc.node1.x").backend == "node1.x"


def test_aws_rotates_without_backend() -> None:
    info = aws.decode("AWSALB", "Fb6ILk0/Bz/sOQCZe6zrKwU3ADLs9ZqV8bcMlM9uRL4Wg2VNxZSf6hFhBxwX")
    assert info.status == "encrypted"
    assert info.backend is None
    assert info.change_meaning is ChangeMeaning.ROTATES


def test_vtm_and_generic() -> None:
    assert vtm.decode("X-Mapping-abc", "4a3a3083379d97ce4177670feed6e830").status == "opaque"
    assert generic.decode("x", "[2001:db8::1]:443").backend == "[2001:db8::1]:443"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1:80", ("10.0.0.1", 80)),
        ("[::1]:443", ("::1", 443)),
        ("host-1.example:8080", ("host-1.example", 8080)),
        ("10.0.0.1:65536", None),
        ("::1:80", None),
        ("[nothex]:80", None),
        (":80", None),
        ("host:", None),
        ("host:8０", None),  # full-width digit
        ("-bad:80", None),
    ],
)
def test_parse_hostport(text: str, expected: tuple[str, int] | None) -> None:
    assert parse_hostport(text) == expected


def test_internal_address_classes() -> None:
    for ip in (
        "10.1.2.3",
        "172.31.0.1",
        "192.168.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
    ):
        assert is_internal_ip(ip), ip
    for ip in ("8.8.8.8", "192.0.2.1", "2001:db8::1", "2001:4860::1", "nonsense", "172.32.0.1"):
        assert not is_internal_ip(ip), ip
    assert hostport("::1", 80) == "[::1]:80" and hostport("h", None) == "h"


def test_b64_and_protobuf_helpers() -> None:
    assert b64decode("aGk") == b"hi"
    assert b64decode("a") is None
    assert b64decode("aGk$", pad_char="$") == b"hi"
    assert b64decode("aG=k", pad_char="$") is None
    assert b64decode("-_-_", urlsafe=True) is not None
    assert parse_protobuf(b"\x08\x96\x01") == [(1, 0, 150)]
    assert parse_protobuf(b"\x0a\x05ab") is None  # length beyond the data
    assert parse_protobuf(b"\x0d\x00\x00\x00\x00") is None  # wire type 5 refused
    assert parse_protobuf(b"\x08" + b"\xff" * 11) is None  # varint over 10 bytes
    assert parse_protobuf(b"\x00\x01") is None  # field number 0
