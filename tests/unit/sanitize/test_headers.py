"""Which rule each header name falls under."""

from __future__ import annotations

import pytest

from stickyforensics.sanitize.headers import HeaderRule, HeaderRules


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Cookie", HeaderRule.COOKIE),
        ("cookie", HeaderRule.COOKIE),
        ("Set-Cookie", HeaderRule.SET_COOKIE),
        ("Authorization", HeaderRule.CREDENTIALS),
        ("Proxy-Authorization", HeaderRule.CREDENTIALS),
        ("X-API-Key", HeaderRule.SECRET),
        ("X-Auth-Token", HeaderRule.SECRET),
        ("X-CSRF-Token", HeaderRule.SECRET),
        ("Ocp-Apim-Subscription-Key", HeaderRule.SECRET),
        ("X-Amz-Security-Token", HeaderRule.SECRET),
        ("Referer", HeaderRule.URL),
        ("Location", HeaderRule.URL),
        (":path", HeaderRule.URL),
        ("Link", HeaderRule.URL_TEXT),
        ("X-Backend", HeaderRule.BACKEND),
        ("WWW-Authenticate", HeaderRule.PLAIN),
        ("X-Forwarded-For", HeaderRule.PLAIN),
        ("Keep-Alive", HeaderRule.PLAIN),
        ("User-Agent", HeaderRule.PLAIN),
    ],
)
def test_header_rules(name: str, rule: HeaderRule) -> None:
    assert HeaderRules(("X-Backend",)).rule(name) is rule
