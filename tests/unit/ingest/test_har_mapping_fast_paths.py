"""The shortcuts of the HAR entry mapping give what the plain code gives.

``is_placeholder`` skips its regex for ASCII values that hold none of the texts the regex needs;
the cookie survey counts a ``Cookie`` header from memoized crumbs; ``http_version`` remembers the
values it understood; ``as_float`` reads ints first; ``cookie_array`` hands back a list whose items
are all usable as it is. Each is checked against the straightforward computation.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from stickyforensics.ingest.har_cookie_data import (
    _NAME_LIMIT,
    _PLACEHOLDER,
    PLACEHOLDER_MAX_LEN,
    CookieSurvey,
    is_placeholder,
)
from stickyforensics.ingest.har_cookies import cookie_array
from stickyforensics.ingest.har_fields import as_float, http_version, parse_time


def _placeholder_by_regex(value: str) -> bool:
    """``is_placeholder`` for values that are not alphanumeric (its other branch is unchanged)."""
    return 0 < len(value) <= PLACEHOLDER_MAX_LEN and _PLACEHOLDER.match(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "GA1.2.1873645521.1709280000",
        "[REDACTED]",
        "<redacted>",
        "***",
        " xxxx ",
        "...",
        "…",
        "{{token}}",
        "<secret>",
        "value-anonymised",
        "\u017fanitized-value",  # IGNORECASE folds U+017F to "s": the regex decides non-ASCII values
        "a.b-c_d",
    ],
)
def test_placeholder_shortcut_agrees_with_the_regex(value: str) -> None:
    assert not value.isalnum()
    assert is_placeholder(value) == _placeholder_by_regex(value)


def test_placeholder_shortcut_agrees_with_the_regex_on_random_values() -> None:
    rnd = random.Random(9)
    pieces = [*"abdxX*.{}<>[]()'\" _-=/+09", "redacted", "Sanitised", "HIDDEN", "token", "...", "…", "\u017f"]
    for _ in range(20_000):
        value = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 10)))
        if not value.isalnum():
            assert is_placeholder(value) == _placeholder_by_regex(value), value


def _survey_by_hand(cookie_headers: list[str]) -> tuple[int, int, Counter[str]]:
    values = placeholders = 0
    names: Counter[str] = Counter()
    for header in cookie_headers:
        for crumb in header.split(";"):
            if not crumb.strip():
                continue
            name, eq, val = crumb.strip().partition("=")
            name, val = (name.strip(), val) if eq else ("", name)
            values += 1
            if is_placeholder(val):
                placeholders += 1
                if name in names or len(names) < _NAME_LIMIT:
                    names[name or "(nameless)"] += 1
    return values, placeholders, names


def test_cookie_survey_counts_memoized_crumbs_as_the_crumbs_themselves() -> None:
    headers = [
        "s=REDACTED; t=1",
        "s=REDACTED; t=2",  # a new header made of a known crumb and a new one
        " t=1 ;s=REDACTED;; lone",
        "s=REDACTED; t=1",  # the same header again
        "u=***; =x; ;",
    ]
    survey = CookieSurvey()
    for index, header in enumerate(headers):
        survey.observe_values(index, "a.example", [header], None)
    values, placeholders, names = _survey_by_hand(headers)
    assert (survey.values, survey.placeholders, survey.placeholder_names) == (values, placeholders, names)
    assert list(survey.placeholder_names) == list(names)
    assert survey.requests_with_cookies == len(headers)


def test_http_version_memo_keeps_the_fallback_for_unknown_values() -> None:
    for _ in range(2):
        assert http_version(" h2 ", has_pseudo_headers=False) == ("HTTP/2", True)
        assert http_version("h3-29", has_pseudo_headers=False) == ("HTTP/3", True)
        assert http_version("ori", has_pseudo_headers=True) == ("HTTP/2", False)
        assert http_version("ori", has_pseudo_headers=False) == ("HTTP/1.1", False)
        assert http_version(2, has_pseudo_headers=False) == ("HTTP/1.1", False)


def test_numbers_read_alike_on_the_short_paths() -> None:
    assert as_float(-1) == -1.0 and type(as_float(-1)) is float
    assert as_float(10**400) is None
    assert as_float(True) is None
    assert parse_time(" 2024-03-01T08:00:15.216z ") == parse_time("2024-03-01T08:00:15.216+00:00")
    assert parse_time("2024-03-01T08:00:15") == (1709280015.0, False)
    assert parse_time("") == (None, True)


def test_cookie_array_hands_back_a_list_of_usable_items_as_it_is() -> None:
    items = [{"name": "a", "value": "1"}, {"name": "b"}]
    assert cookie_array(items) == (items, 0)
    assert cookie_array([*items, {"name": 3}]) == (items, 1)
