"""The body-prefix filter keeps every prefix the analysis could read a marker in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from stickyforensics.config import Config
from stickyforensics.pipeline import EngineOptions, analyze
from stickyforensics.report.json import render_json
from stickyforensics.report.redact import Redactor
from stickyforensics.track.body_prefix import body_prefix_filter, literal_start

ROOT = Path(__file__).resolve().parents[3]


def test_literal_start_of_patterns() -> None:
    assert literal_start(r"Served by (?P<backend>[\w.:-]+)") == "Served by "
    assert literal_start(r"nodes? (\d+)") == "node"
    assert literal_start(r"(?i)x") is None
    assert literal_start(r"ab\d") is None  # too short to scan for
    # Every match must begin with it: an alternation at the top level (or a comment) gives none.
    assert literal_start(r"Served by x|node-\d") is None
    assert literal_start(r"Served by (x|node-\d)") == "Served by "
    assert literal_start(r"Served by [|]x") == "Served by "
    assert literal_start(r"Served by \|x") == "Served by "
    assert literal_start(r"Served by (?#x|y)x") is None


def test_a_body_the_other_alternative_matches_keeps_its_prefix() -> None:
    keep = body_prefix_filter(replace(Config(), body_markers=(), backend_body_patterns=(r"Served by x|node-\d",)))
    assert keep is None or keep(b"<!-- node-7 -->")


def test_markers_and_patterns_are_found_in_any_case() -> None:
    keep = body_prefix_filter(Config())
    assert keep is not None
    assert keep(b"<p>Your bad Session, sorry</p>")
    assert keep(b"<!-- served BY app-3 -->")
    assert not keep(b"<html>all good</html>")
    # Beyond ASCII the bytes answer too, except for the two characters whose lower case is partly ASCII.
    assert not keep("<p>caf\u00e9</p>".encode())
    assert keep("<p>caf\u00e9: your bad session</p>".encode())
    assert keep("<p>Bad Sess\u0130on</p>".encode())  # lower(): "bad session" with a combining dot
    assert keep("<p>\u212a</p>".encode())


def test_a_pattern_without_literal_start_keeps_everything() -> None:
    assert body_prefix_filter(replace(Config(), backend_body_patterns=(r"\bnode-(\d+)",))) is None
    assert body_prefix_filter(replace(Config(), body_markers=("s\u00e9ance expir\u00e9e",))) is None


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200), st.sampled_from(Config().body_markers))
def test_a_marker_anywhere_keeps_the_prefix(text: str, marker: str) -> None:
    keep = body_prefix_filter(Config())
    assert keep is not None
    body = (text + marker.swapcase() + text).encode()
    assert keep(body)


def test_same_report_with_and_without_the_filter() -> None:
    redactor = Redactor(b"k" * 32)
    paths = [str(ROOT / "samples")]
    every = analyze(paths, Config(), engine=EngineOptions(keep_body_prefix=lambda prefix: True))
    filtered = analyze(paths, Config())
    assert render_json(filtered, redactor=redactor) == render_json(every, redactor=redactor)


@given(
    st.text(alphabet=st.sampled_from("abks IK\u0130\u212a\u017f\u00e9\u00df<>"), max_size=60),
    st.sampled_from(Config().body_markers),
    st.booleans(),
)
def test_the_filter_keeps_every_prefix_a_marker_is_found_in(text: str, marker: str, insert: bool) -> None:
    # The reference: the marker in the decoded, lower-cased text (``detect.facts``' general path).
    keep = body_prefix_filter(Config())
    assert keep is not None
    body = (text + (marker.upper() if insert else "") + text).encode()
    text_low = body.decode("utf-8", "replace").lower()
    if any(m.lower() in text_low for m in Config().body_markers):
        assert keep(body)
