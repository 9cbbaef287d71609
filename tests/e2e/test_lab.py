"""End to end: the real load-balancer lab, then the analyzer CLI on what it recorded.

``lab_run`` runs ``python -m lab.run`` once (real HAProxy, nginx, tcpdump, curl, headless Chromium on
127.0.0.0/8); it fails, never skips, when a tool is missing or cannot start. Per scenario the analyzer
must report every expected finding (same kind, client and cookie) and no stickiness finding for a
healthy client. ``samples/`` (curated lab outputs) is checked the same way without running the lab.

Two independent looks at each capture/HAR back the ground truth: ``lab.verify`` (the lab's oracle over
exchanges read with tshark / JSON) and the simpler spot checks here (the cookie really is absent from
the request that got the 401, the cached response really is a HIT carrying another user's cookie...).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from lab.catalog import SCENARIOS
from lab.exchange import Exchange
from lab.lbcookies import haproxy_dates
from lab.procs import LabError
from lab.verify import check_exchanges, wire_exchanges

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
STICKINESS = {"missing_cookie", "server_flip", "datacenter_flip", "cached_set_cookie_replay", "session_timeout"}
LAB_TOOLS = ("haproxy", "nginx", "tcpdump", "tshark", "curl", "openssl", "ip", "tc", "/usr/bin/chromium")
SAMPLE_DIRS = sorted(p.parent.name for p in SAMPLES.glob("*/expected.json"))


@pytest.fixture(scope="session")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole lab, once, into a temporary directory."""
    missing = [t for t in LAB_TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"the lab needs {', '.join(missing)}: run scripts/setup.sh test (Debian packages)", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("the lab needs root (tcpdump on lo, network namespaces); run the lab tests as root", pytrace=False)
    out = tmp_path_factory.mktemp("lab")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lab.run", "--out", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the lab did not finish within 10 minutes", pytrace=False)
    if done.returncode != 0:
        pytest.fail(
            f"the lab failed (exit {done.returncode}); HAProxy/nginx/tcpdump/Chromium could not start or a "
            f"scenario did not reproduce:\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return out


@pytest.fixture(scope="session")
def lab_reports(lab_run: Path) -> dict[str, dict[str, Any]]:
    """The analyzer CLI on each scenario's inputs, as a user would run it (several at once, to save time)."""

    def one(name: str) -> dict[str, Any]:
        d = lab_run / name
        doc = _doc(d)
        keylog = d / doc["tls_keylog"] if doc.get("tls_keylog") else None
        return analyze([str(d / i) for i in doc["inputs"]], doc["engine"], keylog)

    names = [s.name for s in SCENARIOS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


@pytest.fixture(scope="module")
def samples_report() -> dict[str, Any]:
    """``stickyforensics analyze samples/ --format json``: the README's first command, once."""
    return analyze([str(SAMPLES)], engine="native")


@pytest.fixture(scope="module")
def samples_wire() -> dict[str, list[Exchange]]:
    """Every sample's exchanges as tshark / the HAR JSON show them (read in parallel: tshark starts slowly)."""
    if shutil.which("tshark") is None:
        pytest.fail("tshark is needed to read the sample captures (apt-get install tshark)", pytrace=False)
    with ThreadPoolExecutor(max_workers=4) as pool:
        wires = pool.map(lambda name: wire_exchanges(SAMPLES / name, _doc(SAMPLES / name)), SAMPLE_DIRS)
        return dict(zip(SAMPLE_DIRS, wires, strict=True))


def analyze(inputs: list[str], engine: str, keylog: Path | None = None) -> dict[str, Any]:
    argv = [sys.executable, "-m", "stickyforensics", "analyze", *inputs, "--format", "json"]
    if engine == "tshark":
        argv += ["--engine", "tshark"]
        if keylog is not None:
            argv += ["--tls-keylog", str(keylog)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), f"analyzer exit {done.returncode}: {done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _doc(scenario_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((scenario_dir / "expected.json").read_text(encoding="utf-8"))
    return doc


def _same_client(got: str, expected: str) -> bool:
    """Captures name clients by IP; HARs by file name (an analyzer may print the path it was given)."""
    return got == expected or (expected.endswith(".har") and Path(got).name == expected)


def check_report(report: dict[str, Any], doc: dict[str, Any], inputs: Iterable[str] | None = None) -> None:
    """Every expected finding is reported (kind, client, cookie); healthy clients have no stickiness finding."""
    findings = [f for f in report["findings"] if inputs is None or f["input"] in inputs]
    problems: list[str] = []
    for exp in doc["findings"]:
        hits = [
            f
            for f in findings
            if f["kind"] == exp["kind"]
            and _same_client(f["client"], exp["client"])
            and ("cookie" not in exp or f.get("cookie") == exp["cookie"])
        ]
        if not hits:
            problems.append(f"not reported: {exp}")
    for client in doc["healthy_clients"]:
        for f in findings:
            if f["kind"] in STICKINESS and _same_client(f["client"], client):
                problems.append(f"healthy client {client} reported: {f['kind']} {f.get('cookie')}: {f['message']}")
    seen = "\n".join(f"  {f['kind']} {f['client']} {f.get('cookie')}: {f['message'][:140]}" for f in findings)
    assert not problems, f"{doc['scenario']}: " + "; ".join(problems) + f"\nanalyzer findings:\n{seen}"


def spot_check(doc: dict[str, Any], exchanges: list[Exchange]) -> None:
    """Direct facts on the wire for each claim, independent of lab.truth."""
    static = doc["oracle"]["static_prefix"]
    by_client: dict[str, list[Exchange]] = {}
    for ex in sorted(exchanges, key=lambda e: e.time):
        by_client.setdefault(ex.client, []).append(ex)
    for f in doc["findings"]:
        txs = by_client.get(f["client"], [])
        assert txs, f"{f['client']} does not appear in {doc['inputs']}"
        cookie = f.get("cookie")
        kind = f["kind"]
        if kind == "missing_cookie":
            assert any(cookie in t.cookies for t in txs), f"{f['client']} never sent {cookie}"
            lost = [
                i
                for i, t in enumerate(txs)
                if cookie not in t.cookies
                and not t.path.startswith(static)
                and i > 0
                and (t.status == 401 or (i + 1 < len(txs) and txs[i + 1].status == 401))
            ]
            assert lost, f"no request of {f['client']} without {cookie} led to a 401"
        elif kind == "server_flip":
            nodes: dict[str, set[str]] = {}
            for t in txs:
                if cookie in t.cookies and t.backend and not t.path.startswith(static):
                    nodes.setdefault(t.cookies[cookie], set()).add(t.backend)
            assert any(len(v) > 1 for v in nodes.values()), f"{cookie} never answered by two backends: {nodes}"
            assert any(t.status == 401 for t in txs), f"{f['client']} never lost its session"
        elif kind == "datacenter_flip":
            sent = {t.cookies[cookie] for t in txs if cookie in t.cookies}
            got = {c.value for t in txs for c in t.set_cookies if c.name == cookie}
            assert len(sent) >= 2 and len(got) >= 2, f"{cookie} did not alternate: sent {sent}, got {got}"
        elif kind == "cached_set_cookie_replay":
            mine = [(t, c.value) for t in txs for c in t.set_cookies if c.name == cookie]
            assert any(t.cache == "HIT" for t, _v in mine), f"{f['client']} got no cached Set-Cookie"
            others: dict[str, float] = {}  # value -> when another client first received it
            for o, ts in by_client.items():
                for t in ts:
                    for c in t.set_cookies:
                        if o != f["client"] and c.name == cookie:
                            others[c.value] = min(others.get(c.value, t.time), t.time)
            assert any(v in others and others[v] <= t.time for t, v in mine), (
                "no Set-Cookie value came from another user"
            )
        elif kind == "session_timeout":
            changed = [
                t
                for t in txs
                if cookie in t.cookies and "|" in t.cookies[cookie]
                for c in t.set_cookies
                if c.name == cookie and haproxy_dates(c.value)[2] != haproxy_dates(t.cookies[cookie])[2]
            ]
            assert changed, f"{cookie} of {f['client']} was never restarted by HAProxy"
        else:
            pytest.fail(f"unknown kind {kind}")
    for client in doc["healthy_clients"]:
        bad = [t for t in by_client.get(client, []) if t.status == 401 and not t.path.startswith(static)]
        assert not bad, f"healthy client {client} was rejected: {[(t.method, t.target) for t in bad]}"


# --- the lab --------------------------------------------------------------------------------------


@pytest.mark.lab
@pytest.mark.slow
@pytest.mark.parametrize("scenario", [s.name for s in SCENARIOS])
def test_lab_analyzer_finds_ground_truth(lab_run: Path, lab_reports: dict[str, dict[str, Any]], scenario: str) -> None:
    check_report(lab_reports[scenario], _doc(lab_run / scenario))


@pytest.mark.lab
@pytest.mark.slow
@pytest.mark.parametrize("scenario", [s.name for s in SCENARIOS])
def test_lab_outputs_consistent(lab_run: Path, scenario: str) -> None:
    """What the lab's own tshark/HAR read-back saw (it already failed the run on a mismatch) is checked again."""
    doc = _doc(lab_run / scenario)
    assert doc["scenario"] == scenario and doc["inputs"]
    wire_log = lab_run / "_work" / scenario / "wire-exchanges.jsonl"
    wire = [Exchange.from_json(json.loads(line)) for line in wire_log.read_text(encoding="utf-8").splitlines()]
    check_exchanges(scenario, doc, wire)
    spot_check(doc, wire)


# --- the curated samples ----------------------------------------------------------------------------


def test_samples_exist_and_are_small() -> None:
    required = {
        "browser_har",
        "missing_cookie_dotfile",
        "datacenter_flip",
        "cached_set_cookie",
        "idle_maxlife_timeout",
        "backend_killed_redispatch",
        "healthy_netscaler_bigip",
    }
    assert required <= set(SAMPLE_DIRS), f"missing samples: {sorted(required - set(SAMPLE_DIRS))}"
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 3_000_000, f"samples/ is {total} bytes"
    for name in SAMPLE_DIRS:
        doc = _doc(SAMPLES / name)
        assert doc["scenario"] == name
        assert all((SAMPLES / name / i).is_file() for i in doc["inputs"])
        assert {f["kind"] for f in doc["findings"]} <= STICKINESS


@pytest.mark.parametrize("sample", SAMPLE_DIRS)
def test_sample_outputs_consistent(samples_wire: dict[str, list[Exchange]], sample: str) -> None:
    doc = _doc(SAMPLES / sample)
    check_exchanges(sample, doc, samples_wire[sample])
    spot_check(doc, samples_wire[sample])


@pytest.mark.parametrize("sample", SAMPLE_DIRS)
def test_analyzer_on_samples(samples_report: dict[str, Any], sample: str) -> None:
    doc = _doc(SAMPLES / sample)
    inputs = {str(Path("samples") / sample / i) for i in doc["inputs"]} | {
        str(SAMPLES / sample / i) for i in doc["inputs"]
    }
    assert inputs & {i["path"] for i in samples_report["inputs"]}, f"{sample} was not analyzed"
    check_report(samples_report, doc, inputs)


def test_checks_reject_wrong_claims(samples_report: dict[str, Any], samples_wire: dict[str, list[Exchange]]) -> None:
    """The checkers are not vacuous: a ground truth naming the wrong client fails every one of them."""
    doc = _doc(SAMPLES / "missing_cookie_dotfile")
    wrong = dict(doc, findings=[dict(f, client="127.0.3.12") for f in doc["findings"]], healthy_clients=["127.0.3.11"])
    inputs = {str(SAMPLES / "missing_cookie_dotfile" / i) for i in doc["inputs"]}
    with pytest.raises(AssertionError, match="not reported"):
        check_report(samples_report, wrong, inputs)
    with pytest.raises(LabError, match="claims"):
        check_exchanges("missing_cookie_dotfile", wrong, samples_wire["missing_cookie_dotfile"])
    with pytest.raises(AssertionError):
        spot_check(wrong, samples_wire["missing_cookie_dotfile"])
