"""The terminal report draws the first clients' findings in full and the rest one line each."""

from __future__ import annotations

from dataclasses import replace

from stickyforensics.model import Severity
from stickyforensics.report.redact import Redactor
from stickyforensics.report.terminal import CLIENT_GROUPS_SHOWN, COMPACT_ROWS, render_text
from tests.unit.report import builders as b


def _report(clients: int, message: str = "m") -> object:
    report = b.large(clients=clients, busy=3)
    findings = tuple(
        b.finding("SF302", severity=Severity.HIGH, client=s.key.value, message=f"{message} {i}")
        for i, s in enumerate(report.sessions)
    )
    return replace(report, findings=findings)


def test_a_few_clients_are_drawn_in_full() -> None:
    text = render_text(_report(5), redactor=Redactor(b"k"))  # type: ignore[arg-type]
    assert text.count("Client ") == 5 and "more finding(s)" not in text


def test_many_clients_become_one_line_each_then_a_count() -> None:
    clients = CLIENT_GROUPS_SHOWN + COMPACT_ROWS + 25
    text = render_text(_report(clients), redactor=Redactor(b"k"))  # type: ignore[arg-type]
    assert text.count("Client ") == CLIENT_GROUPS_SHOWN
    assert f"{clients - CLIENT_GROUPS_SHOWN} more finding(s) of {clients - CLIENT_GROUPS_SHOWN} more client(s)" in text
    rows = [line for line in text.splitlines() if line.startswith("  high     SF302 ")]
    assert len(rows) == COMPACT_ROWS and all(len(line) <= 110 for line in rows)
    assert text.rstrip().endswith("25 more: every finding is in --format json and html")


def test_one_line_rows_are_cleaned_of_control_characters() -> None:
    report = _report(CLIENT_GROUPS_SHOWN + 2, message="\x1b[2J\x07bell")
    text = render_text(report, redactor=Redactor(b"k"))  # type: ignore[arg-type]
    assert "\x1b" not in text and "\x07" not in text
