"""Hypothesis property: the jar's retrieval memo never changes an answer.

Two jars are fed the same random sequence of Set-Cookie responses and requests: one with the memo
(``CookieJar()``), one answering every request from scratch (``CookieJar(memoize=False)``). Every
storage decision, every request's cookies (``cookies_for``, ``held_for``), what it should carry (``should_send``),
why it lacks a cookie (``explain_missing``) and the final contents must be equal. The sequences mix
domains (host-only, parent domain, public suffix, foreign), paths, Max-Age / Expires (deletions
included), Secure, SameSite, case and trailing-dot host spellings, small per-site limits (evictions),
requests that left before a response (``at`` earlier than a creation) and SameSite contexts.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.track.cookieparse import parse_set_cookie
from stickyforensics.track.jar import CookieJar

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

T0 = 1_700_000_000.0
NAMES = ("a", "SID", "SERVERID", "__Host-h", "__Secure-s")
NAME_WEIGHTS = ("a", "a", "a", "SID", "SID", "SID", "SERVERID", "SERVERID", "__Host-h", "__Secure-s")
TARGETS = (
    ("https", "www.example.com", "/"),
    ("http", "www.example.com", "/"),
    ("https", "www.example.com", "/app/x?y=/z"),
    ("https", "WWW.Example.com", "/app/x/y"),
    ("https", "www.example.com.", "/app"),
    ("https", "example.com", "/app/"),
    ("https", "a.www.example.com", "/other?q=1"),
    ("http", "www.example.com", "/app/x?y=/z"),
    ("http", "localhost", "/App/x"),
    ("https", "other.org", "/"),
)
"""Where requests go and responses come from: few, so that requests repeat across changes of the jar
(the memo is only reused between two changes), with host spellings the memo key does not canonicalise
and one host and path over both schemes (the memo is keyed by scheme: Secure cookies)."""
# Weighted towards cookies the jar accepts and replaces (same name, domain and path), rejections still drawn.
DOMAIN_ATTRS = (None, None, None, None, None, None, "example.com", ".example.com", "www.example.com", "other.org",
                "com")  # fmt: skip
PATH_ATTRS = (None, "/", "/", "/", "/app", "/app/x", "/other")


@dataclass(frozen=True)
class SetOp:
    header: str
    target: tuple[str, str, str]
    advance: float
    server_skew: float | None


@dataclass(frozen=True)
class RequestOp:
    target: tuple[str, str, str]
    advance: float
    lag: float
    """Seconds the request left before now: a request on another connection, before a response."""
    site_for_cookies: str | None
    top_level_navigation: bool
    method: str


@dataclass(frozen=True)
class CookieSpec:
    """A cookie's identity and fixed attributes; each Set-Cookie of it draws a value and a lifetime."""

    name: str
    attributes: tuple[str, ...]
    origin: tuple[str, str, str]


advances = st.sampled_from([0.0, 0.0, 0.5, 1.0, 5.0, 30.0, 200.0])
targets = st.sampled_from(TARGETS)


@st.composite
def cookie_specs(draw: st.DrawFn) -> CookieSpec:
    attrs: list[str] = []
    domain = draw(st.sampled_from(DOMAIN_ATTRS))
    if domain is not None:
        attrs.append(f"Domain={domain}")
    path = draw(st.sampled_from(PATH_ATTRS))
    if path is not None:
        attrs.append(f"Path={path}")
    if draw(st.sampled_from([True, False, False])):
        attrs.append("Secure")
    samesite = draw(st.sampled_from([None, None, "Lax", "Strict", "None"]))
    if samesite is not None:
        attrs.append(f"SameSite={samesite}")
    return CookieSpec(draw(st.sampled_from(NAME_WEIGHTS)), tuple(attrs), draw(targets))


@st.composite
def set_ops(draw: st.DrawFn, specs: list[CookieSpec]) -> SetOp:
    spec = draw(st.sampled_from(specs))
    attrs = list(spec.attributes)
    if draw(st.sampled_from([True, False, False, False])):  # the same identity with Secure flipped
        attrs = [a for a in attrs if a != "Secure"] if "Secure" in attrs else [*attrs, "Secure"]
    if draw(st.booleans()):
        attrs.append("HttpOnly")
    lifetime = draw(st.sampled_from(["session", "session", "max-age", "expires", "both"]))
    if lifetime in ("max-age", "both"):
        attrs.append(f"Max-Age={draw(st.sampled_from([0, -1, 1, 20, 90, 3600, 10**10]))}")
    if lifetime in ("expires", "both"):
        offset = draw(st.sampled_from([-100.0, 3.0, 60.0, 86400.0, 10.0**9]))
        attrs.append("Expires=" + formatdate(T0 + offset, usegmt=True))  # often past: a deletion
    value = draw(st.sampled_from(["", "1", "2", "v-3", "s1.xyz"]))
    return SetOp(
        header="; ".join([f"{spec.name}={value}", *attrs]),
        target=spec.origin if draw(st.sampled_from([True, True, True, False])) else draw(targets),
        advance=draw(advances),
        server_skew=draw(st.sampled_from([None, None, -30.0, 120.0])),
    )


@st.composite
def request_ops(draw: st.DrawFn) -> RequestOp:
    return RequestOp(
        target=draw(targets),
        advance=draw(advances),
        lag=draw(st.sampled_from([0.0, 0.0, 0.5, 40.0])),
        site_for_cookies=draw(st.sampled_from([None, None, None, "https://other.org/", "example.com"])),
        top_level_navigation=draw(st.booleans()),
        method=draw(st.sampled_from(["GET", "POST"])),
    )


@st.composite
def operations(draw: st.DrawFn) -> list[SetOp | RequestOp]:
    """Responses re-setting a few cookie identities (replacements, deletions), interleaved with requests."""
    specs = draw(st.lists(cookie_specs(), min_size=1, max_size=4))
    ops: list[SetOp | RequestOp] = draw(
        st.lists(st.one_of(set_ops(specs), request_ops(), request_ops()), min_size=4, max_size=40)
    )
    return ops


@st.composite
def long_sessions(draw: st.DrawFn) -> list[SetOp | RequestOp]:
    """A long session: responses re-set a few cookies (new values, same scope, several at one instant,
    so they tie on creation time) between requests to a few places: the memo keeps its answers across
    these value-only replacements and must patch each in when the answer is next reused."""
    origin = draw(targets)  # one origin, so that cookies share a domain and tie (the order patched)
    specs = [CookieSpec(spec.name, spec.attributes, origin) for spec in draw(st.lists(cookie_specs(), min_size=1,
                                                                                         max_size=4))]  # fmt: skip
    lifetimes = draw(st.lists(st.sampled_from(["", "", "; Max-Age=3600", "; Max-Age=0"]), min_size=len(specs),
                              max_size=len(specs)))  # fmt: skip
    ops: list[SetOp | RequestOp] = [
        SetOp(f"{spec.name}=0; " + "; ".join(spec.attributes), origin, 0.0, None) for spec in specs
    ]  # the first response sets them all at one instant: equal creation times
    for _ in range(draw(st.integers(min_value=5, max_value=60))):
        if draw(st.booleans()):
            ops.append(draw(request_ops()) if draw(st.integers(0, 4)) == 0 else
                       RequestOp(draw(targets), draw(advances), 0.0, None, False, "GET"))  # fmt: skip
            continue
        advance = draw(advances)
        for index in draw(st.lists(st.integers(0, len(specs) - 1), min_size=1, max_size=3)):
            spec = specs[index]
            value = draw(st.sampled_from(["1", "2", "v-3", "s1.xyz"]))
            header = "; ".join([f"{spec.name}={value}", *spec.attributes]) + lifetimes[index]
            ops.append(SetOp(header, spec.origin, advance, None))
            advance = 0.0  # the response's other cookies are set at the same instant
    return ops


limits = st.sampled_from([(3000, 180), (4, 2), (2, 5)])


def _replay(jar: CookieJar, ops: list[SetOp | RequestOp]) -> list[object]:
    """Everything the jar answers to ``ops``, in order."""
    answers: list[object] = []
    now = T0
    for i, op in enumerate(ops):
        now += op.advance
        if isinstance(op, SetOp):
            server_date = None if op.server_skew is None else now + op.server_skew
            scheme, host, path = op.target
            answers.append(
                jar.set_from_response(
                    parse_set_cookie(op.header), scheme=scheme, host=host, path=path, at=now,
                    transaction_id=f"t{i}", server_date=server_date,
                )
            )  # fmt: skip
            continue
        scheme, host, path = op.target
        request = {
            "scheme": scheme, "host": host, "path": path, "at": now - op.lag,
            "site_for_cookies": op.site_for_cookies, "top_level_navigation": op.top_level_navigation,
            "method": op.method,
        }  # fmt: skip
        if op.site_for_cookies is None and not op.top_level_navigation and op.method == "GET" and i % 2:
            # the timeline's call: the same answer, possibly a list returned before (kept, never patched)
            answers.append(jar.held_for(scheme, host, path, now - op.lag))
        else:
            answers.append(jar.cookies_for(**request))
        for name in NAMES:
            answers.append(jar.should_send(name, **request))
            answers.append(jar.explain_missing(name, **request))
    answers.append(sorted(jar.cookies(), key=repr))
    answers.append([jar.history(name) for name in NAMES])
    return answers


@SETTINGS
@given(operations(), limits)
def test_memoized_answers_equal_answers_from_scratch(ops: list[SetOp | RequestOp], limit: tuple[int, int]) -> None:
    max_cookies, max_per_site = limit
    with_memo = _replay(CookieJar(max_cookies=max_cookies, max_per_site=max_per_site), ops)
    from_scratch = _replay(CookieJar(max_cookies=max_cookies, max_per_site=max_per_site, memoize=False), ops)
    assert with_memo == from_scratch


@SETTINGS
@given(long_sessions(), limits)
def test_memo_stays_equal_across_many_value_replacements(ops: list[SetOp | RequestOp], limit: tuple[int, int]) -> None:
    max_cookies, max_per_site = limit
    with_memo = _replay(CookieJar(max_cookies=max_cookies, max_per_site=max_per_site), ops)
    from_scratch = _replay(CookieJar(max_cookies=max_cookies, max_per_site=max_per_site, memoize=False), ops)
    assert with_memo == from_scratch
