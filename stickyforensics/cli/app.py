"""The command line: the composition root. Maps outcomes to exit codes (0 clean, 1 findings, 2 errors).

Every error a user can cause (missing file, unknown format, broken HAR, bad option, bad configuration)
is one line on stderr naming the file and position, and exit code 2 — never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stickyforensics import __version__
from stickyforensics.cli.options import (
    KEY_ENV,
    ConfigOpt,
    Engine,
    EngineOpt,
    KeylogOpt,
    PCookieOpt,
    SCookieOpt,
)
from stickyforensics.cli.options import fail as _fail
from stickyforensics.cli.sanitize_cmd import register as register_sanitize
from stickyforensics.errors import StickyError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from stickyforensics.model import AnalysisReport, ClientSession

app = typer.Typer(
    name="stickyforensics",
    help="Find out why users of load-balanced web applications are randomly logged out (pcap, pcapng, HAR).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    text = "text"
    json = "json"
    html = "html"
    markdown = "markdown"
    junit = "junit"
    sarif = "sarif"
    github = "github"


def _redaction_key(files: list[str], explicit: str | None) -> bytes:
    """A key that is stable for the same inputs (deterministic output) and unknown to report readers:
    it is derived from the inputs' own bytes, which the reader of a redacted report does not have."""
    if explicit:
        return hashlib.sha256(explicit.encode()).digest()
    env = os.environ.get(KEY_ENV)
    if env:
        return hashlib.sha256(env.encode()).digest()
    digest = hashlib.sha256(b"stickyforensics-redaction-v1")
    for path in files:
        try:
            with open(path, "rb") as fh:
                digest.update(fh.read(1 << 20))
            digest.update(str(os.path.getsize(path)).encode())
        except OSError:
            digest.update(path.encode())
    return digest.digest()


def _rule_docs() -> dict[str, Any]:
    from stickyforensics.detect.catalog import load_rules
    from stickyforensics.report.common import RuleDoc

    return {
        r.code: RuleDoc(
            code=r.code,
            name=r.name,
            title=r.title,
            kind=r.kind,
            category=r.category,
            severity=r.severity,
            summary=r.summary,
            why=r.why,
            example=r.example,
            what_to_check=r.what_to_check,
            remediation=r.remediation,
            falsepositives=r.falsepositives,
            references=r.references,
        )
        for r in load_rules()
    }


def _write_report(fh: Any, text: str | None, payload: dict[str, Any] | None) -> None:
    if payload is not None:
        from stickyforensics.report.json import write_json_payload

        write_json_payload(payload, fh)
    else:
        fh.write(text or "")


STREAMED_FORMATS = frozenset({Format.json, Format.sarif})
"""Formats written piece by piece from their document (``_document``): building the whole text first costs
about 5x its size in memory (``json.dumps`` joins every piece at the end)."""


def _document(report: Any, fmt: Format, *, redactor: Any, fail_on: Any) -> dict[str, Any]:
    """The JSON document of a streamed format (``STREAMED_FORMATS``), for ``write_json_payload``."""
    if fmt is Format.json:
        from stickyforensics.report.json import report_dict

        return report_dict(report, redactor, fail_on)
    from stickyforensics.report.sarif import sarif_dict

    return sarif_dict(report, redactor=redactor, rule_docs=_rule_docs())


def render(report: Any, fmt: Format, *, redactor: Any, fail_on: Any, color: bool = False) -> str:
    """Render one AnalysisReport in the asked format (every format renders the same report)."""
    if fmt in STREAMED_FORMATS:
        from stickyforensics.report.json import write_json_payload

        out = io.StringIO()
        write_json_payload(_document(report, fmt, redactor=redactor, fail_on=fail_on), out)
        return out.getvalue()
    if fmt is Format.text:
        from stickyforensics.report.terminal import render_text

        return render_text(report, redactor=redactor, color=color)
    docs = _rule_docs()
    if fmt is Format.html:
        from stickyforensics.report.html import render_html

        return str(render_html(report, redactor=redactor, fail_on=fail_on, rule_docs=docs))
    if fmt is Format.markdown:
        from stickyforensics.report.markdown import render_markdown

        return str(render_markdown(report, redactor=redactor, fail_on=fail_on, rule_docs=docs))
    if fmt is Format.junit:
        from stickyforensics.report.junit import render_junit

        return str(render_junit(report, redactor=redactor, fail_on=fail_on, rule_docs=docs))
    from stickyforensics.report.github import render_github

    return str(render_github(report, redactor=redactor, fail_on=fail_on, rule_docs=docs))


AUTO_JOBS_MIN_BYTES = 50_000_000
"""Below this much HAR input, starting processes costs more than it saves (8 HAR files of 3.7 MB: 0.34 s on
two processes against 0.35 s on one)."""
AUTO_JOBS_CAPTURE_BYTES = 20_000_000
"""Captures from this size on are split by client in any case (``sharded.SHARD_BYTES``), so every core takes
a share: 25-30% less time on two cores from 20 to 40 MB (bench/README.md, session 14); at 10 MB the same time."""


def auto_jobs(files: list[str]) -> int:
    """Every core (at most 8) when there is enough to split: captures of 20 MB or more in all (they split by
    client), several HAR files of 50 MB or more in all, or one HAR file large enough to read its two halves
    apart (``ingest.har_split``)."""
    from stickyforensics.errors import InputError
    from stickyforensics.ingest.har_split import SPLIT_MIN_BYTES
    from stickyforensics.ingest.sniff import content_size, sniff

    captures = hars = har_files = largest_har = 0
    for path in files:
        try:
            size, fmt = content_size(path), sniff(path)
        except (OSError, InputError):
            continue  # the analysis itself reports it
        if fmt == "har":
            hars += size
            har_files += 1
            largest_har = max(largest_har, size)
        else:
            captures += size
    worth = (
        captures >= AUTO_JOBS_CAPTURE_BYTES
        or (har_files > 1 and hars >= AUTO_JOBS_MIN_BYTES)
        or (len(files) == 1 and largest_har >= SPLIT_MIN_BYTES)
    )
    return max(1, min(os.cpu_count() or 1, 8)) if worth else 1


def _progress_callback() -> Any:
    from stickyforensics.cli.progress import stderr_progress

    return stderr_progress()


def _run_analysis(
    inputs: list[str],
    *,
    fmt: Format,
    output: str | None,
    fail_on: str | None,
    exit_zero: bool,
    engine: Engine,
    tls_keylog: str | None,
    config_file: str | None,
    reveal_secrets: bool,
    redaction_key: str | None,
    persistence_cookie: list[str] | None,
    session_cookie: list[str] | None,
    disable: list[str] | None,
    summary_always: bool,
    baseline: str | None = None,
    write_baseline: str | None = None,
    jobs: int = 0,
    shard_mb: int | None = None,
) -> None:
    from dataclasses import replace

    from stickyforensics.config import load_config
    from stickyforensics.ingest.sniff import expand_inputs
    from stickyforensics.model import Severity
    from stickyforensics.pipeline import EngineOptions, analyze
    from stickyforensics.report.redact import Redactor
    from stickyforensics.report.wanted import sessions_wanted

    try:
        config, _origin = load_config(config_file)
        if persistence_cookie:
            config = replace(config, persistence_cookies=config.persistence_cookies + tuple(persistence_cookie))
        if session_cookie:
            config = replace(config, session_cookies=config.session_cookies + tuple(session_cookie))
        if disable:
            config = replace(config, disabled_rules=config.disabled_rules + tuple(disable))
        threshold = Severity.parse(fail_on) if fail_on else config.fail_on
        if tls_keylog and not Path(tls_keylog).is_file():
            raise _fail(f"{tls_keylog}: TLS key log file not found")
        files = expand_inputs(inputs)
        from stickyforensics import baseline as bl

        known = bl.read_baseline(baseline) if baseline else None  # read first: a bad file fails at once
        detail, cited = sessions_wanted(fmt.value)
        detail, cited = bl.asked_after_baseline(detail, known), bl.asked_after_baseline(cited, known)
        progress = _progress_callback()
        report = analyze(
            files,
            config,
            engine=EngineOptions(engine=engine.value, tls_keylog=tls_keylog),
            progress=progress,
            jobs=jobs if jobs > 0 else auto_jobs(files),
            detail=detail,
            cited=cited,
            shard_bytes=None if shard_mb is None else shard_mb * 1_000_000,
        )
        if progress is not None:
            progress.close()
        if write_baseline:
            bl.write_baseline(report, write_baseline)
        if known is not None:
            report, suppressed = bl.apply_baseline(report, known)
            if suppressed:
                typer.echo(f"stickyforensics: {suppressed} known finding(s) suppressed by {baseline}", err=True)
        redactor = Redactor(_redaction_key(files, redaction_key), reveal=reveal_secrets)
        text: str | None = None
        payload: dict[str, Any] | None = None
        if fmt in STREAMED_FORMATS:
            payload = _document(report, fmt, redactor=redactor, fail_on=threshold)  # written piece by piece below
        else:
            text = render(
                report,
                fmt,
                redactor=redactor,
                fail_on=threshold,
                color=output is None and fmt is Format.text and sys.stdout.isatty(),
            )
    except StickyError as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if output and output != "-":
        try:
            with open(output, "w", encoding="utf-8") as fh:
                _write_report(fh, text, payload)
        except OSError as exc:
            raise _fail(f"{output}: cannot write the report: {exc.strerror}") from None
    else:
        _write_report(sys.stdout, text, payload)
    failing = [f for f in report.findings if f.severity >= threshold]
    if (summary_always or (output and output != "-")) and fmt is not Format.text:
        from stickyforensics.report.verdict import verdict

        status, sentence = verdict(report)
        typer.echo(f"stickyforensics: {status}: {sentence}", err=output in (None, "-"))
        typer.echo(
            f"stickyforensics: {len(report.findings)} finding(s), {len(failing)} at or above {threshold.label}"
            + (f"; report written to {output}" if output and output != "-" else ""),
            err=output in (None, "-"),
        )
    errored = [r for r in report.rule_runs if r.status == "errored"]
    if errored:
        for run in errored:
            typer.echo(f"stickyforensics: error: rule {run.code} failed: {run.reason}", err=True)
        raise typer.Exit(2)
    if failing and not exit_zero:
        raise typer.Exit(1)


InputsArg = Annotated[list[str], typer.Argument(help="pcap/pcapng/HAR files or folders (recursed).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Write the report to FILE instead of stdout.")]
FailOnOpt = Annotated[
    str | None,
    typer.Option("--fail-on", help="Exit 1 when findings reach this severity (info|low|medium|high|critical)."),
]
ExitZeroOpt = Annotated[
    bool, typer.Option("--exit-zero", help="Always exit 0 unless there is an error (report-only CI jobs).")
]
RevealOpt = Annotated[
    bool,
    typer.Option("--reveal-secrets", help="Show raw cookie/Authorization values (reports are redacted by default)."),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--redaction-key", help="Secret for the redaction pseudonyms (same key: same pseudonyms across reports)."
    ),
]
DisableOpt = Annotated[list[str] | None, typer.Option("--disable", help="Disable a rule by code or name.")]
BaselineOpt = Annotated[
    str | None, typer.Option("--baseline", help="Suppress findings already in this baseline (or JSON report).")
]
WriteBaselineOpt = Annotated[
    str | None, typer.Option("--write-baseline", help="Write the findings' fingerprints to FILE.")
]


JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        min=0,
        help="Processes to use, split by client (same result as one; one HAR file, a single client, is read "
        f"by two). 0 = automatic: every core for captures over {AUTO_JOBS_CAPTURE_BYTES // 1_000_000} MB in all, "
        f"HAR files over {AUTO_JOBS_MIN_BYTES // 1_000_000} MB in all or one HAR file over 16 MB, else one.",
    ),
]


ShardOpt = Annotated[
    int | None,
    typer.Option(
        "--shard-mb",
        min=0,
        help="Megabytes of capture per group of clients (default 20). The capture is split by client in one "
        "pass and each process holds one group at a time, so a lower value bounds memory more tightly; "
        "0 = one group per process.",
    ),
]


@app.command()
def analyze(
    inputs: InputsArg,
    fmt: FormatOpt = Format.text,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    exit_zero: ExitZeroOpt = False,
    engine: EngineOpt = Engine.native,
    tls_keylog: KeylogOpt = None,
    config: ConfigOpt = None,
    reveal_secrets: RevealOpt = False,
    redaction_key: KeyOpt = None,
    persistence_cookie: PCookieOpt = None,
    session_cookie: SCookieOpt = None,
    disable: DisableOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    jobs: JobsOpt = 0,
    shard_mb: ShardOpt = None,
) -> None:
    """Analyze captures and HAR files; print findings with evidence (exit 1 when findings reach --fail-on)."""
    _run_analysis(
        inputs,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        exit_zero=exit_zero,
        engine=engine,
        tls_keylog=tls_keylog,
        config_file=config,
        reveal_secrets=reveal_secrets,
        redaction_key=redaction_key,
        persistence_cookie=persistence_cookie,
        session_cookie=session_cookie,
        disable=disable,
        summary_always=False,
        baseline=baseline,
        write_baseline=write_baseline,
        jobs=jobs,
        shard_mb=shard_mb,
    )


@app.command()
def check(
    inputs: InputsArg,
    fmt: FormatOpt = Format.text,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    exit_zero: ExitZeroOpt = False,
    engine: EngineOpt = Engine.native,
    tls_keylog: KeylogOpt = None,
    config: ConfigOpt = None,
    reveal_secrets: RevealOpt = False,
    redaction_key: KeyOpt = None,
    persistence_cookie: PCookieOpt = None,
    session_cookie: SCookieOpt = None,
    disable: DisableOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    jobs: JobsOpt = 0,
    shard_mb: ShardOpt = None,
) -> None:
    """CI check: like analyze, and always prints a human summary, whatever the machine format."""
    _run_analysis(
        inputs,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        exit_zero=exit_zero,
        engine=engine,
        tls_keylog=tls_keylog,
        config_file=config,
        reveal_secrets=reveal_secrets,
        redaction_key=redaction_key,
        persistence_cookie=persistence_cookie,
        session_cookie=session_cookie,
        disable=disable,
        summary_always=True,
        baseline=baseline,
        write_baseline=write_baseline,
        jobs=jobs,
        shard_mb=shard_mb,
    )


@app.command("rules")
def list_rules() -> None:
    """List the rule catalog."""
    from stickyforensics.detect.catalog import load_rules

    try:
        rules = load_rules()
    except StickyError as exc:
        raise _fail(str(exc)) from None
    for r in rules:
        typer.echo(f"{r.code}  {r.severity.label:<8} {r.kind:<28} {r.title}")


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="Rule code (SF301) or name (missing-persistence-cookie).")],
) -> None:
    """Print one rule's documentation: what it detects, why it matters, what to check, how to fix."""
    from stickyforensics.detect.catalog import load_rules

    try:
        rules = load_rules()
    except StickyError as exc:
        raise _fail(str(exc)) from None
    wanted = rule_id.strip().upper()
    rule = next((r for r in rules if r.code == wanted or r.name == rule_id.strip().lower()), None)
    if rule is None:
        raise _fail(f"unknown rule {rule_id!r}; 'stickyforensics rules' lists them")
    out = [
        f"{rule.code} {rule.name}: {rule.title}",
        f"kind: {rule.kind}   severity: {rule.severity.label}   confidence: {rule.confidence.value}   "
        f"status: {rule.status}   applies to: {', '.join(rule.applies_to)}",
        "",
        "What it detects:",
        f"  {rule.summary}",
        "",
        "Why it matters:",
        f"  {rule.why}",
        "",
        "Example:",
        *(f"  {line}" for line in rule.example.splitlines()),
        "",
        "What to check:",
        *(f"  - {item}" for item in rule.what_to_check),
        "",
        "How to fix:",
        *(f"  - {vendor}: {fix}" for vendor, fix in rule.remediation),
        "",
        "False positives:",
        *(f"  - {item}" for item in rule.falsepositives),
        "",
        "References:",
        *(f"  - {item}" for item in rule.references),
    ]
    typer.echo("\n".join(out))


@app.command()
def decode(
    cookies: Annotated[list[str], typer.Argument(help="'NAME=VALUE', a 'Cookie: ...' or a 'Set-Cookie: ...' line.")],
) -> None:
    """Say what a cookie is (vendor, role) and what it reveals (backend IP:port, pool, vserver, dates)."""
    from stickyforensics.track.lb import describe

    any_known = False
    for text in cookies:
        for name, value, info in describe(text):
            if info is None:
                typer.echo(f"{name}: not a known persistence or session cookie")
                continue
            any_known = True
            typer.echo(f"{name}: {info.vendor} ({info.family}), {info.role.value} cookie, {info.status}")
            if info.backend and info.status == "decoded":
                typer.echo(f"  backend: {info.backend}")
            if info.datacenter:
                typer.echo(f"  datacenter: {info.datacenter}")
            for key, val in info.decoded:
                typer.echo(f"  {key}: {val}")
            typer.echo(f"  a value change means: {info.change_meaning.value}")
            if info.discloses_internal_address:
                typer.echo("  note: discloses an internal address")
            if info.note:
                typer.echo(f"  note: {info.note}")
            _ = value
    if not any_known:
        raise typer.Exit(1)


@app.command("cookies")
def cookie_timeline(
    inputs: InputsArg,
    engine: EngineOpt = Engine.native,
    tls_keylog: KeylogOpt = None,
    config: ConfigOpt = None,
    reveal_secrets: RevealOpt = False,
    redaction_key: KeyOpt = None,
    persistence_cookie: PCookieOpt = None,
    session_cookie: SCookieOpt = None,
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client",
            help="Only this client (as analyze names it; repeatable): large inputs are then split by client "
            "over processes in bounded memory, and only its sessions are rebuilt.",
        ),
    ] = None,
) -> None:
    """Print each client's persistence/session cookie timeline: set -> sent -> missing/changed, with reasons."""
    from dataclasses import replace

    from stickyforensics.config import load_config
    from stickyforensics.ingest.sniff import expand_inputs
    from stickyforensics.pipeline import EngineOptions, analyze
    from stickyforensics.report.redact import Redactor
    from stickyforensics.report.timeline_text import client_timeline, render_timelines

    progress = _progress_callback()
    try:
        cfg, _ = load_config(config)
        if persistence_cookie:
            cfg = replace(cfg, persistence_cookies=cfg.persistence_cookies + tuple(persistence_cookie))
        if session_cookie:
            cfg = replace(cfg, session_cookies=cfg.session_cookies + tuple(session_cookie))
        files = expand_inputs(inputs)
        options = EngineOptions(engine=engine.value, tls_keylog=tls_keylog)
        if client:
            wanted = frozenset(client)
            # the clients as `analyze` finds them; only the wanted ones' whole sessions are kept, and no rule runs
            report = analyze(
                files, cfg, engine=options, jobs=auto_jobs(files), detail=wanted, progress=progress, rules=()
            )
            report = replace(report, sessions=tuple(s for s in report.sessions if s.key.value in wanted))
            missing = wanted - {s.key.value for s in report.sessions}
            if missing:
                names = ", ".join(sorted(missing))
                raise _fail(f"no client {names} in {', '.join(inputs)} (`analyze` lists the clients)")
        else:
            # Every client's whole timeline, written as each client's session is read back: large inputs are
            # split by client over processes as `analyze` splits them, and memory holds one client, not all.
            redactor = Redactor(_redaction_key(files, redaction_key), reveal=reveal_secrets)

            def write(_report: AnalysisReport, sessions: Iterator[ClientSession]) -> None:
                if progress is not None:
                    progress.close()  # the bar goes before the timelines come
                written = False
                for session in sessions:
                    sys.stdout.write(client_timeline(session, redactor=redactor))
                    written = True
                if not written:
                    sys.stdout.write("\n")

            analyze(files, cfg, engine=options, jobs=auto_jobs(files), visit=write, progress=progress, rules=())
            return
    except StickyError as exc:
        raise _fail(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    redactor = Redactor(_redaction_key(files, redaction_key), reveal=reveal_secrets)
    sys.stdout.write(render_timelines(report, redactor=redactor))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stickyforensics {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """stickyforensics: load-balancer stickiness forensics for pcap/pcapng and HAR files."""


register_sanitize(app)


def main() -> None:
    # A CLI run is one short-lived analysis whose objects hold almost no reference cycles: the cyclic
    # collector only re-walks millions of live objects (measured: ~15% of a 1M-packet run).
    import gc

    gc.disable()
    try:
        app(prog_name="stickyforensics")
    except KeyboardInterrupt:
        typer.echo("stickyforensics: interrupted", err=True)
        sys.exit(130)
