"""Meta-tests over the rule catalog: every rule is documented, wired, and has positive and negative cases
that the whole analyzer (ingest -> track -> detect) decides correctly."""

from __future__ import annotations

from pathlib import Path

import pytest

from stickyforensics.config import Config, load_config
from stickyforensics.detect.catalog import load_rules
from stickyforensics.detect.detectors import DETECTORS
from stickyforensics.pipeline import analyze

HERE = Path(__file__).resolve().parent
RULES = load_rules()


def _config(code: str) -> Config:
    """A rule's fixture folder may declare configuration (expectations) in stickyforensics.toml."""
    path = HERE / code / "stickyforensics.toml"
    return load_config(str(path))[0] if path.is_file() else Config()


def _cases(kind: str) -> list[object]:
    out = []
    for rule in RULES:
        folder = HERE / rule.code
        for path in sorted(folder.glob(f"{kind}*")) if folder.is_dir() else []:
            out.append(pytest.param(rule.code, path, id=f"{rule.code}-{path.stem}"))
    return out


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_positive_and_negative_cases(rule) -> None:
    folder = HERE / rule.code
    assert folder.is_dir(), f"{rule.code} has no test folder {folder}"
    assert list(folder.glob("positive*")), f"{rule.code} has no positive case"
    assert list(folder.glob("negative*")), f"{rule.code} has no negative case"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule) -> None:
    for field in ("title", "summary", "why", "example"):
        assert getattr(rule, field).strip(), f"{rule.code}: empty {field}"
    assert rule.what_to_check and rule.remediation and rule.falsepositives and rule.references
    assert rule.detector in DETECTORS


def test_every_detector_is_used() -> None:
    assert set(DETECTORS) == {r.detector for r in RULES}


@pytest.mark.parametrize(("code", "path"), _cases("positive"))
def test_positive_case_fires(code: str, path: Path) -> None:
    report = analyze([str(path)], _config(code))
    fired = {f.rule for f in report.findings}
    assert code in fired, f"{code} did not fire on {path.name}; fired: {sorted(fired)}"


@pytest.mark.parametrize(("code", "path"), _cases("negative"))
def test_negative_case_is_quiet(code: str, path: Path) -> None:
    report = analyze([str(path)], _config(code))
    hits = [f.message for f in report.findings if f.rule == code]
    assert not hits, f"{code} fired on {path.name}: {hits}"
