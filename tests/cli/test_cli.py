"""The CLI as a user runs it: exit codes, one-line errors, formats, the JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from stickyforensics.cli.app import app

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "tests" / "rules"
SCHEMA = json.loads((REPO / "docs" / "schema" / "report.schema.json").read_text())
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"STICKYFORENSICS_REDACTION_KEY": "test"})
    return result.exit_code, result.stdout, result.stderr


def test_findings_at_fail_on_exit_1_and_json_validates() -> None:
    code, out, _ = run("analyze", str(RULES / "SF301" / "positive-dotfile-upload.har"), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    kinds = {f["kind"] for f in doc["findings"]}
    assert "missing_cookie" in kinds
    finding = next(f for f in doc["findings"] if f["kind"] == "missing_cookie")
    assert finding["client"] == "positive-dotfile-upload.har"
    assert finding["evidence"] and finding["evidence"][0]["har_entry"] is not None


def test_clean_input_exits_0() -> None:
    code, out, _ = run("analyze", str(RULES / "SF301" / "negative-all-sent.har"))
    assert code == 0, out
    assert "sticky" in out


def test_exit_zero_and_fail_on() -> None:
    path = str(RULES / "SF301" / "positive-dotfile-upload.har")
    assert run("analyze", path, "--exit-zero")[0] == 0
    assert run("analyze", path, "--fail-on", "critical")[0] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"PK\x03\x04 zip data here", "not a pcap, pcapng or HAR", id="zip"),
        pytest.param(b'{"log": {"entries": [', "", id="truncated-json"),
        pytest.param(b'{"hello": 1}', "", id="not-a-har"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "input.har"
    if content is not None:
        path.write_bytes(content)
    code, _out, err = run("analyze", str(path))
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(path) in lines[0] and "Traceback" not in err
    assert expected.lower() in lines[0].lower()


def test_unknown_option_is_usage_error() -> None:
    assert run("analyze", "--format", "pdf", "x.har")[0] == 2


def test_secrets_are_redacted_unless_revealed() -> None:
    path = str(RULES / "SF301" / "positive-dotfile-upload.har")
    secret = "K3J2H4G5F6D7S8A9Q0W1E2R3"
    for fmt in ("json", "text"):
        _, out, _ = run("analyze", path, "--format", fmt)
        assert secret not in out
    _, out, _ = run("analyze", path, "--format", "json", "--reveal-secrets")
    assert secret in out


def test_output_is_deterministic() -> None:
    path = str(RULES / "SF304" / "positive-cache-replay")
    first = run("analyze", path, "--format", "json")[1]
    second = run("analyze", path, "--format", "json")[1]
    assert first == second


def test_rules_explain_decode() -> None:
    code, out, _ = run("rules")
    assert code == 0 and "SF301" in out and "missing_cookie" in out
    code, out, _ = run("explain", "SF301")
    assert code == 0 and "What it detects" in out and "How to fix" in out
    assert run("explain", "SF999")[0] == 2
    code, out, _ = run("decode", "BIGipServerweb=1677787402.20480.0000")
    assert code == 0 and "10.1.1.100:80" in out


def test_cookies_timeline() -> None:
    code, out, _ = run("cookies", str(RULES / "SF301" / "positive-dotfile-upload.har"))
    assert code == 0
    assert "MISSING" in out and "client_dropped" in out


def test_cookies_timeline_of_one_client_is_its_block_of_the_whole() -> None:
    """``--client`` rebuilds only the clients asked for (through the split path for large inputs): each
    one's block is the one the whole timeline prints."""
    samples = str(RULES.parent.parent / "samples")
    code, whole, _ = run("cookies", samples)
    assert code == 0
    blocks = ["== client " + block for block in whole.split("== client ")[1:]]
    assert len(blocks) > 2
    for block in blocks[:4]:
        name = block.split(" ", 3)[2]
        code, one, _ = run("cookies", samples, "--client", name)
        assert code == 0 and one == block, name
    code, _, err = run("cookies", samples, "--client", "192.0.2.254")
    assert code == 2 and "no client 192.0.2.254" in err


def test_help_does_not_import_scapy() -> None:
    code = "import sys; from stickyforensics.cli.app import app; print('scapy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.strip() == "False"


def test_the_progress_bar_follows_each_phase_total() -> None:
    from stickyforensics.cli.progress import StderrProgress

    bar = StderrProgress(delay=0)
    try:
        bar("splitting big.pcap by client (MB)", 0, 668)
        bar("splitting big.pcap by client (MB)", 300, 668)
        bar("analysing 1 input(s): 18 group(s) of clients on 2 process(es)", 3, 18)
        assert bar._progress is not None
        task = bar._progress.tasks[0]
        assert (task.completed, task.total) == (3, 18)
        assert task.description.startswith("analysing 1 input(s): 18 group(s)")  # the phase, not "reading"
        bar("reading [bold]x.har (MB)", 1, 2)  # a file name is not markup
        assert bar._progress.tasks[0].description == "reading \\[bold]x.har (MB)"
    finally:
        bar.close()


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_streamed_formats_write_what_the_renderer_gives(fmt: str, tmp_path: Path) -> None:
    """JSON and SARIF are written piece by piece (no whole text in memory): to a file or to stdout, the text is
    the library renderer's, byte for byte."""
    import hashlib

    from stickyforensics.config import Config
    from stickyforensics.pipeline import analyze
    from stickyforensics.report.redact import Redactor
    from stickyforensics.report.wanted import sessions_wanted

    sample = str(REPO / "samples" / "missing_cookie_dotfile")
    out = tmp_path / f"report.{fmt}"
    code, stdout, _ = run("analyze", sample, "--format", fmt, "--redaction-key", "k", "-o", str(out))
    assert code == 1
    code, stdout, _ = run("analyze", sample, "--format", fmt, "--redaction-key", "k")
    detail, cited = sessions_wanted(fmt)
    report = analyze([sample], Config(), detail=detail, cited=cited)
    redactor = Redactor(hashlib.sha256(b"k").digest())
    if fmt == "json":
        from stickyforensics.report.json import render_json

        expected = render_json(report, redactor=redactor)
    else:
        from stickyforensics.cli.app import _rule_docs
        from stickyforensics.report.sarif import render_sarif

        expected = render_sarif(report, redactor=redactor, rule_docs=_rule_docs())
    assert out.read_text(encoding="utf-8") == expected
    assert stdout == expected
