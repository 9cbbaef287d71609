"""The cookie timeline: set -> sent -> missing / changed / unexpected, with reasons."""

from __future__ import annotations

from conftest import treq, tresp, ttx

from stickyforensics.model import CookieEventKind, MissingReason
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.timeline import cookie_timeline

IDENTIFY = CookieClassifier().identify


def tx(n: int, path: str, cookie: str | None = None, set_cookie: str | None = None, host: str = "app.example"):
    req = treq("GET", f"http://{host}{path}", [("Cookie", cookie)] if cookie else [])
    resp = tresp(200, [("Set-Cookie", set_cookie)] if set_cookie else [])
    return ttx(n, at=float(n), request=req, response=resp)


def kinds(events):
    return [(e.kind, e.name, e.reason) for e in events]


def test_set_sent_changed() -> None:
    events = cookie_timeline(
        [
            tx(0, "/", set_cookie="SERVERID=s1; path=/"),
            tx(1, "/a", cookie="SERVERID=s1", set_cookie="SERVERID=s2; path=/"),
        ],
        IDENTIFY,
    )
    assert kinds(events) == [
        (CookieEventKind.SET, "SERVERID", None),
        (CookieEventKind.SENT, "SERVERID", None),
        (CookieEventKind.CHANGED, "SERVERID", None),
    ]
    assert events[2].previous == "s1" and events[2].value == "s2"


def test_client_dropped() -> None:
    events = cookie_timeline([tx(0, "/", set_cookie="SERVERID=s1; path=/"), tx(1, "/up/.x")], IDENTIFY)
    assert (CookieEventKind.MISSING, "SERVERID", MissingReason.CLIENT_DROPPED.value) in kinds(events)


def test_out_of_path_is_explained_not_dropped() -> None:
    events = cookie_timeline([tx(0, "/app/login", set_cookie="SERVERID=s1; Path=/app"), tx(1, "/api/x")], IDENTIFY)
    assert (CookieEventKind.MISSING, "SERVERID", MissingReason.OUT_OF_PATH.value) in kinds(events)


def test_other_sites_cookie_is_not_an_event() -> None:
    events = cookie_timeline(
        [tx(0, "/", set_cookie="SERVERID=s1; path=/"), tx(1, "/", host="cdn.other.example.net")], IDENTIFY
    )
    assert [k for k in kinds(events) if k[0] is CookieEventKind.MISSING] == []


def test_cookie_from_before_the_capture_is_adopted() -> None:
    events = cookie_timeline([tx(0, "/a", cookie="SERVERID=s1"), tx(1, "/b")], IDENTIFY)
    assert events[0].kind is CookieEventKind.SENT and events[0].detail is not None
    assert (CookieEventKind.MISSING, "SERVERID", MissingReason.CLIENT_DROPPED.value) in kinds(events)


def test_ordinary_cookies_make_no_events() -> None:
    assert cookie_timeline([tx(0, "/", set_cookie="_ga=GA1.2.3; path=/"), tx(1, "/")], IDENTIFY) == ()


def test_rejected_cookie() -> None:
    events = cookie_timeline(
        [tx(0, "/", set_cookie="AWSALBCORS=QkFTRTY0ZW5jcnlwdGVk; Path=/; SameSite=None")], IDENTIFY
    )
    assert events[0].kind is CookieEventKind.REJECTED and events[0].reason == "samesite_none_without_secure"
