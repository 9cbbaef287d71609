"""Whether a shared cache may store a response, and what says one did: read by the cache rules (SF304,
SF305), the ``no_set_cookie_on_cacheable`` expectation and the ``Set-Cookie`` digest."""

from __future__ import annotations

import re

from stickyforensics.model import Response
from stickyforensics.track.memo import Memo

_HIT = re.compile(r"\bhit\b", re.IGNORECASE)
CACHE_HEADERS = ("Age", "X-Cache", "X-Cache-Status", "CF-Cache-Status", "X-Varnish", "Via", "Date", "Cache-Control")
"""The response headers a cache finding quotes."""


def cache_signals(resp: Response) -> list[str]:
    """What says this response came out of a shared cache."""
    out: list[str] = []
    age = resp.headers.get("Age")
    if age and age.strip().isdigit() and int(age.strip()) > 0:
        out.append(f"Age: {age.strip()}")
    for name in ("X-Cache", "X-Cache-Status", "CF-Cache-Status", "X-Cache-Lookup", "X-Proxy-Cache"):
        value = resp.headers.get(name)
        if value and _HIT.search(value):
            out.append(f"{name}: {value.strip()[:60]}")
    varnish = resp.headers.get("X-Varnish")
    if varnish and len(varnish.split()) >= 2:
        out.append(f"X-Varnish: {varnish.strip()[:60]} (two ids: a hit)")
    return out


_ASK_SIGNALS = "\x00signals"
"""``_by_cache_control``'s answer when Cache-Control leaves it to the cache headers (``cache_signals``)."""

BY_CACHE_CONTROL: Memo[str | None, str | None] = Memo(1024)
"""``_by_cache_control`` per Cache-Control value: a site sends a handful."""


def cacheable_because(resp: Response) -> str | None:
    """Why a shared cache may store ``resp`` (a header quoted), or None when it may not."""
    raw = resp.headers.get("Cache-Control")
    if raw in BY_CACHE_CONTROL:
        verdict = BY_CACHE_CONTROL[raw]
    else:
        verdict = BY_CACHE_CONTROL.remember(raw, _by_cache_control(raw))
    if verdict is not _ASK_SIGNALS:
        return verdict
    signals = cache_signals(resp)
    if signals:
        return signals[0]
    return None


def _by_cache_control(raw: str | None) -> str | None:
    """What the Cache-Control value alone says: why a cache may store the response, None when it may
    not, or ``_ASK_SIGNALS``."""
    cc = (raw or "").lower()
    if any(tok in cc for tok in ("private", "no-store")) or re.search(r"no-cache(?!\s*=)", cc):
        return None
    if re.search(r'no-cache\s*=\s*"?[^"]*set-cookie', cc):
        return None
    if "public" in cc:
        return f"Cache-Control: {cc}"
    m = re.search(r"(s-maxage|max-age)\s*=\s*(\d+)", cc)
    if m and int(m.group(2)) > 0:
        return f"Cache-Control: {cc}"
    return _ASK_SIGNALS
