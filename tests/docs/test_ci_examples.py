"""The commands docs/ci.md shows, run as a CI job would run them: exit codes, JUnit and SARIF files that
validate against their schemas, GitHub annotations, baselines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
# the bundled samples are real recordings from the lab (samples/README.md)
RECORDED = REPO / "samples" / "backend_killed_redispatch" / "capture.pcap"
CLEAN = REPO / "samples" / "healthy_haproxy" / "capture.pcap"


def sf(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stickyforensics", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_docs_mention_every_command_tested_here() -> None:
    text = (REPO / "docs" / "ci.md").read_text()
    for snippet in (
        "--format junit",
        "--format sarif",
        "--format github",
        "--baseline",
        "--write-baseline",
        "--exit-zero",
        "assert_sticky",
    ):
        assert snippet in text


def test_check_junit_fails_the_build_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "stickyforensics-junit.xml"
    proc = sf("check", str(RECORDED), "--format", "junit", "-o", str(out), "--fail-on", "high")
    assert proc.returncode == 1
    assert "broken" in proc.stdout + proc.stderr  # the human summary explains the failure
    lxml = pytest.importorskip("lxml.etree")
    schema = lxml.XMLSchema(lxml.parse(str(REPO / "docs" / "schemas" / "junit.xsd")))
    doc = lxml.parse(str(out))
    assert schema.validate(doc), schema.error_log
    assert doc.findall(".//testcase/failure")


def test_check_sarif_validates(tmp_path: Path) -> None:
    out = tmp_path / "stickyforensics.sarif"
    proc = sf("check", str(RECORDED), "--format", "sarif", "-o", str(out), "--exit-zero")
    assert proc.returncode == 0
    schema = json.loads((REPO / "docs" / "schemas" / "sarif-2.1.0.json").read_text())
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, schema)
    assert doc["runs"][0]["results"]


def test_github_annotations_and_clean_input() -> None:
    proc = sf("check", str(RECORDED), "--format", "github", "--fail-on", "high")
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error ")
    assert sf("check", str(CLEAN), "--format", "github").returncode == 0


def test_baseline_suppresses_known_findings(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert sf("analyze", str(RECORDED), "--write-baseline", str(baseline), "--exit-zero").returncode == 0
    proc = sf("check", str(RECORDED), "--baseline", str(baseline), "--fail-on", "low")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_expectations_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.stickyforensics.expectations]\nsingle_backend_per_client = true\n", encoding="utf-8"
    )
    proc = sf(
        "check", str(REPO / "tests" / "rules" / "SF601" / "positive-two-backends.har"), "--format", "json", cwd=tmp_path
    )
    assert proc.returncode == 1
    kinds = {f["kind"] for f in json.loads(proc.stdout)["findings"]}
    assert "expectation_violated" in kinds


def _python_blocks() -> list[str]:
    text = (REPO / "docs" / "ci.md").read_text()
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_the_python_api_examples_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python block of docs/ci.md, run on the samples; the one with ``jobs=2`` on groups of 60 kB of
    capture, so its report is made of summaries: its SARIF must be one process's."""
    import stickyforensics
    from stickyforensics.report.redact import Redactor
    from stickyforensics.report.sarif import render_sarif

    real = stickyforensics.analyze
    samples = [str(p) for p in sorted((REPO / "samples").rglob("*")) if p.suffix in (".pcap", ".har")]
    calls: list[dict[str, object]] = []

    def on_samples(_paths: list[str], config: object = None, **options: object) -> object:
        calls.append(options)
        if options.get("jobs", 1) != 1:
            options["shard_bytes"] = 60_000
        return real(samples, config, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(stickyforensics, "analyze", on_samples)  # what `from stickyforensics import analyze` gets
    blocks = _python_blocks()
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}  # one page: a later block uses what an earlier one defined
    for block in blocks:
        exec(block, namespace)
    assert len(calls) == 2 and calls[-1].get("cited") is not None  # the assert_sticky block defines a test
    printed = capsys.readouterr().out
    one = render_sarif(real(samples, shard_bytes=0), redactor=Redactor(b"a key of your own"))
    assert printed.endswith(one + "\n")
