"""A HAR's cookie survey in two parts, merged, is the survey of the whole (``har_split``'s child surveys apart)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.ingest.har_cookie_data import _NAME_LIMIT, CookieSurvey

HOSTS = st.sampled_from(["a.example", "b.example", "c.example", "d.example"])
NAMES = st.sampled_from([f"c{i}" for i in range(_NAME_LIMIT + 6)] + [""])
VALUES = st.sampled_from(["abc123token", "REDACTED", "xxxx", "", "[filtered]", "9f8e7d6c5b4a"])


@st.composite
def _cookie(draw: st.DrawFn) -> str:
    name, value = draw(NAMES), draw(VALUES)
    return f"{name}={value}" if name else value


@st.composite
def _set_cookie(draw: st.DrawFn) -> str:
    attrs = draw(st.sampled_from(["", "; Path=/", "; Max-Age=0", "; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]))
    return draw(_cookie()) + attrs


OBSERVATION = st.tuples(
    HOSTS,
    st.lists(st.builds("; ".join, st.lists(_cookie(), max_size=3)), max_size=2),
    st.none() | st.lists(_set_cookie(), max_size=3),
)


def _state(survey: CookieSurvey) -> tuple[object, ...]:
    return (
        survey.entries,
        survey.requests_with_cookies,
        survey.responses_with_set_cookie,
        survey.values,
        survey.placeholders,
        list(survey.placeholder_names.items()),
        survey.set_hosts,
        dict(survey.after_set_without),
        dict(survey.unset_without),
        survey.verdict("Chrome 120"),
        survey.verdict(None),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(OBSERVATION, max_size=40), st.data())
def test_merged_parts_are_the_whole(
    observations: list[tuple[str, list[str], list[str] | None]], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(observations)))
    whole, first, later = CookieSurvey(), CookieSurvey(), CookieSurvey.later_part()
    for index, (host, cookies, set_cookies) in enumerate(observations):
        whole.observe_values(index, host, cookies, set_cookies)
        (first if index < cut else later).observe_values(index, host, cookies, set_cookies)
    assert later.mergeable
    if data.draw(st.booleans()):
        later.shed_memos()  # as the child sends it: the counts alone merge
    first.merge_after(later)
    assert _state(first) == _state(whole)


def test_a_survey_sheds_its_memos_and_keeps_its_counts() -> None:
    survey = CookieSurvey.later_part()
    survey.observe_values(0, "a.example", ["sid=abc123token; x=REDACTED"], ["sid=abc123token; Path=/"])
    before = _state(survey)
    survey.shed_memos()
    assert _state(survey) == before
    assert not (survey._cookies or survey._crumbs or survey._placeholder)


def test_stripped_requests_after_an_earlier_part_set_the_host() -> None:
    """The later part cannot know that the earlier part set a host: its cookie-less requests wait for the merge."""
    first, later = CookieSurvey(), CookieSurvey.later_part()
    first.observe_values(0, "a.example", [], ["sid=abc123token; Path=/"])
    for index in range(1, 6):
        later.observe_values(index, "a.example", [], None)
    first.merge_after(later)
    assert first.after_set_without["a.example"] == 5


def test_placeholder_names_past_the_limit_count_as_one_survey_counts_them() -> None:
    """One survey counts the first ``_NAME_LIMIT`` names; the later part counts more, and the merge keeps the
    first ones (a name the earlier part knows still counts, a new one does not)."""
    observations = [("a.example", [f"e{i}=REDACTED"], None) for i in range(_NAME_LIMIT)]
    observations += [("a.example", ["late=REDACTED; e0=REDACTED"], None)] * 2
    whole, first, later = CookieSurvey(), CookieSurvey(), CookieSurvey.later_part()
    for index, (host, cookies, set_cookies) in enumerate(observations):
        whole.observe_values(index, host, cookies, set_cookies)
        (first if index < _NAME_LIMIT else later).observe_values(index, host, cookies, set_cookies)
    assert "late" in later.placeholder_names
    first.merge_after(later)
    assert _state(first) == _state(whole)
    assert "late" not in first.placeholder_names and first.placeholder_names["e0"] == 3
