from __future__ import annotations

from pathlib import Path

import pytest

from stickyforensics.config import Config, config_from_mapping, load_config
from stickyforensics.errors import ConfigError
from stickyforensics.model import Severity


def test_defaults_treat_assets_as_static() -> None:
    cfg = Config()
    assert cfg.is_static("/static/app.js")
    assert cfg.is_static("/img/logo.PNG")
    assert not cfg.is_static("/app/cart")


def test_mapping_overrides_and_severity() -> None:
    cfg = config_from_mapping(
        {"persistence-cookies": ["ROUTE"], "idle_timeout": 600, "fail_on": "medium", "severity": {"SF305": "high"}},
        origin="t",
    )
    assert cfg.persistence_cookies == ("ROUTE",)
    assert cfg.idle_timeout == 600.0
    assert cfg.fail_on is Severity.MEDIUM
    assert cfg.severity_for("SF305", Severity.LOW) is Severity.HIGH
    assert cfg.declared_cookies() == {"ROUTE": "routing"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"persistance_cookies": ["x"]}, "unknown setting", id="typo"),
        pytest.param({"fail_on": "urgent"}, "unknown severity", id="bad-severity"),
        pytest.param({"static_pattern": "("}, "invalid regular expression", id="bad-regex"),
        pytest.param({"expectations": {"nope": 1}}, "unknown expectation", id="bad-expectation"),
    ],
)
def test_bad_configuration_is_a_clear_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(data, origin="cfg.toml")


def test_pyproject_section_is_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.stickyforensics]\nsession_cookies = ["app_sid"]\n')
    cfg, origin = load_config(start=tmp_path)
    assert cfg.session_cookies == ("app_sid",)
    assert origin is not None and origin.endswith("pyproject.toml")


def test_pyproject_without_section_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    cfg, origin = load_config(start=tmp_path)
    assert cfg == Config() and origin is None


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "stickyforensics.toml"
    bad.write_text("persistence_cookies = [\n")
    with pytest.raises(ConfigError, match=r"stickyforensics\.toml"):
        load_config(str(bad))


@pytest.mark.parametrize("identity", ["auto", "ip", "xff", "lineage"])
def test_client_identity_choices(identity: str) -> None:
    assert config_from_mapping({"client_identity": identity}, origin="t.toml").client_identity == identity


def test_a_misspelt_client_identity_is_an_error() -> None:
    with pytest.raises(ConfigError, match="client_identity"):
        config_from_mapping({"client_identity": "lineage "}, origin="t.toml")
