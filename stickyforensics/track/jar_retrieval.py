"""The retrieval rules: whether one held cookie goes on one request (RFC 6265 §5.4, rfc6265bis §5.8.3).

``first_failed_rule`` answers with the index of the first rule a cookie fails rather than a bool:
``jar_explain`` ranks candidates by it (the later the failure, the closer the cookie came to being
sent, the better the explanation). ``patch_replaced`` keeps a cached retrieval answer valid across a
replacement that changes only a value.
"""

from __future__ import annotations

from stickyforensics.track.cookiescope import host_matches, path_match, registrable_domain
from stickyforensics.track.jar_records import CookieKey, StoredCookie

__all__ = [
    "FAIL_DOMAIN",
    "FAIL_LIFECYCLE",
    "FAIL_PATH",
    "FAIL_SAMESITE",
    "FAIL_SECURE",
    "LAX_ALLOW_UNSAFE_WINDOW",
    "PASS",
    "first_failed_rule",
    "patch_replaced",
]

LAX_ALLOW_UNSAFE_WINDOW = 120.0
"""Chrome's "Lax+POST": a cookie without SameSite stays sent on cross-site top-level POSTs for 2 minutes."""

FAIL_DOMAIN, FAIL_PATH, FAIL_SECURE, FAIL_LIFECYCLE, FAIL_SAMESITE, PASS = range(6)
"""The retrieval rules in the order they are checked; ``PASS``: the cookie is to be sent."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def first_failed_rule(
    c: StoredCookie,
    host: str,
    path: str,
    secure_ok: bool,
    site: str | None,
    top_level_navigation: bool,
    method: str,
    at: float,
) -> int:
    """Index of the first retrieval rule ``c`` fails (``PASS`` when it is to be sent).

    ``host`` is canonical, ``path`` the request target's path, ``site`` the registrable domain of
    the top-level site (None when unknown: SameSite is then not applied).
    """
    if not host_matches(host, c.domain, c.host_only):
        return FAIL_DOMAIN
    if not path_match(path, c.path):
        return FAIL_PATH
    if c.secure and not secure_ok:
        return FAIL_SECURE
    if c.expires_at is not None and c.expires_at <= at:
        return FAIL_LIFECYCLE
    if site is not None and c.samesite != "None" and registrable_domain(host) != site:
        # Cross-site request (rfc6265bis §5.8.3). Strict: never. Lax (and no attribute,
        # which Chrome enforces as Lax): only top-level navigations with a safe method,
        # plus Chrome's 2-minute Lax+POST allowance for cookies without SameSite.
        if c.samesite == "Strict" or not top_level_navigation:
            return FAIL_SAMESITE
        if method.upper() not in _SAFE_METHODS and not (
            c.samesite is None and at - c.created_at <= LAX_ALLOW_UNSAFE_WINDOW
        ):
            return FAIL_SAMESITE
    return PASS


def patch_replaced(found: list[tuple[CookieKey, StoredCookie]], key: CookieKey, cookie: StoredCookie) -> None:
    """Update a cached retrieval answer after ``key`` was replaced by ``cookie`` (same Secure flag).

    The answer is sorted by (path length, creation time), ties in candidate order: domain by domain,
    each domain's cookies in insertion order. A replacement re-inserts its key, so among the cookies
    tied with it *of the same domain* it now comes last; everything else keeps its place.
    """
    for i, (k, _c) in enumerate(found):
        if k != key:
            continue
        tie = (len(cookie.path), cookie.created_at)
        j = i
        while j + 1 < len(found):
            nk, nc = found[j + 1]
            if nk[1] != key[1] or (len(nc.path), nc.created_at) != tie:
                break
            found[j] = found[j + 1]
            j += 1
        found[j] = (key, cookie)
        return
