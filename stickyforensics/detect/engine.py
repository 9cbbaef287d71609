"""Run the rules over an analysis inside an error boundary; attach severities, sort."""

from __future__ import annotations

import traceback
from dataclasses import replace

from stickyforensics.config import Config
from stickyforensics.detect.context import DetectContext
from stickyforensics.detect.detectors import DETECTORS, detector_runs_in
from stickyforensics.detect.rule import Rule
from stickyforensics.detect.set_cookie_digest import SetCookieDigest
from stickyforensics.errors import RuleLoadError
from stickyforensics.gc_pause import gc_paused
from stickyforensics.model import ClientSession, Finding, InputSummary, RuleRun, finding_sort_key


def _run(base: dict[str, str], status: str, *, findings: int = 0, reason: str | None = None) -> RuleRun:
    return RuleRun(
        code=base["code"],
        name=base["name"],
        kind=base["kind"],
        title=base["title"],
        category=base["category"],
        status=status,
        findings=findings,
        reason=reason,
    )


def check_detectors(rules: tuple[Rule, ...]) -> None:
    for rule in rules:
        if rule.detector not in DETECTORS:
            raise RuleLoadError(f"{rule.path}: unknown detector {rule.detector!r}")


def run_rules(
    rules: tuple[Rule, ...],
    sessions: tuple[ClientSession, ...],
    inputs: tuple[InputSummary, ...],
    config: Config,
    *,
    scope: str = "all",
    digest: SetCookieDigest | None = None,
) -> tuple[tuple[Finding, ...], tuple[RuleRun, ...]]:
    """Findings (sorted) and how each rule fared. A crashing detector becomes an ``errored`` run.

    ``scope``: ``all``; or, with ``--jobs``, ``session`` (the checks of one client at a time, in the
    process that owns the clients) and ``global`` (the checks across clients, once); a rule with no
    work in the scope reports ``ran`` with no findings, and ``merge_rule_runs`` combines the runs.
    ``digest``: the merged ``Set-Cookie`` digest of the workers (``global``: ``sessions`` are then
    views that no longer hold the events it digests).
    """
    with gc_paused():  # the rules build many small acyclic objects (see ``gc_paused``)
        return _run_rules(rules, sessions, inputs, config, scope, digest)


def _run_rules(
    rules: tuple[Rule, ...],
    sessions: tuple[ClientSession, ...],
    inputs: tuple[InputSummary, ...],
    config: Config,
    scope: str,
    digest: SetCookieDigest | None,
) -> tuple[tuple[Finding, ...], tuple[RuleRun, ...]]:
    check_detectors(rules)
    ctx = DetectContext(sessions, inputs, config, scope=scope, digest=digest)
    formats = {s.format for s in inputs}
    findings: list[Finding] = []
    runs: list[RuleRun] = []
    for rule in rules:
        base: dict[str, str] = {
            "code": rule.code,
            "name": rule.name,
            "kind": rule.kind,
            "title": rule.title,
            "category": rule.category,
        }
        if rule.code in config.disabled_rules or rule.name in config.disabled_rules or rule.status == "deprecated":
            runs.append(_run(base, "skipped", reason="disabled by configuration"))
            continue
        if formats and not any(rule.applies(f) for f in formats):
            runs.append(_run(base, "skipped", reason=f"does not apply to {', '.join(sorted(formats))} input"))
            continue
        if not detector_runs_in(rule.detector, scope):
            runs.append(_run(base, "ran"))
            continue
        try:
            found = DETECTORS[rule.detector](ctx, rule)
        except Exception as exc:  # the error boundary: one broken rule must not hide the others
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            runs.append(_run(base, "errored", reason=tb))
            continue
        override = config.severity_for(rule.code, rule.severity)
        if override != rule.severity:
            found = [replace(f, severity=override) for f in found]
        findings.extend(found)
        runs.append(_run(base, "ran", findings=len(found)))
    findings.sort(key=finding_sort_key)
    return tuple(findings), tuple(runs)


def merge_rule_runs(parts: list[tuple[RuleRun, ...]]) -> tuple[RuleRun, ...]:
    """One run per rule from the runs of several processes (same rules, same order): errored if
    any errored, skipped if all skipped, else ran with the findings added up."""
    merged = []
    for runs in zip(*parts, strict=True):
        errored = [r for r in runs if r.status == "errored"]
        if errored:
            merged.append(errored[0])
        elif all(r.status == "skipped" for r in runs):
            merged.append(runs[0])
        else:
            ran = [r for r in runs if r.status == "ran"]
            merged.append(replace(ran[0], findings=sum(r.findings for r in ran)))
    return tuple(merged)
