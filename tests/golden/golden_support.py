"""Golden cases for every report format: which inputs, which file each format is kept in, what is scrubbed.

Shared by ``test_golden.py`` and by the render driver this module also is
(``python -m tests.golden.golden_support OUTDIR``), which runs the CLI in-process (typer's CliRunner,
the same argv a user types) for every case and format and writes the raw outputs under OUTDIR. The test
starts two drivers with different ``PYTHONHASHSEED`` values, so "rendered twice" means two processes
whose set and dict-of-set orders differ: output that depends on hash order shows up as a diff.

Only what must vary is scrubbed: the tool version (in its known places) and the repository's absolute
path. Inputs are given relative to the repository root (the working directory), as a user would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from stickyforensics import __version__

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
REDACTION_KEY = "golden"
UPDATE_ENV = "UPDATE_GOLDEN"
NOTE = "generated, do not edit: UPDATE_GOLDEN=1 pytest tests/golden"
CLI_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    input: str
    """Relative to the repository root; a committed rule fixture, so the input never drifts."""
    exit_code: int
    """What the CLI must exit with at the default ``--fail-on high``."""


CASES: tuple[Case, ...] = (
    Case("missing_cookie", "tests/rules/SF301/positive-dotfile-upload.har", 1),
    Case("cache_replay", "tests/rules/SF304/positive-cache-replay", 1),
    Case("datacenter", "tests/rules/SF303/positive-lbs-alternates.har", 1),
    Case("sanitized", "tests/rules/SF001/positive-sanitized.har", 0),
    Case("healthy", "tests/rules/SF301/negative-all-sent.har", 0),
    Case("plain_http", "tests/rules/SF002/negative-plain-http.pcap", 0),
)


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    """The ``--format`` value."""
    filename: str
    note: str | None
    """Where the "generated" note goes: ``top``, ``after-first-line`` (after an XML declaration or
    DOCTYPE, which must stay first), or None when the format has no comment syntax."""
    comment: str = "<!-- {} -->"


FORMATS: tuple[Format, ...] = (
    Format("text", "report.txt", None),
    Format("json", "report.json", None),
    Format("markdown", "report.md", "top"),
    Format("junit", "report.junit.xml", "after-first-line"),
    Format("sarif", "report.sarif", None),
    Format("github", "report.github", None),
    Format("html", "report.html", "after-first-line"),
)
FORMAT_BY_NAME = {f.name: f for f in FORMATS}


def argv(case: Case, fmt: Format) -> list[str]:
    """The arguments after ``stickyforensics``, exactly as a user types them."""
    return ["analyze", case.input, "--format", fmt.name, "--redaction-key", REDACTION_KEY]


def cli_env(hash_seed: str | None = None) -> dict[str, str]:
    """The user's environment with the CLI's default width and no redaction key from the environment."""
    env = {k: v for k, v in os.environ.items() if k != "STICKYFORENSICS_REDACTION_KEY"}
    env["COLUMNS"] = "110"
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    return env


_VERSION = re.escape(__version__)
_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\bstickyforensics {_VERSION}(?![\w.])"), "stickyforensics <VERSION>"),
    (
        re.compile(rf'("name": "stickyforensics",\s*"version": )"{_VERSION}"'),
        r'\1"<VERSION>"',
    ),
    (re.compile(rf'"semanticVersion": "{_VERSION}"'), '"semanticVersion": "<VERSION>"'),
)


def scrub(text: str) -> str:
    """Replace what must vary between releases and clones, and nothing else."""
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text.replace(str(REPO), "<REPO>")


def with_note(fmt: Format, text: str) -> str:
    """The golden file's content: the output, with the "generated" note where the format allows one."""
    if fmt.note is None:
        return text
    line = fmt.comment.format(NOTE) + "\n"
    if fmt.note == "after-first-line":
        first, nl, rest = text.partition("\n")
        if first.startswith(("<?xml", "<!DOCTYPE", "<!doctype")) and nl:
            return first + nl + line + rest
    return line + text


def expected_file(fmt: Format, output: bytes) -> bytes:
    """What ``tests/golden/<case>/<file>`` must hold for this raw CLI output."""
    return with_note(fmt, scrub(output.decode("utf-8"))).encode("utf-8")


def golden_path(case: Case, fmt: Format) -> Path:
    return GOLDEN / case.name / fmt.filename


def run_cli(case: Case, fmt: Format) -> subprocess.CompletedProcess[bytes]:
    """The real thing: ``python -m stickyforensics analyze ...`` in a fresh process, from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "stickyforensics", *argv(case, fmt)],
        cwd=REPO,
        env=cli_env(),
        capture_output=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def render_all(out: Path) -> None:
    """Driver: every case in every format through the CLI in-process; raw outputs and exit codes to ``out``."""
    from typer.testing import CliRunner

    from stickyforensics.cli.app import app

    os.chdir(REPO)
    runner = CliRunner()
    status: dict[str, dict[str, object]] = {}
    for case in CASES:
        (out / case.name).mkdir(parents=True, exist_ok=True)
        for fmt in FORMATS:
            result = runner.invoke(app, argv(case, fmt), env={"COLUMNS": "110", "STICKYFORENSICS_REDACTION_KEY": None})
            (out / case.name / fmt.filename).write_bytes(result.stdout_bytes)
            status[f"{case.name}/{fmt.name}"] = {
                "exit_code": result.exit_code,
                "stderr": result.stderr_bytes.decode("utf-8", "replace"),
                "exception": None
                if result.exception is None or isinstance(result.exception, SystemExit)
                else repr(result.exception),
            }
    (out / "status.json").write_text(json.dumps(status, indent=1), encoding="utf-8")


if __name__ == "__main__":
    render_all(Path(sys.argv[1]))
