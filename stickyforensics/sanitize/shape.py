"""The shape of a value: which characters a pseudonym may change, and into what.

A pseudonym keeps the length and the character class of every position: digits stay digits,
hex letters stay hex letters (``a-f``/``A-F``), other ASCII letters stay letters of the same case,
non-ASCII characters stay non-ASCII characters of the same UTF-8 length, and everything else
(punctuation, spaces, ``=`` padding, ``%``, ``.``, ``|``, control characters) stays as it is.
That is what keeps a sanitized file analysable: cookie sizes, RFC 6265 octet limits, base64 or
hex layouts, ``JSESSIONID`` ``.route`` suffixes and ``%XX`` escapes survive, so the cookie
classifier and the detectors see the same kinds of values they saw in the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

CLASSES: tuple[tuple[int, int], ...] = (
    (0x30, 10),  # 0-9
    (0x61, 6),  # a-f
    (0x67, 20),  # g-z
    (0x41, 6),  # A-F
    (0x47, 20),  # G-Z
    (0xA0, 0x800 - 0xA0),  # two UTF-8 bytes (after the C1 controls)
    (0x800, 0xD800 - 0x800),  # three UTF-8 bytes, below the surrogates
    (0x10000, 0x110000 - 0x10000),  # four UTF-8 bytes
)
"""(first code point, size) of each class; a character outside every class is fixed."""

_MARK_BASE = 0xE000
"""Private-use code points stand for a class in ``Shape.template``."""


def char_class(ch: str) -> int | None:
    """The class index of one character, or None when it is kept as it is."""
    code = ord(ch)
    for index, (first, size) in enumerate(CLASSES):
        if first <= code < first + size:
            return index
    return None


@dataclass(frozen=True, slots=True)
class Shape:
    """Where a value's variable characters are and how many choices each has."""

    template: str
    """The value with every variable character replaced by a mark of its class."""
    positions: tuple[int, ...]
    """Indices of the variable characters."""
    classes: tuple[int, ...]
    """Class index of each variable character."""

    def radices(self) -> tuple[int, ...]:
        return tuple(CLASSES[c][1] for c in self.classes)

    def space(self, limit: int) -> int:
        """The number of values of this shape, or ``limit`` when there are at least that many."""
        total = 1
        for radix in self.radices():
            total *= radix
            if total >= limit:
                return limit
        return total

    def number(self, value: str) -> int:
        """The value's variable characters read as one mixed-radix number."""
        total = 0
        for pos, cls in zip(self.positions, self.classes, strict=True):
            first, size = CLASSES[cls]
            total = total * size + (ord(value[pos]) - first)
        return total

    def from_number(self, number: int) -> str:
        """The value of this shape whose variable characters spell ``number``."""
        digits: list[int] = []
        for cls in reversed(self.classes):
            number, digit = divmod(number, CLASSES[cls][1])
            digits.append(digit)
        return self.from_digits(reversed(digits))

    def from_digits(self, digits: Iterable[int]) -> str:
        """The value of this shape with the given class offsets, in position order."""
        chars = list(self.template)
        for pos, cls, digit in zip(self.positions, self.classes, digits, strict=True):
            chars[pos] = chr(CLASSES[cls][0] + digit)
        return "".join(chars)


@lru_cache(maxsize=4096)
def shape_of(value: str) -> Shape:
    """The shape of ``value`` (cached: the same values repeat on every request)."""
    chars = list(value)
    positions: list[int] = []
    classes: list[int] = []
    for index, ch in enumerate(chars):
        cls = char_class(ch)
        if cls is not None:
            positions.append(index)
            classes.append(cls)
            chars[index] = chr(_MARK_BASE + cls)
    return Shape("".join(chars), tuple(positions), tuple(classes))
