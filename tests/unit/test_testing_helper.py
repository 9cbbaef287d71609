from __future__ import annotations

from pathlib import Path

import pytest

from stickyforensics.testing import StickinessError, assert_sticky

RULES = Path(__file__).resolve().parents[1] / "rules"


def test_assert_sticky_passes_on_sticky_traffic() -> None:
    report = assert_sticky([str(RULES / "SF301" / "negative-all-sent.har")])
    assert report.sessions


def test_assert_sticky_names_the_finding_and_evidence() -> None:
    with pytest.raises(StickinessError) as info:
        assert_sticky([str(RULES / "SF301" / "positive-dotfile-upload.har")])
    assert "missing_cookie" in str(info.value) and "entry 2" in str(info.value)
    assert info.value.findings


def test_assert_sticky_with_expectation() -> None:
    with pytest.raises(StickinessError, match="expectation_violated"):
        assert_sticky([str(RULES / "SF601" / "positive-two-backends.har")], single_backend_per_client=True)
