"""Module-level answer caches that can be emptied like ``functools.lru_cache`` ones (``cache_clear``).

The caches of tracking and detection are pure (they change how fast an answer comes, never the
answer); ``bench/profile_analysis.py`` empties them between repeats so each starts as cold as a run.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["Memo"]

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict of remembered answers."""

    def cache_clear(self) -> None:
        self.clear()
