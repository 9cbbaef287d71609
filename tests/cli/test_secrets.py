"""No planted secret reaches any report, and no captured escape sequence reaches the terminal.

The scenario (``tests/data/secrets/plant.py``) puts a session id in a query string and a token in
a login redirect, where detectors quote them in messages and evidence, besides cookies,
credentials, an API key and a form password; headers carry SGR and OSC 8 escape sequences that
end up in backend names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stickyforensics.cli.app import app
from tests.data.secrets import plant

FORMATS = ("text", "json", "html", "markdown", "junit", "sarif", "github")
ENV = {"STICKYFORENSICS_REDACTION_KEY": "k", "COLUMNS": "100"}
runner = CliRunner()


@pytest.fixture(scope="module", params=["har", "pcap"])
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("secrets")
    if request.param == "har":
        return plant.write_har(folder / "secrets.har")
    return plant.write_capture(folder / "secrets.pcap")


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def _leaks(text: str) -> list[str]:
    return [name for name, secret in plant.SECRETS.items() if secret in text]


def test_the_scenario_puts_secrets_where_reports_quote_them(planted: Path) -> None:
    code, out, _err = _run("analyze", str(planted), "--format", "json", "--reveal-secrets")
    assert code == 1  # a missing cookie and a server flip: findings with evidence
    assert {"query session id", "redirect token", "session cookie"} <= set(_leaks(out))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_in_any_format(planted: Path, fmt: str) -> None:
    code, out, err = _run("analyze", str(planted), "--format", fmt)
    assert code == 1, err
    assert not _leaks(out + err)
    assert "\x1b" not in out, "a raw escape byte from the capture reached the output"


def test_no_secret_in_the_cookie_timelines(planted: Path) -> None:
    code, out, err = _run("cookies", str(planted))
    assert code == 0, err
    assert "ASP.NET_SessionId" in out and "sessionid=<h:" in out
    assert not _leaks(out + err) and "\x1b" not in out


def test_terminal_text_shows_escapes_neutralised(planted: Path) -> None:
    _code, out, _err = _run("analyze", str(planted))
    assert "web2\ufffd[31m" in out  # visible, inert
    assert "\x07" not in out and "\x1b" not in out


def test_reveal_secrets_is_the_only_way_to_see_them(planted: Path) -> None:
    _code, redacted, _err = _run("analyze", str(planted), "--format", "markdown")
    _code, revealed, _err = _run("analyze", str(planted), "--format", "markdown", "--reveal-secrets")
    assert not _leaks(redacted) and "query session id" in _leaks(revealed)
