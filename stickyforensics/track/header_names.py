"""Recognising a header by its raw name without lower-casing every name of every message."""

from __future__ import annotations

from stickyforensics.track.memo import Memo

__all__ = ["HeaderNameIs"]


class HeaderNameIs(Memo[str, bool]):
    """Raw header name -> whether it is ``name`` (case-insensitive), filled as names are met.

    Every stage scans each message's headers for a few names; a capture spells its names a handful
    of ways, so each spelling is lower-cased once rather than at every header of every message.
    Bounded: a capture of random header names empties it.
    """

    def __init__(self, name: str) -> None:
        super().__init__(4096)
        self._name = name.lower()
        self._size = len(self._name)

    def __missing__(self, key: str) -> bool:
        return self.remember(key, len(key) == self._size and key.lower() == self._name)
