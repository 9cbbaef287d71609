"""URLs and forms: names, paths and encodings kept; values replaced; same length."""

from __future__ import annotations

import pytest

from stickyforensics.sanitize.pseudonym import Pseudonyms
from stickyforensics.sanitize.urls import UrlRewriter

SECRET = "q5e55i0nIdInUrl9876"


@pytest.fixture
def urls() -> UrlRewriter:
    return UrlRewriter(Pseudonyms(b"k" * 32).pseudonym)


def test_query_values_change_names_and_path_stay(urls: UrlRewriter) -> None:
    url = f"https://app.example:8443/a/b.aspx?sessionid={SECRET}&page=2&flag#top"
    out = urls.url(url)
    assert out.startswith("https://app.example:8443/a/b.aspx?sessionid=") and "&page=" in out
    assert SECRET not in out and "page=2" not in out and out.endswith("#top")
    assert len(out) == len(url)


def test_userinfo_matrix_parameters_and_fragment_tokens(urls: UrlRewriter) -> None:
    url = "http://alice:pa%40ss@h.example/app;jsessionid=ABC123DEF456.node1/x#access_token=tok123456&state=9"
    out = urls.url(url)
    for secret in ("alice", "pa%40ss", "ABC123DEF456", "tok123456"):
        assert secret not in out
    assert "@h.example/app;jsessionid=" in out and "%" in out.split("@")[0]
    assert len(out) == len(url)


def test_encodings_are_kept_character_by_character(urls: UrlRewriter) -> None:
    form = "user=erin&password=Hunter2-Pa55word%21&q=a+b%20c&euro=%E2%82%AC1&bad=%FF%FE"
    out = urls.query(form)
    assert len(out) == len(form)
    assert "password=" in out and "%21&" in out and "+" in out and "%20" in out and "Hunter2" not in out
    assert out.split("euro=")[1].startswith("%") and "%E2%82%AC" not in out


def test_nested_urls_keep_their_paths(urls: UrlRewriter) -> None:
    out = urls.url(f"/login?ReturnUrl=%2Fowa%2Fauth%3Ftoken%3D{SECRET}")
    assert out.startswith("/login?ReturnUrl=%2Fowa%2Fauth%3Ftoken%3D") and SECRET not in out


def test_urls_in_free_text(urls: UrlRewriter) -> None:
    text = f"<http://h/next?t={SECRET}>; rel=next, 0; url=/x?sid={SECRET}"
    out = urls.urls_in_text(text)
    assert SECRET not in out and out.startswith("<http://h/next?t=") and "; url=/x?sid=" in out
    assert urls.urls_in_text("plain words, no links") == "plain words, no links"


def test_component_values_match_between_text_and_arrays(urls: UrlRewriter) -> None:
    text = urls.query(f"a={SECRET}")
    assert text == "a=" + urls.component(SECRET)
