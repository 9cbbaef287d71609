"""Periodic background requests (polling): traffic that keeps a server session alive without a user."""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence

from stickyforensics.model import Transaction

__all__ = ["Polling", "find_polling"]

_ASSET = re.compile(r"(?i)\.(css|js|mjs|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|map)$")

Polling = tuple[str, float, int, float, float]
"""(path, interval s, count, first, last) of one regularly polled path."""


def find_polling(txs: Sequence[Transaction], min_requests: int) -> list[Polling]:
    """Periodic background requests: (path, interval s, count, first, last) per path polled regularly."""
    by_path: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for tx in txs:
        response = tx.response
        if response is not None and response.from_cache:
            continue  # served by the browser's cache: not traffic that keeps a server session alive
        req = tx.request
        path, method = req.path, req.method
        # an asset's name ends in ".ext": without a dot the regex cannot match (most API paths)
        if "." in path and method in ("GET", "HEAD") and _ASSET.search(path):
            continue
        by_path[(req.host, method, req.target)].append(tx.timing.started)
    out = []
    fewest = max(min_requests, 5)
    for (_host, _method, path), times in by_path.items():
        if len(times) < fewest:
            continue
        gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
        if len(gaps) < min_requests - 1:
            continue
        mean = statistics.fmean(gaps)
        if mean <= 0.05:
            continue
        if _regular(gaps, mean):
            out.append((path, mean, len(times), times[0], times[-1]))
    return out


_SPREAD = 0.35
"""Largest relative spread (population standard deviation / mean) of the gaps of a polled path."""


def _regular(gaps: list[float], mean: float) -> bool:
    """``statistics.pstdev(gaps) / mean <= _SPREAD``; ``mean``: ``statistics.fmean(gaps)``.

    ``pstdev`` is exact (it sums fractions) and costs about a microsecond per gap; only the side of
    the bound counts, so a float two-pass estimate (accurate to far better than 1e-9) decides, and
    the exact one only when the estimate is that close to the bound.
    """
    estimate = math.sqrt(math.fsum([(g - mean) * (g - mean) for g in gaps]) / len(gaps)) / mean
    if abs(estimate - _SPREAD) > 1e-9:
        return estimate <= _SPREAD
    return statistics.pstdev(gaps) / mean <= _SPREAD
