"""Cookie / Set-Cookie parsing, rule by rule, with the real shapes LBs and servers write."""

from __future__ import annotations

import calendar
from typing import Any

import pytest

from stickyforensics.model import CookiePair, Headers
from stickyforensics.track.cookieparse import (
    parse_cookie_header,
    parse_http_date,
    parse_set_cookie,
    request_cookies,
    response_set_cookies,
)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float:
    return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))


NSC_VALUE = "ffffffffc3a094ae45525d5f4f58455e445a4a4229a9"

# --------------------------------------------------------------------------- Set-Cookie

SET_COOKIE_CASES = [
    pytest.param(
        f"NSC_eob1-qspe-xxb-mc-ttm={NSC_VALUE};path=/;secure;httponly",
        {"name": "NSC_eob1-qspe-xxb-mc-ttm", "value": NSC_VALUE, "path": "/", "secure": True, "httponly": True,
         "expires": None, "max_age": None, "problems": ()},
        id="netscaler-no-spaces-session",
    ),
    pytest.param(
        "NSC_W.TJUFEFGFOEFS.OBTEBR.80=ffffffffc3a08e3045525d5f4f58455e445a4a423660;"
        "expires=Sat, 21-May-2016 15:39:03 GMT;path=/",
        {"name": "NSC_W.TJUFEFGFOEFS.OBTEBR.80", "expires": utc(2016, 5, 21, 15, 39, 3), "path": "/"},
        id="netscaler-absolute-expires",
    ),
    pytest.param("SERVERID=s1; path=/", {"name": "SERVERID", "value": "s1", "path": "/", "secure": False},
                 id="haproxy-insert"),
    pytest.param(
        "SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
        {"name": "SERVERID", "value": "", "expires": 1.0, "problems": ()},
        id="haproxy-clear-1970",
    ),
    pytest.param(
        "AWSALB=w6ZqW1X+Zz/abc==; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/",
        {"name": "AWSALB", "value": "w6ZqW1X+Zz/abc==", "expires": utc(2015, 10, 21, 7, 28), "path": "/"},
        id="awsalb-value-with-equals",
    ),
    pytest.param(
        "AWSALBCORS=x; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/; SameSite=None; Secure",
        {"samesite": "None", "secure": True},
        id="awsalbcors",
    ),
    pytest.param("AWSELB=ABCDEF0123;PATH=/;MAX-AGE=3600", {"path": "/", "max_age": 3600}, id="aws-classic-elb-upper"),
    pytest.param("sid=; Max-Age=0; Path=/", {"value": "", "max_age": 0}, id="max-age-zero-deletion"),
    pytest.param("sid=x; Max-Age=-1", {"max_age": -1, "problems": ()}, id="max-age-negative"),
    pytest.param(
        "__Host-sess=abc; Secure; Path=/; HttpOnly; SameSite=Strict",
        {"name": "__Host-sess", "secure": True, "httponly": True, "path": "/", "samesite": "Strict", "domain": None},
        id="host-prefix",
    ),
    pytest.param(
        "ARRAffinity=ab12;Path=/;HttpOnly;Domain=App.AzureWebsites.net",
        {"domain": "app.azurewebsites.net"},
        id="arr-affinity-domain-lowercased",
    ),
    pytest.param("a=b; Domain=.Example.COM", {"domain": "example.com"}, id="domain-leading-dot"),
    pytest.param("a=b; Domain=", {"domain": None, "problems": ("empty_domain",)}, id="domain-empty"),
    pytest.param("a=b; Domain=.", {"domain": None, "problems": ("empty_domain",)}, id="domain-only-dot"),
    pytest.param("=v", {"name": "", "value": "v", "problems": ("empty_name",)}, id="nameless-equals"),
    pytest.param("v", {"name": "", "value": "v", "problems": ("empty_name",)}, id="nameless-bare"),
    pytest.param("v; Path=/x", {"name": "", "value": "v", "path": "/x"}, id="nameless-with-attributes"),
    pytest.param("", {"name": "", "value": "", "problems": ("empty_cookie",)}, id="empty"),
    pytest.param(";", {"name": "", "value": "", "attributes": ()}, id="only-semicolon"),
    pytest.param(" a = b ; Path = /x ", {"name": "a", "value": "b", "path": "/x"}, id="whitespace-trimmed"),
    pytest.param("a=b\tc", {"value": "b\tc", "problems": ()}, id="htab-is-not-a-control"),
    pytest.param('a="b c"', {"value": '"b c"'}, id="quotes-kept"),
    pytest.param("connect.sid=s%3Aabc.def=; Path=/", {"name": "connect.sid", "value": "s%3Aabc.def="},
                 id="express-signed-value"),
    pytest.param("a=b; expires=garbage", {"expires": None, "problems": ("bad_expires",)}, id="bad-expires"),
    pytest.param("a=b; Max-Age=1.5", {"max_age": None, "problems": ("bad_max_age",)}, id="max-age-decimal"),
    pytest.param("a=b; Max-Age=+5", {"max_age": None, "problems": ("bad_max_age",)}, id="max-age-plus"),
    pytest.param("a=b; Max-Age=", {"max_age": None, "problems": ("bad_max_age",)}, id="max-age-empty"),
    pytest.param("a=b; Max-Age=-", {"max_age": None, "problems": ("bad_max_age",)}, id="max-age-minus-only"),
    pytest.param("a=b; Max-Age=١٢", {"max_age": None, "problems": ("bad_max_age",)}, id="max-age-non-ascii-digits"),
    pytest.param("a=b; Max-Age= 60 ", {"max_age": 60}, id="max-age-spaces"),
    pytest.param("a=b; Max-Age=60; Max-Age=x", {"max_age": 60}, id="max-age-invalid-later-ignored"),
    pytest.param("a=b; path=x", {"path": None, "problems": ("bad_path",)}, id="path-not-slash"),
    pytest.param("a=b; Path=/x; Path=/y", {"path": "/y"}, id="path-last-wins"),
    pytest.param("a=b; Path=/x; Path=y", {"path": None}, id="path-last-invalid-means-default"),
    pytest.param(
        "a=b; Max-Age=60; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
        {"max_age": 60, "expires": utc(2015, 10, 21, 7, 28)},
        id="max-age-and-expires-both-kept",
    ),
    pytest.param(
        "a=b; Secure; PATH=/; Foo=Bar; Priority=High",
        {"attributes": (("Secure", None), ("PATH", "/"), ("Foo", "Bar"), ("Priority", "High"))},
        id="attributes-raw-in-order",
    ),
    pytest.param("a=b;;; Secure;", {"attributes": (("Secure", None),), "secure": True}, id="empty-attributes"),
    pytest.param("a=b; SameSite=lax", {"samesite": "Lax"}, id="samesite-lax"),
    pytest.param("a=b; samesite=STRICT", {"samesite": "Strict"}, id="samesite-strict"),
    pytest.param("a=b; SameSite=Bogus", {"samesite": "Bogus", "problems": ("unknown_samesite",)},
                 id="samesite-unknown"),
    pytest.param("a=b; SameSite", {"samesite": "", "problems": ("unknown_samesite",)}, id="samesite-flag"),
    pytest.param("a=b; Secure; Partitioned", {"partitioned": True}, id="partitioned"),
    pytest.param("a=b\x01c", {"problems": ("control_characters",)}, id="control-in-value"),
    pytest.param("a\x7f=b", {"problems": ("control_characters",)}, id="del-in-name"),
    pytest.param("a=b; Path=/\x01", {"problems": ("attribute_control_characters",)}, id="control-in-attribute"),
    pytest.param("a=" + "x" * 4096, {"problems": ("too_large",)}, id="name-value-4097"),
    pytest.param("a=" + "x" * 4095, {"problems": ()}, id="name-value-4096-ok"),
    pytest.param("a=" + "é" * 2048, {"problems": ("too_large",)}, id="name-value-counted-in-octets"),
    pytest.param("a=b; Path=/" + "é" * 512, {"path": None, "problems": ("attribute_too_long",)},
                 id="attribute-counted-in-octets"),
    pytest.param("a=b; Path=/" + "x" * 1100, {"path": None, "problems": ("attribute_too_long",)},
                 id="attribute-too-long"),
    pytest.param("a=b; HTTPONLY; SECURE", {"httponly": True, "secure": True}, id="flags-case-insensitive"),
    pytest.param("a=b; Secure=yes", {"secure": True}, id="flag-with-value"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "expected"), SET_COOKIE_CASES)
def test_parse_set_cookie(header: str, expected: dict[str, Any]) -> None:
    sc = parse_set_cookie(header)
    assert sc.raw == header
    for field, want in expected.items():
        assert getattr(sc, field) == want, field


# --------------------------------------------------------------------------- dates

DATE_CASES = [
    pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", utc(2015, 10, 21, 7, 28), id="rfc1123"),
    pytest.param("Sat, 21-May-2016 15:39:03 GMT", utc(2016, 5, 21, 15, 39, 3), id="netscaler-dashes"),
    pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37), id="rfc850-two-digit-year"),
    pytest.param("Sun Nov  6 08:49:37 1994", utc(1994, 11, 6, 8, 49, 37), id="asctime"),
    pytest.param("Thu, 01 Jan 70 00:00:00 GMT", 0.0, id="year-70-is-1970"),
    pytest.param("Mon, 01 Jan 69 00:00:00 GMT", utc(2069, 1, 1), id="year-69-is-2069"),
    pytest.param("21 oct 2015 07:28:00", utc(2015, 10, 21, 7, 28), id="no-weekday-lowercase"),
    pytest.param("2015 Oct 21 7:8:9", utc(2015, 10, 21, 7, 8, 9), id="any-order-single-digits"),
    pytest.param("Wed, 21 Oct 2015 07:28:00 GMT+0200", utc(2015, 10, 21, 7, 28), id="zone-ignored"),
    pytest.param("Wed, 21-Octember-2015 07:28:00", utc(2015, 10, 21, 7, 28), id="month-prefix"),
    pytest.param("Mon, 29 Feb 2016 00:00:00 GMT", utc(2016, 2, 29), id="leap-day"),
    pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", utc(9999, 12, 31, 23, 59, 59), id="year-9999"),
    pytest.param("Mon, 01 Jan 1601 00:00:00 GMT", utc(1601, 1, 1), id="year-1601"),
    pytest.param("", None, id="empty"),
    pytest.param("garbage", None, id="garbage"),
    pytest.param("Sun, 29 Feb 2015 00:00:00 GMT", None, id="not-a-leap-year"),
    pytest.param("Wed, 31 Apr 2015 00:00:00 GMT", None, id="april-31"),
    pytest.param("Wed, 21 Oct 2015 24:00:00 GMT", None, id="hour-24"),
    pytest.param("Wed, 21 Oct 2015 07:60:00 GMT", None, id="minute-60"),
    pytest.param("Wed, 32 Oct 2015 07:28:00 GMT", None, id="day-32"),
    pytest.param("Wed, 00 Oct 2015 07:28:00 GMT", None, id="day-0"),
    pytest.param("Mon, 01 Jan 1600 00:00:00 GMT", None, id="year-1600"),
    pytest.param("Wed, 21 Oct 2015 GMT", None, id="no-time"),
    pytest.param("Wed, 21 2015 07:28:00 GMT", None, id="no-month"),
    pytest.param("Wed, 21 Oct 07:28:00 GMT", None, id="no-year"),
    pytest.param("Wed, 21 Oct 2015 07:28:000 GMT", None, id="three-digit-seconds"),
    pytest.param("Wed, 21 Oct 5 07:28:00 GMT", None, id="one-digit-year"),
    pytest.param("x" * 2000, None, id="overlong"),
]


@pytest.mark.parametrize(("text", "expected"), DATE_CASES)
def test_parse_http_date(text: str, expected: float | None) -> None:
    assert parse_http_date(text) == expected


# --------------------------------------------------------------------------- Cookie

COOKIE_HEADER_CASES = [
    pytest.param("a=1; b=2", [("a", "1"), ("b", "2")], id="simple"),
    pytest.param("a=1; a=2; a=1", [("a", "1"), ("a", "2"), ("a", "1")], id="duplicates-in-order"),
    pytest.param("t=YWJj==; x=a=b", [("t", "YWJj=="), ("x", "a=b")], id="equals-in-value"),
    pytest.param("a=1;; ;b=2;", [("a", "1"), ("b", "2")], id="empty-items"),
    pytest.param("a=1; flag; b=2", [("a", "1"), ("", "flag"), ("b", "2")], id="missing-equals-is-nameless"),
    pytest.param("  a = 1 ;b=2 ", [("a", "1"), ("b", "2")], id="whitespace"),
    pytest.param("a=", [("a", "")], id="empty-value"),
    pytest.param("=v", [("", "v")], id="empty-name"),
    pytest.param("", [], id="empty-header"),
    pytest.param('q="x y"', [("q", '"x y"')], id="quoted"),
]


@pytest.mark.parametrize(("header", "expected"), COOKIE_HEADER_CASES)
def test_parse_cookie_header(header: str, expected: list[tuple[str, str]]) -> None:
    assert parse_cookie_header(header) == tuple(CookiePair(n, v) for n, v in expected)


REQUEST_CASES = [
    pytest.param([("Cookie", "a=1; b=2")], ["a", "b"], id="http1-single"),
    pytest.param(
        [("cookie", "a=1"), ("user-agent", "x"), ("cookie", "b=2; c=3"), ("cookie", "a=4")],
        ["a", "b", "c", "a"],
        id="http2-crumbs-joined-in-order",
    ),
    pytest.param([("COOKIE", "a=1"), ("Cookie2", "z=9")], ["a"], id="case-insensitive-and-cookie2-ignored"),
    pytest.param([("Host", "x")], [], id="none"),
]


@pytest.mark.parametrize(("items", "names"), REQUEST_CASES)
def test_request_cookies(items: list[tuple[str, str]], names: list[str]) -> None:
    assert [p.name for p in request_cookies(Headers(tuple(items)))] == names


EXPIRES = "Expires=Wed, 21 Oct 2015 07:28:00 GMT"
RESPONSE_CASES = [
    pytest.param([("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2")], ["a", "b"], id="one-per-line"),
    pytest.param([("set-cookie", f"a=1; Path=/\nb=2; {EXPIRES}")], ["a", "b"], id="chrome-har-newline-joined"),
    pytest.param([("Set-Cookie", "a=1\r\nb=2\r\n")], ["a", "b"], id="crlf-joined"),
    pytest.param([("Set-Cookie", f"a=1; {EXPIRES}, b=2")], ["a"], id="never-split-on-commas"),
    pytest.param([("Set-Cookie", "  "), ("Set-Cookie", "\n\n")], [], id="blank-values-skipped"),
    pytest.param([("Set-Cookie2", "x=1"), ("Cookie", "y=1")], [], id="other-headers-ignored"),
]


@pytest.mark.parametrize(("items", "names"), RESPONSE_CASES)
def test_response_set_cookies(items: list[tuple[str, str]], names: list[str]) -> None:
    assert [sc.name for sc in response_set_cookies(Headers(tuple(items)))] == names


def test_comma_joined_line_keeps_expires() -> None:
    (sc,) = response_set_cookies(Headers((("Set-Cookie", f"a=1; {EXPIRES}; Path=/"),)))
    assert sc.expires == utc(2015, 10, 21, 7, 28)
    assert sc.path == "/"
