"""HeaderNameIs: a header recognised by its raw name, as ``Headers.get`` compares names."""

from __future__ import annotations

import pytest

from stickyforensics.track.header_names import HeaderNameIs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cookie", True),
        ("cookie", True),
        ("COOKIE", True),
        ("Cookies", False),
        ("Accept", False),  # the same length, another name
        ("Set-Cookie", False),
        ("", False),
        ("Cookİe", False),  # a non-ASCII letter that lower-cases to two characters
    ],
)
def test_matches_the_name_case_insensitively(raw: str, expected: bool) -> None:
    is_cookie = HeaderNameIs("Cookie")
    assert is_cookie[raw] is expected
    assert is_cookie[raw] is expected  # remembered
    assert is_cookie[raw] is (len(raw) == 6 and raw.lower() == "cookie")


def test_a_capture_of_random_names_is_bounded() -> None:
    is_cookie = HeaderNameIs("Cookie")
    for n in range(5000):
        assert not is_cookie[f"X-Random-{n}"]
    assert len(is_cookie) <= 4096
    assert is_cookie["cookie"]
