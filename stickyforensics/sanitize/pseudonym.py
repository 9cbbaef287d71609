"""Keyed, shape-keeping pseudonyms: the same value always gets the same pseudonym.

The key is the redaction key of ``analyze`` (``--redaction-key`` / STICKYFORENSICS_REDACTION_KEY,
hashed the same way), and every pseudonym is derived from it with HMAC-SHA256, the primitive of
``report.redact.Redactor``. A pseudonym has the shape of its value (see ``shape``), and two
choices keep the analysis of a sanitized file identical to that of the original:

* values with at least 2**40 possible values of their shape (every real token, session id or
  password) get a one-way pseudonym: shape positions filled from an HMAC stream of the value.
  Two different values colliding is as likely as a 40+ bit hash collision: never in practice.
* smaller shapes (``1``, ``en``, ``2024``) are permuted with a keyed Feistel network and cycle
  walking (format-preserving encryption), arranged so that no value maps to itself. A
  permutation never maps two values to one pseudonym, so a cookie that changed from ``1`` to
  ``2`` still changes. Such short values carry no secret worth the name; whoever holds the key
  can reverse these ones, so keep the key private.

``candidates`` yields a deterministic sequence of pseudonyms; a caller that needs the pseudonym
to be read the same way as the value (the cookie classifier) takes the first one it accepts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from itertools import count

from stickyforensics.sanitize.shape import Shape, shape_of

PERMUTED_SPACE = 1 << 40
"""Shapes with fewer possible values are permuted (injective); larger ones are hashed (one-way)."""

_ROUNDS = 8
MAX_CANDIDATES = 64
"""How many candidates ``pseudonym`` tries before it settles for the first one."""


class Pseudonyms:
    """Pseudonyms under one key, cached per value (the same values repeat on every request)."""

    def __init__(self, key: bytes) -> None:
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._chosen: dict[str, str] = {}
        """The pseudonym in use for each value, so every occurrence of a value gets the same one."""

    def pseudonym(self, value: str, accept: Callable[[str], bool] | None = None) -> str:
        """The pseudonym of ``value``.

        The one already in use, if ``accept`` (when given) takes it; else the first candidate
        ``accept`` takes (the first candidate when nothing is to be accepted or nothing is), which
        is then the one in use. A cookie that needs a candidate other than the first thus gives it
        to the same value in a query string too; a sanitizer's first pass settles these choices.
        """
        chosen = self._chosen.get(value)
        if chosen is not None and (accept is None or accept(chosen)):
            return chosen
        first = next(self.candidates(value))
        found = first
        if accept is not None and not accept(first):
            for index, candidate in enumerate(self.candidates(value)):
                if index >= MAX_CANDIDATES:
                    break
                if accept(candidate):
                    found = candidate
                    break
        self._chosen[value] = found
        return found

    def candidates(self, value: str) -> Iterator[str]:
        """The deterministic pseudonym sequence of ``value`` (only ``value`` itself when nothing can vary)."""
        shape = shape_of(value)
        space = shape.space(PERMUTED_SPACE)
        if space <= 1:
            yield value
            return
        if space < PERMUTED_SPACE:
            yield from self._permuted(shape, value, space)
        else:
            yield from self._hashed(shape, value)

    def _hashed(self, shape: Shape, value: str) -> Iterator[str]:
        radices = shape.radices()
        for attempt in count():
            seed = self._mac.copy()
            seed.update(b"sf-sanitize-hash\x00" + attempt.to_bytes(4, "big") + value.encode("utf-8", "surrogatepass"))
            stream = _Stream(self._mac, seed.digest())
            candidate = shape.from_digits(stream.below(radix) for radix in radices)
            if candidate != value:
                yield candidate

    def _permuted(self, shape: Shape, value: str, space: int) -> Iterator[str]:
        """``Q⁻¹(Q(v) + k)`` for k = 1, 2, ...: every other value of the shape once, never ``value``.

        ``Q`` is a keyed Feistel permutation of ``[0, 2**bits)`` restricted to ``[0, space)`` by cycle
        walking. Conjugating the shift ``x -> x + 1`` by it gives one cycle through the whole shape:
        an injective map without fixed points, and so is its restriction to the values a caller
        accepts.
        """
        bits = max(2, (space - 1).bit_length())
        bits += bits % 2
        half = bits // 2
        mask = (1 << half) - 1
        base = self._mac.copy()
        base.update(b"sf-sanitize-fpe\x00" + shape.template.encode("utf-8", "surrogatepass") + b"\x00")

        def round_key(round_: int, half_value: int) -> int:
            mac = base.copy()
            mac.update(bytes((round_,)) + half_value.to_bytes(4, "big"))
            return int.from_bytes(mac.digest()[:4], "big") & mask

        def encrypt(number: int) -> int:
            left, right = number >> half, number & mask
            for round_ in range(_ROUNDS):
                left, right = right, left ^ round_key(round_, right)
            return (left << half) | right

        def decrypt(number: int) -> int:
            left, right = number >> half, number & mask
            for round_ in reversed(range(_ROUNDS)):
                left, right = right ^ round_key(round_, left), left
            return (left << half) | right

        def walk(step: Callable[[int], int], number: int) -> int:
            # Cycle walking ends: the cycle of a number below ``space`` comes back below ``space``.
            number = step(number)
            while number >= space:
                number = step(number)
            return number

        position = walk(encrypt, shape.number(value))
        for offset in range(1, space):
            yield shape.from_number(walk(decrypt, (position + offset) % space))


class _Stream:
    """Uniform draws from an HMAC-SHA256 counter-mode stream."""

    def __init__(self, mac: hmac.HMAC, seed: bytes) -> None:
        self._mac = mac
        self._seed = seed
        self._block = b""
        self._counter = 0

    def below(self, bound: int) -> int:
        """A number in ``[0, bound)``; 64 bits per draw make the modulo bias negligible."""
        if len(self._block) < 8:
            mac = self._mac.copy()
            mac.update(self._seed + self._counter.to_bytes(8, "big"))
            self._counter += 1
            self._block += mac.digest()
        word, self._block = self._block[:8], self._block[8:]
        return int.from_bytes(word, "big") % bound
