"""Paired wall-time / peak-RSS benchmark of stickyforensics against tshark (A B A B ...).

    python bench/run_bench.py bench/data/large.pcap                 # full analysis vs tshark
    python bench/run_bench.py bench/data/large.pcap --mode reader   # the native reader alone vs tshark
    python bench/run_bench.py bench/data/large.pcap --mode scapy    # scapy RawPcapReader walk vs native reader
    python bench/run_bench.py F --a "my command {file}" --b "other {file}"   # any pair
    python bench/run_bench.py bench/data/session-30.har bench/data/session-300.har   # HAR mode (.har files)

HAR mode (``--mode har``, the default for ``.har`` files) runs rounds of four children on each
file: ``stickyforensics analyze`` (A) and three yardsticks (B): haralyzer's load plus every entry's
request and response headers, ``json.load`` plus the same walk, and the floor, reading the file's
bytes. Each round runs A then the three B in turn, and the report gives the median of the per-round
A/B ratios for each B, with the peak RSS of every child. On a busy shared machine wall times swing
by 2x between rounds; the children's CPU time (user + system, also from ``os.wait4``) is steadier,
so the report gives the CPU ratio too.

Each pair runs A then B as separate processes on the same file; the per-pair ratio A/B cancels
the drift of a shared machine, and the report gives the median ratio with its range. Wall time
is measured around the child, peak RSS comes from ``os.wait4``'s rusage for that child alone.
A warm-up run of each (not counted) puts the file in the page cache first.

The full mode's command is configurable (``--cmd``); when the CLI is not installed yet, or
exits with an error, the run stops with a message that says so instead of timing an error.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CMD = "stickyforensics analyze {file} --format json -o /dev/null"
TSHARK_CMD = "tshark -r {file} -Y http -T fields -e http.cookie -e http.set_cookie"
READER_CMD = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'read_capture.py'))} {{file}}"
SCAPY_CMD = READER_CMD + " --engine scapy"
_HAR_CHILD = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'bench_har.py'))} --child"
HAR_YARDSTICKS = (
    ("haralyzer load + headers", f"{_HAR_CHILD} haralyzer-headers {{file}}"),
    ("json.load + headers", f"{_HAR_CHILD} json-headers {{file}}"),
    ("read floor", f"{_HAR_CHILD} read {{file}}"),
)
"""(label, command) of the yardsticks of ``--mode har`` (children of bench_har.py)."""


@dataclass
class Run:
    wall: float
    peak_mib: float
    exit: int
    cpu: float = 0.0
    """User + system CPU seconds of the child and the children it waited for (``os.wait4``)."""


@dataclass
class Summary:
    label: str
    command: str
    wall_median: float
    wall_min: float
    wall_max: float
    peak_mib: float
    cpu_median: float = 0.0


class CommandFailed(Exception):
    pass


OK_EXITS = {0, 1}
"""``stickyforensics analyze`` exits 1 when findings reach --fail-on: a finished run, not a failure."""

YARDSTICK_EXITS = frozenset({0})
"""A yardstick (tshark, the HAR children) must exit 0: a Python child that fails (haralyzer not
installed) exits 1 too, and was timed as a 0.04 s haralyzer before session 11."""


def run_once(cmd: str, path: str, ok_exits: set[int] | frozenset[int] | None = None) -> Run:
    """Run one child with stdout discarded; wall clock and the child's own peak RSS.
    ``ok_exits``: the exit statuses of a finished run (``OK_EXITS`` when None)."""
    argv = shlex.split(cmd.format(file=shlex.quote(path)))
    if shutil.which(argv[0]) is None:
        raise CommandFailed(f"{argv[0]!r} is not installed / not on PATH (command: {cmd})")
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (OK_EXITS if ok_exits is None else ok_exits):
            err.seek(0)
            tail = err.read()[-600:].decode("utf-8", "replace").strip()
            raise CommandFailed(f"exit status {proc.returncode} from: {' '.join(argv)}\n{tail}")
    return Run(wall, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime)


def summarise(label: str, cmd: str, runs: list[Run]) -> Summary:
    walls = [r.wall for r in runs]
    return Summary(
        label,
        cmd,
        statistics.median(walls),
        min(walls),
        max(walls),
        max(r.peak_mib for r in runs),
        statistics.median(r.cpu for r in runs),
    )


def paired(path: str, a: str, b: str, pairs: int, warmup: bool, *, b_is_yardstick: bool = True) -> dict[str, object]:
    """A then B, ``pairs`` times; B must exit 0 when it is a yardstick (a custom ``--b`` takes ``--ok-exit``)."""
    b_exits = YARDSTICK_EXITS if b_is_yardstick else None
    if warmup:
        run_once(a, path)
        run_once(b, path, b_exits)
    runs_a: list[Run] = []
    runs_b: list[Run] = []
    ratios: list[float] = []
    for i in range(pairs):
        ra = run_once(a, path)
        rb = run_once(b, path, b_exits)
        runs_a.append(ra)
        runs_b.append(rb)
        ratios.append(ra.wall / rb.wall)
        print(
            f"  pair {i + 1}: A {ra.wall:7.2f} s {ra.peak_mib:7.1f} MiB | B {rb.wall:7.2f} s {rb.peak_mib:7.1f} MiB"
            f" | A/B {ratios[-1]:.3f}",
            file=sys.stderr,
        )
    return {
        "file": path,
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
        "pairs": pairs,
        "a": asdict(summarise("A", a, runs_a)),
        "b": asdict(summarise("B", b, runs_b)),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "date": time.strftime("%Y-%m-%d"),
    }


def rounds(path: str, a: str, yardsticks: tuple[tuple[str, str], ...], count: int, warmup: bool) -> dict[str, object]:
    """Rounds of A then every yardstick B on the same file; per yardstick, the median of the per-round A/B."""
    if warmup:
        run_once(a, path)
        for _, cmd in yardsticks:
            run_once(cmd, path, YARDSTICK_EXITS)
    runs_a: list[Run] = []
    runs_b: dict[str, list[Run]] = {label: [] for label, _ in yardsticks}
    ratios: dict[str, list[float]] = {label: [] for label, _ in yardsticks}
    cpu_ratios: dict[str, list[float]] = {label: [] for label, _ in yardsticks}
    for i in range(count):
        ra = run_once(a, path)
        runs_a.append(ra)
        shown = [f"A {ra.wall:7.2f} s {ra.peak_mib:6.0f} MiB"]
        for label, cmd in yardsticks:
            rb = run_once(cmd, path, YARDSTICK_EXITS)
            runs_b[label].append(rb)
            ratios[label].append(ra.wall / rb.wall)
            cpu_ratios[label].append(ra.cpu / rb.cpu if rb.cpu else float("inf"))
            shown.append(f"{label.split()[0]} {rb.wall:6.2f} s {rb.peak_mib:6.0f} MiB A/B {ratios[label][-1]:.3f}")
        print(f"  round {i + 1}: " + " | ".join(shown), file=sys.stderr)
    return {
        "file": path,
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
        "rounds": count,
        "a": asdict(summarise("A", a, runs_a)),
        "yardsticks": {
            label: {
                "b": asdict(summarise(label, cmd, runs_b[label])),
                "ratio_median": statistics.median(ratios[label]),
                "ratio_min": min(ratios[label]),
                "ratio_max": max(ratios[label]),
                "cpu_ratio_median": statistics.median(cpu_ratios[label]),
            }
            for label, cmd in yardsticks
        },
        "date": time.strftime("%Y-%m-%d"),
        "load_avg": os.getloadavg()[0],
    }


def report_rounds(res: dict[str, object]) -> str:
    a, marks = res["a"], res["yardsticks"]
    assert isinstance(a, dict) and isinstance(marks, dict)
    lines = [
        f"HAR: {res['file']} ({res['size_mb']} MB), {res['rounds']} rounds, {res['date']}, "
        f"load {res['load_avg']:.1f} at the end",
        f"  A {a['command']}\n     wall median {a['wall_median']:.2f} s [{a['wall_min']:.2f}-{a['wall_max']:.2f}], "
        f"CPU median {a['cpu_median']:.2f} s, peak RSS {a['peak_mib']:.0f} MiB",
    ]
    for label, mark in marks.items():
        b = mark["b"]
        lines.append(
            f"  B {label}: wall median {b['wall_median']:.2f} s [{b['wall_min']:.2f}-{b['wall_max']:.2f}], "
            f"CPU median {b['cpu_median']:.2f} s, peak RSS {b['peak_mib']:.0f} MiB\n"
            f"     A/B wall, paired median {mark['ratio_median']:.3f} "
            f"[{mark['ratio_min']:.3f}-{mark['ratio_max']:.3f}]; A/B CPU {mark['cpu_ratio_median']:.3f}; "
            f"peak RSS A/B {a['peak_mib'] / b['peak_mib']:.2f}"
        )
    return "\n".join(lines)


def report(title: str, res: dict[str, object]) -> str:
    a, b = res["a"], res["b"]
    assert isinstance(a, dict) and isinstance(b, dict)
    return (
        f"{title}: {res['file']} ({res['size_mb']} MB), {res['pairs']} pairs, {res['date']}\n"
        f"  A {a['command']}\n     wall median {a['wall_median']:.2f} s [{a['wall_min']:.2f}-{a['wall_max']:.2f}], "
        f"peak RSS {a['peak_mib']:.0f} MiB\n"
        f"  B {b['command']}\n     wall median {b['wall_median']:.2f} s [{b['wall_min']:.2f}-{b['wall_max']:.2f}], "
        f"peak RSS {b['peak_mib']:.0f} MiB\n"
        f"  A/B wall ratio, paired median {res['ratio_median']:.3f} "
        f"[{res['ratio_min']:.3f}-{res['ratio_max']:.3f}]"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("captures", nargs="+", metavar="FILE", help="capture(s), or HAR file(s) for --mode har")
    ap.add_argument(
        "--mode",
        choices=("full", "reader", "scapy", "all", "har"),
        help="default: har when every FILE ends in .har, else full ('all' is the three capture modes)",
    )
    ap.add_argument("--cmd", default=DEFAULT_CMD, help=f"full-analysis command, {{file}} = capture ({DEFAULT_CMD})")
    ap.add_argument("--ok-exit", default="0,1", help="exit statuses that count as a finished run (default 0,1)")
    ap.add_argument("--tshark-cmd", default=TSHARK_CMD, help=f"the yardstick ({TSHARK_CMD})")
    ap.add_argument("--a", help="custom A command (with --b)")
    ap.add_argument("--b", help="custom B command (with --a)")
    ap.add_argument("--pairs", type=int, default=3, help="pairs (rounds in HAR mode) per file")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    OK_EXITS.clear()
    OK_EXITS.update(int(x) for x in args.ok_exit.split(","))
    for capture in args.captures:
        if not Path(capture).is_file():
            ap.error(f"{capture}: no such file (make one: python bench/gen_capture.py or bench/gen_har.py)")
    if args.mode is None:
        args.mode = "har" if all(c.lower().endswith(".har") for c in args.captures) else "full"
    results: dict[str, object] = {}
    status = 0
    for capture in args.captures:
        if args.mode == "har" and not (args.a or args.b):
            status |= _har_mode(capture, args, results)
        else:
            status |= _capture_modes(capture, args, ap, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return status


def _har_mode(path: str, args: argparse.Namespace, results: dict[str, object]) -> int:
    print(f"HAR {path}: analyze vs haralyzer, json.load and the read floor ...", file=sys.stderr)
    try:
        res = rounds(path, args.cmd, HAR_YARDSTICKS, args.pairs, not args.no_warmup)
    except CommandFailed as exc:
        print(f"HAR {path}: not measured: {exc}", file=sys.stderr)
        return 1
    results[f"har {path}"] = res
    print(report_rounds(res))
    return 0


def _capture_modes(
    capture: str, args: argparse.Namespace, ap: argparse.ArgumentParser, results: dict[str, object]
) -> int:
    plans: list[tuple[str, str, str]] = []
    if args.a or args.b:
        if not (args.a and args.b):
            ap.error("--a and --b go together")
        plans.append(("custom", args.a, args.b))
    else:
        if args.mode in ("full", "all"):
            plans.append(("full analysis vs tshark", args.cmd, args.tshark_cmd))
        if args.mode in ("reader", "all"):
            plans.append(("native reader vs tshark", READER_CMD, args.tshark_cmd))
        if args.mode in ("scapy", "all"):
            plans.append(("scapy RawPcapReader + our decoder vs native reader", SCAPY_CMD, READER_CMD))

    status = 0
    for title, a, b in plans:
        print(f"{title} ...", file=sys.stderr)
        try:
            res = paired(capture, a, b, args.pairs, not args.no_warmup, b_is_yardstick=title != "custom")
        except CommandFailed as exc:
            print(f"{title}: not measured: {exc}", file=sys.stderr)
            if title.startswith("full"):
                print(
                    "  (the CLI may not exist yet: install the package with `pip install -e .`, or pass --cmd)",
                    file=sys.stderr,
                )
            status = 1
            continue
        results[title if len(args.captures) == 1 else f"{title} {capture}"] = res
        print(report(title, res))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
