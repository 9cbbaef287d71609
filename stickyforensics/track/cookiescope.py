"""Cookie scope: which hosts, paths and origins a cookie belongs to (RFC 6265 §5.1, rfc6265bis).

These are the pure questions the cookie jar (``stickyforensics.track.jar``)
asks before it stores or sends a cookie: does a host domain-match a
``Domain``, does a request path path-match a cookie ``Path``, what is the
default path, is a ``Domain`` a public suffix, what is a host's site
(registrable domain), and is an origin "secure" enough for ``Secure``
cookies. They live apart from the jar so that the jar holds storage,
decisions and explanations only, and so that each rule can be tested from a
table on its own.

Hosts given to the comparison helpers (``domain_match``, ``host_matches``,
``candidate_domains``, ``is_public_suffix``) are expected canonical (see
``canonical_host``): lower-case, no brackets, no trailing dot. The helpers
that take raw input (``secure_origin``, ``registrable_domain``,
``site_host``) canonicalise it themselves. Nothing here raises on odd text
and nothing reads a clock or the network.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

__all__ = [
    "PUBLIC_SUFFIXES",
    "candidate_domains",
    "canonical_host",
    "default_path",
    "domain_match",
    "host_matches",
    "is_ip",
    "is_loopback",
    "is_public_suffix",
    "path_match",
    "registrable_domain",
    "request_target_path",
    "resolve_domain",
    "scope_overlaps",
    "secure_origin",
    "site_host",
]

# A short public-suffix list: every single label (the PSL "*" default rule) plus
# the multi-label suffixes and shared hosting domains met most in enterprise traffic.
_SUFFIX_TEXT = """
    co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk nhs.uk sch.uk
    com.au net.au org.au edu.au gov.au asn.au id.au
    co.nz org.nz net.nz govt.nz ac.nz
    co.jp ne.jp or.jp ac.jp go.jp ad.jp ed.jp gr.jp lg.jp
    co.kr or.kr ne.kr go.kr ac.kr
    com.br net.br org.br gov.br com.cn net.cn org.cn gov.cn edu.cn com.hk
    com.tw org.tw com.sg com.my co.in net.in org.in gov.in ac.in co.za org.za gov.za
    com.mx org.mx gob.mx com.ar com.tr gov.tr com.ua co.il org.il ac.il co.id or.id
    com.pl net.pl org.pl com.ru co.th or.th com.vn com.ph com.pk com.eg com.sa
    github.io gitlab.io herokuapp.com azurewebsites.net cloudapp.net cloudfront.net
    appspot.com blogspot.com firebaseapp.com web.app netlify.app vercel.app pages.dev workers.dev
"""
PUBLIC_SUFFIXES = frozenset(_SUFFIX_TEXT.split())
"""The multi-label public suffixes known here; single labels are public suffixes by rule, not listed."""

_SECURE_SCHEMES = frozenset({"https", "wss"})


# --------------------------------------------------------------------------- hosts


@lru_cache(maxsize=4096)
def canonical_host(host: str) -> str:
    """Lower-case, without IPv6 brackets (or what follows them) and without one trailing dot.

    Browsers compare cookie domains on this form: ``WWW.Example.COM.`` and
    ``www.example.com`` are the same host, ``[::1]:8443`` is ``::1``.
    """
    host = host.strip().lower()
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    return host[:-1] if host.endswith(".") else host


@lru_cache(maxsize=4096)
def is_ip(host: str) -> bool:
    """True for an IPv4 or IPv6 literal (canonical, unbracketed); IPs never domain-match a parent."""
    if not host or not (host[0].isdigit() or ":" in host):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """``localhost``, ``*.localhost`` or a loopback IP: browsers treat these origins as secure."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if is_ip(host):
        return ipaddress.ip_address(host).is_loopback
    return False


@lru_cache(maxsize=4096)
def secure_origin(scheme: str, host: str) -> bool:
    """A "secure" protocol for cookies: https/wss, or a loopback host (Chrome and Firefox trust localhost)."""
    return scheme.lower() in _SECURE_SCHEMES or is_loopback(canonical_host(host))


def site_host(site_for_cookies: str) -> str:
    """Host of a ``site_for_cookies`` given as a host or a URL (scheme, userinfo, port and path dropped)."""
    text = site_for_cookies.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if text.startswith("["):
        return canonical_host(text)
    return canonical_host(text.rsplit(":", 1)[0] if text.count(":") == 1 else text)


# --------------------------------------------------------------------------- domains


def is_public_suffix(domain: str) -> bool:
    """True for a single label (``com``, ``example``) or a listed multi-label suffix (``co.uk``)."""
    return bool(domain) and ("." not in domain or domain in PUBLIC_SUFFIXES) and not is_ip(domain)


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """The "site" of a host (eTLD+1 from the short list); an IP or a public suffix is its own site."""
    host = canonical_host(host)
    if is_ip(host) or "." not in host:
        return host
    labels = host.split(".")
    for i in range(len(labels) - 1):
        suffix = ".".join(labels[i + 1 :])
        if suffix in PUBLIC_SUFFIXES:
            return ".".join(labels[i:])
    return ".".join(labels[-2:])


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265 §5.1.3: identical, or ``domain`` a dot-separated suffix of a host name (not an IP)."""
    if host == domain:
        return True
    return (
        len(host) > len(domain)
        and host.endswith(domain)
        and host[-len(domain) - 1] == "."
        and bool(domain)
        and not is_ip(host)
    )


def host_matches(host: str, domain: str, host_only: bool) -> bool:
    """Whether a cookie scoped to ``domain`` goes to ``host`` (RFC 6265 §5.4 step 1).

    A host-only cookie (set without ``Domain``) goes to its exact host only;
    a domain cookie also to every subdomain.
    """
    return host == domain if host_only else domain_match(host, domain)


@lru_cache(maxsize=4096)
def candidate_domains(host: str) -> tuple[str, ...]:
    """The cookie domains that can match ``host``: the host itself, then each parent domain.

    ``a.b.example.com`` gives ``a.b.example.com``, ``b.example.com``,
    ``example.com``, ``com``; an IP gives only itself (IPs have no parents).
    Cached: the jar asks for every request it cannot answer from its memo.
    """
    out = [host]
    if not is_ip(host):
        dot = host.find(".")
        while dot != -1:
            out.append(host[dot + 1 :])
            dot = host.find(".", dot + 1)
    return tuple(out)


def resolve_domain(host: str, attribute: str | None) -> tuple[str | None, bool, tuple[str, str] | None]:
    """The domain a Set-Cookie from ``host`` is stored under (RFC 6265 §5.3 steps 4-6).

    Returns ``(domain, host_only, problem)``. Without a ``Domain`` attribute
    (or an empty one) the cookie is host-only for ``host``. A public-suffix
    ``Domain`` equal to the host also gives a host-only cookie; any other
    public suffix, or a ``Domain`` the host does not domain-match, gives
    ``domain=None`` and a ``(rule, sentence)`` problem for the rejection.
    ``attribute`` is the parsed attribute: lower-case, without a leading dot.
    """
    if not attribute:
        return host, True, None
    if is_public_suffix(attribute):
        if attribute != host:
            return None, True, ("public_suffix_domain", f"Domain={attribute} is a public suffix")
        return host, True, None
    if domain_match(host, attribute):
        return attribute, False, None
    return None, True, ("domain_mismatch", f"Domain={attribute} does not domain-match {host}")


# --------------------------------------------------------------------------- paths


def request_target_path(path: str) -> str:
    """The path part of a request target (query and fragment dropped), always starting with ``/``."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return path if path.startswith("/") else "/" + path


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4 path-match."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (cookie_path.endswith("/") or request_path[len(cookie_path)] == "/")


def default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4: the request path up to (not including) its last ``/``; ``/`` when there is none."""
    uri_path = request_path.split("?", 1)[0].split("#", 1)[0]
    if not uri_path.startswith("/") or uri_path.count("/") <= 1:
        return "/"
    return uri_path[: uri_path.rindex("/")]


# --------------------------------------------------------------------------- whole scope


def scope_overlaps(domain: str, path: str, other_domain: str, other_path: str) -> bool:
    """Whether a new cookie's scope reaches an existing one's ("Leave Secure Cookies Alone", rfc6265bis §5.7).

    The domains domain-match one way or the other and the new cookie's
    ``path`` path-matches the existing ``other_path``: a non-secure cookie
    with such a scope could shadow a ``Secure`` one of the same name.
    """
    return (domain_match(domain, other_domain) or domain_match(other_domain, domain)) and path_match(path, other_path)
