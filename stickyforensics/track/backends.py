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
from stickyforensics.model import BackendObservation, CookiePair, CookieRole, PersistenceInfo, SetCookie, Transaction
from stickyforensics.track.capture_facts import decide_facts
from stickyforensics.track.cookieparse import request_cookies, response_set_cookies

Identify = Callable[[str, str], PersistenceInfo | None]


@lru_cache(maxsize=64)
def _ranks(names: tuple[str, ...]) -> dict[str, int]:
    """Lower-case header name -> priority (first listed wins), built once per configured list."""
    wanted: dict[str, int] = {}
    for i, n in enumerate(names):
        wanted[n.lower()] = i  # as before: a name listed twice keeps its last position
    return wanted


def _header_facts(
    tx: Transaction, backend_names: Sequence[str], datacenter_names: Sequence[str]
) -> tuple[tuple[str, str] | None, str | None]:
    """(backend header value and name, datacenter) from one pass over the response headers.

    The backend is the first of ``backend_names`` (in their priority order) with a non-blank value,
    cut to 200 characters; the datacenter the first of ``datacenter_names`` (cut to 100), else the
    PoP code of the first ``CF-Ray`` header.
    """
    if tx.response is None:
        return None, None
    b_names = tuple(backend_names)
    d_names = tuple(datacenter_names)
    b_wanted = _ranks(b_names)
    d_wanted = _ranks(d_names)
    best_b: tuple[int, str] | None = None
    best_d: tuple[int, str] | None = None
    ray: str | None = None
    for key, value in tx.response.headers.items:
        lkey = key.lower()
        b_rank = b_wanted.get(lkey)
        d_rank = d_wanted.get(lkey)
        if b_rank is not None and (best_b is None or b_rank < best_b[0]) and value.strip():
            best_b = (b_rank, value.strip())
        if d_rank is not None and (best_d is None or d_rank < best_d[0]) and value.strip():
            best_d = (d_rank, value.strip())
        if ray is None and lkey == "cf-ray":
            ray = value
    backend = (best_b[1][:200], b_names[best_b[0]]) if best_b is not None else None
    if best_d is not None:
        return backend, best_d[1][:100]
    if ray and "-" in ray:
        return backend, "cloudflare-" + ray.rsplit("-", 1)[1].strip()[:8]  # the colo (PoP) code ends the ray id
    return backend, None


def _body_backend(tx: Transaction, patterns: Sequence[str]) -> str | None:
    if tx.response is None or not tx.response.body.prefix or not patterns:
        return None
    text = tx.response.body.prefix.decode("utf-8", "replace")
    for pattern in patterns:
        match = re.search(pattern, text)
        if match:
            try:
                return match.group("backend")[:200]
            except IndexError:
                return match.group(0)[:200]
    return None


def observe_backend(
    tx: Transaction,
    identify: Identify,
    config: Config,
    *,
    multi_address_hosts: frozenset[str],
    cookies: tuple[tuple[CookiePair, ...], tuple[SetCookie, ...]] | None = None,
) -> BackendObservation:
    """The backend observation for one transaction (backend None when nothing tells)."""
    at = tx.timing.started
    header, datacenter = _header_facts(tx, config.backend_headers, config.datacenter_headers)
    if header is not None:
        return BackendObservation(tx.id, at, header[0], datacenter, f"header:{header[1]}", "high")
    body = _body_backend(tx, config.backend_body_patterns)
    if body is not None:
        return BackendObservation(tx.id, at, body, datacenter, "body-marker", "high")
    if cookies is None:
        pairs = request_cookies(tx.request.headers)
        sets = response_set_cookies(tx.response.headers) if tx.response is not None else ()
    else:
        pairs, sets = cookies
    if tx.response is not None:
        for sc in sets:
            info = identify(sc.name, sc.value)
            if info is None or info.role is not CookieRole.ROUTING or info.backend is None:
                continue
            if info.status == "decoded":
                return BackendObservation(
                    tx.id, at, info.backend, datacenter or info.datacenter, f"set-cookie:{sc.name}", "high"
                )
            if info.status in ("opaque", "encrypted"):
                # stable per backend but not readable: name it by a short digest, never by the value itself
                label = f"{sc.name}#{hashlib.sha256(info.backend.encode()).hexdigest()[:8]}"
                return BackendObservation(
                    tx.id, at, label, datacenter or info.datacenter, f"set-cookie:{sc.name}", "medium"
                )
    if tx.server is not None and tx.request.host in multi_address_hosts:
        return BackendObservation(tx.id, at, str(tx.server), datacenter, "server-address", "medium")
    for pair in pairs:
        info = identify(pair.name, pair.value)
        if (
            info is not None
            and info.role is CookieRole.ROUTING
            and info.backend is not None
            and info.status == "decoded"
        ):
            return BackendObservation(
                tx.id, at, info.backend, datacenter or info.datacenter, f"cookie:{pair.name}", "low"
            )
    return BackendObservation(tx.id, at, None, datacenter, "none", "low")


def hosts_with_several_addresses(transactions: Sequence[Transaction]) -> frozenset[str]:
    """Hosts served from more than one server address in the capture (backend-side captures)."""
    return decide_facts(transactions).multi_address_hosts
