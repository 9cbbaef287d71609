"""``detect.set_cookie_digest``: digests built over any split of the clients merge into the digest of
all of them, so SF201, SF305 and SF401 find with ``--jobs`` what they find in one process."""

from __future__ import annotations

import glob
import random
from pathlib import Path

import pytest
from conftest import cacheable_set_cookie_hars

from stickyforensics.config import Config, load_config
from stickyforensics.detect.catalog import load_rules
from stickyforensics.detect.detectors.replay import per_client_token
from stickyforensics.detect.engine import run_rules
from stickyforensics.detect.set_cookie_digest import SetCookieDigest, digest_sessions
from stickyforensics.model import ClientSession, Finding
from stickyforensics.pipeline import analyze
from stickyforensics.shard_views import global_view, trimmed_transaction
from stickyforensics.track.enum_members import ROUTING
from stickyforensics.track.sessions import session_order

ROOT = Path(__file__).resolve().parents[3]
CASES = [
    [str(ROOT / "samples")],
    *([p] for p in sorted(glob.glob(str(ROOT / "tests/rules/SF201*/*"))) if p.endswith((".har", ".pcap"))),
    *([p] for p in sorted(glob.glob(str(ROOT / "tests/rules/SF305*/*"))) if p.endswith((".har", ".pcap"))),
    *([p] for p in sorted(glob.glob(str(ROOT / "tests/rules/SF401*/*"))) if p.endswith((".har", ".pcap"))),
]
DIGESTED = ("hygiene.insecure_persistence_cookie", "hygiene.internal_address_disclosed", "replay.cacheable_set_cookie")


def _split(sessions: tuple[ClientSession, ...], groups: int, seed: int) -> list[list[ClientSession]]:
    """Clients dealt at random into groups, each group in session order (as a worker holds them)."""
    rng = random.Random(seed)
    out: list[list[ClientSession]] = [[] for _ in range(groups)]
    for session in sessions:
        out[rng.randrange(groups)].append(session)
    return [sorted(group, key=session_order) for group in out]


@pytest.mark.parametrize("inputs", CASES, ids=lambda p: Path(p[0]).name)
def test_merged_digests_give_the_findings_of_one_process(inputs: list[str]) -> None:
    _same_findings_from_merged_digests(inputs)


def test_cacheable_responses_of_clients_merged_in_any_order_give_one_finding(tmp_path: Path) -> None:
    cacheable_set_cookie_hars(tmp_path, 7)
    found = _same_findings_from_merged_digests([str(tmp_path)])
    assert [f.rule for f in found] == ["SF305"]
    assert len(found[0].clients) == 7 and len(found[0].evidence) == 5


def _same_findings_from_merged_digests(inputs: list[str]) -> tuple[Finding, ...]:
    """The digest rules' findings from digests of random splits of the clients, merged in random order,
    are those of one process; returns them."""
    config, _ = load_config(None, start=Path(inputs[0]).parent)
    rules = tuple(r for r in load_rules() if r.detector in DIGESTED)
    report = analyze(inputs, config, shard_bytes=0)
    whole, _ = run_rules(rules, report.sessions, report.inputs, config)
    views = tuple(sorted((global_view(s, config) for s in report.sessions), key=session_order))
    for groups, seed in ((1, 0), (2, 1), (3, 2), (7, 3)):
        parts = [digest_sessions(group, keep=trimmed_transaction) for group in _split(report.sessions, groups, seed)]
        random.Random(seed).shuffle(parts)
        merged = SetCookieDigest({}, {})
        for part in parts:
            merged.merge(part)
        found, _ = run_rules(rules, views, report.inputs, config, scope="global", digest=merged)
        assert repr(found) == repr(whole)
    return whole


def test_the_samples_have_what_the_digest_is_for() -> None:
    """The cases above are not vacuous: the samples disclose addresses and set insecure routing cookies."""
    report = analyze([str(ROOT / "samples")], Config(), shard_bytes=0)
    digest = digest_sessions(report.sessions)
    assert digest.insecure and digest.disclosures
    assert any(len(d.clients) > 1 for d in digest.disclosures.values())


def test_views_hold_only_per_client_tokens() -> None:
    """Routing and address-disclosing events stay in the workers: the digest carries what is read of them."""
    report = analyze([str(ROOT / "samples")], Config(), shard_bytes=0)
    events = [ev for s in report.sessions for ev in s.cookie_events]
    routing = [ev for ev in events if ev.persistence is not None and ev.persistence.role is ROUTING]
    kept = [ev for s in report.sessions for ev in global_view(s, Config()).cookie_events]
    assert routing and kept
    assert all(per_client_token(ev.persistence, ev.value or "") for ev in kept)


def _disclosures(digest: SetCookieDigest) -> list[object]:
    disclosures = digest.disclosures_in_order()
    return [(n, d.first, d.last, d.last_started, d.ordered_clients(), d.backends) for n, d in disclosures]


def test_merge_keeps_the_first_and_last_by_position() -> None:
    report = analyze([str(ROOT / "samples")], Config(), shard_bytes=0)
    sessions = report.sessions
    forward = SetCookieDigest({}, {})
    backward = SetCookieDigest({}, {})
    parts = [digest_sessions([s]) for s in sessions]
    for part in parts:
        forward.merge(part)
    for part in reversed([digest_sessions([s]) for s in sessions]):
        backward.merge(part)
    whole = digest_sessions(sessions)
    for digest in (forward, backward):
        assert digest.insecure_in_order() == whole.insecure_in_order()
        assert _disclosures(digest) == _disclosures(whole)
