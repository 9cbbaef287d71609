"""Helpers for a team's own tests: assert that recorded traffic (a Playwright HAR, a tcpdump) is sticky.

from stickyforensics.testing import assert_sticky

def test_checkout_stays_on_one_backend(recorded_har):
    assert_sticky([recorded_har], persistence_cookie="SERVERID")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from stickyforensics.config import Config, Expectations
from stickyforensics.model import AnalysisReport, Finding, Severity
from stickyforensics.pipeline import analyze
from stickyforensics.report.verdict import STICKINESS_KINDS


class StickinessError(AssertionError):
    """Raised by ``assert_sticky``; carries the report for further inspection."""

    def __init__(self, message: str, report: AnalysisReport, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.report = report
        self.findings = tuple(findings)


def assert_sticky(
    paths: Sequence[str],
    config: Config | None = None,
    *,
    persistence_cookie: str | None = None,
    single_backend_per_client: bool = False,
    fail_on: Severity = Severity.MEDIUM,
) -> AnalysisReport:
    """Analyze ``paths`` and raise ``StickinessError`` listing every stickiness finding at or above ``fail_on``
    (and every violated expectation). Returns the report when the traffic is sticky."""
    cfg = config or Config()
    if persistence_cookie or single_backend_per_client:
        exp = replace(
            cfg.expectations,
            persistence_cookie=persistence_cookie or cfg.expectations.persistence_cookie,
            single_backend_per_client=single_backend_per_client or cfg.expectations.single_backend_per_client,
        )
        cfg = replace(cfg, expectations=exp)
    report = analyze(list(paths), cfg)
    bad = [
        f
        for f in report.findings
        if f.severity >= fail_on and (f.kind in STICKINESS_KINDS or f.kind == "expectation_violated")
    ]
    if bad:
        lines = [f"{len(bad)} stickiness finding(s):"]
        for f in bad:
            where = ", ".join(
                f"entry {e.har_entry}" if e.har_entry is not None else f"frame {e.frame}" for e in f.evidence[:3]
            )
            lines.append(f"  {f.rule} {f.kind} [{f.client}] {f.message} ({where})")
        raise StickinessError("\n".join(lines), report, bad)
    return report


def assert_expectations(
    paths: Sequence[str], expectations: Expectations, config: Config | None = None
) -> AnalysisReport:
    """Like ``assert_sticky`` with declared expectations."""
    cfg = replace(config or Config(), expectations=expectations)
    return assert_sticky(paths, cfg)
