"""SARIF reporter: validity against the vendored OASIS SARIF 2.1.0 schema and what code scanning needs."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stickyforensics.report.redact import Redactor
from stickyforensics.report.sarif import render_sarif
from tests.unit.report import builders as b

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "sarif-2.1.0.json"
KEY = b"test-key"


@cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _sarif(report, **kw) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    kw.setdefault("redactor", Redactor(KEY))
    kw.setdefault("rule_docs", b.rule_docs())
    text = render_sarif(report, **kw)
    data: dict[str, Any] = json.loads(text)
    return data


ALL = [pytest.param(fn, id=fn.__name__) for fn in (b.healthy, b.broken, b.absent, b.hostile, b.large)]


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("docs", [True, False], ids=["docs", "nodocs"])
def test_valid_against_sarif_schema(make, docs: bool) -> None:  # type: ignore[no-untyped-def]
    log = _sarif(make(), rule_docs=b.rule_docs() if docs else None)
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_schema_rejects_a_broken_log() -> None:
    log = _sarif(b.broken())
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not _validator().is_valid(log)


def test_driver_rules_and_results() -> None:
    log = _sarif(b.broken())
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "stickyforensics" and driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(code for code, *_ in b.RULES)
    flip = driver["rules"][ids.index("SF302")]
    assert flip["name"] == "server-flip"
    assert flip["shortDescription"]["text"] == "Client reached another backend mid-session"
    assert "Attach the cookie persistence profile." in flip["help"]["markdown"]
    assert "persistence" in flip["properties"]["tags"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"SF304": "error", "SF301": "error", "SF302": "error", "SF201": "warning", "SF401": "note"}
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["region"] == {"startLine": 1}
        assert not loc["artifactLocation"]["uri"].startswith("/")
    by_rule = {r["ruleId"]: r for r in run["results"]}
    replay = by_rule["SF304"]
    assert replay["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "captures/browser%20user.har"
    finding = b.broken().findings[0]
    assert replay["partialFingerprints"] == {"stickyforensics/v1": finding.fingerprint}
    missing = by_rule["SF301"]
    assert "frames 28, 30" in missing["message"]["text"]
    assert "Wireshark filter: tcp.stream eq 5 && http" in missing["message"]["text"]
    assert missing["properties"]["evidence"][1]["frames"] == [28, 30]
    assert missing["properties"]["evidence"][1]["wiresharkFilter"] == "tcp.stream eq 6 && http"
    assert replay["properties"]["evidence"][0]["harEntry"] == 1
    assert len(replay["properties"]["evidence"]) == 20 and replay["properties"]["evidenceOmitted"] == 11
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False  # SF203 errored
    assert any(n["descriptor"]["id"] == "SF203" for n in invocation["toolExecutionNotifications"])


def test_secrets_redacted() -> None:
    red = Redactor(KEY)
    text = render_sarif(b.broken(), redactor=red)
    for secret in b.ALL_SECRETS:
        assert secret not in text
    assert text.count(f"JSESSIONID={red.token(b.SECRET_SESSION)}") >= 3
    assert b.SECRET_SESSION in render_sarif(b.broken(), redactor=Redactor(KEY, reveal=True))


def test_hostile_input_is_inert_json() -> None:
    text = render_sarif(b.hostile(), redactor=Redactor(KEY))
    text.encode("utf-8")
    assert "\u202e" not in text and "\x1b" not in text
    log = json.loads(text)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert "<" not in uri and '"' not in uri and " " not in uri
    assert "<script>alert(1)</script>" in log["runs"][0]["results"][0]["message"]["text"]


def test_absolute_and_windows_paths() -> None:
    report = b.healthy()
    f = replace(b.broken().findings[1], input="C:\\caps\\a b.pcap")
    g = replace(b.broken().findings[2], input="./caps/../caps/x.pcap")
    h = replace(b.broken().findings[3], input="/tmp/a:b#c?.pcap")
    i = replace(b.broken().findings[4], input="http:x.pcap")
    log = _sarif(replace(report, findings=(f, g, h, i)))
    assert not list(_validator().iter_errors(log))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]]
    assert uris == ["file:///C:/caps/a%20b.pcap", "caps/x.pcap", "file:///tmp/a%3Ab%23c%3F.pcap", "http%3Ax.pcap"]


@pytest.mark.parametrize("make", ALL)
def test_text_is_json_dumps_of_the_log(make) -> None:  # type: ignore[no-untyped-def]
    """The log is written by the streaming encoder (``report.json_text``), whose text is ``json.dumps``'s with
    ``indent=2`` and no ASCII escaping, byte for byte."""
    from stickyforensics.report.sarif import sarif_dict

    report, redactor = make(), Redactor(KEY)
    log = sarif_dict(report, redactor=redactor, rule_docs=b.rule_docs())
    expected = json.dumps(log, indent=2, ensure_ascii=False) + "\n"
    assert render_sarif(report, redactor=redactor, rule_docs=b.rule_docs()) == expected
