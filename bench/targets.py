"""Issue 9's targets in one run, each judged: met or not, with the figures behind it.

    python bench/targets.py                      # the files of bench/data (see bench/README.md, "How to run")
    python bench/targets.py --pairs 3 --json /tmp/targets.json
    python bench/targets.py --har-rounds 10 --har bench/data/session-300.har   # the captures too, one HAR
    python bench/targets.py --capture big.pcap --smaller-capture medium.pcap --har a.har --har b.har
    python bench/targets.py --folder bench/data/nodes     # also a folder of node captures (bench/split_capture.py)

What it runs, all on this machine in the same series (ratios are paired, so the VM's drift cancels):

- captures: ``bench_full.measure`` (``analyze -j 2`` against tshark's cookie-field extraction, tree peak
  memory by PSS) on the large capture and on a smaller one, for the growth of memory with the capture;
- HAR files: ``run_bench.rounds`` (``analyze`` against haralyzer's load plus every entry's headers,
  ``json.load`` plus the same walk, and reading the file's bytes);
- the read floor of the large capture (its bytes read from the page cache, as for HARs);
- with ``--folder``, a support case's folder of captures, one per load-balancer node (``split_capture.py``):
  ``analyze`` of the folder against tshark on each file in turn, judged by the capture targets.

Targets (issue 9): capture wall <= 0.25x tshark's; capture peak memory <= 1/10 of tshark's and flat as
the capture grows; HAR wall <= 0.5x haralyzer's, with memory that does not grow with the file; within 4x
of the read floor. "Flat" is judged as: the larger file's peak at most 1.5x the smaller's while the file is
at least 3x larger (sub-linear, stated with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_full import measure  # bench scripts run from the repository, not installed
from run_bench import HAR_YARDSTICKS, YARDSTICK_EXITS, CommandFailed, rounds, run_once

DATA = Path(__file__).resolve().parent / "data"
ANALYZE = "stickyforensics analyze {file} --format json -o /dev/null"
READ_FLOOR = dict(HAR_YARDSTICKS)["read floor"]
FLAT_GROWTH = 1.5
"""At most this growth of peak memory ..."""
FLAT_MIN_SIZE_RATIO = 3.0
"""... between two files this many times apart in size."""
TARGET_HAR_MB = 100
"""The HAR time target is for a ~300 MB file: smaller ones are shown, not judged (start-up weighs more)."""


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _capture_rows(large: str, smaller: str | None, pairs: int) -> tuple[list[list[str]], dict[str, object]]:
    out: dict[str, object] = {}
    rows = []
    big = measure(large, ["-j 2"], pairs)
    ours = big[0]
    out["capture"] = big
    rows += _time_and_memory_rows(big, f" ({Path(large).name})", "")
    if smaller:
        small = measure(smaller, ["-j 2"], pairs)
        out["smaller_capture"] = small
        size_ratio = os.path.getsize(large) / os.path.getsize(smaller)
        growth = float(ours["tree_peak_mib"]) / float(small[0]["tree_peak_mib"])  # type: ignore[arg-type]
        rows.append(
            [
                "capture memory flat as the capture grows",
                f"x{growth:.2f} for x{size_ratio:.1f} the file ({small[0]['tree_peak_mib']:.0f} -> "
                f"{ours['tree_peak_mib']:.0f} MiB)",
                _verdict(growth <= FLAT_GROWTH and size_ratio >= FLAT_MIN_SIZE_RATIO),
            ]
        )
    floor = statistics.median(run_once(READ_FLOOR, large, YARDSTICK_EXITS).wall for _ in range(3))
    out["capture_read_floor_s"] = floor
    rows.append(
        [
            "capture within 4x of the read floor",
            f"{float(ours['wall_s']) / floor:.1f}x ({floor:.2f} s to read the file)",  # type: ignore[arg-type]
            _verdict(float(ours["wall_s"]) <= 4 * floor),  # type: ignore[arg-type]
        ]
    )
    return rows, out


def _folder_rows(folder: str, pairs: int) -> tuple[list[list[str]], dict[str, object]]:
    files = sorted(p for p in Path(folder).iterdir() if p.suffix in (".pcap", ".pcapng"))
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    measured = measure(folder, ["-j 2"], pairs)
    what = f" (a folder of {len(files)} captures, {size_mb:.0f} MB)"
    return _time_and_memory_rows(measured, what, what), {"folder": measured}


def _time_and_memory_rows(measured: list[dict[str, object]], time_of: str, memory_of: str) -> list[list[str]]:
    """The capture time and memory targets' rows from ``bench_full.measure`` (ours first, tshark last)."""
    ours, tshark = measured[0], measured[-1]
    ratio, low, high = ours["ratio_to_tshark"], *ours["ratio_range"]  # type: ignore[misc]
    mem = ours["memory_ratio_to_tshark"]
    return [
        [
            f"capture time <= 0.25x tshark{time_of}",
            f"{ratio:.3f}x [{low:.3f}-{high:.3f}] ({ours['wall_s']:.1f} s vs {tshark['wall_s']:.1f} s; CPU "
            f"{ours['cpu_ratio_to_tshark']:.2f}x of tshark's, {ours['cpu_s']:.1f} s vs {tshark['cpu_s']:.1f} s)",
            _verdict(ratio <= 0.25),
        ],
        [
            f"capture memory <= 1/10 of tshark's{memory_of}",
            f"{mem:.3f} ({ours['tree_peak_mib']:.0f} vs {tshark['tree_peak_mib']:.0f} MiB)",
            _verdict(float(mem) <= 0.1),  # type: ignore[arg-type]
        ],
    ]


def _har_rows(hars: list[str], count: int) -> tuple[list[list[str]], dict[str, object]]:
    rows = []
    results = [rounds(path, ANALYZE, HAR_YARDSTICKS, count, warmup=True) for path in hars]
    for res in results:
        name = Path(str(res["file"])).name
        sticks = res["yardsticks"]
        hz = sticks["haralyzer load + headers"]  # type: ignore[index]
        floor = sticks["read floor"]  # type: ignore[index]
        a = res["a"]
        rows.append(
            [
                f"HAR time <= 0.5x haralyzer ({name}, {res['size_mb']} MB)",
                f"{hz['ratio_median']:.3f}x [{hz['ratio_min']:.3f}-{hz['ratio_max']:.3f}] "
                f"({a['wall_median']:.2f} s vs {hz['b']['wall_median']:.2f} s)",  # type: ignore[index]
                _verdict(hz["ratio_median"] <= 0.5)
                if float(res["size_mb"]) >= TARGET_HAR_MB
                else "(smaller than the target's)",
            ]
        )
        rows.append(
            [
                f"HAR within 4x of the read floor ({name})",
                f"{floor['ratio_median']:.0f}x ({floor['b']['wall_median']:.2f} s to read the file)",
                _verdict(floor["ratio_median"] <= 4),
            ]
        )
    by_size = sorted(results, key=lambda r: float(r["size_mb"]))  # type: ignore[arg-type]
    for small in by_size:
        for large in by_size:
            size_ratio = float(large["size_mb"]) / float(small["size_mb"])  # type: ignore[arg-type]
            same_kind = Path(str(large["file"])).name.split("-")[0] == Path(str(small["file"])).name.split("-")[0]
            if not same_kind or size_ratio < FLAT_MIN_SIZE_RATIO:
                continue
            growth = large["a"]["peak_mib"] / small["a"]["peak_mib"]  # type: ignore[index]
            rows.append(
                [
                    f"HAR memory flat ({Path(str(small['file'])).name} -> {Path(str(large['file'])).name})",
                    f"x{growth:.2f} for x{size_ratio:.1f} the file ({small['a']['peak_mib']:.0f} -> "  # type: ignore[index]
                    f"{large['a']['peak_mib']:.0f} MiB)",  # type: ignore[index]
                    _verdict(growth <= FLAT_GROWTH),
                ]
            )
    return rows, {"har": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", default=str(DATA / "large.pcap"))
    parser.add_argument("--smaller-capture", default=str(DATA / "medium.pcap"))
    parser.add_argument(
        "--har",
        action="append",
        help="repeatable (default: the four files of bench/data: small-30/300, session-30/300)",
    )
    parser.add_argument("--pairs", type=int, default=2, help="paired runs per capture")
    parser.add_argument(
        "--har-rounds",
        type=int,
        help="rounds per HAR (default: --pairs, at least 6: in session 10 a run of session-300 took 2.4 to 3.7 s "
        "from round to round, and 2 rounds put its median on either side of the target)",
    )
    parser.add_argument("--folder", help="also a folder of node captures (bench/split_capture.py), vs tshark on each")
    parser.add_argument("--json", help="also write every figure here")
    args = parser.parse_args(argv)
    hars = args.har or [str(DATA / f"{kind}-{size}.har") for kind in ("session", "small") for size in (30, 300)]
    missing = [p for p in [args.capture, args.smaller_capture, args.folder, *hars] if p and not os.path.exists(p)]
    if missing:
        print(f"missing: {', '.join(missing)} (bench/README.md, 'How to run', says how to make them)", file=sys.stderr)
        return 2
    try:
        rows, figures = _capture_rows(args.capture, args.smaller_capture or None, args.pairs)
        if args.folder:
            folder_rows, folder_figures = _folder_rows(args.folder, args.pairs)
            rows += folder_rows
            figures.update(folder_figures)
        har_rows, har_figures = _har_rows(hars, args.har_rounds if args.har_rounds else max(args.pairs, 6))
    except CommandFailed as exc:  # a yardstick that fails measures nothing (see bench/README.md, "How to run")
        print(f"not measured: {exc}", file=sys.stderr)
        return 2
    rows += har_rows
    figures.update(har_figures)
    print("| target | measured | |\n|---|---|---|")
    for target, measured, verdict in rows:
        print(f"| {target} | {measured} | {verdict} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "figures": figures}, indent=2, default=str) + "\n")
    print(f"\n{shlex.join(sys.argv)}; load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
