"""The record / check half of the output guards (``recon_guard.py``, ``har_guard.py``): one sha256 per input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", metavar="DIR", help="store the digests in DIR/digests.json")
    mode.add_argument("--check", metavar="DIR", help="compare with DIR/digests.json; exit 1 on a difference")


def record_or_check(args: argparse.Namespace, current: dict[str, str]) -> int:
    """Store ``current`` (``--record``) or compare it with what was stored (``--check``): the exit status.

    Inputs recorded that are absent now are not checked; inputs added since are listed, not failed.
    """
    if args.record:
        target = Path(args.record)
        target.mkdir(parents=True, exist_ok=True)
        (target / "digests.json").write_text(json.dumps(current, indent=1, sort_keys=True))
        print(f"recorded {len(current)} results in {target / 'digests.json'}")
        return 0
    recorded: dict[str, str] = json.loads((Path(args.check) / "digests.json").read_text())
    differ = sorted(k for k, v in recorded.items() if k in current and current[k] != v)
    gone = [k for k in recorded if k not in current]
    added = [k for k in current if k not in recorded]
    for key in differ:
        print(f"DIFFERS {key}")
    print(
        f"{len(recorded) - len(gone) - len(differ)} identical, {len(differ)} differ, "
        f"{len(gone)} not checked (absent now), {len(added)} new (not recorded)"
    )
    return 1 if differ else 0
