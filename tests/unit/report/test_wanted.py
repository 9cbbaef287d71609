"""``report.wanted``: each format renders from summaries plus what it asks for exactly what it renders from
whole sessions. ``--jobs`` gives the reporters nothing more (``sharded``); a format that reads more of the
sessions than it asks for loses it on every split run, and this says so without running any process."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from stickyforensics.config import Config
from stickyforensics.model import AnalysisReport
from stickyforensics.pipeline import analyze
from stickyforensics.report.github import render_github
from stickyforensics.report.html import render_html
from stickyforensics.report.json import render_json
from stickyforensics.report.junit import render_junit
from stickyforensics.report.markdown import render_markdown
from stickyforensics.report.redact import Redactor
from stickyforensics.report.sarif import render_sarif
from stickyforensics.report.terminal import render_text
from stickyforensics.report.wanted import sessions_wanted
from stickyforensics.shard_views import cited_part, summary_of
from stickyforensics.sharded import with_sessions_asked

ROOT = Path(__file__).resolve().parents[3]
REDACTOR = Redactor(b"k" * 32)
RENDERERS = {
    "text": render_text,
    "json": render_json,
    "html": render_html,
    "markdown": render_markdown,
    "junit": render_junit,
    "sarif": render_sarif,
    "github": render_github,
}


def _as_asked(report: AnalysisReport, fmt: str) -> AnalysisReport:
    """The report as ``--jobs`` hands it to ``fmt``: summaries, the whole sessions and cited parts it asks for."""
    detail, cited = sessions_wanted(fmt)
    whole = {s.key: s for s in report.sessions}
    summaries = replace(report, sessions=tuple(summary_of(s) for s in report.sessions))
    return with_sessions_asked(summaries, whole.__getitem__, dict.fromkeys(whole, 0), detail, cited)


@pytest.fixture(scope="module")
def samples() -> AnalysisReport:
    return analyze([str(ROOT / "samples")], Config())


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_each_format_renders_the_same_from_what_it_asks_for(samples: AnalysisReport, fmt: str) -> None:
    render = RENDERERS[fmt]
    assert render(_as_asked(samples, fmt), redactor=REDACTOR) == render(samples, redactor=REDACTOR)


def test_a_format_that_forgets_to_ask_is_caught(samples: AnalysisReport) -> None:
    """The check above can fail: SARIF rendered from summaries alone loses its rows' backends and cookies."""
    bare = replace(samples, sessions=tuple(summary_of(s) for s in samples.sessions))
    assert render_sarif(bare, redactor=REDACTOR) != render_sarif(samples, redactor=REDACTOR)


def test_cited_parts_hold_only_the_cited_transactions(samples: AnalysisReport) -> None:
    session = max(samples.sessions, key=lambda s: len(s.transactions))
    keep = {session.transactions[0].id, session.transactions[-1].id}
    part = cited_part(session, keep)
    assert {tx.id for tx in part.transactions} == keep
    assert {obs.transaction_id for obs in part.backends} <= keep
    assert (part.key, part.transaction_count, part.first_seen, part.last_seen) == (
        session.key,
        session.transaction_count,
        session.first_seen,
        session.last_seen,
    )
    assert not part.cookie_events
