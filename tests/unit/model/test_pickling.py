"""The model pickles by its __init__ arguments (``model.pickling``): a round trip changes nothing."""

from __future__ import annotations

import glob
import pickle
from pathlib import Path

from stickyforensics.config import Config
from stickyforensics.model import AnalysisReport, ClientSession
from stickyforensics.pipeline import analyze
from stickyforensics.sharded import global_view, summary_of

ROOT = Path(__file__).resolve().parents[3]


def test_report_sessions_and_views_round_trip() -> None:
    report = analyze(sorted(glob.glob(str(ROOT / "samples/*/*.pcap"))), shard_bytes=0)
    assert report.sessions and report.findings
    assert pickle.loads(pickle.dumps(report)) == report
    for session in report.sessions:
        for shape in (session, summary_of(session), global_view(session, Config())):
            back = pickle.loads(pickle.dumps(shape))
            assert back == shape and type(back) is ClientSession
            assert back.transaction_count == session.transaction_count and back.complete == shape.complete


def test_reduce_names_the_class_and_its_arguments() -> None:
    report = analyze([str(ROOT / "samples/noise/capture.pcap")], shard_bytes=0)
    cls, args = report.__reduce__()  # type: ignore[misc]
    assert cls is AnalysisReport and args[0] == report.schema_version
