from __future__ import annotations

from conftest import treq, ttx

from stickyforensics.track.clients import group_by_client


def test_ip_identity_by_default() -> None:
    groups = group_by_client([ttx(1, client="10.0.0.1"), ttx(2, client="10.0.0.2"), ttx(3, client="10.0.0.1")])
    assert sorted(k.value for k in groups) == ["10.0.0.1", "10.0.0.2"]
    assert all(k.strategy == "ip" for k in groups)


def test_auto_switches_to_xff_behind_a_proxy() -> None:
    txs = [
        ttx(i, client="10.9.9.9", request=treq(headers=[("X-Forwarded-For", f"203.0.113.{i % 3}, 10.1.1.1")]))
        for i in range(6)
    ]
    groups = group_by_client(txs)
    assert {k.strategy for k in groups} == {"xff"}
    assert sorted(k.value for k in groups) == ["203.0.113.0", "203.0.113.1", "203.0.113.2"]


def test_har_file_is_the_client() -> None:
    groups = group_by_client([ttx(1, har=True, source="alice.har"), ttx(2, har=True, source="bob.har")])
    assert sorted((k.strategy, k.value) for k in groups) == [("har-file", "alice.har"), ("har-file", "bob.har")]


def test_capture_order_within_a_client() -> None:
    groups = group_by_client([ttx(2, at=5.0), ttx(1, at=1.0)])
    (txs,) = groups.values()
    assert [t.timing.started for t in txs] == [1.0, 5.0]
