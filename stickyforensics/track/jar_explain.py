"""Why a request went without a cookie: the jar's held cookies and history of that name, ranked.

Every candidate (a held cookie, or a past expiry / deletion / eviction / rejection) is checked
against the request; the one that came closest to being sent (the latest retrieval rule failed,
then the most recent) gives the explanation. ``CookieJar.explain_missing`` gathers the candidates.
"""

from __future__ import annotations

from stickyforensics.model import MissingReason
from stickyforensics.track.cookiescope import host_matches, path_match
from stickyforensics.track.jar_records import JarRecord, StoredCookie, utc_clock
from stickyforensics.track.jar_retrieval import (
    FAIL_DOMAIN,
    FAIL_LIFECYCLE,
    FAIL_PATH,
    FAIL_SAMESITE,
    FAIL_SECURE,
    PASS,
    first_failed_rule,
)

__all__ = ["why_not_sent"]


def why_not_sent(
    held: list[StoredCookie],
    records: list[JarRecord],
    *,
    scheme: str,
    host: str,
    rpath: str,
    secure_ok: bool,
    site: str | None,
    site_for_cookies: str | None,
    top_level_navigation: bool,
    method: str,
    at: float,
) -> tuple[MissingReason, str]:
    """The explanation of the candidate closest to being sent; ``NEVER_SET`` when all came after ``at``.

    ``held`` and ``records`` are the jar's cookies and history of one name, not both empty; ``host``
    is canonical, ``rpath`` the request target's path, ``site`` the top-level site's registrable
    domain (None when unknown) and ``site_for_cookies`` the caller's text of it.
    """
    best: tuple[int, float] | None = None
    answer: tuple[MissingReason, str] | None = None
    later: list[float] = []
    for c in held:
        if c.created_at > at:
            later.append(c.created_at)
            continue
        verdict = first_failed_rule(
            c, host=host, path=rpath, secure_ok=secure_ok, site=site,
            top_level_navigation=top_level_navigation, method=method, at=at,
        )  # fmt: skip
        rank = (verdict, c.set_at)
        if best is None or rank > best:
            best, answer = rank, _held_reason(verdict, c, scheme, host, rpath, site_for_cookies, at)
    for rec in records:
        first_seen = rec.at if rec.first_seen is None else min(rec.first_seen, rec.at)
        if first_seen > at:
            later.append(first_seen)
            continue
        verdict = _record_scope(rec, host, rpath, secure_ok)
        rank = (verdict, rec.at)
        if best is None or rank > best:
            best = rank
            if verdict == FAIL_LIFECYCLE:
                answer = _record_reason(rec, at)
            else:
                reason, text = _scope_reason(
                    verdict, rec.domain or host, rec.host_only, rec.path or "/", scheme, host, rpath
                )
                answer = (reason, f"{text}; it was {rec.kind} at {utc_clock(rec.at, at)}")
    if answer is None:
        first = min(later)
        return (
            MissingReason.NEVER_SET,
            f"not set yet: first seen at {utc_clock(first, at)}, after this request at {utc_clock(at, at)}",
        )
    return answer


def _record_scope(rec: JarRecord, host: str, rpath: str, secure_ok: bool) -> int:
    """How far a past cookie's scope matches this request (unknown parts match)."""
    if rec.domain is not None and not host_matches(host, rec.domain, rec.host_only):
        return FAIL_DOMAIN
    if rec.path is not None and not path_match(rpath, rec.path):
        return FAIL_PATH
    if rec.secure and not secure_ok and rec.kind != "rejected":
        return FAIL_SECURE
    return FAIL_LIFECYCLE


def _record_reason(rec: JarRecord, at: float) -> tuple[MissingReason, str]:
    detail = rec.describe(at)
    if rec.kind == "expired":
        return MissingReason.EXPIRED, detail
    if rec.kind == "rejected":
        return MissingReason.REJECTED, detail
    return MissingReason.DELETED, detail


def _scope_reason(
    verdict: int, domain: str, host_only: bool, cpath: str, scheme: str, host: str, rpath: str
) -> tuple[MissingReason, str]:
    if verdict == FAIL_DOMAIN:
        if host_only:
            return MissingReason.OUT_OF_DOMAIN, f"host-only cookie for {domain}, request to {host}"
        return MissingReason.OUT_OF_DOMAIN, f"cookie for {domain} and its subdomains, request to {host}"
    if verdict == FAIL_PATH:
        return MissingReason.OUT_OF_PATH, f"cookie path {cpath} does not match {rpath}"
    return MissingReason.SECURE_OVER_HTTP, f"Secure cookie is not sent over {scheme}://{host}"


def _held_reason(
    verdict: int,
    c: StoredCookie,
    scheme: str,
    host: str,
    rpath: str,
    site_for_cookies: str | None,
    at: float,
) -> tuple[MissingReason, str]:
    if verdict == PASS:
        return (
            MissingReason.CLIENT_DROPPED,
            f"held and in scope (set at {utc_clock(c.set_at, at)} by {c.set_by}; domain, path, secure, expiry "
            "all match) but not sent",
        )
    if verdict == FAIL_SAMESITE:
        mode = c.samesite or "Lax (default)"
        return (
            MissingReason.SAMESITE,
            f"SameSite={mode} cookie is not sent on a cross-site request to {host} from {site_for_cookies}",
        )
    if verdict == FAIL_LIFECYCLE:  # not reachable after a purge; kept for a non-monotonic clock
        source = f" ({c.expiry_source} set at {utc_clock(c.set_at, at)})" if c.expiry_source else ""
        return MissingReason.EXPIRED, f"expired at {utc_clock(c.expires_at or at, at)}{source}"
    return _scope_reason(verdict, c.domain, c.host_only, c.path, scheme, host, rpath)
