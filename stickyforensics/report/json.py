"""The JSON report: a stable, versioned contract (schema: docs/schema/report.schema.json).

Deterministic: findings sorted, no run timestamp, times from the capture, secrets redacted
(keyed pseudonyms, equal values stay equal) unless the redactor reveals them.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Any, TextIO

from stickyforensics.model import AnalysisReport, ClientSession, Evidence, Finding, Severity
from stickyforensics.report.json_text import LazyList, dump_indented
from stickyforensics.report.redact import Redactor, redacted_report
from stickyforensics.report.verdict import verdict

TOOL_NAME = "stickyforensics"


def _evidence(ev: Evidence, redactor: Redactor) -> dict[str, Any]:
    return {
        "input": ev.input,
        "frame": ev.frame,
        "frames": list(ev.frames),
        "har_entry": ev.har_entry,
        "tcp_stream": ev.tcp_stream,
        "wireshark_filter": ev.wireshark_filter,
        "time": round(ev.time, 6),
        "summary": ev.summary,
        "role": ev.role,
        "transaction": ev.transaction_id,
        "excerpts": [redactor.excerpt(line) for line in ev.excerpts],
    }


def finding_dict(f: Finding, redactor: Redactor) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "rule_name": f.rule_name,
        "kind": f.kind,
        "title": f.title,
        "severity": f.severity.label,
        "confidence": f.confidence.value,
        "input": f.input,
        "client": f.client,
        "clients": list(f.clients),
        "cookie": f.cookie,
        "message": f.message,
        "root_cause": f.root_cause,
        "remediation": f.remediation,
        "first_seen": round(f.first_seen, 6),
        "last_seen": round(f.last_seen, 6),
        "fingerprint": f.fingerprint,
        "details": [{"key": k, "value": v} for k, v in f.details],
        "evidence": [_evidence(e, redactor) for e in f.evidence],
    }


def client_dict(s: ClientSession) -> dict[str, Any]:
    cookies = []
    for name, info in s.persistence_cookies:
        cookies.append(
            {
                "name": name,
                "family": info.family,
                "vendor": info.vendor,
                "role": info.role.value,
                "status": info.status,
                "backend": info.backend if info.status == "decoded" else None,
                "datacenter": info.datacenter,
                "decoded": dict(info.decoded),
            }
        )
    return {
        "client": s.key.value,
        "identity": s.key.strategy,
        "input": s.inputs[0] if s.inputs else None,
        "inputs": list(s.inputs),
        "transactions": s.transaction_count,
        "first_seen": round(s.first_seen, 6) if s.first_seen is not None else None,
        "last_seen": round(s.last_seen, 6) if s.last_seen is not None else None,
        "backends": list(s.backends_seen),
        "persistence_cookies": cookies,
        "cookie_data": s.cookie_data,
    }


def report_dict(report: AnalysisReport, redactor: Redactor, fail_on: Severity = Severity.HIGH) -> dict[str, Any]:
    """The report as JSON data; its ``clients`` and ``findings`` are ``LazyList``s, made as they are written."""
    report = redacted_report(report, redactor)
    counts = Counter(f.severity.label for f in report.findings)
    status, sentence = verdict(report)
    cookies = sorted({name for s in report.sessions for name, _ in s.persistence_cookies})
    backends = sorted({b for s in report.sessions for b in s.backends_seen})
    return {
        "schema_version": report.schema_version,
        "tool": {"name": TOOL_NAME, "version": report.tool_version},
        "summary": {
            "verdict": status,
            "verdict_text": sentence,
            "inputs": len(report.inputs),
            "clients": len(report.sessions),
            "transactions": sum(i.transactions for i in report.inputs),
            "findings": len(report.findings),
            "by_severity": {sev.label: counts.get(sev.label, 0) for sev in Severity},
            "fail_on": fail_on.label,
            "failing": sum(1 for f in report.findings if f.severity >= fail_on),
            "persistence_cookies": cookies,
            "backends": backends,
        },
        "inputs": [
            {
                "path": i.path,
                "format": i.format,
                "engine": i.engine,
                "transactions": i.transactions,
                "clients": i.clients,
                "cookie_data": i.cookie_data,
                "first_time": i.first_time,
                "last_time": i.last_time,
                "diagnostics": [
                    {
                        "code": d.code,
                        "level": d.level.value,
                        "message": d.message,
                        "position": d.position,
                        "count": d.count,
                    }
                    for d in i.diagnostics
                ],
            }
            for i in report.inputs
        ],
        "clients": LazyList(report.sessions, client_dict),
        "findings": LazyList(report.findings, lambda f: finding_dict(f, redactor)),
        "rule_runs": [
            {
                "code": r.code,
                "name": r.name,
                "kind": r.kind,
                "category": r.category,
                "status": r.status,
                "findings": r.findings,
                "reason": r.reason,
            }
            for r in report.rule_runs
        ],
    }


def render_json(report: AnalysisReport, *, redactor: Redactor, fail_on: Severity = Severity.HIGH) -> str:
    out = io.StringIO()
    write_json_payload(report_dict(report, redactor, fail_on), out)
    return out.getvalue()


def write_json_payload(payload: dict[str, Any], fh: TextIO) -> None:
    """``render_json``'s text, written piece by piece: ``json.dumps`` of a large report holds every piece
    in a list before joining them (about 5x the text: 107 MiB for a 20 MB report)."""
    dump_indented(payload, fh)  # json.dump's text, twice as fast (report.json_text)
    fh.write("\n")
