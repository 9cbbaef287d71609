"""HTTP message heads and body facts, as seen on the wire or in a HAR entry.

Headers keep raw casing, order and duplicates: every ``Set-Cookie`` line of a
response survives as its own item (never comma-joined, since ``Expires`` dates
contain commas).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered header list; names keep their raw casing, duplicates are kept."""

    items: tuple[tuple[str, str], ...] = ()
    """``(raw_name, value)`` pairs in wire order."""

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of ``name`` (case-insensitive), or ``default``."""
        lname = name.lower()
        size = len(lname)
        for key, value in self.items:
            # the length test skips most lower() calls on this hot path
            if len(key) == size and key.lower() == lname:
                return value
        return default

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of ``name`` (case-insensitive), in order."""
        lname = name.lower()
        size = len(lname)
        found: list[str] = []
        for key, value in self.items:
            if len(key) == size and key.lower() == lname:
                found.append(value)
        return tuple(found)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lname = name.lower()
        if not lname.isascii():  # lower-casing may change a non-ASCII name's length: compare in full
            return any(key.lower() == lname for key, _ in self.items)
        size = len(lname)
        # a loop, not any(): no generator object on this per-request path
        for key, _value in self.items:  # noqa: SIM110
            if len(key) == size and key.lower() == lname:
                return True
        return False

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class BodyInfo:
    """What is kept of a body: never the whole of it."""

    size: int = 0
    """Decoded body length in bytes as far as it was seen."""
    prefix: bytes = b""
    """The first bytes (bounded, see ``BODY_PREFIX_LIMIT``) for markers such as ``BAD SESSION``."""
    complete: bool = True
    """False when the body was cut (capture gap, snaplen, HAR truncation)."""


BODY_PREFIX_LIMIT = 2048
"""How many body bytes are kept for marker matching."""


@dataclass(frozen=True, slots=True)
class Request:
    """A request head plus body facts."""

    method: str
    target: str
    """The raw request-target (origin-form path?query, or absolute-form)."""
    url: str
    """Absolute URL (scheme://host[:port]/path?query) rebuilt from Host and target."""
    scheme: str
    """``http`` or ``https``."""
    host: str
    """Host name (lower-case, without port) from the URL / Host header; may be an IP."""
    path: str
    """Path component of the URL, without the query."""
    version: str = "HTTP/1.1"
    headers: Headers = field(default_factory=Headers)
    body: BodyInfo = field(default_factory=BodyInfo)


@dataclass(frozen=True, slots=True)
class Response:
    """A response head plus body facts."""

    status: int
    reason: str = ""
    version: str = "HTTP/1.1"
    headers: Headers = field(default_factory=Headers)
    body: BodyInfo = field(default_factory=BodyInfo)
    from_cache: str | None = None
    """Set when the producer says the response came from a client-side cache (HAR ``_fromCache``)."""
