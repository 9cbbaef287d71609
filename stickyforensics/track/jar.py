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

The scope rules themselves (domain / path match, public suffixes, secure
origins) are in ``stickyforensics.track.cookiescope``; the public ones are
re-exported here.

Times are the capture's epoch seconds; nothing here reads a clock. Details are
written with UTC wall-clock times.
"""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Literal

from stickyforensics.model import MissingReason, SetCookie
from stickyforensics.track.cookieparse import NAME_VALUE_LIMIT, octets
from stickyforensics.track.cookiescope import (
    candidate_domains,
    canonical_host,
    default_path,
    domain_match,
    host_matches,
    is_public_suffix,
    path_match,
    registrable_domain,
    request_target_path,
    resolve_domain,
    scope_overlaps,
    secure_origin,
    site_host,
)

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

MAX_LIFETIME = 400 * 86400
"""rfc6265bis §5.5: Expires / Max-Age are capped at 400 days."""
LAX_ALLOW_UNSAFE_WINDOW = 120.0
"""Chrome's "Lax+POST": a cookie without SameSite stays sent on cross-site top-level POSTs for 2 minutes."""
HISTORY_PER_NAME = 8
HISTORY_NAMES = 4096

Action = Literal["stored", "replaced", "deleted", "rejected", "ignored_delete"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class StoredCookie:
    """A cookie the client holds."""

    name: str
    value: str
    domain: str
    """The host (host-only cookie) or the Domain attribute (lower-case, no leading dot)."""
    host_only: bool
    path: str
    secure: bool
    httponly: bool
    samesite: str | None
    """``Strict``, ``Lax``, ``None``; None when absent or unknown (browsers' "default" enforcement)."""
    expires_at: float | None
    """Capture-clock expiry; None for a session cookie."""
    persistent: bool
    created_at: float
    """Kept across replacements (RFC 6265 §5.3 step 11.3): orders cookies of equal path length."""
    set_by: str
    """Transaction id of the last Set-Cookie that stored or replaced it."""
    set_at: float
    expiry_source: str | None = None
    """How ``expires_at`` was derived, for humans: ``Max-Age=120``, ``Expires=... (server Date ...)``."""
    partitioned: bool = False


@dataclass(frozen=True, slots=True)
class JarDecision:
    """What the jar did with one Set-Cookie."""

    accepted: bool
    action: Action
    reason: str | None = None
    """Stable snake_case rule name when rejected (``samesite_none_without_secure``...)."""
    cookie: StoredCookie | None = None
    """The cookie now held (stored / replaced)."""
    previous: StoredCookie | None = None
    """The cookie replaced or deleted, or the one that blocked an overwrite."""
    detail: str | None = None
    """One human sentence on the decision."""


@dataclass(frozen=True, slots=True)
class JarRecord:
    """A past event of one cookie name: why it may be gone although it was once set."""

    kind: Literal["expired", "deleted", "evicted", "rejected"]
    name: str
    at: float
    transaction_id: str | None
    domain: str | None
    """Scope snapshot: None when unknown (a rejected cookie whose Domain was invalid)."""
    host_only: bool
    path: str | None
    secure: bool
    reason: str | None = None
    """The rejection rule, for ``rejected``."""
    first_seen: float | None = None
    """When the jar first learned of this cookie (its creation time); None means ``at``."""
    detail: str = ""
    """What happened, without the time: ``Max-Age=120 set at 11:58:03``, ``Max-Age=0, transaction 0.3.0``."""

    def describe(self, ref: float) -> str:
        """One sentence for a human, times as UTC clock (with the date when not the day of ``ref``)."""
        when = _clock(self.at, ref)
        if self.kind == "expired":
            return f"expired at {when}" + (f" ({self.detail})" if self.detail else "")
        if self.kind == "deleted":
            return f"deleted by the server at {when} ({self.detail})"
        if self.kind == "evicted":
            return f"evicted by the client at {when}: {self.detail}"
        return f"rejected when set: {self.reason} at {when} ({self.detail})"


# --------------------------------------------------------------------------- time


def _clock(t: float, ref: float) -> str:
    """UTC ``HH:MM:SS``, with the date when it is not the day of ``ref``."""
    try:
        tm = time.gmtime(t)
        same_day = time.gmtime(ref)[:3] == tm[:3]
        return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", tm)
    except (OverflowError, OSError, ValueError):
        return f"{t:.0f}"


# --------------------------------------------------------------------------- the jar

_Key = tuple[str, str, bool, str]
"""(name, domain, host_only, path): a cookie's identity (rfc6265bis §5.7 step 22)."""

# explain_missing ranks a candidate by the first check it fails: the later the
# failure, the closer the cookie came to being sent, the better the explanation.
_FAIL_DOMAIN, _FAIL_PATH, _FAIL_SECURE, _FAIL_LIFECYCLE, _FAIL_SAMESITE, _PASS = range(6)


def _patch_replaced(found: list[tuple[_Key, StoredCookie]], key: _Key, cookie: StoredCookie) -> None:
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


class CookieJar:
    """One client's cookies. Not thread-safe; feed it in capture order."""

    def __init__(self, *, max_cookies: int = 3000, max_per_site: int = 180) -> None:
        self.max_cookies = max(1, max_cookies)
        self.max_per_site = max(1, max_per_site)
        self._cookies: dict[_Key, StoredCookie] = {}
        self._by_domain: dict[str, dict[_Key, None]] = {}
        self._by_name: dict[str, dict[_Key, None]] = {}
        self._by_site: dict[str, OrderedDict[_Key, None]] = {}
        self._lru: OrderedDict[_Key, None] = OrderedDict()
        self._expiry: list[tuple[float, int, _Key]] = []
        self._seq = 0
        self._history: OrderedDict[str, deque[JarRecord]] = OrderedDict()
        self._newest = float("-inf")
        """Latest creation time of any cookie ever stored (monotone): requests at or after it see them all."""
        self._memo: dict[tuple[str, str, str], list[tuple[_Key, StoredCookie]]] = {}
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

    def _insert(self, key: _Key, cookie: StoredCookie) -> None:
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

    def _remove(self, key: _Key) -> StoredCookie | None:
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

    def _touch(self, key: _Key) -> None:
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
                f"{cookie.expiry_source} set at {_clock(cookie.set_at, expires_at)}" if cookie.expiry_source else ""
            )
            self._record(
                JarRecord(
                    "expired", cookie.name, expires_at, cookie.set_by, cookie.domain, cookie.host_only,
                    cookie.path, cookie.secure, first_seen=cookie.created_at, detail=source,
                )
            )  # fmt: skip

    def _evict(self, key: _Key, at: float, why: str) -> None:
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

        if "control_characters" in sc.problems:
            return reject("control_characters", "control characters in the name or value")
        if not name and not sc.value:
            return reject("empty_cookie", "both name and value are empty")
        size = octets(name) + octets(sc.value)
        if size > NAME_VALUE_LIMIT:
            return reject("too_large", f"name and value are {size} bytes, over {NAME_VALUE_LIMIT}")
        if domain_problem is not None or domain is None:
            return reject(*(domain_problem or ("domain_mismatch", "no usable domain")))
        if sc.secure and not secure_ok:
            return reject("secure_from_insecure_origin", f"Secure cookie set over {scheme}://{host}")
        if sc.samesite == "None" and not sc.secure:
            return reject("samesite_none_without_secure", "SameSite=None requires Secure")
        if sc.partitioned and not sc.secure:
            return reject("partitioned_not_secure", "Partitioned requires Secure")
        prefix_check = name if name else sc.value
        lower = prefix_check[:9].lower()
        if not name and lower.startswith(("__secure-", "__host-")):
            return reject("prefix_on_nameless_cookie", "a nameless cookie whose value looks like a prefixed name")
        if lower == "__secure-" and not (sc.secure and secure_ok):
            return reject("secure_prefix_not_secure", "__Secure- needs Secure from a secure origin")
        if lower.startswith("__host-"):
            if not (sc.secure and secure_ok):
                return reject("host_prefix_not_secure", "__Host- needs Secure from a secure origin")
            if sc.domain is not None:
                return reject("host_prefix_with_domain", "__Host- forbids a Domain attribute")
            if sc.path != "/":
                return reject("host_prefix_path_not_root", "__Host- needs Path=/")

        key: _Key = (name, domain, host_only, cookie_path)
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

        # Expiry (rfc6265bis §5.6.1-2, §5.7 step 14): Max-Age wins over Expires; both capped at 400 days.
        expires_at: float | None = None
        source: str | None = None
        if sc.max_age is not None:
            expires_at = at + min(sc.max_age, MAX_LIFETIME) if sc.max_age > 0 else float("-inf")
            source = f"Max-Age={sc.max_age}"
        elif sc.expires is not None:
            base = server_date if server_date is not None else at
            lifetime = min(sc.expires - base, MAX_LIFETIME)
            expires_at = at + lifetime
            source = "Expires"
            if -1e11 < sc.expires < 1e11:
                source += "=" + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sc.expires))
            if server_date is not None:
                source += f" relative to server Date {_clock(server_date, sc.expires)}"

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
                _patch_replaced(found, key, cookie)
            self._memo = keep
        if old is not None:
            return JarDecision(True, "replaced", None, cookie, old, None)
        return JarDecision(True, "stored", None, cookie, None, None)

    # ----------------------------------------------------------------- retrieval

    def _check(
        self,
        c: StoredCookie,
        *,
        host: str,
        path: str,
        secure_ok: bool,
        site: str | None,
        top_level_navigation: bool,
        method: str,
        at: float,
    ) -> int:
        """Index of the first retrieval rule ``c`` fails (``_PASS`` when it is to be sent)."""
        if not host_matches(host, c.domain, c.host_only):
            return _FAIL_DOMAIN
        if not path_match(path, c.path):
            return _FAIL_PATH
        if c.secure and not secure_ok:
            return _FAIL_SECURE
        if c.expires_at is not None and c.expires_at <= at:
            return _FAIL_LIFECYCLE
        if site is not None and c.samesite != "None" and registrable_domain(host) != site:
            # Cross-site request (rfc6265bis §5.8.3). Strict: never. Lax (and no attribute,
            # which Chrome enforces as Lax): only top-level navigations with a safe method,
            # plus Chrome's 2-minute Lax+POST allowance for cookies without SameSite.
            if c.samesite == "Strict" or not top_level_navigation:
                return _FAIL_SAMESITE
            if method.upper() not in _SAFE_METHODS and not (
                c.samesite is None and at - c.created_at <= LAX_ALLOW_UNSAFE_WINDOW
            ):
                return _FAIL_SAMESITE
        return _PASS

    def _candidate_keys(self, host: str) -> list[_Key]:
        """Keys of cookies whose domain is the host or one of its parent domains."""
        keys: list[_Key] = []
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
    ) -> list[tuple[_Key, StoredCookie]]:
        self._purge_expired(at)
        # Between two changes of the jar the answer depends on ``at`` only through "created after
        # ``at``" (expired cookies are purged above), so a request at or after every creation time
        # can reuse the answer for the same scheme, host and path. SameSite answers are not kept.
        memo_key = (scheme, host, path)
        cacheable = site_for_cookies is None and at >= self._newest
        if cacheable:
            hit = self._memo.get(memo_key)
            if hit is not None:
                return list(hit)
        host = canonical_host(host)
        rpath = request_target_path(path)
        secure_ok = secure_origin(scheme, host)
        site = None if site_for_cookies is None else registrable_domain(site_host(site_for_cookies))
        out: list[tuple[_Key, StoredCookie]] = []
        for key in self._candidate_keys(host):
            c = self._cookies[key]
            if c.created_at > at:
                continue  # not yet received when this request left (concurrent connections)
            verdict = self._check(
                c, host=host, path=rpath, secure_ok=secure_ok, site=site,
                top_level_navigation=top_level_navigation, method=method, at=at,
            )  # fmt: skip
            if verdict == _PASS:
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

        best: tuple[int, float] | None = None
        answer: tuple[MissingReason, str] | None = None
        later: list[float] = []
        for c in held:
            if c.created_at > at:
                later.append(c.created_at)
                continue
            verdict = self._check(
                c, host=host, path=rpath, secure_ok=secure_ok, site=site,
                top_level_navigation=top_level_navigation, method=method, at=at,
            )  # fmt: skip
            rank = (verdict, c.set_at)
            if best is None or rank > best:
                best, answer = rank, self._held_reason(verdict, c, scheme, host, rpath, site_for_cookies, at)
        for rec in records:
            first_seen = rec.at if rec.first_seen is None else min(rec.first_seen, rec.at)
            if first_seen > at:
                later.append(first_seen)
                continue
            verdict = self._record_scope(rec, host, rpath, secure_ok)
            rank = (verdict, rec.at)
            if best is None or rank > best:
                best = rank
                if verdict == _FAIL_LIFECYCLE:
                    answer = self._record_reason(rec, at)
                else:
                    reason, text = self._scope_reason(
                        verdict, rec.domain or host, rec.host_only, rec.path or "/", scheme, host, rpath
                    )
                    answer = (reason, f"{text}; it was {rec.kind} at {_clock(rec.at, at)}")
        if answer is None:
            first = min(later)
            return (
                MissingReason.NEVER_SET,
                f"not set yet: first seen at {_clock(first, at)}, after this request at {_clock(at, at)}",
            )
        return answer

    @staticmethod
    def _record_scope(rec: JarRecord, host: str, rpath: str, secure_ok: bool) -> int:
        """How far a past cookie's scope matches this request (unknown parts match)."""
        if rec.domain is not None and not host_matches(host, rec.domain, rec.host_only):
            return _FAIL_DOMAIN
        if rec.path is not None and not path_match(rpath, rec.path):
            return _FAIL_PATH
        if rec.secure and not secure_ok and rec.kind != "rejected":
            return _FAIL_SECURE
        return _FAIL_LIFECYCLE

    @staticmethod
    def _record_reason(rec: JarRecord, at: float) -> tuple[MissingReason, str]:
        detail = rec.describe(at)
        if rec.kind == "expired":
            return MissingReason.EXPIRED, detail
        if rec.kind == "rejected":
            return MissingReason.REJECTED, detail
        return MissingReason.DELETED, detail

    @staticmethod
    def _scope_reason(
        verdict: int, domain: str, host_only: bool, cpath: str, scheme: str, host: str, rpath: str
    ) -> tuple[MissingReason, str]:
        if verdict == _FAIL_DOMAIN:
            if host_only:
                return MissingReason.OUT_OF_DOMAIN, f"host-only cookie for {domain}, request to {host}"
            return MissingReason.OUT_OF_DOMAIN, f"cookie for {domain} and its subdomains, request to {host}"
        if verdict == _FAIL_PATH:
            return MissingReason.OUT_OF_PATH, f"cookie path {cpath} does not match {rpath}"
        return MissingReason.SECURE_OVER_HTTP, f"Secure cookie is not sent over {scheme}://{host}"

    def _held_reason(
        self,
        verdict: int,
        c: StoredCookie,
        scheme: str,
        host: str,
        rpath: str,
        site_for_cookies: str | None,
        at: float,
    ) -> tuple[MissingReason, str]:
        if verdict == _PASS:
            return (
                MissingReason.CLIENT_DROPPED,
                f"held and in scope (set at {_clock(c.set_at, at)} by {c.set_by}; domain, path, secure, expiry "
                "all match) but not sent",
            )
        if verdict == _FAIL_SAMESITE:
            mode = c.samesite or "Lax (default)"
            return (
                MissingReason.SAMESITE,
                f"SameSite={mode} cookie is not sent on a cross-site request to {host} from {site_for_cookies}",
            )
        if verdict == _FAIL_LIFECYCLE:  # not reachable after a purge; kept for a non-monotonic clock
            source = f" ({c.expiry_source} set at {_clock(c.set_at, at)})" if c.expiry_source else ""
            return MissingReason.EXPIRED, f"expired at {_clock(c.expires_at or at, at)}{source}"
        return self._scope_reason(verdict, c.domain, c.host_only, c.path, scheme, host, rpath)
