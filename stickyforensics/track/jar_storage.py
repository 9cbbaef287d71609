"""The storage rules a browser applies to one Set-Cookie on its own (rfc6265bis §5.6-5.7).

Pure questions about the header and its origin: must it be rejected, and when does it expire. The
rule that depends on what the jar already holds ("leave secure cookies alone") stays in the jar.
"""

from __future__ import annotations

from stickyforensics.model import SetCookie
from stickyforensics.track.cookieparse import NAME_VALUE_LIMIT, octets
from stickyforensics.track.cookiescope import canonical_host, default_path, resolve_domain, secure_origin
from stickyforensics.track.jar_records import expiry_text
from stickyforensics.track.memo import Memo

__all__ = ["MAX_LIFETIME", "StorageScope", "expiry", "expiry_time", "rejection", "storage_scope"]

MAX_LIFETIME = 400 * 86400
"""rfc6265bis §5.5: Expires / Max-Age are capped at 400 days."""


def rejection(
    sc: SetCookie,
    *,
    scheme: str,
    host: str,
    secure_ok: bool,
    domain: str | None,
    domain_problem: tuple[str, str] | None,
) -> tuple[str, str] | None:
    """``(rule, sentence)`` of the first storage rule ``sc`` breaks, or None when it may be stored.

    ``domain`` / ``domain_problem`` are ``cookiescope.resolve_domain``'s answer for ``sc.domain``;
    ``secure_ok`` whether ``scheme://host`` is a secure origin. The order is the browsers': the
    first failing rule is the one reported.
    """
    name = sc.name
    if "control_characters" in sc.problems:
        return "control_characters", "control characters in the name or value"
    if not name and not sc.value:
        return "empty_cookie", "both name and value are empty"
    size = octets(name) + octets(sc.value)
    if size > NAME_VALUE_LIMIT:
        return "too_large", f"name and value are {size} bytes, over {NAME_VALUE_LIMIT}"
    if domain_problem is not None or domain is None:
        return domain_problem or ("domain_mismatch", "no usable domain")
    if sc.secure and not secure_ok:
        return "secure_from_insecure_origin", f"Secure cookie set over {scheme}://{host}"
    if sc.samesite == "None" and not sc.secure:
        return "samesite_none_without_secure", "SameSite=None requires Secure"
    if sc.partitioned and not sc.secure:
        return "partitioned_not_secure", "Partitioned requires Secure"
    prefix_check = name if name else sc.value
    lower = prefix_check[:9].lower()
    if not name and lower.startswith(("__secure-", "__host-")):
        return "prefix_on_nameless_cookie", "a nameless cookie whose value looks like a prefixed name"
    if lower == "__secure-" and not (sc.secure and secure_ok):
        return "secure_prefix_not_secure", "__Secure- needs Secure from a secure origin"
    if lower.startswith("__host-"):
        if not (sc.secure and secure_ok):
            return "host_prefix_not_secure", "__Host- needs Secure from a secure origin"
        if sc.domain is not None:
            return "host_prefix_with_domain", "__Host- forbids a Domain attribute"
        if sc.path != "/":
            return "host_prefix_path_not_root", "__Host- needs Path=/"
    return None


StorageScope = tuple[str, bool, str, str | None, bool, tuple[str, str] | None]
"""(canonical host, secure origin?, cookie path, domain, host-only?, the rejection or None) of one
``Set-Cookie`` from one origin: what storing it depends on before the jar's contents."""

_SCOPES: Memo[tuple[object, ...], tuple[SetCookie | None, StorageScope]] = Memo(8192)
"""``storage_scope`` answers by origin and either what the rules read of an ordinary header (a named
cookie without parse problems: its name and attributes, not its value) or the parsed header itself
(identity: ``parse_set_cookie`` shares them)."""


def storage_scope(sc: SetCookie, *, scheme: str, host: str, path: str) -> StorageScope:
    """RFC 6265 §5.3 steps 4-6 (domain, path) and the storage rules of ``rejection`` for ``sc`` received
    from ``scheme://host/path``. Remembered: load balancers send the same line to every client, and a
    rotating cookie the same name and attributes with every value."""
    default = path if sc.path is None else None  # the path counts only as default
    key: tuple[object, ...]
    if sc.name and not sc.problems:
        # ``rejection`` reads the value only for control characters, size (both problems when they
        # apply) and emptiness or a prefix (of a nameless cookie): here it cannot change the answer
        key = (sc.name, sc.domain, sc.path, sc.secure, sc.samesite, sc.partitioned, scheme, host, default)
        owner = None
    else:
        key = (id(sc), scheme, host, default)
        owner = sc
    known = _SCOPES.get(key)
    if known is not None and known[0] is owner:  # an identity entry holds ``sc``: its id was not reused
        return known[1]
    host = canonical_host(host)
    secure_ok = secure_origin(scheme, host)
    cookie_path = sc.path if sc.path is not None else default_path(path)
    domain, host_only, domain_problem = resolve_domain(host, sc.domain)
    problem = rejection(sc, scheme=scheme, host=host, secure_ok=secure_ok, domain=domain, domain_problem=domain_problem)
    if problem is None and domain is None:  # not reached: a None domain always comes with a problem
        problem = ("domain_mismatch", "no usable domain")
    scope = (host, secure_ok, cookie_path, domain, host_only, problem)
    _SCOPES.remember(key, (owner, scope))
    return scope


def expiry_time(sc: SetCookie, *, at: float, server_date: float | None) -> float | None:
    """When a cookie received at ``at`` expires, on the capture's clock; None for a session cookie.

    rfc6265bis §5.6.1-2, §5.7 step 14: Max-Age wins over Expires; both are capped at 400 days. An
    ``Expires`` date is taken relative to the server's ``Date`` when known (clock skew), so the
    lifetime, not the server's wall clock, is applied to the capture's clock. ``expires_at <= at``
    means a deletion.
    """
    if sc.max_age is not None:
        return at + min(sc.max_age, MAX_LIFETIME) if sc.max_age > 0 else float("-inf")
    if sc.expires is None:
        return None
    base = server_date if server_date is not None else at
    return at + min(sc.expires - base, MAX_LIFETIME)


def expiry(sc: SetCookie, *, at: float, server_date: float | None) -> tuple[float | None, str | None]:
    """``(expires_at, source)``: ``expiry_time`` and how it was derived, for humans (``expiry_text``)."""
    return expiry_time(sc, at=at, server_date=server_date), expiry_text(sc, server_date)
