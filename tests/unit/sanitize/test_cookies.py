"""Cookie values: pseudonyms that read the same way; routing cookies and placeholders kept."""

from __future__ import annotations

from stickyforensics.sanitize.cookies import CookieRewriter
from stickyforensics.sanitize.pseudonym import Pseudonyms
from stickyforensics.sanitize.stats import SanitizeStats
from stickyforensics.sanitize.sweep import SecretSweep
from stickyforensics.sanitize.values import ValueRewriter
from stickyforensics.track.lb import CookieClassifier

NSC = "NSC_wt_ebubopx_iuuqt=ffffffff7c081d0445525d5f4f58455e445a4a42714d"


def _rewriter(hide_backends: bool = False) -> tuple[CookieRewriter, SanitizeStats]:
    stats = SanitizeStats()
    values = ValueRewriter(Pseudonyms(b"k" * 32), stats, SecretSweep())
    return CookieRewriter(values, CookieClassifier(), hide_backends=hide_backends), stats


def test_cookie_header_keeps_names_spacing_and_routing_values() -> None:
    rw, stats = _rewriter()
    header = f"{NSC};  JSESSIONID=B4E1FB748D9B2B784EF6057DB359D2B4.web1 ;theme=dark; SERVERID=web1; lonely"
    out = rw.cookie_header(header)
    parts = out.split(";")
    assert parts[0] == NSC and parts[3] == " SERVERID=web1"
    assert parts[1].startswith("  JSESSIONID=") and parts[1].endswith(" ") and "B4E1FB748D9B" not in out
    assert parts[2].startswith("theme=") and parts[2] != "theme=dark"
    assert parts[4].startswith(" ") and parts[4] != " lonely"  # a nameless cookie is a value
    assert len(out) == len(header)
    assert stats.routing_cookies_kept == {"NSC_wt_ebubopx_iuuqt", "SERVERID"}


def test_pseudonyms_are_classified_like_the_values() -> None:
    rw, _ = _rewriter()
    clf = CookieClassifier()
    for name, value in [
        ("JSESSIONID", "B4E1FB748D9B2B784EF6057DB359D2B4.web1"),
        ("ASP.NET_SessionId", "zhv1x4fnquvx3zfoabim21cs"),
        ("server_route", "x9a2b7c4d1e8f3a6b"),
        ("theme", "dark"),
    ]:
        before, after = clf.identify(name, value), clf.identify(name, rw.value(name, value))
        assert (before is None) == (after is None)
        if before is not None and after is not None:
            assert (before.family, before.role, before.status) == (after.family, after.role, after.status)


def test_set_cookie_keeps_attributes_and_joined_lines() -> None:
    rw, _ = _rewriter()
    line = "ASP.NET_SessionId=zhv1x4fnquvx3zfoabim21cs; path=/; HttpOnly; Expires=Thu, 01 Jan 2037 00:00:00 GMT"
    out = rw.set_cookie_header(line)
    assert out.endswith("; path=/; HttpOnly; Expires=Thu, 01 Jan 2037 00:00:00 GMT")
    assert "zhv1x4fnquvx3zfoabim21cs" not in out
    joined = rw.set_cookie_header(line + "\nSERVERID=web2; path=/")
    assert joined.split("\n") == [out, "SERVERID=web2; path=/"]


def test_same_value_same_pseudonym_in_header_set_cookie_and_array() -> None:
    rw, _ = _rewriter()
    sid = "zhv1x4fnquvx3zfoabim21cs"
    in_header = rw.cookie_header(f"ASP.NET_SessionId={sid}").partition("=")[2]
    in_set_cookie = rw.set_cookie_header(f"ASP.NET_SessionId={sid}; path=/").split(";")[0].partition("=")[2]
    array = rw.array([{"name": "ASP.NET_SessionId", "value": sid, "path": "/"}, {"name": "n", "value": 12345}])
    assert isinstance(array, list)
    assert in_header == in_set_cookie == array[0]["value"] and array[0]["path"] == "/"
    assert isinstance(array[1]["value"], str) and array[1]["value"] != "12345"


def test_placeholders_and_empty_values_are_kept() -> None:
    rw, stats = _rewriter()
    assert rw.cookie_header("a=REDACTED; b=; c=***") == "a=REDACTED; b=; c=***"
    assert stats.placeholders_kept == 2


def test_hide_backends_replaces_routing_cookies() -> None:
    rw, stats = _rewriter(hide_backends=True)
    out = rw.cookie_header(f"{NSC}; SERVERID=web1")
    assert NSC not in out and "SERVERID=web1" not in out
    assert out.startswith("NSC_wt_ebubopx_iuuqt=") and "; SERVERID=" in out
    assert not stats.routing_cookies_kept
