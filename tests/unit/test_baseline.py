from __future__ import annotations

import json
from pathlib import Path

import pytest

from stickyforensics.baseline import apply_baseline, read_baseline, write_baseline
from stickyforensics.config import Config
from stickyforensics.errors import InputError
from stickyforensics.pipeline import analyze

FIXTURE = Path(__file__).resolve().parents[1] / "rules" / "SF302" / "positive-redispatch.har"


def test_baseline_round_trip_suppresses_known_findings(tmp_path: Path) -> None:
    report = analyze([str(FIXTURE)], Config())
    assert report.findings
    path = tmp_path / "baseline.json"
    write_baseline(report, str(path))
    filtered, suppressed = apply_baseline(analyze([str(FIXTURE)], Config()), read_baseline(str(path)))
    assert suppressed == len(report.findings) and not filtered.findings


def test_fingerprint_ignores_frames_and_times() -> None:
    from dataclasses import replace

    f = analyze([str(FIXTURE)], Config()).findings[0]
    moved = replace(f, first_seen=f.first_seen + 3600, last_seen=f.last_seen + 3600, evidence=())
    assert moved.fingerprint == f.fingerprint


def test_json_report_works_as_baseline(tmp_path: Path) -> None:
    report = analyze([str(FIXTURE)], Config())
    doc = {"findings": [{"fingerprint": f.fingerprint} for f in report.findings]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(doc))
    assert read_baseline(str(path)) == {f.fingerprint for f in report.findings}


@pytest.mark.parametrize("content", ["not json", '{"x": 1}'])
def test_bad_baseline_is_input_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(InputError, match=r"b\.json"):
        read_baseline(str(path))
