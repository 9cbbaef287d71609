"""The family catalog (rules/cookies/families.yaml): content, validation and error reporting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stickyforensics.errors import RuleLoadError
from stickyforensics.model import ChangeMeaning, CookieRole
from stickyforensics.resources import rules_dir
from stickyforensics.track.lb import DECODERS, CookieClassifier, default_catalog_path, load_families
from tests.conftest import SHARED, shared_or_skip

FAMILIES = load_families()
BY_ID = {f.id: f for f in FAMILIES}

# Every row of persistence-cookies.md §1 (42 rows), with a name the row documents (None: no fixed name).
REFERENCE_TABLE = {
    1: ("citrix-netscaler", "NSC_vsrv"),
    2: ("f5-bigip", "BIGipServer~Common~pool"),
    3: ("a10", "sto-id-20480"),
    4: ("radware-alteon", "AlteonP"),
    5: ("barracuda", "BNI_persistence"),
    6: ("kemp", None),
    7: ("vtm-xmapping", "X-Mapping-hglpomgk"),
    8: ("avi", "AVI_COOKIE"),
    9: ("nsx-t", "NSXLB"),
    10: ("fortinet", "FGTServer"),
    11: ("imperva-nlbi", "nlbi_2483049"),
    12: ("aws-alb", "AWSALB"),
    13: ("aws-elb", "AWSELB"),
    14: ("azure-arr", "ARRAffinity"),
    15: ("azure-appgw", "ApplicationGatewayAffinityCORS"),
    16: ("azure-frontdoor", "ASLBSA"),
    17: ("gcp-lb", "GCLB"),
    18: ("cloudflare-lb", "__cflb"),
    19: ("akamai-alb", "akaalb_policy"),
    20: ("oracle-oci", "X-Oracle-BMC-LBS-Route"),
    21: ("bunny", "bunny_lb_1"),
    22: ("ibm", "IBMCBR1"),
    23: ("haproxy", "SERVERID"),
    24: ("nginx-plus", "srv_id"),
    25: ("nginx-sticky", "route"),
    26: ("tengine", None),
    27: ("ingress-nginx", "INGRESSCOOKIE"),
    28: ("traefik", "_TRAEFIK_BACKEND"),
    29: ("envoy", None),
    30: ("envoy-ringhash", None),
    31: ("apache-balancer", "ROUTEID"),
    32: ("tomcat-jsessionid", None),
    33: ("weblogic", None),
    34: ("websphere", None),
    35: ("php", "PHPSESSID"),
    36: ("aspnet-session", "ASP.NET_SessionId"),
    37: ("classic-asp", "ASPSESSIONIDQQSRCDTA"),
    38: ("express", "connect.sid"),
    39: ("laravel", "laravel_session"),
    40: ("rails", "_myapp_session"),
    41: ("django", "sessionid"),
    42: ("coldfusion", "CFTOKEN"),
}
SEED_FAMILIES = {
    "citrix-netscaler",  # 000, 004
    "vtm-xmapping",  # 001 transparent session affinity
    "vtm-zeus-backend",  # 001 X-Zeus-Backend
    "java-session",  # 001 J2EE
    "aspnet-session",  # 001 ASP.NET
    "lbs",  # 002
    "aspnet-antiforgery",  # 002
    "classic-asp",  # 003
}


def test_every_reference_family_is_present() -> None:
    missing = [fid for fid, _ in REFERENCE_TABLE.values() if fid not in BY_ID]
    assert not missing
    assert BY_ID.keys() >= SEED_FAMILIES


@pytest.mark.parametrize(("row", "family_id", "name"), [(r, f, n) for r, (f, n) in REFERENCE_TABLE.items() if n])
def test_reference_names_match_their_family(row: int, family_id: str, name: str) -> None:
    assert BY_ID[family_id].matches_name(name), (row, name)


def test_entries_are_complete() -> None:
    for fam in FAMILIES:
        assert fam.id and fam.vendor and fam.remediation and fam.reference, fam.id
        assert isinstance(fam.role, CookieRole) and isinstance(fam.change_meaning, ChangeMeaning)
        assert fam.name_patterns or fam.value_signatures or fam.reference_only, fam.id
        for pattern in fam.name_patterns + fam.exclude_names:
            assert pattern.startswith("^") and pattern.endswith("$"), (fam.id, pattern)
        for pattern in fam.name_patterns + fam.value_patterns + fam.value_signatures + fam.exclude_names:
            re.compile(pattern)
        assert fam.decoder is None or fam.decoder in DECODERS, fam.id
        assert len(fam.remediation) < 600, fam.id  # short, per vendor


def test_ids_unique_and_every_decoder_used() -> None:
    assert len(BY_ID) == len(FAMILIES)
    used = {f.decoder for f in FAMILIES if f.decoder}
    assert used == set(DECODERS), set(DECODERS) ^ used


def test_change_meanings() -> None:
    assert BY_ID["aws-alb"].change_meaning is ChangeMeaning.ROTATES
    assert BY_ID["f5-bigip"].change_meaning is ChangeMeaning.BACKEND_CHANGE
    assert BY_ID["citrix-netscaler"].change_meaning is ChangeMeaning.BACKEND_CHANGE
    for fam in FAMILIES:
        if fam.role is CookieRole.SESSION:
            assert fam.change_meaning is ChangeMeaning.SESSION_RENEWED, fam.id


def test_netscaler_exclusions() -> None:
    netscaler = BY_ID["citrix-netscaler"]
    for name in ("NSC_TMAA", "NSC_TMAS", "NSC_AAAC", "NSC_VPNERR", "NSC_ESNS"):
        assert not netscaler.matches_name(name)
    assert netscaler.matches_name("NSC_TMAAx")


def test_reference_sections_exist() -> None:
    """Each '2.x' reference names a real section of the reference document."""
    doc = shared_or_skip(SHARED / "reference" / "persistence-cookies.md").read_text()
    headings = set(re.findall(r"^### (\d+\.\d+) ", doc, re.MULTILINE))
    for fam in FAMILIES:
        for section in re.findall(r"\b2\.\d+\b", fam.reference):
            assert section in headings, (fam.id, section)


def test_default_path_is_shipped_catalog() -> None:
    assert default_catalog_path() == rules_dir() / "cookies" / "families.yaml"
    assert default_catalog_path().is_file()


# ---- validation errors name the file and the entry ---------------------------------------------

GOOD = {
    "id": "x-lb",
    "vendor": "X",
    "role": "routing",
    "name_patterns": ["^XLB$"],
    "change_meaning": "backend_change",
    "decoder": None,
    "remediation": "fix it",
    "reference": "2.1",
}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "families.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "missing key"),
        ({"role": "router"}, "role must be"),
        ({"change_meaning": "flip"}, "change_meaning must be"),
        ({"decoder": "nope"}, "not in the decoder registry"),
        ({"name_patterns": ["XLB"]}, "must be anchored"),
        ({"name_patterns": ["^(XLB$"]}, "does not compile"),
        ({"value_patterns": "^x$"}, "must be a list"),
        ({"remediation": ""}, "non-empty string"),
        ({"reference": 2.1}, "non-empty string"),
        ({"colour": "red"}, "unknown key"),
        ({"id": "Bad Id"}, "lower-case"),
        ({"confidence": "sure"}, "confidence must be"),
        ({"default_attributes": ["path"]}, "must be a mapping"),
        ({"name_patterns": []}, "needs name_patterns"),
        ({"value_signatures": ["^x$"]}, "need a decoder"),
        ({"ordinary": "yes"}, "true or false"),
    ],
)
def test_bad_entry(tmp_path: Path, change: dict[str, object], message: str) -> None:
    entry = {**GOOD, **change}
    entry = {k: v for k, v in entry.items() if not (k == "id" and v is None)}
    path = _write(tmp_path, [GOOD | {"id": "first"}, entry])
    with pytest.raises(RuleLoadError, match=message) as exc:
        load_families(path)
    assert str(path) in str(exc.value)
    assert "entry 1" in str(exc.value)


def test_duplicate_id(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError, match="duplicate id 'x-lb'"):
        load_families(_write(tmp_path, [GOOD, GOOD]))


@pytest.mark.parametrize(("content", "message"), [("[", "invalid YAML"), ("{}", "non-empty list"), ("[1]", "mapping")])
def test_bad_file(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(RuleLoadError, match=message):
        load_families(_write(tmp_path, content))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError, match="cannot read"):
        load_families(tmp_path / "absent.yaml")


def test_custom_catalog_drives_the_classifier(tmp_path: Path) -> None:
    families = load_families(_write(tmp_path, [GOOD | {"decoder": "label"}]))
    clf = CookieClassifier(families=families)
    info = clf.identify("XLB", "edge-7")
    assert info is not None and info.family == "x-lb" and info.backend == "edge-7"
    fallback = clf.identify("SERVERID", "s1")  # not in this catalog: only the name heuristics apply
    assert fallback is not None and fallback.family == "heuristic-routing" and fallback.confidence == "low"
