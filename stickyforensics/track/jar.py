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
turns it off (the property tests compare both). A replacement that changes
only a value keeps the answers: it is logged, and an answer catches up with
the log when it is next asked for (``_Answer``), so a long session that
re-sets a few cookies on every response costs no more per response than a
short one (patching every kept answer on every Set-Cookie was quadratic).

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
    expiry_text,
    utc_clock,
)
from stickyforensics.track.jar_retrieval import LAX_ALLOW_UNSAFE_WINDOW, PASS, first_failed_rule, patch_replaced
from stickyforensics.track.jar_storage import MAX_LIFETIME, expiry_time, storage_scope

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
_SAMESITE_VALUES = frozenset({"Strict", "Lax", "None"})
CATCH_UP_LIMIT = 32
"""A kept answer behind by more replaced cookies than this is recomputed rather than patched."""


def _send_order(kc: tuple[CookieKey, StoredCookie]) -> tuple[int, float]:
    return -len(kc[1].path), kc[1].created_at


class _Answer:
    """A kept retrieval answer and the replacement generation it reflects."""

    __slots__ = ("found", "synced")

    def __init__(self, found: list[tuple[CookieKey, StoredCookie]], synced: int) -> None:
        self.found = found
        self.synced = synced


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
        self._memo: dict[tuple[str, str, str], _Answer] = {}
        """``_matching`` results per (scheme, host, path) without SameSite context, valid until the next
        insertion or removal; only results computed at or after ``_newest`` are kept (see ``_matching``)."""
        self._memo_by_paths: dict[tuple[str, str, tuple[bool, ...]], _Answer] = {}
        """The same answers per (scheme, host, which cookie paths the request path matches): every path
        of a site gets one answer while its cookies are all ``Path=/``."""
        self._cookie_paths: dict[str, tuple[str, ...]] = {}
        """Per request host: the distinct paths other than ``/`` of the cookies that can go to it
        (``_path_signature``; every request path matches ``/``)."""
        self._generation = 0
        """Counts the value-only replacements that kept the memo."""
        self._replaced: dict[CookieKey, int] = {}
        """Keys replaced (value only) since the memo was last emptied -> generation of their last
        replacement, in that order: what a kept answer has to patch in to catch up."""
        self._touched: list[tuple[CookieKey, StoredCookie]] | None = None
        """The answer whose cookies were last marked used, if nothing changed the jar or the use
        order since: marking them again would change nothing (a client repeating one request)."""
        self._touched_cookies: list[StoredCookie] = []
        """The cookies of ``_touched`` (while it is set): what ``held_for`` answers again."""

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

    def _forget_answers(self) -> None:
        self._memo.clear()
        self._memo_by_paths.clear()
        self._cookie_paths.clear()
        self._replaced.clear()

    def _insert(self, key: CookieKey, cookie: StoredCookie) -> None:
        """Hold ``cookie`` under ``key``, which is not held (callers remove it first): it goes last
        in every index."""
        self._forget_answers()
        self._touched = None
        if cookie.created_at > self._newest:
            self._newest = cookie.created_at
        self._cookies[key] = cookie
        for index, sub in ((self._by_domain, cookie.domain), (self._by_name, cookie.name)):
            bucket = index.get(sub)
            if bucket is None:
                index[sub] = {key: None}
            else:
                bucket[key] = None
        site = registrable_domain(cookie.domain)
        site_bucket = self._by_site.get(site)
        if site_bucket is None:
            self._by_site[site] = OrderedDict({key: None})
        else:
            site_bucket[key] = None
        self._lru[key] = None
        self._push_expiry(key, cookie)

    def _replace_value(self, key: CookieKey, cookie: StoredCookie) -> None:
        """Hold ``cookie`` instead of the held cookie of the same key and Secure flag.

        The indexes end as a removal and an insertion would leave them (the key last in each), without
        emptying and re-creating buckets. The retrieval answers stay (same name, domain, path, creation
        time: only the value and the order among ties change) and log the replacement for ``_catch_up``.
        """
        cookies = self._cookies
        del cookies[key]
        cookies[key] = cookie
        for bucket in (self._by_domain[cookie.domain], self._by_name[cookie.name]):
            del bucket[key]
            bucket[key] = None
        self._by_site[registrable_domain(cookie.domain)].move_to_end(key)
        self._lru.move_to_end(key)
        self._push_expiry(key, cookie)
        self._touched = None
        if self._memo:
            self._generation += 1
            self._replaced.pop(key, None)  # re-inserted below: the log stays in replacement order
            self._replaced[key] = self._generation

    def _push_expiry(self, key: CookieKey, cookie: StoredCookie) -> None:
        if cookie.expires_at is None:
            return
        self._seq += 1
        heapq.heappush(self._expiry, (cookie.expires_at, self._seq, key))

    def _remove(self, key: CookieKey) -> StoredCookie | None:
        cookie = self._cookies.pop(key, None)
        if cookie is None:
            return None
        self._forget_answers()
        self._touched = None
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

    def _purge_expired(self, at: float) -> None:
        heap = self._expiry
        while heap and heap[0][0] <= at:
            expires_at, _, key = heapq.heappop(heap)
            cookie = self._cookies.get(key)
            if cookie is None or cookie.expires_at != expires_at:
                continue  # replaced or removed since: a stale heap entry
            self._remove(key)
            how = cookie.expiry_source
            source = f"{how} set at {utc_clock(cookie.set_at, expires_at)}" if how else ""
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
        if self._expiry and self._expiry[0][0] <= at:  # ``_purge_expired``'s test, without the call
            self._purge_expired(at)
        name = sc.name
        host, secure_ok, cookie_path, domain, host_only, problem = storage_scope(
            sc, scheme=scheme, host=host, path=path
        )
        if problem is not None or domain is None:
            reason, detail = problem or ("domain_mismatch", "no usable domain")
            return self._reject(sc, reason, detail, at, transaction_id, domain, host_only, cookie_path)

        key: CookieKey = (name, domain, host_only, cookie_path)
        old = self._cookies.get(key)

        # rfc6265bis §5.7 step 16, "Leave Secure Cookies Alone".
        if not sc.secure and not secure_ok:
            for other_key in self._by_name.get(name, {}):
                other = self._cookies[other_key]
                if other.secure and scope_overlaps(domain, cookie_path, other.domain, other.path):
                    where = f"{other.domain}{other.path}"
                    detail = f"a Secure cookie for {where} exists and {scheme}:// may not overwrite it"
                    return self._reject(
                        sc, "overwrite_secure_from_insecure", detail, at, transaction_id, domain, host_only,
                        cookie_path, other,
                    )  # fmt: skip

        expires_at = expiry_time(sc, at=at, server_date=server_date)
        if expires_at is not None and expires_at <= at:
            how = expiry_text(sc, server_date) or "expiry in the past"
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

        samesite = sc.samesite if sc.samesite in _SAMESITE_VALUES else None
        # positional: a named tuple's keyword call costs twice as much, and this runs per Set-Cookie
        cookie = StoredCookie(
            name, sc.value, domain, host_only, cookie_path, sc.secure, sc.httponly, samesite, expires_at,
            expires_at is not None, old.created_at if old is not None else at, transaction_id, at, sc.partitioned,
            sc, server_date,
        )  # fmt: skip
        if old is None:
            self._insert(key, cookie)
            self._enforce_limits(registrable_domain(domain), at)  # evicts others: the new key is the most recent
            return JarDecision(True, "stored", None, cookie, None, None)
        # A replacement holds as many cookies per site as before: no limit can be exceeded.
        if old.secure == cookie.secure:
            self._replace_value(key, cookie)
        else:  # a Secure flip changes retrieval answers: they are dropped
            self._remove(key)
            self._insert(key, cookie)
        return JarDecision(True, "replaced", None, cookie, old, None)

    def _reject(
        self,
        sc: SetCookie,
        reason: str,
        detail: str,
        at: float,
        transaction_id: str,
        domain: str | None,
        host_only: bool,
        cookie_path: str,
        previous: StoredCookie | None = None,
    ) -> JarDecision:
        self._record(
            JarRecord(
                "rejected", sc.name, at, transaction_id, domain, host_only, cookie_path, sc.secure,
                reason=reason, detail=detail,
            )
        )  # fmt: skip
        return JarDecision(False, "rejected", reason, None, previous, detail)

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
        scheme: str,
        host: str,
        path: str,
        at: float,
        site_for_cookies: str | None,
        top_level_navigation: bool,
        method: str,
    ) -> list[tuple[CookieKey, StoredCookie]]:
        """The (key, cookie) pairs to send, in order; possibly a kept answer: do not modify.

        Positional: it runs for every request, and keyword arguments cost more than its memo lookup.
        """
        if self._expiry and self._expiry[0][0] <= at:  # ``_purge_expired``'s test, without the call
            self._purge_expired(at)
        # Between two changes of the jar the answer depends on ``at`` only through "created after
        # ``at``" (expired cookies are purged above), so a request at or after every creation time
        # can reuse the answer for the same scheme, host and path. SameSite answers are not kept.
        memo_key = (scheme, host, path)
        cacheable = self._memoize and site_for_cookies is None and at >= self._newest
        by_paths_key = None
        if cacheable:
            hit = self._memo.get(memo_key)
            if hit is None:
                # The answer depends on the path only through the cookie paths it matches (expired
                # cookies are purged, later ones are older than ``at``): another path may have it.
                by_paths_key = (scheme, host, self._path_signature(host, path))
                hit = self._memo_by_paths.get(by_paths_key)
                if hit is not None:
                    self._keep(memo_key, by_paths_key, hit)
            if hit is not None and (hit.synced == self._generation or self._catch_up(hit)):
                return hit.found
        host = canonical_host(host)
        rpath = request_target_path(path)
        secure_ok = secure_origin(scheme, host)
        site = None if site_for_cookies is None else registrable_domain(site_host(site_for_cookies))
        out: list[tuple[CookieKey, StoredCookie]] = []
        cookies = self._cookies
        for key in self._candidate_keys(host):
            c = cookies[key]
            if c.created_at > at:
                continue  # not yet received when this request left (concurrent connections)
            # positional: this runs for every held cookie of every request the memo cannot answer
            if first_failed_rule(c, host, rpath, secure_ok, site, top_level_navigation, method, at) == PASS:
                out.append((key, c))
        # RFC 6265 §5.4 step 2: longer paths first, then earlier creation times first.
        if len(out) > 1:
            out.sort(key=_send_order)
        if cacheable:
            if by_paths_key is None:
                by_paths_key = (scheme, host, self._path_signature(host, path))
            self._keep(memo_key, by_paths_key, _Answer(out, self._generation))
        return out

    def _keep(
        self, memo_key: tuple[str, str, str], by_paths_key: tuple[str, str, tuple[bool, ...]], answer: _Answer
    ) -> None:
        if len(self._memo) >= 1024:
            # bounded: a client crawling many distinct paths between two changes
            self._memo.clear()
            self._memo_by_paths.clear()
        self._memo[memo_key] = answer
        self._memo_by_paths[by_paths_key] = answer

    def _path_signature(self, host: str, path: str) -> tuple[bool, ...]:
        """Which of the cookie paths that can go to ``host`` the request path matches (``/`` aside)."""
        paths = self._cookie_paths.get(host)
        if paths is None:
            cookies = self._cookies
            candidates = self._candidate_keys(canonical_host(host))
            paths = tuple(dict.fromkeys(p for key in candidates if (p := cookies[key].path) != "/"))
            self._cookie_paths[host] = paths
        if not paths:
            return ()  # only ``Path=/`` cookies: the same answer for every path of the host
        rpath = request_target_path(path)
        return tuple([path_match(rpath, cookie_path) for cookie_path in paths])

    def _catch_up(self, answer: _Answer) -> bool:
        """Patch the replacements since ``answer`` was last synced into it; False when too many.

        Only each replaced key's last replacement matters (the value now held, and its move to the end
        of its ties), so the log holds one generation per key and is read from its newest end.
        """
        pending: list[CookieKey] = []
        for key, generation in reversed(self._replaced.items()):
            if generation <= answer.synced:
                break
            if len(pending) == CATCH_UP_LIMIT:
                return False  # cheaper to answer from scratch (bounded work per request)
            pending.append(key)
        cookies = self._cookies
        for key in reversed(pending):
            patch_replaced(answer.found, key, cookies[key])
        if pending and answer.found is self._touched:
            self._touched = None  # reordered: marking its cookies used again may change the use order
        answer.synced = self._generation
        return True

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
        found = self._matching(scheme, host, path, at, site_for_cookies, top_level_navigation, method)
        return list(self._used(found))

    def held_for(self, scheme: str, host: str, path: str, at: float) -> list[StoredCookie]:
        """``cookies_for`` without a SameSite context, positionally (it runs for every request).

        A request answered as the one before gets the same list object: do not modify it.
        """
        return self._used(self._matching(scheme, host, path, at, None, False, "GET"))

    def _used(self, found: list[tuple[CookieKey, StoredCookie]]) -> list[StoredCookie]:
        """Mark ``found``'s cookies used (in order) and return them; ``_touched_cookies`` after all."""
        if found is not self._touched:  # marking the same cookies used in the same order again is a no-op
            # each cookie goes last in the jar's and its site's use order (what eviction reads); inline:
            # this runs for every request after any change to the jar
            lru_move = self._lru.move_to_end
            by_site = self._by_site
            for key, _ in found:
                lru_move(key)
                site_bucket = by_site.get(registrable_domain(key[1]))
                if site_bucket is not None and key in site_bucket:
                    site_bucket.move_to_end(key)
            self._touched = found
            self._touched_cookies = [c for _, c in found]
        return self._touched_cookies

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
        for _, c in self._matching(scheme, host, path, at, site_for_cookies, top_level_navigation, method):
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
