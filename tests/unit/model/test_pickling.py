"""The model pickles by its __init__ arguments (``model.pickling``): a round trip changes nothing."""

from __future__ import annotations

import glob
import pickle
from pathlib import Path

from stickyforensics.config import Config
from stickyforensics.model import AnalysisReport, ClientSession
from stickyforensics.pipeline import analyze
from stickyforensics.shard_views import global_view, summary_of

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


def test_reduce_names_a_constructor_and_the_init_arguments() -> None:
    report = analyze([str(ROOT / "samples/noise/capture.pcap")], shard_bytes=0)
    make, args = report.__reduce__()  # type: ignore[misc]
    assert args[0] == report.schema_version
    assert make(*args) == report and type(make(*args)) is AnalysisReport
    session = report.sessions[0]
    assert session.__reduce__()[0] is ClientSession  # type: ignore[misc]  # __post_init__: its own constructor


def test_classes_the_builder_reproduces_load_through_it() -> None:
    from stickyforensics.model import Headers, Transaction, pickling

    report = analyze([str(ROOT / "samples/noise/capture.pcap")], shard_bytes=0)
    tx = next(tx for s in report.sessions for tx in s.transactions)
    make, args = tx.__reduce__()  # type: ignore[misc]
    assert make is pickling.build_Transaction and make(*args) == tx  # type: ignore[attr-defined]
    assert type(make(*args)) is Transaction
    assert b"build_Transaction" in pickle.dumps(tx)
    assert pickle.loads(pickle.dumps(Headers((("Set-Cookie", "a=1"), ("set-cookie", "b=2"))))).items == (
        ("Set-Cookie", "a=1"),
        ("set-cookie", "b=2"),
    )
