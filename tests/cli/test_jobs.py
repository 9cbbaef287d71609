"""``--jobs``: automatic choice, and the same output as one process from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stickyforensics.cli.app import app, auto_jobs
from stickyforensics.ingest.har_split import SPLIT_MIN_BYTES

ROOT = Path(__file__).resolve().parents[2]
RUNNER = CliRunner()


def test_small_inputs_run_in_one_process() -> None:
    assert auto_jobs([str(p) for p in (ROOT / "samples").rglob("*.pcap")]) == 1


def test_captures_from_20_mb_in_all_run_on_every_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # They are split by client from that size on in any case (sharded.SHARD_BYTES): every core takes a share.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    header = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")  # pcap, Ethernet
    for name, size in (("a.pcap", 12_000_000), ("b.pcap", 7_999_000)):
        with open(tmp_path / name, "wb") as fh:
            fh.write(header)
            fh.truncate(size)
    assert auto_jobs([str(tmp_path / "a.pcap")]) == 1
    assert auto_jobs([str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")]) == 1
    with open(tmp_path / "b.pcap", "r+b") as fh:
        fh.truncate(8_000_000)
    assert auto_jobs([str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")]) == 2


def test_one_large_har_is_read_by_two_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One HAR is one client, but its two halves of entries can be read apart (ingest.har_split).
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    har = tmp_path / "big.har"
    har.write_bytes(b'{"log": {"version": "1.2", "entries": []}}' + b" " * SPLIT_MIN_BYTES)
    assert auto_jobs([str(har)]) == 2
    har.write_bytes(b'{"log": {"version": "1.2", "entries": []}}')
    assert auto_jobs([str(har)]) == 1


def test_a_lone_har_with_jobs_is_read_in_two_halves_not_sharded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stickyforensics.ingest import har_split
    from stickyforensics.pipeline import analyze
    from stickyforensics.track import sessions

    monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 0)
    calls: list[object] = []
    real = har_split.read_split

    def spy(*args: object) -> object:
        calls.append(result := real(*args))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr("stickyforensics.ingest.har.read_split", spy)
    path = str(ROOT / "samples" / "browser_har" / "browser-sticky.har")
    one = analyze([path], jobs=1)
    tracked_after: list[object] = []
    real_timeline = sessions.cookie_timeline
    monkeypatch.setattr(sessions, "cookie_timeline", lambda *a, **k: tracked_after.append(1) or real_timeline(*a, **k))
    two = analyze([path], jobs=2)
    assert calls and calls[0] is not None
    assert not tracked_after  # tracked while the halves came (track.early), not after
    assert one == two


def test_cli_output_is_the_same_with_two_jobs(tmp_path: Path) -> None:
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"report-{jobs}.json"
        result = RUNNER.invoke(app, ["analyze", str(ROOT / "samples"), "-j", jobs, "-f", "json", "-o", str(out)])
        assert result.exit_code in (0, 1), result.output
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1]


def test_streamed_json_is_render_json(tmp_path: Path) -> None:
    """The CLI writes JSON piece by piece; the bytes are render_json's."""
    from stickyforensics.config import Config
    from stickyforensics.pipeline import analyze
    from stickyforensics.report.json import render_json
    from stickyforensics.report.redact import Redactor

    out = tmp_path / "report.json"
    key = "k" * 16
    result = RUNNER.invoke(
        app, ["analyze", str(ROOT / "samples"), "-f", "json", "-o", str(out), "--redaction-key", key]
    )
    assert result.exit_code in (0, 1), result.output
    import hashlib

    redactor = Redactor(hashlib.sha256(key.encode()).digest())
    assert out.read_text(encoding="utf-8") == render_json(analyze([str(ROOT / "samples")], Config()), redactor=redactor)


@pytest.mark.parametrize("fmt", ["markdown", "html", "sarif", "junit"])
def test_with_a_baseline_two_jobs_give_what_one_gives(tmp_path: Path, fmt: str) -> None:
    """Regression: with ``--jobs`` a format asked for the transactions of the findings it would detail before
    the baseline took the known ones away, so the Markdown detailed findings whose rows then lost backend and
    cookies. What a format reads is now asked of the report as it is rendered."""
    users = tmp_path / "users"
    known = tmp_path / "known"
    users.mkdir()
    known.mkdir()
    fixture = (ROOT / "tests/rules/SF301/positive-dotfile-upload.har").read_bytes()
    for n in range(32):  # one HAR each: same findings, more than a Markdown report details
        (users / f"user{n:02d}.har").write_bytes(fixture)
        if n < 6:
            (known / f"user{n:02d}.har").write_bytes(fixture)
    baseline = tmp_path / "baseline.json"
    result = RUNNER.invoke(app, ["analyze", str(known), "--write-baseline", str(baseline), "-o", os.devnull])
    assert result.exit_code in (0, 1), result.output
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"report-{jobs}.{fmt}"
        argv = ["analyze", str(users), "-j", jobs, "-f", fmt, "--baseline", str(baseline), "-o", str(out)]
        result = RUNNER.invoke(app, [*argv, "--redaction-key", "k" * 16])
        assert result.exit_code in (0, 1), result.output
        outputs.append(out.read_text(encoding="utf-8"))
    assert "known finding(s) suppressed" in result.output
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("fmt", ["text", "json", "html", "markdown", "junit", "sarif", "github"])
def test_every_format_is_the_same_on_small_shards_from_the_command_line(tmp_path: Path, fmt: str) -> None:
    """The identity as a user meets it: the command line, each format asking for what it renders, on one
    process with no shards against two processes with 1 MB shards (every capture of the samples split)."""
    outputs = []
    for extra in (["-j", "1", "--shard-mb", "0"], ["-j", "2", "--shard-mb", "1"]):
        out = tmp_path / f"report-{extra[1]}.{fmt}"
        argv = ["analyze", str(ROOT / "samples"), "-f", fmt, "-o", str(out), "--redaction-key", "k" * 16, *extra]
        result = RUNNER.invoke(app, argv)
        assert result.exit_code in (0, 1), result.output
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
