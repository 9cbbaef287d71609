"""``--jobs N`` gives the same report as one process (issue 9): every format, every kind of input."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from stickyforensics.config import Config, load_config
from stickyforensics.pipeline import analyze
from stickyforensics.report.html import clients_shown, render_html
from stickyforensics.report.json import render_json
from stickyforensics.report.redact import Redactor
from stickyforensics.report.sarif import render_sarif

ROOT = Path(__file__).resolve().parents[2]
REDACTOR = Redactor(b"k" * 32)
FIXTURES = sorted(p for p in glob.glob(str(ROOT / "tests/rules/SF*/*")) if p.endswith((".har", ".pcap", ".pcapng")))


def _views(paths: list[str], config: Config, jobs: int) -> tuple[str, str, str]:
    report = analyze(paths, config, jobs=jobs, detail=clients_shown)
    return (
        render_json(report, redactor=REDACTOR),
        render_sarif(report, redactor=REDACTOR),
        render_html(report, redactor=REDACTOR),
    )


@pytest.mark.parametrize("jobs", [2, 3])
def test_samples_same_report_on_several_processes(jobs: int) -> None:
    paths = [str(ROOT / "samples")]
    assert _views(paths, Config(), jobs) == _views(paths, Config(), 1)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: "/".join(Path(p).parts[-2:]))
def test_rule_fixtures_same_findings_on_two_processes(fixture: str) -> None:
    config, _ = load_config(None, start=Path(fixture).parent)
    one = analyze([fixture], config)
    two = analyze([fixture], config, jobs=2)
    assert render_json(two, redactor=REDACTOR) == render_json(one, redactor=REDACTOR)


def test_all_fixtures_together_same_report() -> None:
    """Many inputs at once: HAR files are shared out by index, captures split by client."""
    plain = [p for p in FIXTURES if "SF601" not in p]
    assert _views(plain, Config(), 2) == _views(plain, Config(), 1)


def test_sessions_are_summaries_unless_asked_for() -> None:
    report = analyze([str(ROOT / "samples")], Config(), jobs=2)
    assert report.sessions and all(not s.transactions and s.transaction_count > 0 for s in report.sessions)
    full = analyze([str(ROOT / "samples")], Config())
    assert [(s.key, s.transaction_count, s.first_seen, s.backends_seen) for s in report.sessions] == [
        (s.key, s.transaction_count, s.first_seen, s.backends_seen) for s in full.sessions
    ]


def test_a_broken_input_is_an_input_error_on_several_processes(tmp_path: Path) -> None:
    from stickyforensics.errors import StickyError

    bad = tmp_path / "broken.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 10)
    with pytest.raises(StickyError) as one:
        analyze([str(bad)], Config())
    with pytest.raises(StickyError) as two:
        analyze([str(bad)], Config(), jobs=2)
    assert str(two.value) == str(one.value)
