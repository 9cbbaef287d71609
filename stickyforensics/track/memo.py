"""Module-level answer caches that can be emptied like ``functools.lru_cache`` ones (``cache_clear``).

The caches of tracking and detection are pure (they change how fast an answer comes, never the
answer); ``bench/profile_analysis.py`` empties them between repeats so each starts as cold as a run.
A ``limit`` bounds one: when full it is emptied, so hostile input (random names, values) cannot grow it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["IdentityMemo", "Memo"]

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict of remembered answers, emptied when it reaches ``limit`` entries (0: never)."""

    def __init__(self, limit: int = 0) -> None:
        super().__init__()
        self.limit = limit

    def cache_clear(self) -> None:
        self.clear()

    def remember(self, key: K, value: V) -> V:
        """Store ``value`` for ``key`` (emptying a full memo first) and return it."""
        if self.limit and len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value

    def one(self: Memo[K, K], value: K) -> K:
        """The object first remembered equal to ``value`` (``value`` itself the first time): equal
        values become one object, kept (and pickled) once."""
        found = self.get(value)
        return found if found is not None else self.remember(value, value)


class IdentityMemo(Generic[K, V]):
    """Answers by object identity, for objects that are not hashable by value or costly to hash.

    An entry holds its object, so the object lives as long as the entry and its ``id`` cannot be
    reused by another object meanwhile.
    """

    def __init__(self, limit: int) -> None:
        self._entries: Memo[int, tuple[K, V]] = Memo(limit)

    def entry(self, obj: K) -> tuple[K, V] | None:
        """(``obj``, its answer) when remembered, else None (the answer itself may be None)."""
        entry = self._entries.get(id(obj))
        return entry if entry is not None and entry[0] is obj else None

    def remember(self, obj: K, value: V) -> V:
        self._entries.remember(id(obj), (obj, value))
        return value

    def cache_clear(self) -> None:
        self._entries.clear()
