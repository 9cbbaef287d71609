"""Run the coverage-guided fuzz harnesses for a set time each and report what they found.

    python bench/fuzz/run_fuzz.py --seconds 60                 # every harness, 60 s each
    python bench/fuzz/run_fuzz.py --seconds 300 http1 har      # some harnesses

Each harness (``fuzz_<name>.py``) runs under atheris/libFuzzer with its seeds (built from
tests/data and samples/ by ``seeds.py``), its token dictionary (``dicts/<name>.dict``, when there is
one) and a corpus kept in ``bench/fuzz/work/<name>/corpus``
across runs. The report gives, per harness, the executions, the distinct crashes (undocumented
exceptions and failed invariants), the hangs (an input running longer than ``--timeout``) and the
memory blow-ups (RSS above ``--rss-limit-mb``); their inputs are in ``work/<name>/artifacts``.
A hang or blow-up kills the harness process; it is restarted for the rest of its time.
Exit status: 0 when nothing was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seeds  # noqa: E402 - needs HERE on the path
from _harness import ARTIFACTS_ENV  # noqa: E402

MAX_LEN = {"pcap": 16384, "tcp": 8192, "http1": 8192, "har": 16384, "cookie": 2048, "lb": 1024}
"""Largest input per harness: big enough for a few packets / entries, small enough for many execs per second."""
HARNESSES = tuple(MAX_LEN)
MAX_RESTARTS = 20
"""A seed that hangs at every start would otherwise restart the harness for its whole time."""
_EXECS_FINAL = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_EXECS_STATUS = re.compile(r"^#(\d+)\s", re.MULTILINE)


@dataclass
class HarnessReport:
    harness: str
    seconds: float = 0.0
    execs: int = 0
    seeds: int = 0
    corpus: int = 0
    restarts: int = 0
    crashes: list[str] = field(default_factory=list)
    """Signatures of the distinct undocumented exceptions (and native crashes)."""
    hangs: list[str] = field(default_factory=list)
    ooms: list[str] = field(default_factory=list)

    @property
    def found(self) -> int:
        return len(self.crashes) + len(self.hangs) + len(self.ooms)


def run_harness(name: str, seconds: int, work: Path, *, timeout: int, rss_limit_mb: int, fresh: bool) -> HarnessReport:
    report = HarnessReport(name)
    base = work / name
    corpus, seed_dir, artifacts = base / "corpus", base / "seeds", base / "artifacts"
    for folder in (seed_dir, artifacts) + ((corpus,) if fresh else ()):
        shutil.rmtree(folder, ignore_errors=True)
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True)
    report.seeds = seeds.build(name, seed_dir, MAX_LEN[name])
    log_path = base / "libfuzzer.log"
    started = time.monotonic()
    deadline = started + seconds
    env = dict(os.environ, **{ARTIFACTS_ENV: str(artifacts)})
    with log_path.open("w") as log:
        while True:
            left = int(deadline - time.monotonic())
            if left < 2:
                break
            cmd = [
                sys.executable,
                str(HERE / f"fuzz_{name}.py"),
                str(corpus),
                str(seed_dir),
                f"-max_total_time={left}",
                f"-timeout={timeout}",
                f"-rss_limit_mb={rss_limit_mb}",
                f"-max_len={MAX_LEN[name]}",
                f"-artifact_prefix={artifacts}/",
                "-print_final_stats=1",
            ]
            dictionary = HERE / "dicts" / f"{name}.dict"
            if dictionary.exists():
                cmd.append(f"-dict={dictionary}")
            done = subprocess.run(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace"
            )
            log.write(done.stderr)
            report.execs += _execs(done.stderr)
            if done.returncode == 0 or report.restarts >= MAX_RESTARTS:
                break
            report.restarts += 1
    report.seconds = round(time.monotonic() - started, 1)
    report.corpus = sum(1 for _ in corpus.iterdir())
    _collect(report, artifacts)
    return report


def _execs(stderr: str) -> int:
    final = _EXECS_FINAL.search(stderr)
    if final is not None:
        return int(final.group(1))
    status = _EXECS_STATUS.findall(stderr)
    return int(status[-1]) if status else 0


def _collect(report: HarnessReport, artifacts: Path) -> None:
    for path in sorted(artifacts.iterdir()):
        if path.name.startswith("crash-") and path.suffix == ".txt":
            report.crashes.append(path.read_text().splitlines()[0].removeprefix("signature: "))
        elif path.name.startswith("crash-") and not path.suffix:
            report.crashes.append(f"native crash (signal or abort), input {path.name}")
        elif path.name.startswith("timeout-"):
            report.hangs.append(path.name)
        elif path.name.startswith("oom-"):
            report.ooms.append(path.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("harnesses", nargs="*", metavar="HARNESS", help=f"of {', '.join(HARNESSES)} (default: all)")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per harness (default 60)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may run before it is a hang")
    parser.add_argument("--rss-limit-mb", type=int, default=1536, help="memory above which an input is a blow-up")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="corpus and artifacts (git-ignored)")
    parser.add_argument("--fresh", action="store_true", help="start from the seeds only, dropping the corpus")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    args = parser.parse_args()
    unknown = sorted(set(args.harnesses) - set(HARNESSES))
    if unknown:
        parser.error(f"unknown harness(es) {', '.join(unknown)}; choose from {', '.join(HARNESSES)}")
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("run_fuzz: atheris is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    reports = []
    for name in args.harnesses or HARNESSES:
        print(f"fuzzing {name} for {args.seconds} s ...", flush=True)
        reports.append(
            run_harness(
                name, args.seconds, args.work, timeout=args.timeout, rss_limit_mb=args.rss_limit_mb, fresh=args.fresh
            )
        )
        _print(reports[-1], args.work)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in reports], indent=2) + "\n")
    found = sum(r.found for r in reports)
    total = sum(r.execs for r in reports)
    print(f"\n{len(reports)} harness(es), {total} executions, {found} problem(s) found")
    return 1 if found else 0


def _print(r: HarnessReport, work: Path) -> None:
    print(
        f"  {r.harness:<7} {r.seconds:>6.0f} s  {r.execs:>9} execs  seeds {r.seeds:<4} corpus {r.corpus:<5} "
        f"crashes {len(r.crashes)}  hangs {len(r.hangs)}  ooms {len(r.ooms)}"
        + (f"  (restarted {r.restarts}x)" if r.restarts else "")
    )
    for sig in r.crashes:
        print(f"    crash: {sig}")
    for name in r.hangs + r.ooms:
        print(f"    {name.split('-')[0]}: {work / r.harness / 'artifacts' / name}")


if __name__ == "__main__":
    sys.exit(main())
