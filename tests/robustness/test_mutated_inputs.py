"""Every real input, and damaged copies of it, through the CLI as a user runs it: an analysis or a one-line error.

Inputs: ../shared/corpus (when present), samples/ and tests/data. Each file is analysed as it is and as
``MUTATIONS`` damaged copies (cut at a random point, random bytes overwritten, or both; seeded by the file
name, so a failure reproduces). The contract, per run:

- exit 0 or 1 with a JSON report, or exit 2 with one line on stderr naming the file;
- never a traceback (an exception escaping the CLI), never longer than ``RUN_SECONDS``.

``STICKYFORENSICS_MUTATIONS=N`` runs N damaged copies per file (default 2) for a longer search.
"""

from __future__ import annotations

import json
import os
import random
import signal
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stickyforensics.cli.app import app
from tests.conftest import CORPUS, REPO, shared_or_skip

MUTATIONS = int(os.environ.get("STICKYFORENSICS_MUTATIONS", "2"))
RUN_SECONDS = 20.0
"""One analysis of one input here takes well under a second; far beyond that is a hang."""
MUTATION_BASE = 128 * 1024
"""Damaged copies are made from the first 128 KB of a file: the damage is what matters, not the size."""
INPUT_SUFFIXES = (".pcap", ".pcapng", ".cap", ".har", ".gz", ".xz", ".bz2", ".json", ".txt")

runner = CliRunner()


def _local_inputs() -> list[Path]:
    out: list[Path] = []
    for folder in (REPO / "samples", REPO / "tests" / "data"):
        out += sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(INPUT_SUFFIXES))
    return out


def _params() -> list[object]:
    params: list[object] = [pytest.param(p, id=str(p.relative_to(REPO))) for p in _local_inputs()]
    if CORPUS.is_dir():
        params += [pytest.param(p, id=f"corpus/{p.name}") for p in sorted(CORPUS.iterdir()) if p.is_file()]
    else:
        params.append(pytest.param(CORPUS, id="corpus"))
    return params


def mutations(data: bytes, seed: str, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` damaged copies of ``data``: cut, overwritten, or both (deterministic per ``seed``)."""
    rng = random.Random(zlib.crc32(seed.encode()))
    base = data[:MUTATION_BASE]
    for i in range(count):
        kind = ("cut", "flip", "cut+flip")[i % 3]
        damaged = bytearray(base[: rng.randrange(1, len(base))] if kind != "flip" and len(base) > 1 else base)
        if kind != "cut" and damaged:
            for _ in range(rng.randint(1, 16)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        yield kind, bytes(damaged)


class Hang(Exception):
    """An analysis ran longer than ``RUN_SECONDS``."""


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_run(path: Path, what: str) -> None:
    with time_bound(RUN_SECONDS):
        result = runner.invoke(
            app, ["analyze", str(path), "--format", "json"], env={"STICKYFORENSICS_REDACTION_KEY": "robustness"}
        )
    label = f"{what} of {path.name}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{label}: {type(result.exception).__name__} escaped the CLI") from result.exception
    assert result.exit_code in (0, 1, 2), f"{label}: exit {result.exit_code}"
    if result.exit_code == 2:
        error = result.stderr.strip()
        assert "\n" not in error, f"{label}: the error is not one line: {error!r}"
        assert error.startswith("stickyforensics: error: ") and str(path) in error, f"{label}: {error!r}"
        return
    report = json.loads(result.stdout)
    assert isinstance(report.get("findings"), list) and report["inputs"], label
    assert "Traceback" not in result.stderr, label


@pytest.mark.parametrize("path", _params())
def test_input_and_damaged_copies_give_an_analysis_or_a_one_line_error(path: Path, tmp_path: Path) -> None:
    if path == CORPUS:
        shared_or_skip(CORPUS)
    check_run(path, "the original")
    data = path.read_bytes()
    if not data:
        return
    for index, (kind, damaged) in enumerate(mutations(data, path.name, MUTATIONS)):
        copy = tmp_path / f"m{index}-{path.name}"
        copy.write_bytes(damaged)
        check_run(copy, f"damaged copy {index} ({kind})")


def test_mutations_are_deterministic_and_damaging() -> None:
    data = bytes(range(256)) * 100
    first = list(mutations(data, "x.pcap", 6))
    assert first == list(mutations(data, "x.pcap", 6))
    assert [kind for kind, _ in first] == ["cut", "flip", "cut+flip"] * 2
    assert all(damaged != data for _, damaged in first)
    assert all(len(damaged) < len(data) for kind, damaged in first if kind.startswith("cut"))
