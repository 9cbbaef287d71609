"""Tracking begun while a HAR is read (``track.early``) gives the sessions tracking afterwards gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import treq, tresp, ttx
from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.config import Config
from stickyforensics.ingest.har import read_har
from stickyforensics.model import Transaction
from stickyforensics.track import sessions
from stickyforensics.track.early import EarlyTracking
from stickyforensics.track.lb import CookieClassifier
from stickyforensics.track.sessions import build_sessions
from stickyforensics.track.timeline import CookieTimeline, cookie_timeline

ROOT = Path(__file__).resolve().parents[3]
CONFIG = Config()


def _hars() -> list[Path]:
    return sorted(p for top in ("samples", "tests/data") for p in (ROOT / top).rglob("*.har"))


def _transactions(path: Path) -> list[Transaction]:
    try:
        return list(read_har(str(path)).transactions)
    except Exception:  # unreadable on purpose (tests/data): nothing to track
        return []


def _fed(txs: list[Transaction], cuts: list[int]) -> EarlyTracking:
    early = EarlyTracking(CONFIG)
    for start, end in zip([0, *cuts], [*cuts, len(txs)], strict=True):
        early.feed(txs[start:end])
    return early


def _timelines_used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many transactions each ``cookie_timeline`` call of ``build_sessions`` was given."""
    calls: list[int] = []
    real = sessions.cookie_timeline

    def spy(txs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(txs))
        return real(txs, *args, **kwargs)

    monkeypatch.setattr(sessions, "cookie_timeline", spy)
    return calls


@pytest.mark.parametrize("path", _hars(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sessions_are_the_same_with_tracking_begun_early(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    txs = _transactions(path)
    if not txs:
        pytest.skip("no transaction to track")
    expected = build_sessions(txs, CONFIG)
    early = _fed(txs, [len(txs) // 3, 2 * len(txs) // 3])
    calls = _timelines_used(monkeypatch)
    assert build_sessions(txs, CONFIG, early=early) == expected
    assert early.transactions == [] and early.parsed == []  # emptied once used: not kept with the report
    in_order = txs == sorted(txs, key=lambda tx: (tx.timing.started, tx.id))
    if in_order and len(expected) == 1:
        assert calls == []  # the early events were used, not worked out again


def test_transactions_out_of_order_stop_the_feeding(monkeypatch: pytest.MonkeyPatch) -> None:
    txs = _transactions(ROOT / "samples" / "browser_har" / "browser-sticky.har")
    early = EarlyTracking(CONFIG)
    early.feed(txs[2:])
    early.feed(txs[:2])  # earlier than what was fed
    assert early.transactions == [] and not early.covers(txs[2:])
    early.feed(txs)  # and it stays stopped
    assert not early.covers(txs)
    calls = _timelines_used(monkeypatch)
    assert build_sessions(txs, CONFIG, early=early) == build_sessions(txs, CONFIG)
    assert calls  # worked out the ordinary way


def test_a_partial_feed_or_another_classifier_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    txs = _transactions(ROOT / "samples" / "browser_har" / "browser-sticky.har")
    expected = build_sessions(txs, CONFIG)
    calls = _timelines_used(monkeypatch)
    partial = _fed(txs[:-1], [])
    assert not partial.covers(txs)
    assert build_sessions(txs, CONFIG, early=partial) == expected
    whole = _fed(txs, [])
    other = CookieClassifier(declared=CONFIG.declared_cookies())
    assert build_sessions(txs, CONFIG, classifier=other, early=whole) == expected
    assert len(calls) == 2
    abandoned = _fed(txs, [])
    abandoned.abandon()
    assert not abandoned.covers(txs)


def _tx(n: int, cookie: str | None, set_cookie: str | None, host: str) -> Transaction:
    req = treq("GET", f"http://{host}/p{n % 3}", [("Cookie", cookie)] if cookie else [])
    resp = tresp(200, [("Set-Cookie", set_cookie)] if set_cookie else [])
    return ttx(n, at=float(n), request=req, response=resp)


_STEP = st.tuples(
    st.sampled_from([None, "SERVERID=s1", "SERVERID=s2", "JSESSIONID=a; SERVERID=s1", "JSESSIONID=b"]),
    st.sampled_from([None, "SERVERID=s1; Path=/", "SERVERID=s2; Path=/p1", "JSESSIONID=a; Max-Age=0", "JSESSIONID=b"]),
    st.sampled_from(["app.example", "api.app.example"]),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(_STEP, max_size=25), cuts=st.lists(st.integers(0, 25), max_size=4))
def test_a_timeline_fed_in_parts_is_the_timeline_of_the_whole(
    steps: list[tuple[str | None, str | None, str]], cuts: list[int]
) -> None:
    txs = [_tx(n, cookie, set_cookie, host) for n, (cookie, set_cookie, host) in enumerate(steps)]
    identify = CookieClassifier().identify
    timeline = CookieTimeline(identify)
    bounds = sorted({min(c, len(txs)) for c in cuts})
    for start, end in zip([0, *bounds], [*bounds, len(txs)], strict=True):
        timeline.feed(txs[start:end])
    assert timeline.events() == cookie_timeline(txs, identify)
