"""What the cookie jar holds and remembers: stored cookies, storage decisions and past events.

These immutable records are the jar's vocabulary (``stickyforensics.track.jar``); the storage rules
(``jar_storage``), retrieval rules (``jar_retrieval``) and explanations (``jar_explain``) all speak
it. Times are the capture's epoch seconds, written for humans as UTC wall-clock times.

They are named tuples, not frozen dataclasses: the jar builds a cookie and a decision for every
``Set-Cookie`` of a capture, and a frozen dataclass pays one ``object.__setattr__`` per field (about
4 µs for a cookie, 6x a named tuple).
"""

from __future__ import annotations

import time
from typing import Literal, NamedTuple

from stickyforensics.model import SetCookie

__all__ = ["Action", "CookieKey", "JarDecision", "JarRecord", "StoredCookie", "expiry_text", "utc_clock"]

Action = Literal["stored", "replaced", "deleted", "rejected", "ignored_delete"]

CookieKey = tuple[str, str, bool, str]
"""(name, domain, host_only, path): a cookie's identity (rfc6265bis §5.7 step 22)."""


class StoredCookie(NamedTuple):
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
    partitioned: bool = False
    origin: SetCookie | None = None
    """The ``Set-Cookie`` it was last stored from: its lifetime attributes, for ``expiry_source``."""
    server_date: float | None = None
    """The ``Date`` of the response that set it, when known."""

    @property
    def expiry_source(self) -> str | None:
        """How ``expires_at`` was derived, for humans: ``Max-Age=120``, ``Expires=... relative to server Date ...``.

        Written on demand (when a cookie expires or is explained): most stored cookies are replaced
        long before anyone reads it, and formatting dates for each of them was a tenth of tracking.
        """
        if self.origin is None:
            return None
        return expiry_text(self.origin, self.server_date)


class JarDecision(NamedTuple):
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


class JarRecord(NamedTuple):
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
        when = utc_clock(self.at, ref)
        if self.kind == "expired":
            return f"expired at {when}" + (f" ({self.detail})" if self.detail else "")
        if self.kind == "deleted":
            return f"deleted by the server at {when} ({self.detail})"
        if self.kind == "evicted":
            return f"evicted by the client at {when}: {self.detail}"
        return f"rejected when set: {self.reason} at {when} ({self.detail})"


def expiry_text(sc: SetCookie, server_date: float | None) -> str | None:
    """How a cookie's expiry follows from its ``Set-Cookie`` (``jar_storage.expiry_time``), for humans;
    None for a session cookie."""
    if sc.max_age is not None:
        return f"Max-Age={sc.max_age}"
    if sc.expires is None:
        return None
    source = "Expires"
    if -1e11 < sc.expires < 1e11:
        source += "=" + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sc.expires))
    if server_date is not None:
        source += f" relative to server Date {utc_clock(server_date, sc.expires)}"
    return source


def utc_clock(t: float, ref: float) -> str:
    """UTC ``HH:MM:SS``, with the date when it is not the day of ``ref``."""
    try:
        tm = time.gmtime(t)
        same_day = time.gmtime(ref)[:3] == tm[:3]
        return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", tm)
    except (OverflowError, OSError, ValueError):
        return f"{t:.0f}"
