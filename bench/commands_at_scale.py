"""Every command a support case runs on a large capture, timed with its tree's peak memory, in one series.

``targets.py`` judges issue 9's targets (``analyze`` against tshark and haralyzer); this runs the other
commands at the same scale, each as a user runs it, and checks what must hold whatever the speed: the
shard-by-shard paths give what one process gives. Each command runs once (they take minutes); compare
only figures from one series (the VM drifts, bench/README.md).

    python bench/commands_at_scale.py                              # bench/data/large.pcap
    python bench/commands_at_scale.py --capture /tmp/huge.pcap --json /tmp/scale.json

What runs, on CAPTURE (and on ``CAPTURE.har``, its export):

- ``analyze -j 2`` as JSON, HTML (which loads the drawn clients' whole sessions) and SARIF (which loads the
  transactions its evidence cites, one session at a time);
- ``export --no-sanitize`` (the HAR the next line reads), ``sanitize`` (the same, sanitized);
- ``analyze`` of the exported HAR (split by client like the capture), whose findings must be the capture's;
- ``cookies --client`` for one client.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from treemem import run  # bench scripts run from the repository, not installed

DATA = Path(__file__).resolve().parent / "data"


def _findings(path: str) -> list[tuple[str, str]]:
    """(rule, client) of every finding of a JSON report: what the capture and its export must share."""
    with open(path, encoding="utf-8") as fh:
        report = json.load(fh)
    return sorted((f["rule"], f["client"]) for f in report["findings"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", default=str(DATA / "large.pcap"))
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    capture = args.capture
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="sf-scale-") as tmp:
        har = os.path.join(tmp, "export.har")
        commands = [
            ("analyze -j 2 (json)", ["analyze", capture, "-j", "2", "--format", "json", "-o", f"{tmp}/capture.json"]),
            ("analyze -j 2 (html)", ["analyze", capture, "-j", "2", "--format", "html", "-o", f"{tmp}/capture.html"]),
            ("analyze -j 2 (sarif)", ["analyze", capture, "-j", "2", "--format", "sarif", "-o", f"{tmp}/c.sarif"]),
            ("export --no-sanitize", ["export", capture, "--no-sanitize", "-o", har]),
            ("sanitize (capture -> HAR)", ["sanitize", capture, "-o", f"{tmp}/sanitized.har", "--redaction-key", "k"]),
            ("analyze the exported HAR", ["analyze", har, "--format", "json", "-o", f"{tmp}/export.json"]),
        ]
        for label, argv in commands:
            figures = run(["stickyforensics", *argv])
            rows.append({"command": label, **figures})
            wall, peak = figures["wall_s"], figures["tree_peak_mib"]
            print(f"{label:32s} {wall:8.1f} s  tree {peak:7.1f} MiB  exit {figures['exit']}")
            if label == "analyze -j 2 (json)":
                with open(f"{tmp}/capture.json", encoding="utf-8") as fh:
                    first_client = json.load(fh)["clients"][0]["client"]
        figures = run(["stickyforensics", "cookies", capture, "--client", first_client])
        rows.append({"command": f"cookies --client {first_client}", **figures})
        print(f"{'cookies --client':32s} {figures['wall_s']:8.1f} s  tree {figures['tree_peak_mib']:7.1f} MiB")
        figures = run(["stickyforensics", "cookies", capture])
        rows.append({"command": "cookies (every client)", **figures})
        print(f"{'cookies (every client)':32s} {figures['wall_s']:8.1f} s  tree {figures['tree_peak_mib']:7.1f} MiB")
        same = _findings(f"{tmp}/capture.json") == _findings(f"{tmp}/export.json")
        print(f"the exported HAR has the capture's findings (rule, client): {'yes' if same else 'NO'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"capture": capture, "rows": rows, "export_same_findings": same}, fh, indent=2)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
