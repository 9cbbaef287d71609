"""What is loaded before a HAR's second reader is forked: as little as the reading needs.

The track and detect layers, the cookie catalogs and rich cost about 0.3 s to load. Loaded before the fork,
that time is spent while only one process works. After the fork, this process loads them while the child
reads (``ingest.har_split``, ``track.early``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    return set(out.stdout.split())


def test_the_pipeline_and_cli_load_no_track_detect_or_rich_module_before_reading() -> None:
    loaded = _loaded_after(
        "import stickyforensics.cli.app, stickyforensics.pipeline, stickyforensics.ingest.har\n"
        "from stickyforensics.cli.progress import stderr_progress\n"
        "from stickyforensics.track.early import EarlyTracking\n"
        "from stickyforensics.config import Config\n"
        "EarlyTracking(Config())"
    )
    early = {m for m in loaded if m.startswith(("stickyforensics.detect", "stickyforensics.track.", "rich"))}
    assert early <= {"stickyforensics.track.body_prefix", "stickyforensics.track.early"}, sorted(early)


def test_early_tracking_loads_the_catalogs_when_first_fed() -> None:
    loaded = _loaded_after(
        "from stickyforensics.track.early import EarlyTracking\n"
        "from stickyforensics.config import Config\n"
        "from stickyforensics.ingest.har import read_har\n"
        "EarlyTracking(Config()).feed(read_har('samples/browser_har/browser-sticky.har').transactions)"
    )
    assert {"stickyforensics.track.lb", "stickyforensics.track.timeline"} <= loaded
