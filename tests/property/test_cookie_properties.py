"""Hypothesis properties: cookie parsers never raise, keep order and duplicates; the jar never raises."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from email.utils import format_datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.model import Headers, MissingReason, SetCookie
from stickyforensics.track.cookieparse import (
    parse_cookie_header,
    parse_http_date,
    parse_set_cookie,
    request_cookies,
    response_set_cookies,
)
from stickyforensics.track.jar import CookieJar, domain_match, path_match

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Cookie-ish text: biased towards the separators the parsers care about, and near-dates.
cookieish = st.one_of(
    st.text(alphabet=st.one_of(st.sampled_from(list(';=, \t\r\n"/.-_:')), st.characters()), max_size=200),
    st.from_regex(r"[A-Za-z]{3}, [0-9٢]{2}[ -][A-Za-z]{3}[ -][0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT", fullmatch=True),
)


@SETTINGS
@given(cookieish)
def test_parsers_never_raise(text: str) -> None:
    sc = parse_set_cookie(text)
    assert isinstance(sc, SetCookie) and sc.raw == text
    assert all(not p.name.startswith((" ", "\t")) for p in parse_cookie_header(text))
    # the fast path for common shapes agrees with the general RFC 6265 token loop
    assert parse_http_date(text) == parse_http_date(" " + text)
    request_cookies(Headers((("Cookie", text), ("cookie", text))))
    response_set_cookies(Headers((("Set-Cookie", text),)))


token = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~", min_size=1,
                max_size=12)  # fmt: skip
cookie_value = st.text(alphabet=st.characters(blacklist_characters=";", blacklist_categories=("Cs",)), max_size=20).map(
    lambda v: v.strip(" \t")
)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "SERVERID"]) | token, cookie_value), max_size=12))
def test_cookie_header_keeps_order_and_duplicates(pairs: list[tuple[str, str]]) -> None:
    header = "; ".join(f"{n}={v}" for n, v in pairs)
    assert [(p.name, p.value) for p in parse_cookie_header(header)] == pairs
    # HTTP/2 crumbs: the same pairs split over several cookie fields give the same list
    crumbs = Headers(tuple(("cookie", f"{n}={v}") for n, v in pairs))
    assert [(p.name, p.value) for p in request_cookies(crumbs)] == pairs


@SETTINGS
@given(token, cookie_value, st.lists(st.sampled_from(["Secure", "HttpOnly", "Path=/x", "SameSite=Lax"]), max_size=4))
def test_set_cookie_name_value_survive_attributes(name: str, value: str, attrs: list[str]) -> None:
    sc = parse_set_cookie("; ".join([f"{name}={value}", *attrs]))
    assert (sc.name, sc.value) == (name, value)
    assert len(sc.attributes) == len(attrs)


@SETTINGS
@given(st.datetimes(min_value=datetime(1601, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_http_date_round_trip(when: datetime) -> None:
    when = when.replace(microsecond=0, tzinfo=UTC)
    expected = float(calendar.timegm(when.utctimetuple()))
    text = format_datetime(when, usegmt=True)
    if when.year >= 1000:  # the RFC 6265 algorithm reads 2-4 digit years only
        assert parse_http_date(text) == expected
        assert parse_http_date(" " + text) == expected  # the general token loop, not the fast path
    netscaler = when.strftime("%a, %d-%b-") + f"{when.year:04d}" + when.strftime(" %H:%M:%S GMT")
    assert parse_http_date(netscaler) == expected


set_cookie_line = st.one_of(
    cookieish,
    st.builds(
        lambda n, v, attrs: "; ".join([f"{n}={v}", *attrs]),
        st.sampled_from(["a", "__Host-a", "__Secure-a", "", "NSC_x"]),
        st.sampled_from(["", "1", "2", "__Host-x"]),
        st.lists(
            st.sampled_from([
                "Secure", "HttpOnly", "Path=/", "Path=/app", "Path=x", "Domain=example.com", "Domain=com",
                "Domain=a.example.com", "Domain=10.0.0.1", "Max-Age=0", "Max-Age=60", "Max-Age=-5",
                "Max-Age=99999999999", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Expires=Fri, 31 Dec 9999 23:59:59 GMT",
                "SameSite=None", "SameSite=Strict", "SameSite=Lax", "Partitioned",
            ]),
            max_size=5,
        ),
    ),
)  # fmt: skip
hosts = st.sampled_from(["example.com", "a.example.com", "b.example.com", "10.0.0.1", "localhost", "[::1]", "", "com"])
schemes = st.sampled_from(["http", "https", "HTTP", "ftp"])
paths = st.sampled_from(["", "/", "/app", "/app/x", "/api/x?y=/z", "x"])


@settings(SETTINGS, max_examples=80)
@given(
    st.lists(
        st.tuples(set_cookie_line, schemes, hosts, paths, st.floats(0, 4e9), st.none() | st.floats(-1e12, 1e12)),
        max_size=10,
    ),
    schemes,
    hosts,
    paths,
    st.floats(0, 4e9),
    st.none() | st.sampled_from(["example.com", "https://evil.test/", ""]),
)
def test_jar_never_raises_and_sends_only_matching_cookies(
    steps: list[tuple[str, str, str, str, float, float | None]],
    scheme: str,
    host: str,
    path: str,
    at: float,
    site: str | None,
) -> None:
    jar = CookieJar(max_cookies=8, max_per_site=4)
    names: set[str] = set()
    for i, (line, s, h, p, t, server_date) in enumerate(steps):
        sc = parse_set_cookie(line)
        names.add(sc.name)
        decision = jar.set_from_response(
            sc, scheme=s, host=h, path=p, at=t, transaction_id=str(i), server_date=server_date
        )
        assert decision.accepted == (decision.action != "rejected")
        assert (decision.reason is not None) == (decision.action == "rejected")
        assert len(jar) <= 8
    sent = jar.cookies_for(scheme=scheme, host=host, path=path, at=at, site_for_cookies=site, method="POST")
    clean_host = host.strip("[]")
    for c in sent:
        assert domain_match(clean_host, c.domain)
        assert path_match(path.split("?")[0] if path.startswith("/") else "/" + path, c.path)
        assert c.expires_at is None or c.expires_at > at
    assert [len(c.path) for c in sent] == sorted((len(c.path) for c in sent), reverse=True)
    for name in names | {"never"}:
        got = jar.explain_missing(
            name, scheme=scheme, host=host, path=path, at=at, site_for_cookies=site, method="POST"
        )
        assert got is None or (isinstance(got[0], MissingReason) and got[1])
        if any(c.name == name for c in sent):
            assert got is not None and got[0] is MissingReason.CLIENT_DROPPED
        held = jar.should_send(name, scheme=scheme, host=host, path=path, at=at, site_for_cookies=site, method="POST")
        assert (held is not None) == any(c.name == name for c in sent)
    assert jar.explain_missing("never-seen", scheme=scheme, host=host, path=path, at=at) is None
