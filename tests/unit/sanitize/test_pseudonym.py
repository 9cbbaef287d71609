"""Shape-keeping keyed pseudonyms: deterministic, injective where it matters, never the value itself."""

from __future__ import annotations

import re
import string

import pytest

from stickyforensics.sanitize.pseudonym import MAX_CANDIDATES, Pseudonyms
from stickyforensics.sanitize.shape import char_class, shape_of

KEY = b"k" * 32
COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
"""RFC 6265 cookie-value characters (no space, DQUOTE, comma, semicolon or backslash)."""


def _same_shape(a: str, b: str) -> bool:
    return len(a) == len(b) and all(
        char_class(x) == char_class(y) and (char_class(x) is not None or x == y) for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize(
    "value",
    [
        "B4E1FB748D9B2B784EF6057DB359D2B4.web1",
        "zhv1x4fnquvx3zfoabim21cs",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
        "dXNlcjpwYXNz==",
        "p@ss wörd!€𝄞",
        "1",
        "en-US",
        "x" * 5000,
    ],
)
def test_pseudonym_keeps_the_shape_and_changes_the_value(value: str) -> None:
    pseudonym = Pseudonyms(KEY).pseudonym(value)
    assert _same_shape(value, pseudonym)
    assert pseudonym != value
    assert len(pseudonym.encode()) == len(value.encode())


def test_same_value_same_pseudonym_same_key_only() -> None:
    value = "S3ss10nV4lu3Q8wZ2xY7kP"
    assert Pseudonyms(KEY).pseudonym(value) == Pseudonyms(KEY).pseudonym(value)
    assert Pseudonyms(KEY).pseudonym(value) != Pseudonyms(b"other" * 8).pseudonym(value)


def test_nothing_to_vary_stays() -> None:
    p = Pseudonyms(KEY)
    assert p.pseudonym("") == ""
    assert p.pseudonym("-.;|") == "-.;|"


@pytest.mark.parametrize("width", [1, 2, 3])
def test_short_values_are_a_permutation_without_fixed_points(width: int) -> None:
    p = Pseudonyms(KEY)
    values = [str(n).zfill(width) for n in range(10**width)]
    pseudonyms = [p.pseudonym(v) for v in values]
    assert sorted(pseudonyms) == values  # a bijection of the shape: a change stays a change
    assert all(a != b for a, b in zip(values, pseudonyms, strict=True))


def test_long_values_do_not_collide() -> None:
    p = Pseudonyms(KEY)
    values = [f"{n:024x}" for n in range(3000)]
    assert len({p.pseudonym(v) for v in values}) == len(values)


def test_accept_picks_a_candidate_and_stays_injective() -> None:
    p = Pseudonyms(KEY)
    odd = [str(n) for n in range(1, 10, 2)]
    chosen = [p.pseudonym(v, lambda c: int(c) % 2 == 1) for v in odd]
    assert sorted(chosen) == odd and all(a != b for a, b in zip(odd, chosen, strict=True))
    long_value = "A1b2C3d4E5f6G7h8"
    assert p.pseudonym(long_value, lambda c: c.startswith("A")).startswith("A")


def test_unsatisfiable_accept_gives_the_first_candidate_after_a_bounded_search() -> None:
    p = Pseudonyms(KEY)
    calls = []

    def never(candidate: str) -> bool:
        calls.append(candidate)
        return False

    assert p.pseudonym("abcdef123456", never) == p.pseudonym("abcdef123456")
    assert len(calls) <= MAX_CANDIDATES + 1


def test_cookie_values_stay_cookie_values() -> None:
    p = Pseudonyms(KEY)
    alphabet = "".join(ch for ch in string.printable if COOKIE_OCTETS.fullmatch(ch))
    for n in range(200):
        value = "".join(alphabet[(n * 7 + i * 13) % len(alphabet)] for i in range(5 + n % 30))
        assert COOKIE_OCTETS.fullmatch(p.pseudonym(value))


def test_shape_marks_only_alphanumerics_and_non_ascii() -> None:
    shape = shape_of("a-Z_9.é")
    assert shape.positions == (0, 2, 4, 6)
    assert shape.space(1 << 64) == 6 * 20 * 10 * (0x800 - 0xA0)


def test_a_value_keeps_the_pseudonym_a_cookie_needed() -> None:
    p = Pseudonyms(KEY)
    value = "A1b2C3d4E5f6G7h8"
    first = p.pseudonym(value)
    needed = p.pseudonym(value, lambda c: c != first)  # e.g. the first one read as another cookie family
    assert needed != first and p.pseudonym(value) == needed  # the query string then gets the same one
