"""JUnit reporter: validity against the vendored JUnit XSD, stable names, counts, thresholds, hostile text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from stickyforensics.model import Severity
from stickyforensics.report.junit import render_junit
from stickyforensics.report.redact import Redactor
from tests.unit.report import builders as b

XSD = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "junit.xsd"
KEY = b"test-key"


def _xml(report, **kw) -> str:  # type: ignore[no-untyped-def]
    kw.setdefault("redactor", Redactor(KEY))
    return render_junit(report, **kw)


def _validate(doc: str) -> None:
    etree = pytest.importorskip("lxml.etree")  # lxml comes with pyshark, a runtime dependency
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    parsed = etree.fromstring(doc.encode("utf-8"))
    assert schema.validate(parsed), schema.error_log


def _cases(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {
        (suite.get("name", ""), case.get("name", "")): case
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
    }


ALL = [pytest.param(fn, id=fn.__name__) for fn in (b.healthy, b.broken, b.absent, b.hostile, b.large)]


@pytest.mark.parametrize("make", ALL)
def test_valid_against_xsd_and_counts_consistent(make) -> None:  # type: ignore[no-untyped-def]
    doc = _xml(make())
    _validate(doc)
    root = ET.fromstring(doc)
    assert root.tag == "testsuites" and root.get("name") == "stickyforensics"
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        for key, value in counted.items():
            assert suite.get(key) == str(value), (suite.get("name"), key)
        for key in totals:
            totals[key] += counted[key]
    for key, value in totals.items():
        assert root.get(key) == str(value)


def test_broken_suites_cases_and_placement() -> None:
    root = ET.fromstring(_xml(b.broken()))
    assert [s.get("name") for s in root.findall("testsuite")] == [b.PCAP, b.HAR]
    cases = _cases(root)
    names = [c.get("name") for c in root.find("testsuite").findall("testcase")]  # type: ignore[union-attr]
    assert names == [f"{code} {name}" for code, name, *_ in b.RULES]
    flip = cases[(b.PCAP, "SF302 server-flip")]
    assert flip.get("classname") == "stickyforensics.persistence"
    failure = flip.find("failure")
    assert failure is not None and failure.get("type") == "high"
    assert (
        failure.get("message") == "1 finding(s): 10.0.0.2 moved from 10.1.1.100:80 to 10.1.1.102:80 while "
        "sending the same cookie"
    )
    assert "wireshark filter: tcp.stream eq 17 && http" in (failure.text or "")
    assert "frames 72, 74" in (failure.text or "")
    # the replay finding belongs to its own input's suite, even though its client spans both inputs
    assert cases[(b.HAR, "SF304 cached-set-cookie-replay")].find("failure") is not None
    assert cases[(b.PCAP, "SF304 cached-set-cookie-replay")].find("failure") is None
    # below the threshold: system-out, not failure
    insecure = cases[(b.PCAP, "SF201 insecure-persistence-cookie")]
    assert insecure.find("failure") is None
    assert "below --fail-on high" in (insecure.findtext("system-out") or "")
    skipped = cases[(b.PCAP, "SF002 tls-not-decrypted")].find("skipped")
    assert skipped is not None and skipped.get("message") == "no TLS traffic in the inputs"
    error = cases[(b.HAR, "SF203 oversized-cookie-header")].find("error")
    assert error is not None and "detector crashed" in (error.get("message") or "")
    assert list(cases[(b.PCAP, "SF001 cookie-data-absent")]) == []


@pytest.mark.parametrize(("fail_on", "failing"), [(Severity.CRITICAL, 1), (Severity.HIGH, 3), (Severity.LOW, 5)])
def test_fail_on_threshold(fail_on: Severity, failing: int) -> None:
    root = ET.fromstring(_xml(b.broken(), fail_on=fail_on))
    assert root.get("failures") == str(failing)


def test_secrets_redacted() -> None:
    red = Redactor(KEY)
    doc = _xml(b.broken(), redactor=red, fail_on=Severity.INFO)
    for secret in b.ALL_SECRETS:
        assert secret not in doc
    assert doc.count(red.token(b.SECRET_SESSION).replace("<", "&lt;").replace(">", "&gt;")) >= 3
    revealed = _xml(b.broken(), redactor=Redactor(KEY, reveal=True), fail_on=Severity.INFO)
    assert b.SECRET_SESSION in revealed


def test_hostile_text_is_escaped_and_xml_safe() -> None:
    doc = _xml(b.hostile())
    root = ET.fromstring(doc)  # control characters removed: still well-formed
    suite = root.find("testsuite")
    assert suite is not None and "<script>alert(1)</script>" in (suite.get("name") or "")
    assert "\x1b" not in doc and "\x07" not in doc and "\u202e" not in doc
    assert "<script>" not in doc and "<img" not in doc
    skipped = next(root.iter("skipped"))
    assert skipped.get("message") == "<script>alert(1)</script>"


def test_finding_for_unlisted_rule_and_input_is_kept() -> None:
    report = b.broken()
    odd = replace(report.findings[1], rule="X900", rule_name="custom", input="other.pcap")
    doc = _xml(replace(report, findings=(*report.findings, odd)))
    _validate(doc)
    cases = _cases(ET.fromstring(doc))
    assert cases[("other.pcap", "X900 custom")].find("failure") is not None


def test_nothing_ran_gives_one_passing_case() -> None:
    empty = replace(b.healthy(), inputs=(), sessions=(), findings=(), rule_runs=())
    doc = _xml(empty)
    _validate(doc)
    root = ET.fromstring(doc)
    assert root.get("tests") == "1" and root.get("failures") == "0"
