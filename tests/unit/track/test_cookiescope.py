"""Cookie scope rules, one table each: domain / path match, default path, public suffixes, secure origins.

Expected values come from RFC 6265 §5.1.3-5.1.4 and §5.3-5.4 (and rfc6265bis
where browsers moved on), not from running the code.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.track import cookiescope, jar
from stickyforensics.track.cookiescope import (
    candidate_domains,
    canonical_host,
    default_path,
    domain_match,
    host_matches,
    is_ip,
    is_loopback,
    is_public_suffix,
    path_match,
    registrable_domain,
    request_target_path,
    resolve_domain,
    scope_overlaps,
    secure_origin,
    site_host,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("www.example.com", "www.example.com"),
        ("WWW.Example.COM", "www.example.com"),
        ("example.com.", "example.com"),  # the FQDN form is the same host
        ("  Example.com  ", "example.com"),
        ("[::1]", "::1"),
        ("[2001:DB8::1]:8443", "2001:db8::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("", ""),
        (".", ""),
    ],
)
def test_canonical_host(raw: str, expected: str) -> None:
    assert canonical_host(raw) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("::1", True),
        ("2001:db8::1", True),
        ("[::1]", False),  # callers pass canonical hosts: brackets are not part of an IP
        ("1.2.3.4.5", False),
        ("1.2.3", False),
        ("1e100", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_ip(host: str, expected: bool) -> None:
    assert is_ip(host) is expected


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("a.b.example.com", "b.example.com", True),
        ("example.com", "www.example.com", False),  # a parent is not matched by its child
        ("badexample.com", "example.com", False),  # suffix, but not on a label boundary
        ("www.example.com", "ample.com", False),
        ("www.example.com", "com", True),  # plain §5.1.3; public suffixes are refused at storage
        ("www.example.com", "", False),
        ("", "", True),
        ("127.0.0.1", "127.0.0.1", True),  # IP hosts: identical only
        ("127.0.0.1", "0.0.1", False),
        ("192.168.1.1", "168.1.1", False),
        ("::1", "::1", True),
        ("1.2.3.4.5", "2.3.4.5", True),  # not an IP, so an ordinary host name
        ("example.com.", "example.com", False),  # not canonical: trailing dots are stripped by callers
        (canonical_host("Example.com."), "example.com", True),
    ],
)
def test_domain_match(host: str, domain: str, expected: bool) -> None:
    assert domain_match(host, domain) is expected


@pytest.mark.parametrize(
    ("host", "domain", "host_only", "expected"),
    [
        ("example.com", "example.com", True, True),
        ("www.example.com", "example.com", True, False),  # host-only: never to subdomains
        ("www.example.com", "example.com", False, True),
        ("example.com", "www.example.com", False, False),
        ("127.0.0.1", "127.0.0.1", False, True),
    ],
)
def test_host_matches(host: str, domain: str, host_only: bool, expected: bool) -> None:
    assert host_matches(host, domain, host_only) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("a.b.example.com", ["a.b.example.com", "b.example.com", "example.com", "com"]),
        ("example.com", ["example.com", "com"]),
        ("localhost", ["localhost"]),
        ("127.0.0.1", ["127.0.0.1"]),  # an IP has no parent domains
        ("::1", ["::1"]),
    ],
)
def test_candidate_domains(host: str, expected: list[str]) -> None:
    assert candidate_domains(host) == tuple(expected)
    assert all(domain_match(host, d) for d in candidate_domains(host))


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "expected"),
    [
        ("/", "/", True),
        ("/anything/at/all", "/", True),
        ("/app", "/app", True),
        ("/app/", "/app", True),
        ("/app/x", "/app", True),
        ("/appx", "/app", False),  # a prefix, but not at a "/" boundary
        ("/app", "/app/", False),
        ("/app/x", "/app/", True),
        ("/App/x", "/app", False),  # paths are case-sensitive
        ("/", "/app", False),
    ],
)
def test_path_match(request_path: str, cookie_path: str, expected: bool) -> None:
    assert path_match(request_path, cookie_path) is expected


@pytest.mark.parametrize(
    ("request_path", "expected"),
    [
        ("", "/"),
        ("x", "/"),  # not starting with "/"
        ("x/y", "/"),
        ("/", "/"),
        ("/a", "/"),
        ("/a/", "/a"),
        ("/a/b", "/a"),
        ("/a/b/c", "/a/b"),
        ("/a/b?q=/z/w", "/a"),  # the query is not part of the path
        ("/a/b#x/y", "/a"),
        ("/a//", "/a/"),
    ],
)
def test_default_path(request_path: str, expected: str) -> None:
    assert default_path(request_path) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/a/b?c=/d", "/a/b"), ("/a#f", "/a"), ("a/b", "/a/b"), ("", "/"), ("?q", "/"), ("/", "/")],
)
def test_request_target_path(target: str, expected: str) -> None:
    assert request_target_path(target) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="/ab?#.", max_size=16))
def test_default_path_cookie_returns_to_its_page(target: str) -> None:
    """A cookie stored with the default path is sent back to the page that set it (RFC 6265 §5.1.4)."""
    cookie_path = default_path(target)
    assert cookie_path.startswith("/")
    assert path_match(request_target_path(target), cookie_path)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("com", True),
        ("example", True),  # any single label (the PSL "*" rule)
        ("localhost", True),
        ("co.uk", True),
        ("com.au", True),
        ("github.io", True),
        ("example.co.uk", False),
        ("example.com", False),
        ("user.github.io", False),
        ("", False),
        ("127.0.0.1", False),  # an IP is never a public suffix
        ("::1", False),
    ],
)
def test_is_public_suffix(domain: str, expected: bool) -> None:
    assert is_public_suffix(domain) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.example.com", "example.com"),
        ("a.b.c.example.com", "example.com"),
        ("example.com", "example.com"),
        ("www.example.co.uk", "example.co.uk"),
        ("WWW.Example.CO.UK.", "example.co.uk"),  # canonicalised: case and the trailing dot
        ("co.uk", "co.uk"),  # a public suffix is its own site
        ("com", "com"),
        ("a.user.github.io", "user.github.io"),
        ("github.io", "github.io"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("localhost", "localhost"),
        ("", ""),
    ],
)
def test_registrable_domain(host: str, expected: str) -> None:
    assert registrable_domain(host) == expected


@pytest.mark.parametrize(
    ("host", "attribute", "expected"),
    [
        ("www.example.com", None, ("www.example.com", True, None)),
        ("www.example.com", "", ("www.example.com", True, None)),
        ("www.example.com", "example.com", ("example.com", False, None)),
        ("www.example.com", "www.example.com", ("www.example.com", False, None)),
        ("www.example.com", "other.org", (None, True, "domain_mismatch")),
        ("example.com", "www.example.com", (None, True, "domain_mismatch")),
        ("www.example.com", "com", (None, True, "public_suffix_domain")),
        ("x.co.uk", "co.uk", (None, True, "public_suffix_domain")),
        ("co.uk", "co.uk", ("co.uk", True, None)),  # Domain=<the host itself>: kept, as host-only
        ("localhost", "localhost", ("localhost", True, None)),
        ("127.0.0.1", "127.0.0.1", ("127.0.0.1", False, None)),
        ("127.0.0.1", "0.0.1", (None, True, "domain_mismatch")),
    ],
)
def test_resolve_domain(host: str, attribute: str | None, expected: tuple[str | None, bool, str | None]) -> None:
    domain, host_only, problem = resolve_domain(host, attribute)
    assert (domain, host_only, problem[0] if problem else None) == expected
    if problem is not None:
        assert attribute is not None and f"Domain={attribute}" in problem[1]


@pytest.mark.parametrize(
    ("scheme", "host", "expected"),
    [
        ("https", "example.com", True),
        ("HTTPS", "example.com", True),
        ("wss", "example.com", True),
        ("http", "example.com", False),
        ("ws", "example.com", False),
        ("http", "localhost", True),  # browsers treat loopback as secure
        ("http", "LOCALHOST.", True),
        ("http", "app.localhost", True),
        ("http", "localhost.example.com", False),
        ("http", "127.0.0.2", True),
        ("http", "[::1]", True),
        ("http", "::1", True),
        ("http", "10.0.0.1", False),
        ("http", "", False),
    ],
)
def test_secure_origin(scheme: str, host: str, expected: bool) -> None:
    assert secure_origin(scheme, host) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [("localhost", True), ("a.localhost", True), ("127.255.0.1", True), ("::1", True), ("::2", False),
     ("notlocalhost", False), ("192.168.0.1", False)],
)  # fmt: skip
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("example.com", "example.com"),
        ("https://Example.COM/path?q", "example.com"),
        ("https://user:pw@example.com:8443/", "example.com"),
        ("example.com:8080", "example.com"),
        ("example.com.", "example.com"),
        ("[::1]:8443", "::1"),
        ("https://[2001:db8::1]/", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),  # a bare IPv6 literal is not host:port
    ],
)
def test_site_host(site: str, expected: str) -> None:
    assert site_host(site) == expected


@pytest.mark.parametrize(
    ("domain", "path", "other_domain", "other_path", "expected"),
    [
        ("example.com", "/", "www.example.com", "/", True),  # either domain may be the parent
        ("www.example.com", "/", "example.com", "/", True),
        ("a.example.com", "/", "b.example.com", "/", False),
        ("example.com", "/app", "example.com", "/", True),
        ("example.com", "/", "example.com", "/app", False),  # the new path must path-match the old
        ("example.com", "/", "other.org", "/", False),
    ],
)
def test_scope_overlaps(domain: str, path: str, other_domain: str, other_path: str, expected: bool) -> None:
    assert scope_overlaps(domain, path, other_domain, other_path) is expected


def test_jar_reexports_the_scope_helpers() -> None:
    """Code importing scope helpers from the jar module keeps working, with the very same functions."""
    for name in ("default_path", "domain_match", "is_public_suffix", "path_match", "registrable_domain",
                 "secure_origin"):  # fmt: skip
        assert name in jar.__all__
        assert getattr(jar, name) is getattr(cookiescope, name)
    assert all(hasattr(jar, name) for name in jar.__all__)
    assert all(hasattr(cookiescope, name) for name in cookiescope.__all__)
