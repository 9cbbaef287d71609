"""Cookie arrays vs headers, joined Set-Cookie lines, and the sanitized-HAR verdict."""

from __future__ import annotations

from typing import Any

import pytest

from stickyforensics.ingest.har_cookie_data import ABSENT_MESSAGE, CookieSurvey, is_placeholder
from stickyforensics.ingest.har_cookies import (
    cookie_array,
    reconcile_request,
    reconcile_response,
    set_cookie_line,
    split_set_cookie_lines,
)
from stickyforensics.model import Headers


def test_split_joined_set_cookie_keeps_order_and_other_headers() -> None:
    headers = [("Date", "x"), ("Set-Cookie", "a=1; Path=/\nb=2\r\n\nc=3"), ("Vary", "Cookie"), ("set-cookie", "d=4")]
    assert split_set_cookie_lines(headers) == [
        ("Date", "x"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2"),
        ("Set-Cookie", "c=3"),
        ("Vary", "Cookie"),
        ("set-cookie", "d=4"),
    ]
    # A newline in another header is not a Set-Cookie separator.
    assert split_set_cookie_lines([("X-Note", "a\nb")]) == [("X-Note", "a\nb")]


@pytest.mark.parametrize(
    ("value", "items", "bad"),
    [
        (None, [], 0),
        ([], [], 0),
        ({"name": "a", "value": "1"}, [{"name": "a", "value": "1"}], 0),  # IE11: one object
        ([{"name": "a"}, {"value": "x"}, 3, {"name": 5}], [{"name": "a"}], 3),
        ("a=1", [], 1),
    ],
)
def test_cookie_array(value: Any, items: list[dict[str, Any]], bad: int) -> None:
    assert cookie_array(value) == (items, bad)


def test_request_cookies_only_in_array() -> None:
    headers, fix = reconcile_request([("Host", "h")], [{"name": "a", "value": "1"}, {"name": "b", "value": "x;y"}])
    assert headers == [("Host", "h"), ("Cookie", "a=1; b=x%3By")]
    assert fix is not None and fix.code == "har.cookies_from_array" and fix.names == ("a", "b")


def test_request_array_agrees_with_header() -> None:
    headers = [("Cookie", "a=1; b=2")]
    assert reconcile_request(headers, [{"name": "b", "value": "2"}, {"name": "a", "value": "other"}]) == (headers, None)


def test_request_array_has_more_than_header() -> None:
    headers, fix = reconcile_request([("cookie", "a=1")], [{"name": "a", "value": "1"}, {"name": "z", "value": "9"}])
    assert headers == [("cookie", "a=1"), ("cookie", "z=9")]
    assert fix is not None and fix.code == "har.cookie_array_mismatch" and fix.names == ("z",)


def test_response_rebuilt_lines_carry_attributes() -> None:
    cookie = {
        "name": "BIGipServerweb",
        "value": "1677787402.20480.0000",
        "path": "/",
        "domain": ".example.com",
        "expires": "2024-03-02T10:00:00.000Z",
        "httpOnly": True,
        "secure": "true",
        "sameSite": "None",
        "partitioned": True,
    }
    assert set_cookie_line(cookie) == (
        "BIGipServerweb=1677787402.20480.0000; Path=/; Domain=.example.com; Expires=Sat, 02 Mar 2024 10:00:00 GMT; "
        "Secure; HttpOnly; SameSite=None; Partitioned"
    )
    assert set_cookie_line({"name": "a", "value": None, "expires": "garbage", "httpOnly": False}) == "a="
    assert set_cookie_line({"name": "x\r\nInjected: 1", "value": "v"}) == "x  Injected: 1=v"


def test_response_header_authoritative_and_array_extra_added() -> None:
    headers = [("Set-Cookie", "a=1; Path=/")]
    same, fix = reconcile_response(headers, [{"name": "a", "value": "different-decoding"}])
    assert (same, fix) == (headers, None)
    more, fix = reconcile_response(headers, [{"name": "a", "value": "1"}, {"name": "b", "value": "2", "path": "/x"}])
    assert more == [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/x")]
    assert fix is not None and fix.code == "har.cookie_array_mismatch"


def test_http2_style_rebuilt_header_is_lower_case() -> None:
    headers, _ = reconcile_response([(":status", "200"), ("content-type", "x")], [{"name": "a", "value": "1"}])
    assert headers[-1] == ("set-cookie", "a=1")


@pytest.mark.parametrize(
    "value",
    ["REDACTED", "redacted", "[cookie redacted]", "[Cookie value redacted]", "<redacted>", "***", "********", "xxxx",
     "XXXXXXXX", "sanitized", "{{session}}", "...", "<token>", "REDACTED_BY_PROXY", "(removed)", "masked"],
)  # fmt: skip
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    ["", "abc", "1677787402.20480.0000", "ffffffff09091a2b45525d5f4f58455e445a4a423660", "x", "xx", "s1",
     "GA1.2.3.4", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "a" * 60 + " redacted"],
)  # fmt: skip
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def _observe(survey: CookieSurvey, host: str, cookie: str | None, set_cookie: list[str]) -> None:
    request = Headers((("Cookie", cookie),)) if cookie else Headers()
    response = Headers(tuple(("Set-Cookie", line) for line in set_cookie))
    survey.observe(survey.entries, host, request, response)


def test_verdict_absent_names_the_producer() -> None:
    survey = CookieSurvey()
    _observe(survey, "a", None, [])
    verdict = survey.verdict("WebInspector 537.36")
    assert verdict.cookie_data == "absent"
    ((code, message, _),) = verdict.diagnostics
    assert code == "har.cookie_data_absent" and message.startswith(ABSENT_MESSAGE)
    assert "Export HAR (with sensitive data)" in message
    assert "producer unknown" in CookieSurvey(entries=1).verdict(None).diagnostics[0][1]


def test_verdict_few_placeholders_stays_present_with_a_note() -> None:
    survey = CookieSurvey()
    _observe(survey, "a", "JSESSIONID=REDACTED; NSC_web=ffff0001; x=1", ["NSC_web=ffff0001; Path=/"])
    verdict = survey.verdict("Firefox 120")
    assert verdict.cookie_data == "present"
    ((code, message, level),) = verdict.diagnostics
    assert code == "har.cookie_values_redacted" and "1 of 4" in message and level.value == "info"


def test_stripped_request_side_only_for_browsers() -> None:
    survey = CookieSurvey()
    _observe(survey, "app", None, ["SERVERID=s1; Path=/"])
    for _ in range(3):
        _observe(survey, "app", None, [])
    assert survey.verdict("Firefox 120").cookie_data == "partial"
    # A script that never echoes cookies is what the rules must report, not a sanitized input.
    assert survey.verdict("python-requests-recorder 1.0").cookie_data == "present"
    assert survey.verdict(None).cookie_data == "present"


def test_deleting_set_cookie_does_not_count_as_set() -> None:
    survey = CookieSurvey()
    _observe(survey, "app", None, ["SERVERID=; Max-Age=0", "sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"])
    for _ in range(3):
        _observe(survey, "app", None, [])
    assert survey.verdict("Firefox 120").cookie_data == "present"


def test_one_request_with_cookies_means_not_stripped() -> None:
    survey = CookieSurvey()
    _observe(survey, "app", None, ["SERVERID=s1; Path=/"])
    _observe(survey, "app", None, [])
    _observe(survey, "app", None, [])
    _observe(survey, "cdn", "c=1", [])
    assert survey.verdict("Chrome 120").cookie_data == "present"
