"""CookieClassifier: catalog matching, value signatures, declarations, heuristics, caching; describe()."""

from __future__ import annotations

import pytest

from stickyforensics.errors import ConfigError
from stickyforensics.model import ChangeMeaning, CookieRole
from stickyforensics.track.lb import CookieClassifier, describe
from stickyforensics.track.lb.heuristics import name_words

NSC_VALUE = "ffffffffc3a0f70e45525d5f4f58455e445a4a42378b"
LBS_VALUES = (  # seed 002 (Set-Cookie and Cookie values seen in the failing runs)
    "!GV5Yy2cYv344wI3jE2oBe50eA+UGWA7f1BrBpPINpuVLab5+I/HGywXuPGP8jH4Jvi5oATYegQPYvPfoYCC8QLS9hoyHNDvkUgTIWGs=",
    "!nTPOR+bX0WkHaPgEn+fedyiDBMRN945agVkmnDAzk8uIXi6qHlajCLL1bVePFZrFp7m5fRheeGsRqF/SR6vMdqQFwgCMTrmsE0EAjmk=",
)


@pytest.fixture(scope="module")
def clf() -> CookieClassifier:
    return CookieClassifier()


@pytest.mark.parametrize(
    ("name", "value", "family", "role"),
    [
        # seed 000 / 004: NetScaler
        ("NSC_W.TJUFEFGFOEFS.OBTEBR.443", NSC_VALUE, "citrix-netscaler", CookieRole.ROUTING),
        # seed 001: Stingray / vTM methods
        ("X-Mapping-hglpomgk", "4A3A3083379D97CE4177670FEED6E830", "vtm-xmapping", CookieRole.ROUTING),
        ("X-Zeus-Backend", "node201", "vtm-zeus-backend", CookieRole.ROUTING),
        ("JSESSIONID", "B0F3A1C5D2E4F60718293A4B5C6D7E8F", "java-session", CookieRole.SESSION),
        ("ASP.NET_SessionId", "cicunba0ugh55rxetj12nq1f", "aspnet-session", CookieRole.SESSION),
        # seed 002
        ("lbs", LBS_VALUES[0], "lbs", CookieRole.ROUTING),
        (
            "__RequestVerificationToken_L1ZQQw2",
            "UPu_WgLNlghfOjvCZ6aeNh0tDZ0h",
            "aspnet-antiforgery",
            CookieRole.SESSION,
        ),
        ("__RequestVerificationToken", "NVPpYEQI4QH3M6ptiv6j0Yip0sj1J8N3", "aspnet-antiforgery", CookieRole.SESSION),
        # seed 003
        ("ASPSESSIONIDQQSRCDTA", "KHBLMFHAHCNAOPJHEJPMGDDK", "classic-asp", CookieRole.SESSION),
        # catalog odds and ends
        ("NSC_TMAA", "0123456789abcdef0123456789abcdef", "citrix-gateway", CookieRole.SESSION),
        ("NSC_ESNS", "x", "citrix-analytics", CookieRole.OTHER),
        ("visid_incap_592261", "abc", "imperva", CookieRole.WAF),
        ("AWSALBCORS", "Fb6ILk0/Bz/sOQCZe6zrKwU3ADLs9ZqV8bcM", "aws-alb", CookieRole.ROUTING),
        ("XSRF-TOKEN", "eyJpdiI6IjEyMyJ9", "csrf-token", CookieRole.OTHER),
        ("x-csrf-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "csrf-token", CookieRole.OTHER),  # not a session ('jwt')
        ("laravel_session", "eyJpdiI6IjEyMyJ9", "laravel", CookieRole.SESSION),
        ("_shop_session", "ZGF0YQ==--aXY=--dGFn", "rails", CookieRole.SESSION),
    ],
)
def test_catalog_names(clf: CookieClassifier, name: str, value: str, family: str, role: CookieRole) -> None:
    info = clf.identify(name, value)
    assert info is not None
    assert (info.family, info.role) == (family, role)


def test_lbs_is_encrypted_and_tracked_by_equality(clf: CookieClassifier) -> None:
    first, second = (clf.identify("lbs", v) for v in LBS_VALUES)
    assert first is not None and second is not None
    assert first.status == second.status == "encrypted"
    assert first.backend == LBS_VALUES[0] and second.backend == LBS_VALUES[1]
    assert first.change_meaning is ChangeMeaning.BACKEND_CHANGE
    assert first.confidence == "medium"
    other = clf.identify("lbs", "opaque-token-123")
    assert other is not None and other.status == "opaque" and other.backend == "opaque-token-123"


@pytest.mark.parametrize(
    ("value", "family", "backend"),
    [
        (
            "5715392f3aa2e91b2f756b90bcad7e5d|df61074cff0dc933beb37e1d8124ac6f",
            "ingress-nginx",
            "5715392f3aa2e91b2f756b90bcad7e5d",
        ),
        ("1700000000.5.4567.1234", "ingress-nginx", "1700000000.5.4567.1234"),
        ("3483c5b2c5245f493d16b039e72201ea|1700001234|1700000000", "tengine", "3483c5b2c5245f493d16b039e72201ea"),
        ("78cbe3136c1de5b0fb7ffff44344e4f7", "nginx-sticky", "78cbe3136c1de5b0fb7ffff44344e4f7"),
        ("srv1", "nginx-sticky", "srv1"),
    ],
)
def test_shared_route_name_is_split_by_value(clf: CookieClassifier, value: str, family: str, backend: str) -> None:
    info = clf.identify("route", value)
    assert info is not None and (info.family, info.backend) == (family, backend)


@pytest.mark.parametrize(
    ("value", "family", "backend"),
    [
        ("s1~B0F3A1C5D2E4F607", "haproxy-prefix", "s1"),
        ("B0F3A1C5D2E4F60718293A4B5C6D7E8F.node1", "tomcat-jsessionid", "node1"),
        ("sr805LnvZUBoyrpS7G88HpSHGn41v80s6SpoBTu-OW4ZuQYmcf_B!1999005620", "weblogic", "1999005620"),
        ("0000P-ep34ciOrPvp1ymnR48y_E:clone1", "websphere", "clone1"),
        ("B0F3A1C5D2E4F60718293A4B5C6D7E8F", "java-session", None),
    ],
)
def test_jsessionid_variants(clf: CookieClassifier, value: str, family: str, backend: str | None) -> None:
    info = clf.identify("JSESSIONID", value)
    assert info is not None and (info.family, info.backend) == (family, backend)
    assert info.role is CookieRole.SESSION
    assert info.change_meaning is ChangeMeaning.SESSION_RENEWED


def test_custom_named_cookies_by_value_signature(clf: CookieClassifier) -> None:
    ris = clf.identify("RIS_Cookie", "ffffffff09c20f1245525d5f4f58455e445a4a423660")
    assert ris is not None and ris.family == "citrix-netscaler"
    assert ris.backend == "10.202.17.3:80" and ris.confidence == "medium" and ris.discloses_internal_address
    assert "vserver" not in dict(ris.decoded)
    f5 = clf.identify("PersistCk", "1677787402.36895.0000")
    assert f5 is not None and f5.family == "f5-bigip" and f5.backend == "10.1.1.100:8080"
    assert "custom cookie name" in (f5.note or "")
    enc = clf.identify("Persist", LBS_VALUES[1])
    assert enc is not None and enc.family == "f5-bigip" and enc.status == "encrypted"
    envoy = clf.identify("istio-session", "MTAuMC4wLjU6ODA4MA==")
    assert envoy is not None and envoy.family == "envoy" and envoy.backend == "10.0.0.5:8080"
    barracuda = clf.identify("lbcookie", "0000000000000000000000006902c80a00008223")
    assert barracuda is not None and barracuda.family == "barracuda"


def test_rotating_and_special_values(clf: CookieClassifier) -> None:
    alb = clf.identify("AWSALB", "Fb6ILk0/Bz/sOQCZe6zrKwU3ADLs9ZqV8bcMlM9uRL4Wg2VNxZSf6hFhBxwX/tw/9+sqr")
    assert alb is not None and alb.backend is None and alb.change_meaning is ChangeMeaning.ROTATES
    arr = clf.identify("ARRAffinity", "a" * 64)
    assert arr is not None and arr.backend == "a" * 64 and "equality" in (arr.note or "")
    empty = clf.identify("SERVERID", "")
    assert empty is not None and empty.status == "unknown" and empty.backend is None
    quoted = clf.identify("NSC_x", f'"{NSC_VALUE}"')
    assert quoted is not None and quoted.backend == "192.168.233.31:443"
    control = clf.identify("NSC_x", "ab\x00cd")
    assert control is not None and control.status == "unknown"
    akamai = clf.identify("akaalb_site", "~op=r:dc2|~rv=1~m=dc2:0|~id=" + "0" * 32)
    assert akamai is not None and akamai.datacenter == "dc2"


@pytest.mark.parametrize(
    ("name", "value", "family", "backend"),
    [
        ("SRV", "web-03", "heuristic-routing", "web-03"),
        ("lb_node", "node2", "heuristic-routing", "node2"),
        ("sticky", "s1", "heuristic-routing", "s1"),
        ("backendAffinity", "10.1.2.3:8080", "heuristic-routing", "10.1.2.3:8080"),
        ("affinity", "0123456789abcdef0123456789abcdef", "heuristic-routing", "0123456789abcdef0123456789abcdef"),
        ("appSession", "f3c1a9e0b7d24c6e", "heuristic-session", None),
        ("auth_token", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "heuristic-session", None),
        ("jupyterhub-session-id", "0a1b2c3d4e5f", "heuristic-session", None),
        ("SessionID", "KHBLMFHAHCNAOPJH", "heuristic-session", None),
        ("MS_SESS", "abcdefgh1234", "heuristic-session", None),
        ("sso", "abcdefgh1234", "heuristic-session", None),
    ],
)
def test_heuristics_positive(clf: CookieClassifier, name: str, value: str, family: str, backend: str | None) -> None:
    info = clf.identify(name, value)
    assert info is not None
    assert (info.family, info.backend, info.confidence) == (family, backend, "low")


def test_dated_layouts_under_routing_names(clf: CookieClassifier) -> None:
    ha = clf.identify("SRV", "s1|ZVP11|ZVPxA")
    assert ha is not None and (ha.family, ha.backend, ha.confidence) == ("haproxy", "s1", "medium")
    assert dict(ha.decoded)["last_seen_epoch"] == "1700001236"
    te = clf.identify("lb_sticky", "node4|1700001234|1700000000")
    assert te is not None and (te.family, te.backend) == ("tengine", "node4")
    assert clf.identify("SRV", "s1|AAAAA") is None  # 1970: not a HAProxy date
    assert clf.identify("prefs", "s1|ZVP11|ZVPxA") is None  # no routing word in the name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("_ga", "GA1.2.1565326184.1605598500"),
        ("_gid", "GA1.2.1.2"),
        ("lang", "en-US"),
        ("consider", "abcdefghijkl"),  # 'sid' inside a word
        ("authenKey", "87aa4032-eb2e-48dd-94f5-1eddd7f8fd7e"),  # 'auth' inside a word
        ("tokenizer", "abcdefghijkl"),
        ("server", "Apache/2.4"),  # routing word, value not route-like
        ("serverTime", "1700000000"),
        ("session", "1"),  # a flag, too short for a session id
        ("s_sess", "%20s_cc%3Dtrue%3B"),  # Adobe analytics, listed as ordinary
        ("ai_session", "abc|1700000000|1700000001"),
        ("_uetsid", "0123456789abcdef"),
        ("PaymentControls", "cicunba0ugh55rxetj12nq1f"),
        ("myroute", "s1"),  # 'route' not a whole word part
        ("session_id", "bad value with spaces"),
    ],
)
def test_heuristics_negative(clf: CookieClassifier, name: str, value: str) -> None:
    assert clf.identify(name, value) is None


def test_name_words() -> None:
    assert name_words("ASP.NET_SessionId") == {"asp", "net", "session", "id"}
    assert name_words("jupyterhub-session-id") == {"jupyterhub", "session", "id"}
    assert name_words("SERVERID") == {"serverid"}
    assert name_words("srv1") == {"srv", "1"}


def test_declared_cookies() -> None:
    clf = CookieClassifier(
        declared={
            "MYLB": "routing",
            "re:^app_[a-z]+_ctx$": "session",
            "JSESSIONID": "routing",
            "AWSALB": "routing",
            "_ga": "session",
        }
    )
    lb = clf.identify("MYLB", "blue")
    assert lb is not None and (lb.family, lb.role, lb.backend) == ("declared-routing", CookieRole.ROUTING, "blue")
    assert lb.change_meaning is ChangeMeaning.BACKEND_CHANGE
    f5 = clf.identify("MYLB", "1677787402.36895.0000")
    assert f5 is not None and f5.family == "f5-bigip" and f5.backend == "10.1.1.100:8080"
    ctx = clf.identify("app_shop_ctx", "x")
    assert ctx is not None and (ctx.family, ctx.role) == ("declared-session", CookieRole.SESSION)
    assert clf.identify("app_shop_ctx2", "x") is None
    # J2EE persistence (seed 001): the LB routes on JSESSIONID itself
    routed = clf.identify("JSESSIONID", "B0F3A1C5D2E4F60718293A4B5C6D7E8F")
    assert routed is not None and routed.role is CookieRole.ROUTING
    assert routed.backend == "B0F3A1C5D2E4F60718293A4B5C6D7E8F"
    assert routed.change_meaning is ChangeMeaning.BACKEND_CHANGE
    with_route = clf.identify("JSESSIONID", "B0F3A1C5D2E4F607.node1")
    assert with_route is not None and with_route.backend == "node1"
    alb = clf.identify("AWSALB", "Fb6ILk0/Bz/sOQCZe6zrKwU3ADLs9ZqV8bcM")
    assert alb is not None and alb.change_meaning is ChangeMeaning.ROTATES and alb.backend is None
    ga = clf.identify("_ga", "GA1.2.3.4")
    assert ga is not None and ga.role is CookieRole.SESSION  # a declaration beats the ordinary list


@pytest.mark.parametrize("declared", [{"x": "sticky"}, {"re:(": "routing"}])
def test_bad_declarations(declared: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        CookieClassifier(declared=declared)


def test_cache_is_bounded_and_used(clf: CookieClassifier) -> None:
    first = clf.identify("NSC_cached", NSC_VALUE)
    assert clf.identify("NSC_cached", NSC_VALUE) is first
    info = clf._cached.cache_info()
    assert info.maxsize is not None and info.hits >= 1


def test_describe_forms() -> None:
    got = describe(
        "Cookie: NSC_W.TJUFEFGFOEFS.OBTEBR.443=" + NSC_VALUE + "; _ga=GA1.2.3; lang=en\n"
        "Set-Cookie: SERVERID=s2; path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; HttpOnly\n"
        "BIGipServerpool=1677787402.36895.0000; path=/; secure\n"
        "route=srv1; JSESSIONID=B0F3A1C5D2E4F607.node2\n"
        "flagonly\n"
        "\n"
    )
    names = [n for n, _, _ in got]
    assert names == [
        "NSC_W.TJUFEFGFOEFS.OBTEBR.443",
        "_ga",
        "lang",
        "SERVERID",
        "BIGipServerpool",
        "route",
        "JSESSIONID",
        "",
    ]
    infos = {n: i for n, _, i in got}
    assert infos["_ga"] is None and infos["lang"] is None
    assert infos["SERVERID"] is not None and infos["SERVERID"].backend == "s2"
    assert infos["BIGipServerpool"] is not None and infos["BIGipServerpool"].backend == "10.1.1.100:8080"
    assert infos["JSESSIONID"] is not None and infos["JSESSIONID"].backend == "node2"
    assert got[-1][1] == "flagonly"


def test_describe_set_cookie_prefix_case_and_bare_pair() -> None:
    got = describe("set-cookie:   X-Mapping-abcdefgh=4A3A3083379D97CE4177670FEED6E830;path=/")
    assert len(got) == 1 and got[0][2] is not None and got[0][2].family == "vtm-xmapping"
    bare = describe("AWSALB=Fb6ILk0/Bz/sOQCZe6zrKwU3ADLs9ZqV8bcM==")
    assert bare[0][1].endswith("==")  # '=' inside the value is kept
    assert describe("") == []


def test_equal_answers_are_one_object() -> None:
    clf = CookieClassifier()
    first, second = (clf.identify("JSESSIONID", v) for v in ("A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6", "F" * 32))
    assert first is not None and first == second and first is second
    clf.cache_clear()
    assert clf.identify("JSESSIONID", "F" * 32) == first
