"""The last line of defence: known secrets found anywhere else are replaced too.

Field rules cover where secrets normally are (cookies, credentials, query strings, form fields).
A session id also turns up where no rule looks: a custom header, a producer's ``_initiator``
stack, a page title, a path (``/reset/<token>``). Every value a rule replaced that is long and
token-like is remembered with its pseudonym, and every string the rules do not own is searched
for those values (as written and percent-encoded) and gets the same pseudonym.
"""

from __future__ import annotations

import re
from urllib.parse import quote

MIN_LENGTH = 8
"""Shorter values are too common to replace inside other text (``en``, ``1``, ``true``)."""

_CACHE_LIMIT = 100_000
_TOKENISH = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])[^\s]{8,}")


def token_like(value: str) -> bool:
    """Long, without spaces, with letters and digits: a session id or key, not a word or a path."""
    return len(value) >= MIN_LENGTH and _TOKENISH.fullmatch(value) is not None and "/" not in value


class SecretSweep:
    """Remembered secrets and their replacements; ``scrub`` applies them to free text."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, list[tuple[str, str]]] = {}
        self._known: dict[str, str] = {}
        self._done: dict[str, str] = {}
        """Scrubbed texts (header values repeat on every entry), valid while no secret is added."""

    def __len__(self) -> int:
        return len(self._known)

    def add(self, secret: str, replacement: str) -> None:
        """Remember ``secret`` (when long enough) and its percent-encoded form; the latest replacement wins."""
        if len(secret) < MIN_LENGTH or secret == replacement or self._known.get(secret) == replacement:
            return
        self._known[secret] = replacement
        self._done.clear()
        self._index(secret, replacement)
        encoded = quote(secret, safe="")
        if encoded != secret:
            self._index(encoded, quote(replacement, safe=""))

    def _index(self, secret: str, replacement: str) -> None:
        bucket = [item for item in self._by_prefix.get(secret[:MIN_LENGTH], []) if item[0] != secret]
        bucket.append((secret, replacement))
        bucket.sort(key=lambda item: -len(item[0]))  # the longest match wins
        self._by_prefix[secret[:MIN_LENGTH]] = bucket

    def scrub(self, text: str) -> str:
        """``text`` with every remembered secret replaced (left to right, longest first)."""
        if not self._by_prefix or len(text) < MIN_LENGTH:
            return text
        found = self._done.get(text)
        if found is None:
            found = self._scrub(text)
            if len(self._done) < _CACHE_LIMIT:
                self._done[text] = found
        return found

    def _scrub(self, text: str) -> str:
        index = self._by_prefix
        out: list[str] = []
        start = pos = 0
        end = len(text) - MIN_LENGTH + 1
        while pos < end:
            bucket = index.get(text[pos : pos + MIN_LENGTH])
            if bucket is not None:
                for secret, replacement in bucket:
                    if text.startswith(secret, pos):
                        out.append(text[start:pos])
                        out.append(replacement)
                        pos = start = pos + len(secret)
                        break
                else:
                    pos += 1
                continue
            pos += 1
        if not out:
            return text
        out.append(text[start:])
        return "".join(out)
