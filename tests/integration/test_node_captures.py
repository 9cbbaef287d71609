"""A folder of captures, one per load-balancer node, is judged as the one capture they were cut from.

Behind a cluster, a client's connections are spread over the nodes, and a support case brings each node's
capture (issue 9). ``bench/split_capture.py`` cuts a generated capture that way (by TCP connection); the
clients, their transactions and the findings must be those of the whole capture, on one process or on
several with small shards (the shards then hold parts of a client from different files).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stickyforensics.config import Config
from stickyforensics.model import AnalysisReport
from stickyforensics.pipeline import analyze

ROOT = Path(__file__).resolve().parents[2]
NODES = 3


@pytest.fixture(scope="module")
def cut_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated capture (clients with two connections, re-pinned persistence cookies) and its node folder."""
    work = tmp_path_factory.mktemp("nodes")
    whole = work / "whole.pcap"
    run = [sys.executable, str(ROOT / "bench/gen_capture.py"), "--packets", "15000", "--seed", "11", "-o", str(whole)]
    subprocess.run(run, check=True, capture_output=True, timeout=120)
    folder = work / "nodes"
    split = [sys.executable, str(ROOT / "bench/split_capture.py"), str(whole), "--nodes", str(NODES), "-o", str(folder)]
    subprocess.run(split, check=True, capture_output=True, timeout=120)
    return whole, folder


def _clients(report: AnalysisReport) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Per client: its transactions and the backends it reached, in order."""
    return {s.key.value: (s.transaction_count, s.backends_seen) for s in report.sessions}


def _findings(report: AnalysisReport) -> list[tuple[str, str, str, str]]:
    # The message names clients, cookies and backends, not frames: it must not change with the cut.
    return sorted((f.rule, f.client, f.cookie or "", f.message) for f in report.findings)


def test_the_split_spreads_clients_over_several_nodes(cut_capture: tuple[Path, Path]) -> None:
    _, folder = cut_capture
    report = analyze([str(folder)], Config())
    assert len(report.inputs) == NODES
    spread = [s for s in report.sessions if len(s.inputs) > 1]
    assert len(spread) >= 10, "too few clients with connections on two nodes: the test would prove nothing"


@pytest.mark.parametrize(("jobs", "shards_of"), [(1, None), (2, None), (2, 8)], ids=["one", "two", "small-shards"])
def test_node_captures_give_the_whole_capture_s_clients_and_findings(
    cut_capture: tuple[Path, Path], jobs: int, shards_of: int | None
) -> None:
    whole, folder = cut_capture
    expected = analyze([str(whole)], Config())
    assert any(f.rule == "SF302" for f in expected.findings), "the generated capture re-pins some clients"
    shard_bytes = whole.stat().st_size // shards_of if shards_of else None
    parts = analyze([str(folder)], Config(), jobs=jobs, shard_bytes=shard_bytes)
    assert _clients(parts) == _clients(expected)
    assert _findings(parts) == _findings(expected)
