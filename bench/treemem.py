"""Run a command and measure its wall time and the peak memory of its whole process tree.

``os.wait4`` reports the largest single process of a tree, which hides the workers of ``--jobs``:
this samples the proportional set size (PSS: a page shared by k processes counts 1/k in each) of
the command and every descendant from ``/proc`` (every 100 ms by default: reading the PSS of a 1 GB
process is costly, and at 20 ms the sampler took a third of a core from the command it measured)
and reports the peak of their sum, next to the ``wait4`` figure.

    python bench/treemem.py -- stickyforensics analyze bench/data/large.pcap -j 2 --format json -o /dev/null
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss(pid: int) -> int:
    """Proportional set size: pages shared after ``fork`` count once across the tree, not per process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> int:
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss(pid)
        stack.extend(tree.get(pid, ()))
    return total


def run(cmd: list[str], interval: float = 0.1) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    while True:
        peak = max(peak, tree_rss(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(interval)
    wall = time.perf_counter() - start
    return {
        "wall_s": round(wall, 3),
        "exit": os.waitstatus_to_exitcode(status),
        "tree_peak_mib": round(peak / 2**20, 1),
        "largest_process_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),  # with the descendants it waited for
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command")
    print(json.dumps(run(cmd)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
