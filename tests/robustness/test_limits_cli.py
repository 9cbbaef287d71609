"""Limits seen from the command line: a crafted file small on disk gives a diagnostic in the report and the
rest is analysed, or, when nothing in it is usable, exit 2 with one line naming the file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stickyforensics.cli.app import app
from tests.unit.ingest.bombs import MIB, bomb
from tests.unit.reconstruct.tcpbuild import Conversation, write_pcap

runner = CliRunner()
ENTRY = json.dumps(
    {
        "startedDateTime": "2024-03-01T10:00:00Z",
        "time": 5,
        "request": {"method": "GET", "url": "http://app.example/", "headers": [{"name": "Cookie", "value": "s=1"}]},
        "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "s=1"}]},
    }
).encode()
START = b'{"log": {"version": "1.2", "entries": ['


def analyze(*paths: Path) -> tuple[int, dict[str, object] | None, str]:
    result = runner.invoke(
        app, ["analyze", *map(str, paths), "--format", "json"], env={"STICKYFORENSICS_REDACTION_KEY": "k"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    report = json.loads(result.stdout) if result.exit_code in (0, 1) else None
    return result.exit_code, report, result.stderr


def codes(report: dict[str, object] | None) -> dict[str, list[str]]:
    assert report is not None
    inputs = report["inputs"]
    assert isinstance(inputs, list)
    return {Path(i["path"]).name: [d["code"] for d in i["diagnostics"]] for i in inputs}


def test_har_bomb_after_entries_is_reported_and_the_other_inputs_analysed(tmp_path: Path) -> None:
    bombed = tmp_path / "bombed.har.bz2"
    bombed.write_bytes(bomb("bzip2", START + ENTRY + b", ", b" " * MIB, 70, b"{}]}}"))
    deep = tmp_path / "deep.har"
    deep.write_bytes(START + ENTRY + b", " + b"[" * 5000 + b"]" * 5000 + b"]}}")
    good = tmp_path / "good.har"
    good.write_bytes(START + ENTRY + b"]}}")
    exit_code, report, _ = analyze(bombed, deep, good)
    assert exit_code in (0, 1)
    found = codes(report)
    assert "har.limit_exceeded" in found["bombed.har.bz2"] and "har.limit_exceeded" in found["deep.har"]
    assert "har.limit_exceeded" not in found["good.har"]
    assert report is not None and report["summary"]["transactions"] == 3  # type: ignore[index]


def test_har_bomb_with_nothing_usable_is_exit_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "only-bomb.har.xz"
    path.write_bytes(bomb("xz", START, b" " * MIB, 70, b"]}}"))
    assert path.stat().st_size < 64 * 1024
    exit_code, _, stderr = analyze(path)
    assert exit_code == 2
    line = stderr.strip()
    assert "\n" not in line and str(path) in line and "decompression bomb" in line


def test_http1_limits_reach_the_report(tmp_path: Path) -> None:
    c = Conversation()
    c.handshake()
    fields = b"".join(b"x%d: v\r\n" % i for i in range(1500))
    c.send(b"GET /many HTTP/1.1\r\nHost: app.example\r\n" + fields + b"\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n")
    c.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" * 2)
    c.close()
    exit_code, report, _ = analyze(write_pcap(tmp_path / "many-headers.pcap", c.segments))
    assert exit_code in (0, 1)
    assert "http.too_many_headers" in codes(report)["many-headers.pcap"]
    assert report is not None and report["summary"]["transactions"] == 2  # type: ignore[index]
