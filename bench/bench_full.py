"""The whole analysis against tshark's cookie-field extraction, with the memory of every process.

Paired runs (A B A B ...) on the same capture, each command its own process tree, after one warm-up of
each (page cache warm). Memory is the peak PSS summed over the command's process tree
(``bench/treemem.py``): ``--jobs`` workers count, and pages shared after ``fork`` count once.

    python bench/bench_full.py bench/data/large.pcap                      # default settings
    python bench/bench_full.py bench/data/large.pcap --variant "-j 1 --pass-mb 0" --variant "-j 2"
    python bench/bench_full.py F --pairs 3 --json results.json
    python bench/bench_full.py bench/data/nodes/     # a folder (bench/split_capture.py): tshark reads each file in turn

Prints one row per variant: medians of wall time and tree peak, the median of the per-pair ratios to
tshark, and the largest single process.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from treemem import run  # bench scripts run from the repository, not installed

TSHARK = "tshark -r {file} -Y http -T fields -e http.cookie -e http.set_cookie"
OURS = "stickyforensics analyze {file} --format json -o /dev/null"


def _cmd(template: str, path: str, extra: str = "") -> list[str]:
    return shlex.split(template.format(file=shlex.quote(path))) + shlex.split(extra)


def tshark_command(path: str) -> list[str]:
    """tshark's extraction of ``path``; for a folder, of each capture in it in turn (tshark takes one file;
    ``analyze`` takes the folder), as one shell command whose process tree the measurement follows."""
    if not Path(path).is_dir():
        return _cmd(TSHARK, path)
    files = sorted(str(p) for p in Path(path).iterdir() if p.suffix in (".pcap", ".pcapng"))
    if not files:
        raise SystemExit(f"{path}: no .pcap or .pcapng files")
    loop = " && ".join(shlex.join(_cmd(TSHARK, f)) + " >/dev/null" for f in files)
    return ["sh", "-c", loop]


def measure(path: str, variants: list[str], pairs: int) -> list[dict[str, object]]:
    tshark = tshark_command(path)
    ours = {v: _cmd(OURS, path, v) for v in variants}
    run(tshark)
    for cmd in ours.values():
        run(cmd)
    rows: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    base: list[dict[str, float]] = []
    for _ in range(pairs):
        for variant, cmd in ours.items():
            a = run(cmd)
            if a["exit"] not in (0, 1):
                raise SystemExit(f"{' '.join(cmd)} failed with exit {a['exit']}")
            b = run(tshark)
            if b["exit"] != 0:  # a yardstick that failed (tshark missing, a file it refuses) is no yardstick
                raise SystemExit(f"{' '.join(tshark)} failed with exit {b['exit']}")
            a["ratio"] = a["wall_s"] / b["wall_s"]
            a["mem_ratio"] = a["tree_peak_mib"] / b["tree_peak_mib"]
            a["cpu_ratio"] = a["cpu_s"] / b["cpu_s"] if b["cpu_s"] else float("inf")
            rows[variant].append(a)
            base.append(b)
    out: list[dict[str, object]] = []
    for variant, runs in rows.items():
        out.append(
            {
                "variant": variant or "(defaults)",
                "wall_s": statistics.median(r["wall_s"] for r in runs),
                "tree_peak_mib": statistics.median(r["tree_peak_mib"] for r in runs),
                "largest_process_mib": statistics.median(r["largest_process_mib"] for r in runs),
                "ratio_to_tshark": round(statistics.median(r["ratio"] for r in runs), 3),
                "ratio_range": [round(min(r["ratio"] for r in runs), 3), round(max(r["ratio"] for r in runs), 3)],
                "memory_ratio_to_tshark": round(statistics.median(r["mem_ratio"] for r in runs), 3),
                "cpu_s": statistics.median(r["cpu_s"] for r in runs),
                "cpu_ratio_to_tshark": round(statistics.median(r["cpu_ratio"] for r in runs), 3),
            }
        )
    out.append(
        {
            "variant": "tshark fields",
            "wall_s": statistics.median(r["wall_s"] for r in base),
            "tree_peak_mib": statistics.median(r["tree_peak_mib"] for r in base),
            "largest_process_mib": statistics.median(r["largest_process_mib"] for r in base),
            "cpu_s": statistics.median(r["cpu_s"] for r in base),
        }
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--variant", action="append", default=None, help="extra analyze options (repeatable)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    rows = measure(args.file, args.variant or [""], args.pairs)
    print(
        "| variant | wall median | tree peak (PSS) | largest process | wall / tshark (paired median [range]) "
        "| memory / tshark | CPU (user + system) | CPU / tshark |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"**{r['ratio_to_tshark']}** {r['ratio_range']}" if "ratio_to_tshark" in r else "1"
        mem = r.get("memory_ratio_to_tshark", 1)
        print(
            f"| {r['variant']} | {r['wall_s']:.1f} s | {r['tree_peak_mib']:.0f} MiB | "
            f"{r['largest_process_mib']:.0f} MiB | {ratio} | {mem} | {r['cpu_s']:.1f} s | "
            f"{r.get('cpu_ratio_to_tshark', 1)} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
