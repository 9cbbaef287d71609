"""Golden files: every report format of every case, byte for byte, as the CLI prints it.

Update (after an intended output change, then review the diff):  UPDATE_GOLDEN=1 python -m pytest tests/golden

How the budget is kept (the CLI costs ~1 s per process, 6 cases x 7 formats x 2 renders would be ~80 s):
- two render drivers (``golden_support.render_all``) run the CLI in-process for all 42 (case, format) pairs,
  in two processes with different hash seeds: the first is compared with the golden files, the second with
  the first (determinism across runs);
- one real ``python -m stickyforensics`` process per format (rotating over the cases) proves the in-process
  runs equal what a user's shell gets;
- everything starts at once, so the two CPUs of CI overlap them.
With UPDATE_GOLDEN=1 the golden files are first rewritten from 42 real CLI processes.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.golden.golden_support import (
    CASES,
    CLI_TIMEOUT,
    FORMAT_BY_NAME,
    FORMATS,
    GOLDEN,
    NOTE,
    REPO,
    UPDATE_ENV,
    Case,
    Format,
    argv,
    cli_env,
    expected_file,
    golden_path,
    run_cli,
)

UPDATING = os.environ.get(UPDATE_ENV) == "1"
HINT = "if the change is intended: UPDATE_GOLDEN=1 python -m pytest tests/golden (then review git diff)"
SEEDS = ("0", "4242")
PAIRS = [pytest.param(c, f, id=f"{c.name}-{f.name}") for c in CASES for f in FORMATS]
# One real CLI process per format, rotating over the cases so each case is also seen by a real process.
REAL = [(CASES[i % len(CASES)], f) for i, f in enumerate(FORMATS)]


@dataclass(frozen=True, repr=False)
class Renders:
    dirs: dict[str, Path]
    """hash seed -> driver output folder."""
    status: dict[str, dict[str, dict[str, object]]]
    real: dict[str, subprocess.CompletedProcess[bytes]]
    """format -> the real CLI process run for it."""

    def __repr__(self) -> str:  # keep pytest's failure output short (the real outputs are large)
        return f"Renders({', '.join(str(d) for d in self.dirs.values())})"

    def output(self, seed: str, case: Case, fmt: Format) -> bytes:
        return (self.dirs[seed] / case.name / fmt.filename).read_bytes()


def _update_golden_files() -> None:
    def one(pair: tuple[Case, Format]) -> None:
        case, fmt = pair
        proc = run_cli(case, fmt)
        assert proc.returncode in (0, 1), f"{case.name}/{fmt.name}: exit {proc.returncode}: {proc.stderr!r}"
        path = golden_path(case, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(expected_file(fmt, proc.stdout))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, [(c, f) for c in CASES for f in FORMATS]))


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Renders]:
    if UPDATING:
        _update_golden_files()
    base = tmp_path_factory.mktemp("golden-renders")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        drivers = {}
        for seed in SEEDS:
            out = base / f"seed-{seed}"
            drivers[seed] = (
                subprocess.Popen(
                    [sys.executable, "-m", "tests.golden.golden_support", str(out)],
                    cwd=REPO,
                    env=cli_env(hash_seed=seed),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                ),
                out,
            )
            procs.append(drivers[seed][0])
        real_procs = {}
        for case, fmt in REAL:
            real_procs[fmt.name] = subprocess.Popen(
                [sys.executable, "-m", "stickyforensics", *argv(case, fmt)],
                cwd=REPO,
                env=cli_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            procs.append(real_procs[fmt.name])
        real = {}
        for name, proc in real_procs.items():
            stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT)
            real[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        status = {}
        for seed, (proc, out) in drivers.items():
            _, stderr = proc.communicate(timeout=CLI_TIMEOUT)
            assert proc.returncode == 0, f"render driver (seed {seed}) failed:\n{stderr.decode(errors='replace')}"
            status[seed] = json.loads((out / "status.json").read_text(encoding="utf-8"))
        yield Renders(dirs={seed: out for seed, (_, out) in drivers.items()}, status=status, real=real)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _diff(expected: bytes, actual: bytes, label: str) -> str:
    lines = difflib.unified_diff(
        expected.decode("utf-8", "replace").splitlines(keepends=True),
        actual.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{label} (expected)",
        tofile=f"{label} (actual)",
        n=2,
    )
    text = "".join(list(lines)[:80])
    return text or "(only line endings or trailing bytes differ)"


def _golden(case: Case, fmt: Format) -> bytes:
    path = golden_path(case, fmt)
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} is missing; {HINT}")
    return path.read_bytes()


@pytest.mark.parametrize(("case", "fmt"), PAIRS)
def test_report_matches_golden(renders: Renders, case: Case, fmt: Format) -> None:
    status = renders.status[SEEDS[0]][f"{case.name}/{fmt.name}"]
    assert status["exception"] is None, f"the CLI raised: {status['exception']}"
    assert status["stderr"] == "", f"unexpected stderr: {status['stderr']}"
    assert status["exit_code"] == case.exit_code, f"{case.input} --format {fmt.name}: exit {status['exit_code']}"
    expected = _golden(case, fmt)
    actual = expected_file(fmt, renders.output(SEEDS[0], case, fmt))
    label = str(golden_path(case, fmt).relative_to(REPO))
    assert actual == expected, f"{label} is stale; {HINT}\n{_diff(expected, actual, label)}"


@pytest.mark.parametrize(("case", "fmt"), PAIRS)
def test_report_is_deterministic(renders: Renders, case: Case, fmt: Format) -> None:
    """Two renders in two processes (different hash seeds) must be identical, without any scrubbing."""
    first = renders.output(SEEDS[0], case, fmt)
    second = renders.output(SEEDS[1], case, fmt)
    assert first == second, (
        f"--format {fmt.name} of {case.input} differs between two runs (PYTHONHASHSEED {SEEDS[0]} vs {SEEDS[1]}):\n"
        + _diff(first, second, f"{case.name}/{fmt.filename}")
    )


@pytest.mark.parametrize(("case", "fmt"), [pytest.param(c, f, id=f.name) for c, f in REAL])
def test_real_cli_process_matches_golden(renders: Renders, case: Case, fmt: Format) -> None:
    """`python -m stickyforensics analyze ...` in a fresh process prints exactly the golden report."""
    proc = renders.real[fmt.name]
    assert proc.stderr == b"", proc.stderr.decode(errors="replace")
    assert proc.returncode == case.exit_code
    expected = _golden(case, fmt)
    actual = expected_file(fmt, proc.stdout)
    label = str(golden_path(case, fmt).relative_to(REPO))
    assert actual == expected, f"{label}: the real CLI differs; {HINT}\n{_diff(expected, actual, label)}"


def test_golden_tree_holds_only_known_files() -> None:
    """A renamed case or format must not leave stale golden files behind."""
    known = {golden_path(c, f) for c in CASES for f in FORMATS}
    helpers = {GOLDEN / n for n in ("README.md", "golden_support.py", "test_golden.py", "conftest.py")}
    stray = sorted(
        str(p.relative_to(REPO))
        for p in GOLDEN.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p not in known and p not in helpers
    )
    assert not stray, f"files under tests/golden that no case produces (delete them): {stray}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_files_are_valid_in_their_format(case: Case) -> None:
    """The "generated" note goes only where the format has comments, and never breaks the file."""
    for fmt in FORMATS:
        data = _golden(case, fmt).decode("utf-8")
        assert (NOTE in data) == (fmt.note is not None), f"{case.name}/{fmt.filename}: note placement"
    json.loads(_golden(case, FORMAT_BY_NAME["json"]))
    sarif = json.loads(_golden(case, FORMAT_BY_NAME["sarif"]))
    assert sarif["version"] == "2.1.0"
    junit = ET.fromstring(_golden(case, FORMAT_BY_NAME["junit"]))
    assert junit.tag == "testsuites"
    html = _golden(case, FORMAT_BY_NAME["html"]).decode("utf-8")
    assert html.lower().startswith("<!doctype html>\n<!--")
    for line in _golden(case, FORMAT_BY_NAME["github"]).decode("utf-8").splitlines():
        assert line.startswith("::"), f"{case.name}/report.github: not a workflow command: {line!r}"
