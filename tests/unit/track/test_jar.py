"""The per-client cookie jar: storage rules, retrieval order, and why a cookie was not sent."""

from __future__ import annotations

import calendar
from email.utils import formatdate
from typing import Any

import pytest

from stickyforensics.model import MissingReason
from stickyforensics.track.cookieparse import parse_set_cookie
from stickyforensics.track.jar import (
    HISTORY_PER_NAME,
    MAX_LIFETIME,
    CookieJar,
    JarDecision,
    default_path,
    domain_match,
    path_match,
    registrable_domain,
)

T0 = float(calendar.timegm((2024, 1, 1, 11, 58, 3, 0, 0, 0)))
"""2024-01-01 11:58:03 UTC."""


def put(
    jar: CookieJar,
    header: str,
    url: str = "https://www.example.com/",
    at: float = T0,
    tx: str = "t1",
    server_date: float | None = None,
) -> JarDecision:
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    return jar.set_from_response(
        parse_set_cookie(header), scheme=scheme, host=host, path=slash + tail, at=at, transaction_id=tx,
        server_date=server_date,
    )  # fmt: skip


def names_for(jar: CookieJar, url: str, at: float = T0 + 1, **kw: Any) -> list[str]:
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    return [c.name for c in jar.cookies_for(scheme=scheme, host=host, path=slash + tail, at=at, **kw)]


def explain(jar: CookieJar, name: str, url: str, at: float = T0 + 1, **kw: Any) -> tuple[MissingReason, str] | None:
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    return jar.explain_missing(name, scheme=scheme, host=host, path=slash + tail, at=at, **kw)


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("request_path", "expected"),
    [
        pytest.param("", "/", id="empty"),
        pytest.param("/", "/", id="root"),
        pytest.param("/login", "/", id="one-segment"),
        pytest.param("/app/login", "/app", id="two-segments"),
        pytest.param("/app/", "/app", id="trailing-slash"),
        pytest.param("/a/b/c", "/a/b", id="deep"),
        pytest.param("/app/x?next=/a/b", "/app", id="query-ignored"),
        pytest.param("relative/x", "/", id="not-absolute"),
    ],
)
def test_default_path(request_path: str, expected: str) -> None:
    assert default_path(request_path) == expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "expected"),
    [
        pytest.param("/app", "/app", True, id="equal"),
        pytest.param("/app/x", "/app", True, id="below"),
        pytest.param("/application", "/app", False, id="prefix-not-segment"),
        pytest.param("/app/x", "/app/", True, id="cookie-path-slash"),
        pytest.param("/app", "/app/", False, id="request-shorter"),
        pytest.param("/api/x", "/app", False, id="other"),
        pytest.param("/anything", "/", True, id="root"),
    ],
)
def test_path_match(request_path: str, cookie_path: str, expected: bool) -> None:
    assert path_match(request_path, cookie_path) is expected


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        pytest.param("example.com", "example.com", True, id="identical"),
        pytest.param("www.example.com", "example.com", True, id="subdomain"),
        pytest.param("notexample.com", "example.com", False, id="no-dot-boundary"),
        pytest.param("example.com", "www.example.com", False, id="parent"),
        pytest.param("10.0.0.1", "0.0.1", False, id="ip-suffix"),
        pytest.param("10.0.0.1", "10.0.0.1", True, id="ip-identical"),
    ],
)
def test_domain_match(host: str, domain: str, expected: bool) -> None:
    assert domain_match(host, domain) is expected


@pytest.mark.parametrize(
    ("host", "site"),
    [
        pytest.param("www.example.com", "example.com", id="com"),
        pytest.param("a.b.example.co.uk", "example.co.uk", id="co-uk"),
        pytest.param("me.github.io", "me.github.io", id="private-suffix"),
        pytest.param("10.1.2.3", "10.1.2.3", id="ip"),
        pytest.param("localhost", "localhost", id="single-label"),
        pytest.param("[::1]", "::1", id="ipv6-brackets"),
    ],
)
def test_registrable_domain(host: str, site: str) -> None:
    assert registrable_domain(host) == site


# --------------------------------------------------------------------------- rejections

REJECTIONS = [
    pytest.param("a=1; SameSite=None", "https://www.example.com/", "samesite_none_without_secure", id="samesite-none"),
    pytest.param("a=1; Secure", "http://www.example.com/", "secure_from_insecure_origin", id="secure-from-http"),
    pytest.param("__Host-a=1; Secure; Path=/; Domain=example.com", "https://www.example.com/",
                 "host_prefix_with_domain", id="host-prefix-domain"),
    pytest.param("__Host-a=1; Secure; Path=/app", "https://www.example.com/", "host_prefix_path_not_root",
                 id="host-prefix-path"),
    pytest.param("__Host-a=1; Secure", "https://www.example.com/", "host_prefix_path_not_root",
                 id="host-prefix-path-attribute-missing"),
    pytest.param("__Host-a=1; Path=/", "https://www.example.com/", "host_prefix_not_secure",
                 id="host-prefix-no-secure"),
    pytest.param("__Secure-a=1", "https://www.example.com/", "secure_prefix_not_secure", id="secure-prefix"),
    pytest.param("__secure-a=1", "https://www.example.com/", "secure_prefix_not_secure",
                 id="secure-prefix-case-insensitive"),
    pytest.param("__Secure-a=1; Secure", "http://www.example.com/", "secure_from_insecure_origin",
                 id="secure-prefix-from-http"),
    pytest.param("__Host-x", "https://www.example.com/", "prefix_on_nameless_cookie", id="nameless-prefix"),
    pytest.param("a=1; Domain=other.com", "https://www.example.com/", "domain_mismatch", id="domain-mismatch"),
    pytest.param("a=1; Domain=www.example.com", "https://example.com/", "domain_mismatch", id="domain-child"),
    pytest.param("a=1; Domain=10.0.0.2", "http://10.0.0.1/", "domain_mismatch", id="domain-other-ip"),
    pytest.param("a=1; Domain=0.0.1", "http://10.0.0.1/", "domain_mismatch", id="domain-ip-suffix"),
    pytest.param("a=1; Domain=com", "https://www.example.com/", "public_suffix_domain", id="public-suffix-tld"),
    pytest.param("a=1; Domain=co.uk", "https://www.example.co.uk/", "public_suffix_domain", id="public-suffix-co-uk"),
    pytest.param("a=1; Domain=github.io", "https://me.github.io/", "public_suffix_domain",
                 id="public-suffix-private"),
    pytest.param("a=" + "x" * 4096, "https://www.example.com/", "too_large", id="too-large"),
    pytest.param("a=b\x07", "https://www.example.com/", "control_characters", id="control-characters"),
    pytest.param("=", "https://www.example.com/", "empty_cookie", id="empty-cookie"),
    pytest.param("a=1; Partitioned", "https://www.example.com/", "partitioned_not_secure", id="partitioned"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "url", "reason"), REJECTIONS)
def test_rejection_rules(header: str, url: str, reason: str) -> None:
    jar = CookieJar()
    decision = put(jar, header, url)
    assert (decision.accepted, decision.action, decision.reason) == (False, "rejected", reason)
    assert decision.cookie is None
    assert len(jar) == 0
    assert jar.history(parse_set_cookie(header).name)[-1].reason == reason


def test_insecure_origin_cannot_overwrite_secure_cookie() -> None:
    jar = CookieJar()
    put(jar, "sid=secret; Secure; Path=/", "https://www.example.com/")
    decision = put(jar, "sid=evil; Path=/app", "http://www.example.com/app/x")
    assert decision.reason == "overwrite_secure_from_insecure"
    assert decision.previous is not None and decision.previous.value == "secret"
    assert [c.value for c in jar.cookies()] == ["secret"]
    # an unrelated path that the Secure cookie's path does not cover is fine
    other = CookieJar()
    put(other, "sid=secret; Secure; Path=/app", "https://www.example.com/")
    assert put(other, "sid=plain; Path=/", "http://www.example.com/").action == "stored"


def test_insecure_origin_cannot_delete_secure_cookie() -> None:
    jar = CookieJar()
    put(jar, "sid=secret; Secure; Path=/", "https://www.example.com/")
    assert put(jar, "sid=; Max-Age=0; Path=/", "http://www.example.com/").reason == "overwrite_secure_from_insecure"
    assert len(jar) == 1


# --------------------------------------------------------------------------- accepted shapes

NSC = "NSC_eob1-qspe-xxb-mc-ttm=ffffffffc3a094ae45525d5f4f58455e445a4a4229a9;path=/;secure;httponly"
ACCEPTED = [
    pytest.param("a=1", "http://www.example.com/app/login",
                 {"domain": "www.example.com", "host_only": True, "path": "/app", "persistent": False,
                  "expires_at": None}, id="host-only-default-path"),
    pytest.param("a=1", "http://www.example.com/login", {"path": "/"}, id="default-path-root"),
    pytest.param("a=1; Domain=example.com", "http://www.example.com/", {"domain": "example.com", "host_only": False},
                 id="domain-cookie"),
    pytest.param("a=1; Domain=.EXAMPLE.com", "http://www.example.com/", {"domain": "example.com"},
                 id="domain-leading-dot"),
    pytest.param("a=1; Domain=www.example.com", "http://WWW.Example.com./", {"domain": "www.example.com"},
                 id="host-canonicalised"),
    pytest.param("a=1; Domain=10.0.0.1", "http://10.0.0.1/", {"domain": "10.0.0.1"}, id="domain-equal-ip"),
    pytest.param("a=1; Domain=localhost", "http://localhost/", {"domain": "localhost", "host_only": True},
                 id="public-suffix-equal-host-is-host-only"),
    pytest.param("a=1; Secure", "http://localhost/", {"secure": True}, id="secure-on-localhost"),
    pytest.param("a=1; Secure", "http://127.0.0.1/", {"secure": True}, id="secure-on-loopback-ip"),
    pytest.param("a=1; Secure", "wss://www.example.com/", {"secure": True}, id="secure-on-wss"),
    pytest.param("__Host-a=1; Secure; Path=/", "https://www.example.com/x/y", {"path": "/", "host_only": True},
                 id="host-prefix-ok"),
    pytest.param("__Secure-a=1; Secure; Domain=example.com", "https://www.example.com/", {"host_only": False},
                 id="secure-prefix-ok"),
    pytest.param("a=1; SameSite=None; Secure", "https://www.example.com/", {"samesite": "None"},
                 id="samesite-none-secure"),
    pytest.param("a=1; SameSite=Bogus", "https://www.example.com/", {"samesite": None}, id="samesite-unknown"),
    pytest.param(NSC, "https://www.example.com/", {"secure": True, "httponly": True, "path": "/"},
                 id="netscaler-shape"),
    pytest.param("a=1; Max-Age=120", "http://www.example.com/", {"expires_at": T0 + 120, "persistent": True,
                 "expiry_source": "Max-Age=120"}, id="max-age"),
    pytest.param("a=1; Max-Age=999999999", "http://www.example.com/", {"expires_at": T0 + MAX_LIFETIME},
                 id="max-age-400-day-cap"),
    pytest.param("a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", "http://www.example.com/",
                 {"expires_at": T0 + MAX_LIFETIME}, id="expires-400-day-cap"),
    pytest.param("a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://www.example.com/",
                 {"expires_at": T0 + 60}, id="max-age-beats-past-expires"),
    pytest.param("v", "http://www.example.com/", {"name": "", "value": "v"}, id="nameless"),
    pytest.param("a=" + "x" * 4095, "http://www.example.com/", {"name": "a"}, id="exactly-4096"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "url", "expected"), ACCEPTED)
def test_accepted(header: str, url: str, expected: dict[str, Any]) -> None:
    jar = CookieJar()
    decision = put(jar, header, url)
    assert (decision.accepted, decision.action, decision.reason) == (True, "stored", None)
    assert decision.cookie is not None
    for field, want in expected.items():
        assert getattr(decision.cookie, field) == want, field
    assert decision.cookie.set_by == "t1" and decision.cookie.created_at == T0


# --------------------------------------------------------------------------- expiry and deletion

DELETIONS = [
    pytest.param("a=; Max-Age=0", id="max-age-zero"),
    pytest.param("a=; Max-Age=-1", id="max-age-negative"),
    pytest.param("a=; Expires=Thu, 01 Jan 1970 00:00:01 GMT", id="expires-1970"),
    pytest.param("a=x; Max-Age=0; Expires=Fri, 31 Dec 9999 23:59:59 GMT", id="max-age-zero-beats-future-expires"),
    pytest.param(f"a=; Expires={formatdate(T0, usegmt=True)}", id="expires-now"),
]


@pytest.mark.parametrize("header", DELETIONS)
def test_deletion(header: str) -> None:
    jar = CookieJar()
    put(jar, "a=1; Path=/")
    decision = put(jar, header + "; Path=/", at=T0 + 5, tx="t2")
    assert (decision.accepted, decision.action) == (True, "deleted")
    assert decision.previous is not None and decision.previous.value == "1"
    assert len(jar) == 0
    assert explain(jar, "a", "https://www.example.com/", at=T0 + 6) == (
        MissingReason.DELETED,
        f"deleted by the server at 11:58:08 ({jar.history('a')[-1].detail})",
    )


def test_delete_of_unheld_cookie_is_ignored_and_remembered() -> None:
    jar = CookieJar()
    decision = put(jar, "a=; Max-Age=0")
    assert (decision.accepted, decision.action, decision.previous) == (True, "ignored_delete", None)
    reason, detail = explain(jar, "a", "https://www.example.com/") or (None, "")
    assert reason is MissingReason.DELETED and "no value was held" in detail


def test_deletion_needs_the_same_path() -> None:
    jar = CookieJar()
    put(jar, "a=1; Path=/app")
    assert put(jar, "a=; Max-Age=0; Path=/").action == "ignored_delete"
    assert names_for(jar, "https://www.example.com/app/x") == ["a"]


@pytest.mark.parametrize(
    ("skew", "with_date", "action", "lifetime"),
    [
        pytest.param(3600, False, "replaced", 4200, id="lb-ahead-capture-clock"),
        pytest.param(3600, True, "replaced", 600, id="lb-ahead-server-date"),
        pytest.param(-3600, False, "deleted", None, id="lb-behind-capture-clock-deletes"),
        pytest.param(-3600, True, "replaced", 600, id="lb-behind-server-date"),
        pytest.param(0, True, "replaced", 600, id="no-skew"),
    ],
)
def test_expires_relative_to_server_date(skew: int, with_date: bool, action: str, lifetime: int | None) -> None:
    """NetScaler v0 cookies carry an absolute Expires from the ADC clock (persistence-cookies.md §5)."""
    jar = CookieJar()
    put(jar, "NSC_x=old; Path=/")
    server_date = T0 + skew
    expires = formatdate(server_date + 600, usegmt=True)
    decision = put(jar, f"NSC_x=new; Expires={expires}; Path=/", at=T0, server_date=server_date if with_date else None)
    assert decision.action == action
    if lifetime is not None:
        assert decision.cookie is not None and decision.cookie.expires_at == T0 + lifetime
        if with_date:
            assert decision.cookie.expiry_source is not None and "server Date" in decision.cookie.expiry_source


def test_expired_cookies_are_evicted_lazily() -> None:
    jar = CookieJar()
    put(jar, "a=1; Max-Age=120")
    put(jar, "b=1")
    assert names_for(jar, "https://www.example.com/", at=T0 + 119) == ["a", "b"]
    assert names_for(jar, "https://www.example.com/", at=T0 + 120) == ["b"]
    assert len(jar) == 1
    (record,) = jar.history("a")
    assert (record.kind, record.at) == ("expired", T0 + 120)


# --------------------------------------------------------------------------- replacement and order


def test_replacement_keeps_creation_time() -> None:
    jar = CookieJar()
    put(jar, "a=1; Path=/")
    decision = put(jar, "a=2; Path=/; HttpOnly", at=T0 + 10, tx="t2")
    assert decision.action == "replaced"
    assert decision.previous is not None and decision.previous.value == "1"
    assert decision.cookie is not None
    assert (decision.cookie.value, decision.cookie.created_at, decision.cookie.set_at, decision.cookie.set_by) == (
        "2", T0, T0 + 10, "t2",
    )  # fmt: skip
    assert len(jar) == 1


def test_same_name_different_path_both_sent_longer_path_first() -> None:
    jar = CookieJar()
    put(jar, "route=root; Path=/", at=T0)
    put(jar, "route=app; Path=/app", at=T0 + 1)
    sent = jar.cookies_for(scheme="https", host="www.example.com", path="/app/x", at=T0 + 2)
    assert [c.value for c in sent] == ["app", "root"]
    assert [c.value for c in jar.cookies_for(scheme="https", host="www.example.com", path="/", at=T0 + 2)] == ["root"]


def test_equal_path_length_older_creation_first_and_replacement_keeps_rank() -> None:
    jar = CookieJar()
    put(jar, "a=1; Path=/")
    put(jar, "b=1; Path=/", at=T0 + 1)
    put(jar, "a=2; Path=/", at=T0 + 2)  # replaced: keeps its creation time, so still first
    assert names_for(jar, "https://www.example.com/", at=T0 + 3) == ["a", "b"]


def test_host_only_and_domain_cookie_of_the_same_name_coexist() -> None:
    jar = CookieJar()
    put(jar, "ARRAffinity=host; Path=/")
    assert put(jar, "ARRAffinity=dom; Path=/; Domain=www.example.com", at=T0 + 1).action == "stored"
    assert [c.value for c in jar.cookies_for(scheme="https", host="www.example.com", path="/", at=T0 + 2)] == [
        "host", "dom",
    ]  # fmt: skip
    assert names_for(jar, "https://a.www.example.com/") == ["ARRAffinity"]


# --------------------------------------------------------------------------- retrieval

RETRIEVAL = [
    pytest.param("a=1", "https://www.example.com/", "https://www.example.com/x", True, id="host-only-same-host"),
    pytest.param("a=1", "https://www.example.com/", "https://a.www.example.com/", False, id="host-only-subdomain"),
    pytest.param("a=1", "https://www.example.com/", "https://example.com/", False, id="host-only-apex"),
    pytest.param("a=1; Domain=example.com", "https://www.example.com/", "https://api.example.com/", True,
                 id="domain-sibling"),
    pytest.param("a=1; Domain=example.com", "https://www.example.com/", "https://example.com/", True,
                 id="domain-apex"),
    pytest.param("a=1; Domain=example.com", "https://www.example.com/", "https://notexample.com/", False,
                 id="domain-not-dot-boundary"),
    pytest.param("a=1; Path=/app", "https://www.example.com/", "https://www.example.com/application", False,
                 id="path-not-segment"),
    pytest.param("a=1; Path=/app", "https://www.example.com/", "https://www.example.com/app", True, id="path-equal"),
    pytest.param("a=1; Secure", "https://www.example.com/", "http://www.example.com/", False, id="secure-over-http"),
    pytest.param("a=1; Secure", "https://www.example.com/", "https://www.example.com/", True, id="secure-over-https"),
    pytest.param("a=1; Secure", "http://localhost/", "http://localhost/", True, id="secure-localhost"),
    pytest.param("a=1", "http://10.0.0.1/", "http://10.0.0.1/", True, id="ip-host"),
    pytest.param("a=1", "http://10.0.0.1/", "http://10.0.0.2/", False, id="other-ip"),
    pytest.param("a=1", "https://[::1]/", "https://[::1]/x", True, id="ipv6"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "set_url", "request_url", "sent"), RETRIEVAL)
def test_retrieval(header: str, set_url: str, request_url: str, sent: bool) -> None:
    jar = CookieJar()
    assert put(jar, header, set_url).accepted
    assert names_for(jar, request_url) == (["a"] if sent else [])
    scheme, _, rest = request_url.partition("://")
    host, slash, tail = rest.partition("/")
    held = jar.should_send("a", scheme=scheme, host=host, path=slash + tail, at=T0 + 1)
    assert (held is not None) is sent


SAMESITE = [
    pytest.param("Strict", "https://www.example.com", False, "GET", 1, True, id="strict-same-site"),
    pytest.param("Strict", "https://evil.test/page", True, "GET", 1, False, id="strict-cross-site-navigation"),
    pytest.param("Lax", "https://evil.test/", True, "GET", 1, True, id="lax-top-level-get"),
    pytest.param("Lax", "https://evil.test/", False, "GET", 1, False, id="lax-subresource"),
    pytest.param("Lax", "https://evil.test/", True, "POST", 1, False, id="lax-top-level-post"),
    pytest.param("None", "https://evil.test/", False, "POST", 1, True, id="none-cross-site"),
    pytest.param(None, "https://evil.test/", True, "POST", 60, True, id="default-lax-plus-post-window"),
    pytest.param(None, "https://evil.test/", True, "POST", 600, False, id="default-after-window"),
    pytest.param(None, "https://evil.test/", False, "GET", 1, False, id="default-cross-site-subresource"),
    pytest.param("Strict", "api.example.com", False, "GET", 1, True, id="site-given-as-host"),
    pytest.param("Strict", "", False, "GET", 1, False, id="empty-site-is-cross-site"),
]


@pytest.mark.parametrize(("mode", "site", "top_level", "method", "age", "sent"), SAMESITE)
def test_samesite(mode: str | None, site: str, top_level: bool, method: str, age: int, sent: bool) -> None:
    jar = CookieJar()
    attr = f"; SameSite={mode}; Secure" if mode else ""
    assert put(jar, "a=1" + attr).accepted
    kw = {"site_for_cookies": site, "top_level_navigation": top_level, "method": method}
    assert names_for(jar, "https://www.example.com/", at=T0 + age, **kw) == (["a"] if sent else [])
    # without a site context, SameSite is not applied at all
    assert names_for(jar, "https://www.example.com/", at=T0 + age) == ["a"]
    if not sent:
        reason = explain(jar, "a", "https://www.example.com/", at=T0 + age, **kw)
        assert reason is not None and reason[0] is MissingReason.SAMESITE


# --------------------------------------------------------------------------- explain_missing


def _expired(jar: CookieJar) -> None:
    put(jar, "a=1; Max-Age=120")


def _deleted(jar: CookieJar) -> None:
    put(jar, "a=1")
    put(jar, "a=; Max-Age=0", at=T0 + 1, tx="t2")


def _rejected(jar: CookieJar) -> None:
    put(jar, "a=1; SameSite=None")


def _evicted(jar: CookieJar) -> None:
    put(jar, "a=1")
    put(jar, "b=1", at=T0 + 1)  # the jar below holds one cookie per site


EXPLAIN = [
    pytest.param(lambda j: None, "https://www.example.com/", T0 + 1, None, None, id="unknown-name-none"),
    pytest.param(lambda j: put(j, "a=1", at=T0 + 10), "https://www.example.com/", T0 + 1, MissingReason.NEVER_SET,
                 "not set yet: first seen at 11:58:13, after this request at 11:58:04", id="never-set-yet"),
    pytest.param(_rejected, "https://www.example.com/", T0 + 1, MissingReason.REJECTED,
                 "rejected when set: samesite_none_without_secure at 11:58:03 (SameSite=None requires Secure)",
                 id="rejected"),
    pytest.param(_expired, "https://www.example.com/", T0 + 125, MissingReason.EXPIRED,
                 "expired at 12:00:03 (Max-Age=120 set at 11:58:03)", id="expired"),
    pytest.param(lambda j: put(j, "a=1; Path=/app"), "https://www.example.com/api/x", T0 + 1,
                 MissingReason.OUT_OF_PATH, "cookie path /app does not match /api/x", id="out-of-path"),
    pytest.param(lambda j: put(j, "a=1", "https://a.example/"), "https://b.example/", T0 + 1,
                 MissingReason.OUT_OF_DOMAIN, "host-only cookie for a.example, request to b.example",
                 id="out-of-domain-host-only"),
    pytest.param(lambda j: put(j, "a=1; Domain=example.com"), "https://example.org/", T0 + 1,
                 MissingReason.OUT_OF_DOMAIN, "cookie for example.com and its subdomains, request to example.org",
                 id="out-of-domain-domain-cookie"),
    pytest.param(lambda j: put(j, "a=1; Secure"), "http://www.example.com/", T0 + 1, MissingReason.SECURE_OVER_HTTP,
                 "Secure cookie is not sent over http://www.example.com", id="secure-over-http"),
    pytest.param(_deleted, "https://www.example.com/", T0 + 2, MissingReason.DELETED,
                 "deleted by the server at 11:58:04 (Max-Age=0, transaction t2)", id="deleted"),
    pytest.param(_evicted, "https://www.example.com/", T0 + 2, MissingReason.DELETED,
                 "evicted by the client at 11:58:04: more than 1 cookies for example.com, least recently used",
                 id="evicted"),
    pytest.param(lambda j: put(j, "a=1"), "https://www.example.com/", T0 + 1, MissingReason.CLIENT_DROPPED,
                 "held and in scope (set at 11:58:03 by t1; domain, path, secure, expiry all match) but not sent",
                 id="client-dropped"),
    pytest.param(_expired, "https://www.example.com/", T0 + 86400 + 5, MissingReason.EXPIRED,
                 "expired at 2024-01-01 12:00:03 (Max-Age=120 set at 11:58:03)", id="expired-another-day"),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "url", "at", "reason", "detail"), EXPLAIN)
def test_explain_missing(setup: Any, url: str, at: float, reason: MissingReason | None, detail: str | None) -> None:
    jar = CookieJar(max_per_site=1)
    setup(jar)
    got = explain(jar, "a", url, at=at)
    assert got == (None if reason is None else (reason, detail))


def test_every_missing_reason_is_explained_by_some_case() -> None:
    covered = {p.values[3] for p in EXPLAIN} | {MissingReason.SAMESITE}  # SAMESITE: test_samesite
    assert covered - {None} == set(MissingReason)


def test_in_scope_expiry_beats_a_held_out_of_path_cookie() -> None:
    jar = CookieJar()
    put(jar, "a=root; Path=/; Max-Age=60")
    put(jar, "a=app; Path=/app")
    got = explain(jar, "a", "https://www.example.com/api/x", at=T0 + 100)
    assert got is not None and got[0] is MissingReason.EXPIRED


def test_held_in_scope_cookie_beats_history() -> None:
    jar = CookieJar()
    _deleted(jar)
    put(jar, "a=2", at=T0 + 5, tx="t3")
    got = explain(jar, "a", "https://www.example.com/", at=T0 + 6)
    assert got is not None and got[0] is MissingReason.CLIENT_DROPPED and "t3" in got[1]


def test_rejected_cookie_out_of_path_says_both() -> None:
    jar = CookieJar()
    put(jar, "a=1; Path=/app; SameSite=None")
    got = explain(jar, "a", "https://www.example.com/api")
    assert got is not None and got[0] is MissingReason.OUT_OF_PATH
    assert got[1].endswith("; it was rejected at 11:58:03")


def test_rejected_secure_cookie_over_http_is_rejected_not_secure_over_http() -> None:
    jar = CookieJar()
    put(jar, "a=1; Secure", "http://www.example.com/")
    got = explain(jar, "a", "http://www.example.com/")
    assert got is not None and got[0] is MissingReason.REJECTED


def test_cookie_set_after_the_request_left_is_not_expected() -> None:
    jar = CookieJar()
    put(jar, "a=1", at=T0 + 10)
    assert names_for(jar, "https://www.example.com/", at=T0 + 1) == []
    assert names_for(jar, "https://www.example.com/", at=T0 + 11) == ["a"]


def test_should_send_returns_first_in_send_order() -> None:
    jar = CookieJar()
    put(jar, "route=root; Path=/")
    put(jar, "route=app; Path=/app")
    held = jar.should_send("route", scheme="https", host="www.example.com", path="/app/x", at=T0 + 1)
    assert held is not None and held.value == "app"
    assert jar.should_send("other", scheme="https", host="www.example.com", path="/", at=T0 + 1) is None


# --------------------------------------------------------------------------- limits


def test_per_site_limit_evicts_least_recently_used() -> None:
    jar = CookieJar(max_per_site=3)
    for i, name in enumerate("abc"):
        put(jar, f"{name}=1", at=T0 + i)
    names_for(jar, "https://www.example.com/", at=T0 + 5)  # touches a, b, c in send order
    jar.cookies_for(scheme="https", host="www.example.com", path="/", at=T0 + 6)
    put(jar, "a=2", at=T0 + 7)  # a replaced: now most recently used
    decision = put(jar, "d=1", at=T0 + 8)
    assert decision.action == "stored"
    assert sorted(c.name for c in jar.cookies()) == ["a", "c", "d"]
    assert jar.history("b")[-1].kind == "evicted"
    # another site is not affected by example.com's count
    put(jar, "z=1", "https://other.org/", at=T0 + 9)
    assert len(jar) == 4


def test_total_limit() -> None:
    jar = CookieJar(max_cookies=5)
    for i in range(8):
        put(jar, f"c{i}=1", f"https://h{i}.example{i}.com/", at=T0 + i)
    assert len(jar) == 5
    assert sorted(c.name for c in jar.cookies()) == ["c3", "c4", "c5", "c6", "c7"]


def test_history_is_bounded() -> None:
    jar = CookieJar()
    for i in range(HISTORY_PER_NAME * 3):
        put(jar, "a=1; SameSite=None", at=T0 + i)
    assert len(jar.history("a")) == HISTORY_PER_NAME


def test_a_long_session_patches_its_kept_answers_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """One client asking many paths while every response re-sets its session cookie: each kept answer
    catches up when it is next asked for, instead of every kept answer on every Set-Cookie."""
    import stickyforensics.track.jar as jar_module

    calls = 0
    real = jar_module.patch_replaced

    def counting(*args: Any) -> None:
        nonlocal calls
        calls += 1
        real(*args)

    monkeypatch.setattr(jar_module, "patch_replaced", counting)
    jar = CookieJar()
    put(jar, "SID=v0; Path=/")
    put(jar, "cart=1; Path=/shop")  # two cookie paths: the paths below get separate answers
    requests = 0
    for n in range(400):
        names_for(jar, f"https://www.example.com/shop/item{n % 200}", at=T0 + 1 + n)
        put(jar, f"SID=v{n + 1}; Path=/", at=T0 + 1 + n)
        requests += 1
    assert names_for(jar, "https://www.example.com/shop/item7", at=T0 + 500) == ["cart", "SID"]
    assert jar.cookies_for(scheme="https", host="www.example.com", path="/shop/x", at=T0 + 500)[1].value == "v400"
    assert calls <= 2 * requests  # eagerly patching every kept answer: about 200 per Set-Cookie


def test_held_for_answers_as_cookies_for_and_repeats_its_list() -> None:
    jar, reference = CookieJar(), CookieJar(memoize=False)
    for j in (jar, reference):
        put(j, "a=1; Path=/")
        put(j, "b=2; Path=/app")
    first = jar.held_for("https", "www.example.com", "/app/x", T0 + 1)
    assert first == reference.cookies_for(scheme="https", host="www.example.com", path="/app/x", at=T0 + 1)
    assert [c.name for c in first] == ["b", "a"]
    again = jar.held_for("https", "www.example.com", "/app/y", T0 + 2)
    assert again is first  # the same answer: no new list (callers only read it)
    copy = jar.cookies_for(scheme="https", host="www.example.com", path="/app/x", at=T0 + 2)
    assert copy == first and copy is not first  # the public answer stays the caller's to modify
    for j in (jar, reference):
        put(j, "a=3; Path=/", at=T0 + 3)
    changed = jar.held_for("https", "www.example.com", "/app/x", T0 + 4)
    assert changed is not first and [c.value for c in first] == ["2", "1"]  # an earlier answer is never patched
    assert changed == reference.cookies_for(scheme="https", host="www.example.com", path="/app/x", at=T0 + 4)
