"""Input-level rules: inputs whose cookie data was stripped, TLS that could not be read."""

from __future__ import annotations

from stickyforensics.detect.context import DetectContext, make_finding
from stickyforensics.detect.rule import Rule
from stickyforensics.model import Finding


def cookie_data_absent(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out = []
    for summary in ctx.inputs:
        if summary.cookie_data == "present" or (summary.transactions == 0 and summary.cookie_data != "absent"):
            continue
        reasons = [d.message for d in summary.diagnostics if "cookie" in d.code or d.code.startswith("tls.")]
        client = next((s.key.value for s in ctx.sessions if summary.path in s.inputs), "*")
        state = "absent" if summary.cookie_data == "absent" else "partly redacted"
        reason = reasons[0] if reasons else ""
        for prefix in (
            "cookie data absent: stickiness cannot be judged: ",
            "cookie data absent: stickiness cannot be judged",
        ):
            reason = reason.removeprefix(prefix)
        out.append(
            make_finding(
                rule,
                message=f"cookie data {state}: stickiness cannot be judged from {summary.path}"
                + (f": {reason}" if reason else ""),
                input=summary.path,
                client=client,
                first_seen=summary.first_time or 0.0,
                last_seen=summary.last_time or 0.0,
                details=[("cookie_data", summary.cookie_data)],
            )
        )
    return out


def tls_not_decrypted(ctx: DetectContext, rule: Rule) -> list[Finding]:
    out = []
    for summary in ctx.inputs:
        for diag in summary.diagnostics:
            if diag.code == "tls.not_decrypted":
                out.append(
                    make_finding(
                        rule,
                        message=diag.message,
                        input=summary.path,
                        client="*",
                        first_seen=summary.first_time or 0.0,
                        last_seen=summary.last_time or 0.0,
                    )
                )
    return out
