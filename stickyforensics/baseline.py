"""Baselines: suppress known findings by a fingerprint that ignores frame numbers and times,
so the same issue in a new recording of the same system still matches."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from stickyforensics.errors import InputError
from stickyforensics.model import AnalysisReport

T = TypeVar("T")

BASELINE_VERSION = 1


def baseline_document(report: AnalysisReport) -> dict[str, Any]:
    return {
        "stickyforensics_baseline": BASELINE_VERSION,
        "findings": [
            {
                "fingerprint": f.fingerprint,
                "rule": f.rule,
                "kind": f.kind,
                "client": f.client,
                "cookie": f.cookie,
                "message": f.message,
            }
            for f in report.findings
        ],
    }


def write_baseline(report: AnalysisReport, path: str) -> None:
    try:
        Path(path).write_text(json.dumps(baseline_document(report), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot write the baseline: {exc.strerror}") from None


def read_baseline(path: str) -> set[str]:
    """Fingerprints from a baseline file, or from a JSON report (``--format json``) used as one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "baseline file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"baseline is not JSON: {exc.msg}", position=f"line {exc.lineno} column {exc.colno}"
        ) from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise InputError(path, "not a stickyforensics baseline or JSON report (no 'findings' list)")
    prints = {f.get("fingerprint") for f in findings if isinstance(f, dict)}
    return {p for p in prints if isinstance(p, str)}


def apply_baseline(report: AnalysisReport, fingerprints: set[str]) -> tuple[AnalysisReport, int]:
    """The report without the findings already known; and how many were suppressed."""
    kept = tuple(f for f in report.findings if f.fingerprint not in fingerprints)
    suppressed = len(report.findings) - len(kept)
    stats = (*report.stats, ("suppressed_by_baseline", suppressed))
    return replace(report, findings=kept, stats=stats), suppressed


def asked_after_baseline(
    ask: Callable[[AnalysisReport], T] | None, fingerprints: set[str] | None
) -> Callable[[AnalysisReport], T] | None:
    """``ask`` (what a format renders of a report: ``report.wanted``) put to the report as it will be
    rendered, without the findings the baseline knows: the detailed findings and the lanes are chosen
    among those that remain, and with ``--jobs`` what they read must be loaded for them."""
    if ask is None or not fingerprints:
        return ask
    known = fingerprints
    return lambda report: ask(apply_baseline(report, known)[0])
