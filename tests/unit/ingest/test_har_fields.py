"""Lenient HAR scalar readers: dates, numbers, HTTP versions."""

from __future__ import annotations

from typing import Any

import pytest

from stickyforensics.ingest.har_fields import as_float, as_int, as_text, http_date, http_version, parse_time

BASE = 1709287200.0  # 2024-03-01T10:00:00Z


@pytest.mark.parametrize(
    ("value", "epoch", "zoned"),
    [
        ("2024-03-01T10:00:00Z", BASE, True),
        ("2024-03-01T10:00:00.123Z", BASE + 0.123, True),
        ("2024-03-01T10:00:00.1234567+00:00", BASE + 0.123456, True),  # Fiddler, 7 digits
        ("2024-03-01T10:00:00.123456789Z", BASE + 0.123456, True),
        ("2024-03-01T03:00:00.5-07:00", BASE + 0.5, True),
        ("2024-03-01T03:00:00-0700", BASE, True),  # offset without a colon
        ("2024-03-01 10:00:00Z", BASE, True),
        ("2024-03-01T10:00:00z", BASE, True),
        ("  2024-03-01T11:00:00+01:00 ", BASE, True),
        ("2024-03-01T10:00:00", BASE, False),  # naive: UTC, flagged
        (BASE, BASE, True),
        (BASE * 1000, BASE, True),  # epoch milliseconds
        (int(BASE * 1_000_000), BASE, True),  # epoch microseconds
    ],
)
def test_parse_time(value: Any, epoch: float, zoned: bool) -> None:
    got, got_zoned = parse_time(value)
    assert got == pytest.approx(epoch, abs=1e-6)
    assert got_zoned is zoned


@pytest.mark.parametrize("value", ["", "yesterday", "2024-13-01T00:00:00Z", None, [], {}, True, -5, float("nan")])
def test_parse_time_rejects(value: Any) -> None:
    assert parse_time(value)[0] is None


@pytest.mark.parametrize(
    ("value", "pseudo", "version", "ok"),
    [
        ("HTTP/1.1", False, "HTTP/1.1", True),
        ("http/1.1", False, "HTTP/1.1", True),
        ("1.1", False, "HTTP/1.1", True),
        ("HTTP/1.0", False, "HTTP/1.0", True),
        ("h2", False, "HTTP/2", True),
        ("http/2.0", False, "HTTP/2", True),
        ("HTTP/2", False, "HTTP/2", True),
        ("h3", False, "HTTP/3", True),
        ("h3-29", False, "HTTP/3", True),
        ("HTTP/3", False, "HTTP/3", True),
        ("spdy/3.1", False, "HTTP/2", True),
        ("", False, "HTTP/1.1", False),
        ("ori", False, "HTTP/1.1", False),
        ("unknown", True, "HTTP/2", False),
        (None, False, "HTTP/1.1", False),
        (11, False, "HTTP/1.1", False),
    ],
)
def test_http_version(value: Any, pseudo: bool, version: str, ok: bool) -> None:
    assert http_version(value, has_pseudo_headers=pseudo) == (version, ok)


def test_numbers_and_text() -> None:
    assert [as_int(v) for v in (200, "200", " 404 ", 200.0, "1e3", True, None, "x", float("inf"))] == [
        200, 200, 404, 200, 1000, None, None, None, None,
    ]  # fmt: skip
    floats: tuple[Any, ...] = (1, "2.5", "nan", False, [])
    assert [as_float(v) for v in floats] == [1.0, 2.5, None, None, None]
    assert [as_text(v) for v in ("a", 443, 443.0, 1.5, None, True, [1])] == ["a", "443", "443", "1.5", None, None, None]


def test_http_date() -> None:
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert http_date(BASE) == "Fri, 01 Mar 2024 10:00:00 GMT"
    assert http_date(1e20) is None
