"""The parse and storage memos change how fast an answer comes, never the answer.

``parse_cookie_header`` remembers each ``;``-separated item, ``parse_set_cookie`` the attribute text after
the first ``;`` and ``storage_scope`` a named cookie without parse problems by its name and attributes:
each answer here is compared with the one worked out with every memo empty (dates with ``calendar``).
"""

from __future__ import annotations

import calendar
import itertools
import random

import pytest

from stickyforensics.model import CookiePair
from stickyforensics.track import cookieparse, jar_storage
from stickyforensics.track.cookieparse import _date_value, parse_cookie_header, parse_set_cookie
from stickyforensics.track.jar_storage import storage_scope


def _clear() -> None:
    parse_cookie_header.cache_clear()
    parse_set_cookie.cache_clear()
    cookieparse._ITEMS.cache_clear()
    cookieparse._ATTRIBUTES.cache_clear()
    jar_storage._SCOPES.cache_clear()


COOKIE_HEADERS = [
    "a=1; b=2; c=3",
    "a=1; b=9; c=3",
    "a=1;;b=2; ",
    "=; a=1",  # a pair with an empty name and value: kept, unlike an empty item
    "bare; a=1; bare",
    " a = 1 ;b=x=y",
    "",
    ";",
    "a=1; a=2",
]


def test_cookie_headers_parse_alike_with_items_remembered() -> None:
    _clear()
    fresh = {}
    for header in COOKIE_HEADERS:
        _clear()
        fresh[header] = parse_cookie_header(header)
    _clear()
    for header in COOKIE_HEADERS * 2:
        parse_cookie_header.cache_clear()  # the items stay remembered
        assert parse_cookie_header(header) == fresh[header]
    assert parse_cookie_header("=; a=1") == (CookiePair("", ""), CookiePair("a", "1"))
    assert parse_cookie_header("a=1;;b=2; ") == (CookiePair("a", "1"), CookiePair("b", "2"))


ATTRIBUTES = [
    "",
    "; Path=/; Secure; SameSite=Strict",
    "; Path=/; Expires=Fri, 01 Mar 2024 08:30:49 GMT; Secure",
    ";path=/;secure;httponly",
    "; Domain=.Example.COM; Max-Age=abc; Path=x",
    "; SameSite=weird; Partitioned; Secure",
    "; Expires=never; Max-Age=-1",
    "; Path=/\x01x",
    "; Domain=",
]
PAIRS = ["XSRF-TOKEN=4EDB", "XSRF-TOKEN=2FA1", "bare", "=", "a\x02=b", "__Host-id=1", "__Secure-x=2", "n=" + "v" * 4100]


def test_set_cookies_parse_alike_with_attributes_remembered() -> None:
    headers = [pair + attrs for pair, attrs in itertools.product(PAIRS, ATTRIBUTES)]
    fresh = {}
    for header in headers:
        _clear()
        fresh[header] = parse_set_cookie(header)
    _clear()
    for header in headers + headers[::-1]:
        parse_set_cookie.cache_clear()  # the attribute texts stay remembered
        got = parse_set_cookie(header)
        assert got == fresh[header]
        assert repr(got) == repr(fresh[header])


@pytest.mark.parametrize(
    ("scheme", "host", "path"),
    [("https", "shop.example.com", "/api/x"), ("http", "shop.example.com", "/a/b"), ("https", "example.com", "/")],
)
def test_storage_scope_alike_by_name_and_attributes(scheme: str, host: str, path: str) -> None:
    headers = [pair + attrs for pair, attrs in itertools.product(PAIRS, ATTRIBUTES)]
    headers += ["a=1; Domain=example.com", "a=2; Domain=other.org", "a=3; SameSite=None", "a=4; SameSite=None; Secure"]
    fresh = {}
    for header in headers:
        _clear()
        fresh[header] = storage_scope(parse_set_cookie(header), scheme=scheme, host=host, path=path)
    _clear()
    for header in headers + headers[::-1]:
        assert storage_scope(parse_set_cookie(header), scheme=scheme, host=host, path=path) == fresh[header]


def test_dates_are_calendar_timegm() -> None:
    """``_date_value`` remembers each month's first day and length: the epoch is ``calendar.timegm``'s."""
    rng = random.Random(1)
    for _ in range(20000):
        year = rng.choice([rng.randrange(1601, 10000), rng.randrange(1990, 2040)])
        month, day = rng.randrange(1, 13), rng.randrange(1, 32)
        clock = (rng.randrange(0, 24), rng.randrange(0, 60), rng.randrange(0, 60))
        want = None
        if day <= calendar.monthrange(year, month)[1]:
            want = float(calendar.timegm((year, month, day, *clock, 0, 0, 0)))
        assert _date_value(year, month, day, clock) == want
