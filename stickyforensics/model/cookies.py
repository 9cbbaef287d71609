"""Cookies as seen on the wire, what load-balancer cookies reveal, and cookie-state changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class CookiePair:
    """One ``name=value`` item of a request ``Cookie`` header."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class SetCookie:
    """One ``Set-Cookie`` header line, parsed permissively (RFC 6265 §5.2)."""

    name: str
    value: str
    raw: str
    """The whole header value as received."""
    attributes: tuple[tuple[str, str | None], ...] = ()
    """Every attribute in order, raw name casing, value None for flags."""
    domain: str | None = None
    """Domain attribute, lower-cased, leading dot removed; None when absent."""
    path: str | None = None
    """Path attribute when it starts with ``/``; None otherwise."""
    expires: float | None = None
    """Expires attribute as epoch seconds, when it parsed."""
    max_age: int | None = None
    """Max-Age attribute in seconds (may be <= 0: deletion)."""
    secure: bool = False
    httponly: bool = False
    samesite: str | None = None
    """``Strict``, ``Lax``, ``None`` or the raw unknown value."""
    partitioned: bool = False
    problems: tuple[str, ...] = ()
    """Parse oddities (``empty_name``, ``bad_expires``, ...)."""


class CookieRole(StrEnum):
    """What a cookie is for."""

    ROUTING = "routing"
    """A load-balancer / proxy persistence cookie (routes the request)."""
    SESSION = "session"
    """An application session cookie (holds server-side state)."""
    WAF = "waf"
    """WAF / bot / CDN cookie, not routing."""
    OTHER = "other"


class ChangeMeaning(StrEnum):
    """What a change of this cookie's value means."""

    BACKEND_CHANGE = "backend_change"
    """A new value names another backend (decodable, or opaque-but-stable per backend)."""
    ROTATES = "rotates"
    """The value changes on every response (AWSALB): a change is not a flip."""
    SESSION_RENEWED = "session_renewed"
    """A new application session (re-login, session fixation protection)."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PersistenceInfo:
    """What a cookie reveals: its family and, where decodable, the backend it routes to."""

    family: str
    """Catalog family id, e.g. ``citrix-netscaler``, ``f5-bigip``, ``haproxy``, ``unknown``."""
    vendor: str
    role: CookieRole
    status: str
    """``decoded``, ``opaque`` (tracked by equality), ``encrypted``, or ``unknown`` (malformed)."""
    backend: str | None = None
    """A stable backend key: ``ip:port``, a server label / route, or None when not derivable."""
    datacenter: str | None = None
    """Datacenter / LB-tier / origin label where the cookie reveals it."""
    change_meaning: ChangeMeaning = ChangeMeaning.UNKNOWN
    decoded: tuple[tuple[str, str], ...] = ()
    """Decoded fields as (name, text) pairs, for display (vserver, pool, route domain, dates...)."""
    discloses_internal_address: bool = False
    """True when the value decodes to a private / internal IP address."""
    confidence: str = "high"
    """``high``, ``medium`` or ``low`` (observed-hypothesis layouts are ``medium``)."""
    note: str | None = None


class MissingReason(StrEnum):
    """Why a cookie the client held was not sent on a request."""

    NEVER_SET = "never_set"
    REJECTED = "rejected"
    EXPIRED = "expired"
    OUT_OF_PATH = "out_of_path"
    OUT_OF_DOMAIN = "out_of_domain"
    SECURE_OVER_HTTP = "secure_over_http"
    SAMESITE = "samesite"
    DELETED = "deleted"
    CLIENT_DROPPED = "client_dropped"
    """The jar says it should have been sent and no rule explains the omission: a client bug."""


class CookieEventKind(StrEnum):
    SET = "set"
    """A ``Set-Cookie`` was accepted into the jar."""
    REJECTED = "rejected"
    """A ``Set-Cookie`` the client must ignore (reason in ``reason``)."""
    DELETED = "deleted"
    """A ``Set-Cookie`` that deletes (Max-Age<=0 / past Expires)."""
    SENT = "sent"
    """The request carried the held value."""
    MISSING = "missing"
    """The jar says it should have been sent; it was not (reason in ``reason``)."""
    CHANGED = "changed"
    """The server replaced a held value with a different one."""
    UNEXPECTED = "unexpected"
    """The request carried a value the jar does not hold (another value, or never set in view)."""
    EXPIRED = "expired"
    """The held cookie reached its expiry time."""


@dataclass(frozen=True, slots=True)
class CookieEvent:
    """A change or decision in one client's cookie state, tied to a transaction."""

    kind: CookieEventKind
    name: str
    transaction_id: str
    at: float
    value: str | None = None
    """The value involved (sent, set, or new value for ``changed``); raw, redact when rendering."""
    previous: str | None = None
    """The value held before, for ``changed`` / ``unexpected``."""
    reason: str | None = None
    """A ``MissingReason`` value or a rejection rule (``samesite_none_without_secure``...)."""
    detail: str | None = None
    persistence: PersistenceInfo | None = None
    domain: str | None = None
    path: str | None = None
    attributes: tuple[str, ...] = field(default=())
    """Short attribute summary (``Secure``, ``HttpOnly``, ``Path=/``...)."""
