"""Split what a user pastes into cookies: ``NAME=VALUE``, a ``Cookie:`` line or a ``Set-Cookie:`` line.

Backs the ``stickyforensics decode`` command. Several lines may be pasted at
once; each is read on its own. ``Set-Cookie`` attributes are dropped (only the
first ``name=value`` is a cookie); a bare line whose ``;``-separated tail is all
cookie attributes (``path=/``, ``HttpOnly``...) is read as a ``Set-Cookie`` value.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"\s*(set-cookie2?|cookie)\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
_ATTRIBUTES = frozenset(
    {
        "path",
        "domain",
        "expires",
        "max-age",
        "secure",
        "httponly",
        "samesite",
        "version",
        "comment",
        "partitioned",
        "priority",
        "port",
        "discard",
        "commenturl",
    }
)
MAX_LINES = 10000


def _pair(item: str) -> tuple[str, str] | None:
    item = item.strip()
    if not item:
        return None
    name, sep, value = item.partition("=")
    if not sep:
        return "", item  # RFC 6265bis: a cookie without '=' has an empty name
    return name.strip(), value.strip()


def _is_attribute(item: str) -> bool:
    return item.strip().partition("=")[0].strip().lower() in _ATTRIBUTES


def split_cookie_text(text: str) -> list[tuple[str, str]]:
    """Every ``(name, value)`` in the pasted text, in order."""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines()[:MAX_LINES]:
        m = _HEADER.fullmatch(line)
        if m is not None and m.group(1).lower().startswith("set-cookie"):
            got = _pair(m.group(2).split(";", 1)[0])
            if got is not None:
                pairs.append(got)
            continue
        body = m.group(2) if m is not None else line
        items = body.split(";")
        if m is None and len(items) > 1 and all(_is_attribute(i) for i in items[1:] if i.strip()):
            items = items[:1]
        for item in items:
            got = _pair(item)
            if got is not None:
                pairs.append(got)
    return pairs
