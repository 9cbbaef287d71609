"""One client's cookie jar, as a browser keeps it (RFC 6265 §5.3-5.4, rfc6265bis), and why a cookie was not sent.

Theory of operation
-------------------
The jar is fed, in capture order, every ``Set-Cookie`` the client received
(``set_from_response``) and asked which cookies belong on each request
(``cookies_for``). It follows the user-agent rules a forensic finding must
rule out before blaming the client:

* storage (rfc6265bis §5.7): size limit, control characters, ``Max-Age`` over
  ``Expires``, 400-day cap, ``Domain`` that must domain-match and must not be
  a public suffix, default path, ``Secure`` only from a secure origin,
  ``__Secure-``/``__Host-`` prefixes, ``SameSite=None`` needs ``Secure``
  (Chrome), "leave secure cookies alone", replacement keyed by
  (name, domain, host-only, path) keeping the creation time, deletion by a
  past expiry;
* retrieval (RFC 6265 §5.4): domain / host-only match, path match, ``Secure``
  over secure origins only, expiry, and ``SameSite`` when the caller knows the
  request's site context; longer paths first, then older creation first.

Invariants
----------
* ``_cookies`` maps ``(name, domain, host_only, path)`` to the one held cookie
  of that identity; ``_by_domain``, ``_by_name``, ``_lru`` and ``_by_site``
  index exactly the same keys.
* Expired cookies are removed lazily (a heap of expiry times) and leave an
  ``expired`` record in the name's history, as deletions, evictions and
  rejections do: the history is what lets ``explain_missing`` say *why*.
* Memory is bounded: ``max_cookies`` in all, ``max_per_site`` per registrable
  domain (least recently used evicted, like Chrome), ``HISTORY_PER_NAME``
  records per name and ``HISTORY_NAMES`` names.

This module keeps the state (the indexes, the expiry heap, the history and the
retrieval memo); the rules are pure functions elsewhere: the scope rules
(domain / path match, public suffixes, secure origins) in ``cookiescope``, the
records in ``jar_records``, the per-header storage rules in ``jar_storage``,
the retrieval rules in ``jar_retrieval`` and the ranking of explanations in
``jar_explain``. The public names are re-exported here.

The retrieval memo: between two changes of the jar an answer for the same
(scheme, host, path) without SameSite context is reused; ``memoize=False``
turns it off (the property tests compare both).

Times are the capture's epoch seconds; nothing here reads a clock. Details are
written with UTC wall-clock times.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque

from stickyforensics.model import MissingReason, SetCookie
from stickyforensics.track.cookiescope import (
    candidate_domains,
    canonical_host,
    default_path,
    domain_match,
    is_public_suffix,
    path_match,
    registrable_domain,
    request_target_path,
    resolve_domain,
    scope_overlaps,
    secure_origin,
    site_host,
)
from stickyforensics.track.jar_explain import why_not_sent
from stickyforensics.track.jar_records import (
    Action,
    CookieKey,
    JarDecision,
    JarRecord,
    StoredCookie,
    utc_clock,
)
from stickyforensics.track.jar_retrieval import LAX_ALLOW_UNSAFE_WINDOW, PASS, first_failed_rule, patch_replaced
from stickyforensics.track.jar_storage import MAX_LIFETIME, expiry, rejection

__all__ = [
    "HISTORY_NAMES",
    "HISTORY_PER_NAME",
    "LAX_ALLOW_UNSAFE_WINDOW",
    "MAX_LIFETIME",
    "Action",
    "CookieJar",
    "JarDecision",
    "JarRecord",
    "StoredCookie",
    "default_path",
    "domain_match",
    "is_public_suffix",
    "path_match",
    "registrable_domain",
    "secure_origin",
]

HISTORY_PER_NAME = 8
HISTORY_NAMES = 4096


class CookieJar:
    """One client's cookies. Not thread-safe; feed it in capture order."""

    def __init__(self, *, max_cookies: int = 3000, max_per_site: int = 180, memoize: bool = True) -> None:
        """``memoize=False`` answers every request from scratch: the reference the memo is tested against."""
        self.max_cookies = max(1, max_cookies)
        self.max_per_site = max(1, max_per_site)
        self._cookies: dict[CookieKey, StoredCookie] = {}
        self._by_domain: dict[str, dict[CookieKey, None]] = {}
        self._by_name: dict[str, dict[CookieKey, None]] = {}
        self._by_site: dict[str, OrderedDict[CookieKey, None]] = {}
        self._lru: OrderedDict[CookieKey, None] = OrderedDict()
        self._expiry: list[tuple[float, int, CookieKey]] = []
        self._seq = 0
        self._history: OrderedDict[str, deque[JarRecord]] = OrderedDict()
        self._newest = float("-inf")
        """Latest creation time of any cookie ever stored (monotone): requests at or after it see them all."""
        self._memoize = memoize
        self._memo: dict[tuple[str, str, str], list[tuple[CookieKey, StoredCookie]]] = {}
        """``_matching`` results per (scheme, host, path) without SameSite context, valid until the next
        insertion or removal; only results computed at or after ``_newest`` are kept (see ``_matching``)."""

    # ----------------------------------------------------------------- bookkeeping

    def __len__(self) -> int:
        return len(self._cookies)

    def cookies(self) -> list[StoredCookie]:
        """Every held cookie (expired ones included until the next call purges them)."""
        return list(self._cookies.values())

    def history(self, name: str) -> tuple[JarRecord, ...]:
        """The recent expiries, deletions, evictions and rejections of ``name``, oldest first."""
        return tuple(self._history.get(name, ()))

    def _record(self, rec: JarRecord) -> None:
        records = self._history.get(rec.name)
        if records is None:
            records = self._history[rec.name] = deque(maxlen=HISTORY_PER_NAME)
            while len(self._history) > HISTORY_NAMES:
                self._history.popitem(last=False)
        records.append(rec)

    def _insert(self, key: CookieKey, cookie: StoredCookie) -> None:
        if self._memo:
            self._memo.clear()
        if cookie.created_at > self._newest:
            self._newest = cookie.created_at
        self._cookies[key] = cookie
        self._by_domain.setdefault(cookie.domain, {})[key] = None
        self._by_name.setdefault(cookie.name, {})[key] = None
        self._by_site.setdefault(registrable_domain(cookie.domain), OrderedDict())[key] = None
        self._by_site[registrable_domain(cookie.domain)].move_to_end(key)
        self._lru[key] = None
        self._lru.move_to_end(key)
        if cookie.expires_at is not None:
            self._seq += 1
            heapq.heappush(self._expiry, (cookie.expires_at, self._seq, key))

    def _remove(self, key: CookieKey) -> StoredCookie | None:
        cookie = self._cookies.pop(key, None)
        if cookie is None:
            return None
        if self._memo:
            self._memo.clear()
        for index, sub in ((self._by_domain, cookie.domain), (self._by_name, cookie.name)):
            bucket = index.get(sub)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del index[sub]
        site = registrable_domain(cookie.domain)
        site_bucket = self._by_site.get(site)
        if site_bucket is not None:
            site_bucket.pop(key, None)
            if not site_bucket:
                del self._by_site[site]
        self._lru.pop(key, None)
        return cookie

    def _touch(self, key: CookieKey) -> None:
        self._lru.move_to_end(key)
        site_bucket = self._by_site.get(registrable_domain(key[1]))
        if site_bucket is not None and key in site_bucket:
            site_bucket.move_to_end(key)

    def _purge_expired(self, at: float) -> None:
        heap = self._expiry
        while heap and heap[0][0] <= at:
            expires_at, _, key = heapq.heappop(heap)
            cookie = self._cookies.get(key)
            if cookie is None or cookie.expires_at != expires_at:
                continue  # replaced or removed since: a stale heap entry
            self._remove(key)
            source = (
                f"{cookie.expiry_source} set at {utc_clock(cookie.set_at, expires_at)}" if cookie.expiry_source else ""
            )
            self._record(
                JarRecord(
                    "expired", cookie.name, expires_at, cookie.set_by, cookie.domain, cookie.host_only,
                    cookie.path, cookie.secure, first_seen=cookie.created_at, detail=source,
                )
            )  # fmt: skip

    def _evict(self, key: CookieKey, at: float, why: str) -> None:
        cookie = self._remove(key)
        if cookie is not None:
            self._record(
                JarRecord(
                    "evicted", cookie.name, at, None, cookie.domain, cookie.host_only, cookie.path, cookie.secure,
                    first_seen=cookie.created_at, detail=why,
                )
            )  # fmt: skip

    def _enforce_limits(self, site: str, at: float) -> None:
        bucket = self._by_site.get(site)
        while bucket is not None and len(bucket) > self.max_per_site:
            self._evict(
                next(iter(bucket)), at, f"more than {self.max_per_site} cookies for {site}, least recently used"
            )
            bucket = self._by_site.get(site)
        while len(self._cookies) > self.max_cookies:
            self._evict(
                next(iter(self._lru)), at, f"more than {self.max_cookies} cookies in the jar, least recently used"
            )

    # ----------------------------------------------------------------- storage

    def set_from_response(
        self,
        sc: SetCookie,
        *,
        scheme: str,
        host: str,
        path: str,
        at: float,
        transaction_id: str,
        server_date: float | None = None,
    ) -> JarDecision:
        """Process one Set-Cookie received at ``at`` for ``scheme://host/path`` (rfc6265bis §5.7)."""
        self._purge_expired(at)
        host = canonical_host(host)
        secure_ok = secure_origin(scheme, host)
        name = sc.name
        cookie_path = sc.path if sc.path is not None else default_path(path)

        domain, host_only, domain_problem = resolve_domain(host, sc.domain)  # RFC 6265 §5.3 steps 4-6

        def reject(reason: str, detail: str, previous: StoredCookie | None = None) -> JarDecision:
            self._record(
                JarRecord(
                    "rejected", name, at, transaction_id, domain, host_only, cookie_path, sc.secure,
                    reason=reason, detail=detail,
                )
            )  # fmt: skip
            return JarDecision(False, "rejected", reason, None, previous, detail)

        problem = rejection(
            sc, scheme=scheme, host=host, secure_ok=secure_ok, domain=domain, domain_problem=domain_problem
        )
        if problem is not None or domain is None:  # a None domain always comes with a problem
            return reject(*(problem or ("domain_mismatch", "no usable domain")))

        key: CookieKey = (name, domain, host_only, cookie_path)
        old = self._cookies.get(key)

        # rfc6265bis §5.7 step 16, "Leave Secure Cookies Alone".
        if not sc.secure and not secure_ok:
            for other_key in self._by_name.get(name, {}):
                other = self._cookies[other_key]
                if other.secure and scope_overlaps(domain, cookie_path, other.domain, other.path):
                    return reject(
                        "overwrite_secure_from_insecure",
                        f"a Secure cookie for {other.domain}{other.path} exists and {scheme}:// may not overwrite it",
                        other,
                    )

        expires_at, source = expiry(sc, at=at, server_date=server_date)
        if expires_at is not None and expires_at <= at:
            how = source or "expiry in the past"
            if old is None:
                self._record(
                    JarRecord(
                        "deleted", name, at, transaction_id, domain, host_only, cookie_path, sc.secure,
                        detail=f"{how}, transaction {transaction_id}; no value was held",
                    )
                )  # fmt: skip
                return JarDecision(True, "ignored_delete", None, None, None, f"deletion ({how}) of a cookie not held")
            self._remove(key)
            self._record(
                JarRecord(
                    "deleted", name, at, transaction_id, domain, host_only, cookie_path, sc.secure,
                    first_seen=old.created_at, detail=f"{how}, transaction {transaction_id}",
                )
            )  # fmt: skip
            return JarDecision(True, "deleted", None, None, old, f"deleted ({how})")

        samesite = sc.samesite if sc.samesite in ("Strict", "Lax", "None") else None
        cookie = StoredCookie(
            name=name,
            value=sc.value,
            domain=domain,
            host_only=host_only,
            path=cookie_path,
            secure=sc.secure,
            httponly=sc.httponly,
            samesite=samesite,
            expires_at=expires_at,
            persistent=expires_at is not None,
            created_at=old.created_at if old is not None else at,
            set_by=transaction_id,
            set_at=at,
            expiry_source=source,
            partitioned=sc.partitioned,
        )
        # A replacement that keeps the Secure flag changes no retrieval answer (same name, domain, path
        # and creation time) except the value carried: the cached answers are patched, not dropped.
        keep = self._memo if (old is not None and old.secure == cookie.secure and self._memo) else None
        if keep is not None:
            self._memo = {}
        held = len(self._cookies)
        if old is not None:
            self._remove(key)
        self._insert(key, cookie)
        self._enforce_limits(registrable_domain(domain), at)  # evicts others: the new key is the most recent
        if keep is not None and len(self._cookies) == held and not self._memo:
            for found in keep.values():
                patch_replaced(found, key, cookie)
            self._memo = keep
        if old is not None:
            return JarDecision(True, "replaced", None, cookie, old, None)
        return JarDecision(True, "stored", None, cookie, None, None)

    # ----------------------------------------------------------------- retrieval

    def _candidate_keys(self, host: str) -> list[CookieKey]:
        """Keys of cookies whose domain is the host or one of its parent domains."""
        keys: list[CookieKey] = []
        for domain in candidate_domains(host):
            bucket = self._by_domain.get(domain)
            if bucket:
                keys.extend(bucket)
        return keys

    def _matching(
        self,
        *,
        scheme: str,
        host: str,
        path: str,
        at: float,
        site_for_cookies: str | None,
        top_level_navigation: bool,
        method: str,
    ) -> list[tuple[CookieKey, StoredCookie]]:
        self._purge_expired(at)
        # Between two changes of the jar the answer depends on ``at`` only through "created after
        # ``at``" (expired cookies are purged above), so a request at or after every creation time
        # can reuse the answer for the same scheme, host and path. SameSite answers are not kept.
        memo_key = (scheme, host, path)
        cacheable = self._memoize and site_for_cookies is None and at >= self._newest
        if cacheable:
            hit = self._memo.get(memo_key)
            if hit is not None:
                return list(hit)
        host = canonical_host(host)
        rpath = request_target_path(path)
        secure_ok = secure_origin(scheme, host)
        site = None if site_for_cookies is None else registrable_domain(site_host(site_for_cookies))
        out: list[tuple[CookieKey, StoredCookie]] = []
        for key in self._candidate_keys(host):
            c = self._cookies[key]
            if c.created_at > at:
                continue  # not yet received when this request left (concurrent connections)
            verdict = first_failed_rule(
                c, host=host, path=rpath, secure_ok=secure_ok, site=site,
                top_level_navigation=top_level_navigation, method=method, at=at,
            )  # fmt: skip
            if verdict == PASS:
                out.append((key, c))
        # RFC 6265 §5.4 step 2: longer paths first, then earlier creation times first.
        out.sort(key=lambda kc: (-len(kc[1].path), kc[1].created_at))
        if cacheable:
            if len(self._memo) >= 1024:
                self._memo.clear()  # bounded: a client crawling many distinct paths between two changes
            self._memo[memo_key] = list(out)
        return out

    def cookies_for(
        self,
        *,
        scheme: str,
        host: str,
        path: str,
        at: float,
        site_for_cookies: str | None = None,
        top_level_navigation: bool = False,
        method: str = "GET",
    ) -> list[StoredCookie]:
        """The cookies a browser would put on this request, in RFC 6265 §5.4 order.

        ``SameSite`` is applied only when ``site_for_cookies`` (the top-level
        site, as a host or URL) is given; captures rarely tell it. A cookie
        first stored after ``at`` is left out: a request that left before the
        response that set it (another connection) could not carry it.
        """
        found = self._matching(
            scheme=scheme, host=host, path=path, at=at, site_for_cookies=site_for_cookies,
            top_level_navigation=top_level_navigation, method=method,
        )  # fmt: skip
        for key, _ in found:
            self._touch(key)
        return [c for _, c in found]

    def should_send(
        self,
        name: str,
        *,
        scheme: str,
        host: str,
        path: str,
        at: float,
        site_for_cookies: str | None = None,
        top_level_navigation: bool = False,
        method: str = "GET",
    ) -> StoredCookie | None:
        """The held cookie ``name`` that belongs on this request (the first in send order), or None."""
        for _, c in self._matching(
            scheme=scheme, host=host, path=path, at=at, site_for_cookies=site_for_cookies,
            top_level_navigation=top_level_navigation, method=method,
        ):  # fmt: skip
            if c.name == name:
                return c
        return None

    def explain_missing(
        self,
        name: str,
        *,
        scheme: str,
        host: str,
        path: str,
        at: float,
        site_for_cookies: str | None = None,
        top_level_navigation: bool = False,
        method: str = "GET",
    ) -> tuple[MissingReason, str] | None:
        """Why a request without cookie ``name`` lacks it, as far as the jar can tell.

        * None: the jar never had, deleted, rejected or saw expire any cookie of
          that name: it has nothing to explain and no business sending it.
        * ``NEVER_SET``: everything the jar knows of the name happened after ``at``
          (the request left before the response that set it arrived).
        * ``CLIENT_DROPPED``: a held cookie should have been sent; nothing explains it.
        * otherwise the rule that kept the closest candidate off the request
          (``OUT_OF_DOMAIN``, ``OUT_OF_PATH``, ``SECURE_OVER_HTTP``, ``EXPIRED``,
          ``DELETED`` (eviction included), ``REJECTED``, ``SAMESITE``).
        """
        self._purge_expired(at)
        host = canonical_host(host)
        rpath = request_target_path(path)
        secure_ok = secure_origin(scheme, host)
        site = None if site_for_cookies is None else registrable_domain(site_host(site_for_cookies))
        held = [self._cookies[k] for k in self._by_name.get(name, {})]
        records = list(self._history.get(name, ()))
        if not held and not records:
            return None
        return why_not_sent(
            held, records, scheme=scheme, host=host, rpath=rpath, secure_ok=secure_ok, site=site,
            site_for_cookies=site_for_cookies, top_level_navigation=top_level_navigation, method=method, at=at,
        )  # fmt: skip
