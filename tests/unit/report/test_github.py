"""GitHub workflow-command reporter: format, levels, and the toolkit's escaping rules."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from stickyforensics.model import Severity
from stickyforensics.report.github import escape_data, escape_property, render_github
from stickyforensics.report.redact import Redactor
from tests.unit.report import builders as b

LINE = re.compile(r"^::(error|warning|notice) file=([^,:]*),title=([^,:]*)::(.*)$")


def _gh(report, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    kw.setdefault("redactor", Redactor(b"k"))
    return render_github(report, **kw).splitlines()


def _unescape(text: str) -> str:
    for enc, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(enc, raw)
    return text


def test_one_annotation_per_finding() -> None:
    lines = _gh(b.broken())
    assert len(lines) == 5
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed)
    levels = [m.group(1) for m in parsed if m]
    assert levels == ["error", "error", "error", "warning", "notice"]
    first = parsed[0]
    assert first is not None
    assert first.group(2) == "captures/browser user.har"
    assert _unescape(first.group(3)) == "SF304 A cached Set-Cookie was replayed to another user"
    missing = parsed[1]
    assert missing is not None
    assert "frames 28, 30" in missing.group(4)
    assert "Wireshark filter: tcp.stream eq 5 && http" in missing.group(4)
    assert "client 10.0.0.1" in missing.group(4)


@pytest.mark.parametrize(
    ("fail_on", "levels"),
    [
        (Severity.CRITICAL, ["error", "warning", "warning", "warning", "notice"]),
        (Severity.LOW, ["error", "error", "error", "error", "error"]),
    ],
)
def test_levels_follow_fail_on(fail_on: Severity, levels: list[str]) -> None:
    assert [line.split(" ", 1)[0][2:] for line in _gh(b.broken(), fail_on=fail_on)] == levels


def test_escaping_rules() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_injection_cannot_start_a_command() -> None:
    report = b.broken()
    evil = replace(
        report.findings[1],
        message="x\n::add-mask::secret\r\n::stop-commands::tok 50%",
        input="a,b:c.pcap\n::error::",
        title="t,i:tle\n::warning::",
    )
    lines = _gh(replace(report, findings=(evil,)))
    assert len(lines) == 1
    m = LINE.match(lines[0])
    assert m is not None
    assert _unescape(m.group(2)) == "a,b:c.pcap ::error::"
    assert "::add-mask::" in m.group(4) and "50%25" in m.group(4)


def test_hostile_and_no_secrets() -> None:
    lines = _gh(b.hostile())
    assert len(lines) == 1 and LINE.match(lines[0])
    assert "\u202e" not in lines[0] and "\x1b" not in lines[0]
    for secret in b.ALL_SECRETS:
        assert all(secret not in line for line in _gh(b.broken()))


def test_no_findings_gives_a_verdict_notice() -> None:
    assert _gh(b.healthy()) == [
        "::notice title=stickyforensics%3A Sessions stayed sticky::No stickiness anomalies: 1 client(s) kept their "
        "sessions."
    ]
    (line,) = _gh(b.absent())
    assert line.startswith("::warning file=sanitized.har,title=SF001 ")
