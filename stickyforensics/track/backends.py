"""Which backend served a transaction, and how sure we are.

Sources, strongest first:
1. a backend-identifying response header (``X-Backend``, ``X-Served-By``... configurable);
2. a routing cookie the response sets that decodes to a backend (the LB says where it sent us);
3. the server address of the capture, when one host is served from several addresses;
4. the routing cookie the client sent (only what was *asked* for, so low confidence).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from stickyforensics.config import Config
from stickyforensics.model import (
    BackendObservation,
    CookiePair,
    Endpoint,
    PersistenceInfo,
    SetCookie,
    Transaction,
)
from stickyforensics.model.frozen_build import builder
from stickyforensics.track.body_prefix import literal_start
from stickyforensics.track.capture_facts import decide_facts
from stickyforensics.track.cookieparse import request_cookies, response_set_cookies
from stickyforensics.track.enum_members import ROUTING
from stickyforensics.track.memo import IdentityMemo

Identify = Callable[[str, str], PersistenceInfo | None]

_new_observation = builder(BackendObservation)
"""``BackendObservation`` from every field, positionally: cheaper than its ``__init__`` (one per transaction)."""


@lru_cache(maxsize=64)
def _ranks(names: tuple[str, ...]) -> dict[str, int]:
    """Lower-case header name -> priority (first listed wins), built once per configured list."""
    wanted: dict[str, int] = {}
    for i, n in enumerate(names):
        wanted[n.lower()] = i  # as before: a name listed twice keeps its last position
    return wanted


HeaderRole = tuple[int | None, int | None, bool] | None
"""(backend rank, datacenter rank, is ``CF-Ray``) of a header name; None for a header that tells nothing."""


class _HeaderRoles(dict[str, HeaderRole]):
    """Raw header name -> its ``HeaderRole`` under one configuration, filled as names are met.

    Responses repeat a few spellings of a few names: looking the raw name up spares lower-casing
    every header of every response. Bounded: a capture of random header names empties it.
    """

    def __init__(self, backend_names: tuple[str, ...], datacenter_names: tuple[str, ...]) -> None:
        super().__init__()
        self._backend = _ranks(backend_names)
        self._datacenter = _ranks(datacenter_names)

    def __missing__(self, key: str) -> HeaderRole:
        if len(self) >= 4096:
            self.clear()
        lkey = key.lower()
        b_rank, d_rank, ray = self._backend.get(lkey), self._datacenter.get(lkey), lkey == "cf-ray"
        role = None if b_rank is None and d_rank is None and not ray else (b_rank, d_rank, ray)
        self[key] = role
        return role


@lru_cache(maxsize=64)
def _header_roles(backend_names: tuple[str, ...], datacenter_names: tuple[str, ...]) -> _HeaderRoles:
    return _HeaderRoles(backend_names, datacenter_names)


def _header_facts(
    tx: Transaction, b_names: tuple[str, ...], roles: _HeaderRoles
) -> tuple[tuple[str, str] | None, str | None]:
    """(backend header value and name, datacenter) from one pass over the response headers.

    The backend is the first of ``b_names`` (the configured backend headers, in their priority order)
    with a non-blank value, cut to 200 characters; the datacenter the first configured datacenter
    header (cut to 100), else the PoP code of the first ``CF-Ray`` header. ``roles``: ``_header_roles``.
    """
    if tx.response is None:
        return None, None
    best_b: tuple[int, str] | None = None
    best_d: tuple[int, str] | None = None
    ray: str | None = None
    for key, value in tx.response.headers.items:
        role = roles[key]
        if role is None:
            continue
        b_rank, d_rank, is_ray = role
        if b_rank is not None and (best_b is None or b_rank < best_b[0]) and value.strip():
            best_b = (b_rank, value.strip())
        if d_rank is not None and (best_d is None or d_rank < best_d[0]) and value.strip():
            best_d = (d_rank, value.strip())
        if ray is None and is_ray:
            ray = value
    backend = (best_b[1][:200], b_names[best_b[0]]) if best_b is not None else None
    if best_d is not None:
        return backend, best_d[1][:100]
    if ray and "-" in ray:
        return backend, "cloudflare-" + ray.rsplit("-", 1)[1].strip()[:8]  # the colo (PoP) code ends the ray id
    return backend, None


BodyPattern = tuple[re.Pattern[str], bytes | None]
"""A backend body pattern and the ASCII text every match of it starts with, when it has one."""


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[BodyPattern, ...]:
    return tuple((compiled, _required_start(compiled)) for compiled in map(re.compile, patterns))


def _required_start(pattern: re.Pattern[str]) -> bytes | None:
    """The literal start of ``pattern`` as bytes when every match begins with it, else None.

    ASCII characters of a decoded body are its ASCII bytes, in the same runs (UTF-8 decoding never
    joins an ASCII byte to others): a body whose bytes lack that start has no match, undecoded.
    """
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    literal = literal_start(pattern.pattern)
    return literal.encode() if literal is not None else None


@lru_cache(maxsize=1024)
def _source(kind: str, name: str) -> str:
    """``kind:name``: one string shared by every observation from that header or cookie name."""
    return f"{kind}:{name}"


@lru_cache(maxsize=1024)
def _address(server: Endpoint) -> str:
    """The server address as a backend key, shared by every observation of that address."""
    return str(server)


@lru_cache(maxsize=1024)
def _opaque_label(name: str, backend: str) -> str:
    """An opaque routing cookie's backend, named by a short digest, never by the value itself."""
    return f"{name}#{hashlib.sha256(backend.encode()).hexdigest()[:8]}"


def _body_backend(tx: Transaction, patterns: tuple[BodyPattern, ...]) -> str | None:
    if not patterns or tx.response is None:
        return None
    prefix = tx.response.body.prefix
    if not prefix:
        return None
    text: str | None = None
    for pattern, required in patterns:
        if required is not None and required not in prefix:
            continue  # no match can start here (most bodies name no backend): not even decoded
        if text is None:
            text = prefix.decode("utf-8", "replace")
        match = pattern.search(text)
        if match:
            try:
                return match.group("backend")[:200]
            except IndexError:
                return match.group(0)[:200]
    return None


SentRoute = tuple[str, str | None, str] | None
"""(backend, datacenter, cookie name) of the first sent cookie that decodes to a backend, or None."""


def _sent_route(pairs: tuple[CookiePair, ...], identify: Identify) -> SentRoute:
    for pair in pairs:
        info = identify(pair.name, pair.value)
        if info is not None and info.role is ROUTING and info.backend is not None and info.status == "decoded":
            return info.backend, info.datacenter, pair.name
    return None


def observe_backend(
    tx: Transaction,
    identify: Identify,
    config: Config,
    *,
    multi_address_hosts: frozenset[str],
    cookies: tuple[tuple[CookiePair, ...], tuple[SetCookie, ...]] | None = None,
) -> BackendObservation:
    """The backend observation for one transaction (backend None when nothing tells).

    ``cookies``: the transaction's ``timeline.tx_cookies`` when the caller has them. For many
    transactions, a ``BackendObserver`` prepares the configuration once.
    """
    return BackendObserver(identify, config, multi_address_hosts).observe(tx, cookies)


class BackendObserver:
    """``observe_backend`` for the transactions of one analysis: the configured header names and body
    patterns prepared once, and each Cookie header's ``SentRoute`` remembered."""

    def __init__(self, identify: Identify, config: Config, multi_address_hosts: frozenset[str]) -> None:
        self.identify = identify
        self.multi_address_hosts = multi_address_hosts
        self._backend_names = tuple(config.backend_headers)
        self._roles = _header_roles(self._backend_names, tuple(config.datacenter_headers))
        self._patterns = _compiled(tuple(config.backend_body_patterns))
        self._routes: IdentityMemo[tuple[CookiePair, ...], SentRoute] = IdentityMemo(4096)
        """``SentRoute`` per parsed Cookie header (``parse_cookie_header`` shares them): a client sends
        the same header again and again."""

    def observe(
        self, tx: Transaction, cookies: tuple[tuple[CookiePair, ...], tuple[SetCookie, ...]] | None = None
    ) -> BackendObservation:
        """The backend observation for one transaction (``observe_backend``)."""
        identify = self.identify
        at = tx.timing.started
        header, datacenter = _header_facts(tx, self._backend_names, self._roles)
        if header is not None:
            return _new_observation(tx.id, at, header[0], datacenter, _source("header", header[1]), "high")
        body = _body_backend(tx, self._patterns)
        if body is not None:
            return _new_observation(tx.id, at, body, datacenter, "body-marker", "high")
        if cookies is None:
            pairs = request_cookies(tx.request.headers)
            sets = response_set_cookies(tx.response.headers) if tx.response is not None else ()
        else:
            pairs, sets = cookies
        if tx.response is not None:
            for sc in sets:
                info = identify(sc.name, sc.value)
                if info is None or info.role is not ROUTING or info.backend is None:
                    continue
                if info.status == "decoded":
                    source = _source("set-cookie", sc.name)
                    return _new_observation(tx.id, at, info.backend, datacenter or info.datacenter, source, "high")
                if info.status in ("opaque", "encrypted"):
                    # stable per backend but not readable: name it by a short digest, never by the value itself
                    label = _opaque_label(sc.name, info.backend)
                    source = _source("set-cookie", sc.name)
                    return _new_observation(tx.id, at, label, datacenter or info.datacenter, source, "medium")
        if tx.server is not None and tx.request.host in self.multi_address_hosts:
            return _new_observation(tx.id, at, _address(tx.server), datacenter, "server-address", "medium")
        route = self._sent_route(pairs)
        if route is not None:
            backend, route_datacenter, name = route
            source = _source("cookie", name)
            return _new_observation(tx.id, at, backend, datacenter or route_datacenter, source, "low")
        return _new_observation(tx.id, at, None, datacenter, "none", "low")

    def _sent_route(self, pairs: tuple[CookiePair, ...]) -> SentRoute:
        known = self._routes.entry(pairs)
        if known is not None:
            return known[1]
        return self._routes.remember(pairs, _sent_route(pairs, self.identify))


def hosts_with_several_addresses(transactions: Sequence[Transaction]) -> frozenset[str]:
    """Hosts served from more than one server address in the capture (backend-side captures)."""
    return decide_facts(transactions).multi_address_hosts
