"""Run the lab: ``python -m lab.run [--out DIR] [--scenario NAME ...] [--list]``.

Each scenario starts its own backends, load balancers and tcpdump, drives its clients, stops everything
it started (by PID, also on errors and Ctrl-C), writes ``<out>/<scenario>/`` (capture.pcap and/or HAR
files, keys.log, expected.json) and then re-reads its own capture/HAR with tshark/JSON to check that the
wire shows the ground truth it claims. Working files (configs, process logs, client logs) go to
``<out>/_work/<scenario>/``. Exit status: 0 when every selected scenario ran and verified, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from types import FrameType

from lab.catalog import BY_NAME, SCENARIOS
from lab.procs import LabError, Supervisor
from lab.scenarios.base import Scenario, record
from lab.stack import REPO, Stack, require_tools
from lab.verify import verify_scenario

SLOW = {"idle_maxlife_timeout": 14, "browser_har": 8, "noise": 4}
"""Rough seconds per slow scenario, to start them first."""


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, argv in (
        ("haproxy", ["haproxy", "-v"]),
        ("nginx", ["nginx", "-v"]),
        ("tcpdump", ["tcpdump", "--version"]),
        ("curl", ["curl", "--version"]),
        ("chromium", ["/usr/bin/chromium", "--version"]),
    ):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
            text = (done.stdout or done.stderr).strip().splitlines()
            out[name] = text[0] if text else "?"
        except (OSError, subprocess.TimeoutExpired):
            out[name] = "unavailable"
    return out


def run_scenario(scenario: Scenario, out: Path, sup: Supervisor, *, verify: bool = True) -> dict[str, object]:
    outdir = out / scenario.name
    workdir = out / "_work" / scenario.name
    for d in (outdir, workdir):
        if d.exists():
            shutil.rmtree(d)
    require_tools(scenario.tools)
    started = time.monotonic()
    stack = Stack(scenario.number, sup, workdir, outdir)
    try:
        outcome = scenario.body(stack)
    finally:
        stack.close()
    doc = record(scenario, outcome, outdir, workdir)
    if verify:
        wire = verify_scenario(outdir, doc)
        with (workdir / "wire-exchanges.jsonl").open("w", encoding="utf-8") as fh:
            for ex in wire:
                fh.write(json.dumps(ex.to_json(), sort_keys=True) + "\n")
    return {
        "scenario": scenario.name,
        "seconds": round(time.monotonic() - started, 1),
        "findings": len(doc["findings"]),
        "healthy_clients": len(doc["healthy_clients"]),
    }


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.run", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "lab", help="output directory (default: out/lab)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(BY_NAME),
        metavar="NAME",
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--jobs", type=int, default=3, help="scenarios run side by side (default 3)")
    parser.add_argument("--no-verify", action="store_true", help="skip re-reading the outputs with tshark")
    args = parser.parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.number:2d} {s.name}" + (f"  (seed {s.seed})" if s.seed else ""))
        return 0
    selected = [BY_NAME[n] for n in args.scenario] if args.scenario else list(SCENARIOS)
    if os.geteuid() != 0:
        print("lab: tcpdump on lo and network namespaces need root (or CAP_NET_RAW/CAP_NET_ADMIN)", file=sys.stderr)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)
    sup = Supervisor(out / "_work" / "logs")
    results: dict[str, dict[str, object]] = {}
    failures: list[str] = []
    t0 = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        require_tools(["tshark"] if not args.no_verify else [])
        # scenarios own disjoint addresses and ports, so they can run side by side; longest first
        order = sorted(selected, key=lambda s: -SLOW.get(s.name, 0))
        futures = {pool.submit(run_scenario, s, out, sup, verify=not args.no_verify): s for s in order}
        for future in as_completed(futures):
            name = futures[future].name
            try:
                result = future.result()
            except LabError as exc:
                failures.append(name)
                print(f"lab: {name} FAILED: {exc}", file=sys.stderr, flush=True)
                continue
            except Exception:  # a bug in one scenario must not hide the others' results
                failures.append(name)
                print(f"lab: {name} FAILED:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
                continue
            results[name] = result
            print(
                f"lab: {name} ok in {result['seconds']} s: {result['findings']} finding(s), "
                f"{result['healthy_clients']} healthy client(s)",
                flush=True,
            )
        pool.shutdown(wait=True)
    except LabError as exc:
        print(f"lab: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted; stopping everything it started", file=sys.stderr)
        sup.close()  # running scenarios fail fast: their processes are gone and no new one may start
        pool.shutdown(wait=False, cancel_futures=True)
        return 130
    finally:
        sup.stop_all()
    if failures:
        print(
            f"lab: {len(failures)} scenario(s) failed ({', '.join(failures)}); logs in {out / '_work'}", file=sys.stderr
        )
        return 1
    index = {
        "scenarios": [results[s.name] for s in selected],
        "seconds": round(time.monotonic() - t0, 1),
        "versions": _versions(),
        "command": "python -m lab.run " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    print(f"lab: {len(results)} scenario(s) in {index['seconds']} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
