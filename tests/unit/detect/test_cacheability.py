"""``cacheable_because`` remembers what a Cache-Control value alone says: the answers are those of reading
the headers afresh for every response."""

from __future__ import annotations

import itertools
import re

from conftest import tresp

from stickyforensics.detect import cacheability
from stickyforensics.detect.cacheability import cache_signals, cacheable_because
from stickyforensics.model import Response


def _fresh(resp: Response) -> str | None:
    cc = (resp.headers.get("Cache-Control") or "").lower()
    if any(tok in cc for tok in ("private", "no-store")) or re.search(r"no-cache(?!\s*=)", cc):
        return None
    if re.search(r'no-cache\s*=\s*"?[^"]*set-cookie', cc):
        return None
    if "public" in cc:
        return f"Cache-Control: {cc}"
    m = re.search(r"(s-maxage|max-age)\s*=\s*(\d+)", cc)
    if m and int(m.group(2)) > 0:
        return f"Cache-Control: {cc}"
    signals = cache_signals(resp)
    return signals[0] if signals else None


CACHE_CONTROLS = [
    [],
    [("Cache-Control", "public, max-age=60")],
    [("cache-control", "Private")],
    [("Cache-Control", "no-cache"), ("Cache-Control", "public")],  # the first one counts
    [("Cache-Control", 'no-cache="Set-Cookie", max-age=30')],
    [("Cache-Control", "s-maxage=0")],
    [("Cache-Control", "max-age=0")],
    [("Cache-Control", "")],
]
SIGNALS = [
    [],
    [("Age", "12")],
    [("X-Cache", "HIT from edge")],
    [("X-Varnish", "123 456")],
    [("X-Cache-Status", "MISS"), ("CF-Cache-Status", "hit")],
]


def test_cacheable_is_the_fresh_answer() -> None:
    cacheability.BY_CACHE_CONTROL.cache_clear()
    for _round in range(2):  # the second round answers from the memo
        for cc, signals in itertools.product(CACHE_CONTROLS, SIGNALS):
            resp = tresp(200, [*cc, *signals, ("Set-Cookie", "sid=1")])
            assert cacheable_because(resp) == _fresh(resp)
