"""Hypothesis properties of the cookie parsers on any text a capture or HAR can carry.

``test_cookie_properties.py`` draws ordinary characters; here names and values may hold lone
surrogates (a HAR string ``"\\udc80"``), any non-ASCII character, and be longer than the RFC limits.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.model import Headers, SetCookie
from stickyforensics.track.cookieparse import (
    NAME_VALUE_LIMIT,
    parse_cookie_header,
    parse_http_date,
    parse_set_cookie,
    request_cookies,
    response_set_cookies,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CTL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F)]
# No separator the grammar splits on, no control character, nothing the parsers strip at the ends.
_SURROGATES = st.sampled_from(["\ud800", "\udc80", "\udfff", "\ud83d"])
"""Lone halves of surrogate pairs: drawn on purpose, st.characters() yields them rarely."""
_name_char = st.one_of(st.characters(blacklist_characters=[";", "=", " ", "\t", *_CTL]), _SURROGATES)
_value_char = st.one_of(st.characters(blacklist_characters=[";", " ", "\t", *_CTL]), _SURROGATES)
names = st.text(alphabet=_name_char, min_size=1, max_size=20)
values = st.one_of(
    st.text(alphabet=_value_char, max_size=30),
    st.builds(lambda piece, n: piece * n, st.text(alphabet=_value_char, min_size=1, max_size=4), st.integers(1, 3000)),
)
anything = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.one_of(st.characters(), _SURROGATES, st.sampled_from(_CTL)), max_size=200),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=6), st.integers(1, 2000)),
)


@SETTINGS
@given(text=anything)
def test_parsers_never_raise_on_any_text(text: str) -> None:
    sc = parse_set_cookie(text)
    assert isinstance(sc, SetCookie) and sc.raw == text
    assert all(isinstance(p.name, str) for p in parse_cookie_header(text))
    when = parse_http_date(text)
    assert when is None or math.isfinite(when)
    assert len(response_set_cookies(Headers((("Set-Cookie", text),)))) <= text.count("\n") + 1
    request_cookies(Headers((("cookie", text), ("Cookie", text))))


@SETTINGS
@given(pairs=st.lists(st.tuples(names, values), max_size=6))
def test_cookie_header_round_trips_names_and_values(pairs: list[tuple[str, str]]) -> None:
    header = "; ".join(f"{n}={v}" for n, v in pairs)
    assert [(p.name, p.value) for p in parse_cookie_header(header)] == pairs


@SETTINGS
@given(
    lines=st.lists(st.tuples(names, values), min_size=1, max_size=4),
    attrs=st.lists(st.sampled_from(["Path=/", "Secure", "HttpOnly", "Max-Age=x", "Domain=", "Expires=never", ""])),
)
def test_set_cookie_round_trips_names_through_any_attributes(lines: list[tuple[str, str]], attrs: list[str]) -> None:
    texts = ["; ".join([f"{n}={v}", *attrs]) for n, v in lines]
    for (name, value), text in zip(lines, texts, strict=True):
        sc = parse_set_cookie(text)
        assert (sc.name, sc.value) == (name, value)
        too_large = len(f"{name}{value}".encode("utf-8", "surrogatepass")) > NAME_VALUE_LIMIT
        assert ("too_large" in sc.problems) == too_large
    # chrome-har joins the lines of one response with newlines: they are split again, in order
    joined = response_set_cookies(Headers((("set-cookie", "\n".join(texts)),)))
    assert [(c.name, c.value) for c in joined] == lines
