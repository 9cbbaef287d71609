"""Reconcile a HAR entry's ``cookies`` arrays with its ``Cookie`` / ``Set-Cookie`` headers.

A HAR carries cookies twice: in the headers, and in ``request.cookies`` /
``response.cookies`` arrays the producer derived from them. The rest of the
pipeline reads headers only, so this module makes the headers complete:

* The headers are authoritative. Values and order in them are never changed.
* Producers that put cookies only in the arrays (some Charles / Proxyman
  exports, Chrome entries whose raw headers were not captured, HTTP/2 exports
  without a ``cookie`` header) get a ``Cookie`` header / ``Set-Cookie`` lines
  rebuilt from the arrays (``har.cookies_from_array``).
* A cookie the array lists but no header carries is added as a rebuilt line,
  so both views agree, and ``har.cookie_array_mismatch`` says so.
* chrome-har and Firefox join several ``Set-Cookie`` lines with ``\\n`` in one
  header value (chrome-har #121); each line becomes its own header item, since a
  ``Set-Cookie`` value cannot contain a newline.

Cookie values never appear in messages produced here: only names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from stickyforensics.ingest.har_fields import as_int, as_text, encodable, http_date, parse_time

HeaderList = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class CookieFix:
    """What reconciliation did to one message's headers."""

    code: str
    """``har.cookies_from_array`` or ``har.cookie_array_mismatch``."""
    names: tuple[str, ...]
    """Names of the cookies rebuilt from the array."""


def split_set_cookie_lines(headers: HeaderList) -> HeaderList:
    """Each ``\\n``-joined ``Set-Cookie`` line as its own item, in place."""
    if not any("\n" in value for name, value in headers if name.lower() == "set-cookie"):
        return headers
    out: HeaderList = []
    for name, value in headers:
        if "\n" in value and name.lower() == "set-cookie":
            out.extend((name, line.strip("\r")) for line in value.split("\n") if line.strip())
        else:
            out.append((name, value))
    return out


def cookie_array(value: Any) -> tuple[list[dict[str, Any]], int]:
    """The usable items of a ``cookies`` field and how many were unusable.

    IE11 writes a single object instead of an array; items without a string
    ``name`` are dropped and counted.
    """
    if value is None:
        return [], 0
    if type(value) is list:
        for item in value:
            if not (isinstance(item, dict) and isinstance(item.get("name"), str)):
                break
        else:
            return value, 0  # all usable (the usual case): no copy (callers only read the items)
    items = [value] if isinstance(value, dict) else value if isinstance(value, list) else None
    if items is None:
        return [], 1
    good = [item for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)]
    return good, len(items) - len(good)


def _is_http2_style(headers: HeaderList) -> bool:
    return bool(headers) and all(name.startswith(":") or name == name.lower() for name, _ in headers)


def _clean(text: str) -> str:
    """Rebuilt header text: encodable, no CR/LF, and no ``;`` inside a name or value that would split it."""
    return encodable(text).replace("\r", " ").replace("\n", " ").replace(";", "%3B")


# Cookie names and Cookie header values repeat on most requests of a session: both are memoized
# (pure functions of one string, bounded caches).
_clean_name = lru_cache(maxsize=4096)(_clean)


@lru_cache(maxsize=4096)
def _crumb_names_of(value: str) -> frozenset[str]:
    names: set[str] = set()
    for crumb in value.split(";"):
        key, eq, _ = crumb.strip().partition("=")
        names.add(key.strip() if eq else "")
        if not eq:
            names.add(crumb.strip())
    return frozenset(names)


def _crumb_names(values: Iterable[str]) -> set[str]:
    """Names in ``Cookie`` header values (``""`` for a crumb without ``=``, which also adds itself)."""
    names: set[str] = set()
    for value in values:
        names.update(_crumb_names_of(value))
    return names


def _set_cookie_names(values: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for value in values:
        key, eq, _ = value.split(";", 1)[0].partition("=")
        names.add(key.strip() if eq else "")
    return names


def _pairs(cookies: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(_clean(c["name"]), _clean(as_text(c.get("value")) or "")) for c in cookies]


def reconcile_request(
    headers: HeaderList, cookies: list[dict[str, Any]], *, cookie_values: list[str] | None = None
) -> tuple[HeaderList, CookieFix | None]:
    """Add a ``Cookie`` header for array cookies no ``Cookie`` header carries.

    ``cookie_values``: the ``Cookie`` values of ``headers`` when the caller has them already.
    """
    if not cookies:
        return headers, None
    if cookie_values is None:
        cookie_values = [value for name, value in headers if name.lower() == "cookie"]
    has_header = bool(cookie_values)
    present = _crumb_names_of(cookie_values[0]) if len(cookie_values) == 1 else _crumb_names(cookie_values)
    missing = [c for c in cookies if not has_header or _clean_name(c["name"]) not in present]
    if not missing:
        return headers, None
    pairs = _pairs(missing)
    header_name = "cookie" if _is_http2_style(headers) else "Cookie"
    value = "; ".join(f"{n}={v}" for n, v in pairs)
    code = "har.cookie_array_mismatch" if has_header else "har.cookies_from_array"
    return [*headers, (header_name, value)], CookieFix(code, tuple(n for n, _ in pairs))


def reconcile_response(
    headers: HeaderList, cookies: list[dict[str, Any]], *, set_cookie_values: list[str] | None = None
) -> tuple[HeaderList, CookieFix | None]:
    """Add ``Set-Cookie`` lines (with attributes) for array cookies no header carries.

    ``set_cookie_values``: the ``Set-Cookie`` values of ``headers`` when the caller has them already.
    """
    if not cookies:
        return headers, None
    if set_cookie_values is None:
        set_cookie_values = [value for name, value in headers if name.lower() == "set-cookie"]
    has_header = bool(set_cookie_values)
    present = _set_cookie_names(set_cookie_values)
    missing = [c for c in cookies if not has_header or _clean_name(c["name"]) not in present]
    if not missing:
        return headers, None
    header_name = "set-cookie" if _is_http2_style(headers) else "Set-Cookie"
    lines = [(header_name, set_cookie_line(c)) for c in missing]
    code = "har.cookie_array_mismatch" if has_header else "har.cookies_from_array"
    return [*headers, *lines], CookieFix(code, tuple(_clean(c["name"]) for c in missing))


def set_cookie_line(cookie: dict[str, Any]) -> str:
    """A ``Set-Cookie`` value rebuilt from a HAR cookie object (HAR 1.2 §cookies).

    ``expires`` is ISO 8601 in HAR; it becomes an IMF-fixdate. Unknown or
    unreadable attributes are left out rather than guessed.
    """
    name = _clean(cookie["name"])
    parts = [f"{name}={_clean(as_text(cookie.get('value')) or '')}"]
    path = as_text(cookie.get("path"))
    if path:
        parts.append(f"Path={_clean(path)}")
    domain = as_text(cookie.get("domain"))
    if domain:
        parts.append(f"Domain={_clean(domain)}")
    expires = cookie.get("expires")
    if expires is not None:
        epoch, _ = parse_time(expires)
        stamp = http_date(epoch) if epoch is not None else None
        if stamp is not None:
            parts.append(f"Expires={stamp}")
    max_age = as_int(cookie.get("maxAge", cookie.get("max-age")))
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if _flag(cookie.get("secure")):
        parts.append("Secure")
    if _flag(cookie.get("httpOnly", cookie.get("httponly"))):
        parts.append("HttpOnly")
    same_site = as_text(cookie.get("sameSite", cookie.get("samesite")))
    if same_site:
        parts.append(f"SameSite={_clean(same_site)}")
    if _flag(cookie.get("partitioned")):
        parts.append("Partitioned")
    return "; ".join(parts)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value == 1)
