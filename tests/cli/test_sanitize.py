"""`stickyforensics sanitize` / `export`: shareable HARs that analyse with the same findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stickyforensics.cli.app import app
from stickyforensics.config import Config, load_config
from stickyforensics.ingest.har import read_har
from stickyforensics.pipeline import analyze
from tests.data.secrets import plant

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "tests" / "rules"
SAMPLES = REPO / "samples"
KEY_ENV = {"STICKYFORENSICS_REDACTION_KEY": "shared-with-nobody"}
runner = CliRunner()

HAR_CASES = sorted(
    [
        *(SAMPLES / "browser_har").glob("*.har"),
        *RULES.glob("SF*/*.har"),
        *(p for p in RULES.glob("SF*/*") if p.is_dir()),
    ]
)
CAPTURES = sorted(SAMPLES.glob("*/capture.pcap"))


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=KEY_ENV if env is None else env)
    return result.exit_code, result.stdout, result.stderr


def _config(case: Path) -> Config:
    folder = case if case.is_dir() else case.parent
    toml = folder / "stickyforensics.toml"
    return load_config(str(toml))[0] if toml.is_file() else Config()


def _findings(paths: list[Path], config: Config, *, har_suffix: bool = False) -> list[tuple[object, ...]]:
    report = analyze([str(p) for p in paths], config)
    return sorted(
        (
            f.rule,
            f.client.removesuffix(".har") if har_suffix else f.client,
            f.cookie or "",
            f.kind,
            tuple(e.har_entry for e in f.evidence),
        )
        for f in report.findings
    )


def _sanitize_case(case: Path, out_dir: Path, *extra: str) -> list[Path]:
    """Sanitize a fixture (file, or folder of HARs = several clients) under the same file names."""
    sources = sorted(case.glob("*.har")) if case.is_dir() else [case]
    outputs = []
    for source in sources:
        target = out_dir / source.name  # the client of a HAR is its file name: keep it
        code, _out, err = run("sanitize", str(source), "-o", str(target), *extra)
        assert code == 0, err
        outputs.append(target)
    return outputs


@pytest.mark.parametrize("case", HAR_CASES, ids=lambda p: str(p.relative_to(REPO)))
def test_sanitized_har_gives_the_same_findings(case: Path, tmp_path: Path) -> None:
    config = _config(case)
    sources = sorted(case.glob("*.har")) if case.is_dir() else [case]
    sanitized = _sanitize_case(case, tmp_path)
    assert _findings(sanitized, config) == _findings(sources, config)
    for source, target in zip(sources, sanitized, strict=True):
        original, copy = read_har(str(source)), read_har(str(target))
        assert [t.timing for t in copy.transactions] == [t.timing for t in original.transactions]
        assert [t.request.path for t in copy.transactions] == [t.request.path for t in original.transactions]


def test_the_fixtures_exercise_secrets() -> None:
    """The comparison above is only worth something if the fixtures hold values to replace."""
    case = RULES / "SF301" / "positive-dotfile-upload.har"
    assert "K3J2H4G5F6D7S8A9Q0W1E2R3" in case.read_text()


def test_sanitized_fixture_loses_its_secrets(tmp_path: Path) -> None:
    (target,) = _sanitize_case(RULES / "SF301" / "positive-dotfile-upload.har", tmp_path)
    assert b"K3J2H4G5F6D7S8A9Q0W1E2R3" not in target.read_bytes()


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.parent.name)
def test_exported_capture_per_client_gives_the_same_findings(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "clients"
    code, _out, err = run("export", str(capture), "-o", str(out), "--per-client")
    assert code == 0, err
    files = sorted(out.glob("*.har"))
    assert files and all(f.stat().st_size > 0 for f in files)
    expected = [(r, c, k) for r, c, k, _kind, _ev in _findings([capture], Config())]
    got = [(r, c, k) for r, c, k, _kind, _ev in _findings([out], Config(), har_suffix=True)]
    assert got == expected


def test_single_file_export_keeps_clients_frames_and_every_set_cookie(tmp_path: Path) -> None:
    capture = SAMPLES / "cached_set_cookie" / "capture.pcap"
    out = tmp_path / "all.har"
    code, _out, err = run("sanitize", str(capture), "-o", str(out))
    assert code == 0 and "--per-client" in err  # several clients in one file: the user is told
    entries = json.loads(out.read_text())["log"]["entries"]
    original = analyze([str(capture)]).sessions
    assert {e["_clientIPAddress"] for e in entries} == {s.key.value for s in original}
    assert all(e["_frames"]["request"] and "serverIPAddress" in e for e in entries)
    set_cookies = sum(1 for e in entries for h in e["response"]["headers"] if h["name"].lower() == "set-cookie")
    expected = sum(
        len(t.response.headers.get_all("Set-Cookie")) for s in original for t in s.transactions if t.response
    )
    assert set_cookies == expected > 0


def test_single_file_export_analyses_like_the_capture(tmp_path: Path) -> None:
    capture = SAMPLES / "cached_set_cookie" / "capture.pcap"
    out = tmp_path / "all.har"
    assert run("export", str(capture), "-o", str(out))[0] == 0
    assert read_har(str(out)).transactions[0].client is not None  # _clientIPAddress read back
    expected = [(r, c, k) for r, c, k, _kind, _ev in _findings([capture], Config())]
    assert [(r, c, k) for r, c, k, _kind, _ev in _findings([out], Config())] == expected


def _planted(tmp_path: Path) -> tuple[Path, Path]:
    return plant.write_har(tmp_path / "secrets.har"), plant.write_capture(tmp_path / "secrets.pcap")


@pytest.mark.parametrize("flags", [(), ("--hide-backends",)], ids=["default", "hide-backends"])
def test_no_planted_secret_survives(tmp_path: Path, flags: tuple[str, ...]) -> None:
    har, pcap = _planted(tmp_path)
    literal = [plant.SESSION_ID, plant.CSRF_TOKEN, plant.BASIC, plant.JWT, plant.API_KEY, plant.QUERY_SESSION_ID]
    assert all(secret.encode() in har.read_bytes() for secret in literal)  # planted, as written on the wire
    outputs = []
    for source in (har, pcap):
        target = tmp_path / f"{source.stem}-{source.suffix[1:]}.sanitized.har"
        code, _out, err = run("sanitize", str(source), "-o", str(target), *flags)
        assert code == 0, err
        outputs.append(target)
    for target in outputs:
        data = target.read_bytes()
        leaked = [name for name, secret in plant.SECRETS.items() if secret.encode() in data]
        assert not leaked, f"{target.name}: {leaked}"


def test_the_same_value_gets_the_same_pseudonym(tmp_path: Path) -> None:
    har, pcap = _planted(tmp_path)
    out_a, out_b, out_c, out_pcap = (tmp_path / n for n in ("a.har", "b.har", "c.har", "p.har"))
    assert run("sanitize", str(har), "-o", str(out_a))[0] == 0
    assert run("sanitize", str(har), "-o", str(out_b))[0] == 0
    assert run("sanitize", str(har), "-o", str(out_c), "--redaction-key", "another")[0] == 0
    assert run("export", str(pcap), "-o", str(out_pcap))[0] == 0
    assert out_a.read_bytes() == out_b.read_bytes()
    assert out_a.read_bytes() != out_c.read_bytes()

    def session_values(path: Path) -> set[str]:
        values = set()
        for tx in read_har(str(path)).transactions:
            for value in tx.request.headers.get_all("Cookie"):
                values |= {c.split("=", 1)[1] for c in value.split("; ") if c.startswith("ASP.NET_SessionId=")}
        return values

    (pseudonym,) = session_values(out_a)  # one session id, one pseudonym, in every request
    assert session_values(out_pcap) == {pseudonym} and session_values(out_c) != {pseudonym}
    assert len(pseudonym) == len(plant.SESSION_ID)


def test_no_key_means_a_random_key_said_on_stderr(tmp_path: Path) -> None:
    har, _pcap = _planted(tmp_path)
    code, _out, err = run("sanitize", str(har), "-o", str(tmp_path / "o.har"), env={})
    assert code == 0 and "random key" in err
    code, _out, err = run("sanitize", str(har), "-o", str(tmp_path / "o.har"))
    assert code == 0 and "random key" not in err


def test_no_sanitize_export_keeps_the_secrets_and_says_so(tmp_path: Path) -> None:
    _har, pcap = _planted(tmp_path)
    out = tmp_path / "raw.har"
    code, _out, err = run("export", str(pcap), "-o", str(out), "--no-sanitize")
    assert code == 0 and "NOT sanitized" in err
    assert plant.SESSION_ID.encode() in out.read_bytes()


def test_hide_backends_hides_decodable_backend_addresses(tmp_path: Path) -> None:
    capture = SAMPLES / "missing_cookie_dotfile" / "capture.pcap"
    raw, hidden = tmp_path / "raw.har", tmp_path / "hidden.har"
    assert run("export", str(capture), "-o", str(raw), "--no-sanitize")[0] == 0
    assert run("sanitize", str(capture), "-o", str(hidden), "--hide-backends")[0] == 0
    nsc = {c.value for tx in read_har(str(raw)).transactions for c in _cookies(tx) if c.name.startswith("NSC_")}
    assert nsc and not any(value.encode() in hidden.read_bytes() for value in nsc)


def _cookies(tx):  # type: ignore[no-untyped-def]
    from stickyforensics.track.cookieparse import request_cookies

    return request_cookies(tx.request.headers)


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        pytest.param(None, (), "no such file", id="missing"),
        pytest.param(b"", (), "empty", id="empty"),
        pytest.param(b"PK\x03\x04 zip data here", (), "not a pcap, pcapng or har", id="zip"),
        pytest.param(b'{"log": {"entries": [{"request":', (), "invalid json", id="truncated-json"),
        pytest.param(b'{"hello": 1}', (), "not a har", id="not-a-har"),
        pytest.param(b'{"log": {"entries": []}}', ("--per-client",), "per-client", id="per-client-on-har"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes | None, args: tuple[str, ...], expected: str
) -> None:
    path = tmp_path / "input.har"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out.har"
    code, _out, err = run("sanitize", str(path), "-o", str(out), *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert str(path) in lines[0] and expected in lines[0].lower() and "Traceback" not in err
    assert not out.exists()


def test_export_refuses_har_and_folders_and_unwritable_outputs(tmp_path: Path) -> None:
    har = shutil.copy(RULES / "SF301" / "negative-all-sent.har", tmp_path / "in.har")
    for args, expected in (
        (("export", str(har), "-o", str(tmp_path / "o.har")), "is a HAR file"),
        (("sanitize", str(tmp_path), "-o", str(tmp_path / "o.har")), "is a folder"),
        (("sanitize", str(har), "-o", str(tmp_path / "no" / "such" / "o.har")), "cannot write"),
        (("sanitize", str(har), "-o", str(har)), "overwrite"),
    ):
        code, _out, err = run(*args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and expected in lines[0], err


def test_export_of_a_cookie_less_capture_is_not_taken_for_a_sanitized_har(tmp_path: Path) -> None:
    from tests.unit.reconstruct.tcpbuild import Conversation, write_pcap

    conv = Conversation()
    segs = conv.handshake() + conv.send(b"GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n")
    segs += conv.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") + conv.close()
    capture = write_pcap(tmp_path / "plain.pcap", segs)
    out = tmp_path / "plain.har"
    assert run("export", str(capture), "-o", str(out))[0] == 0
    assert read_har(str(out)).cookie_data == "present"  # the capture had no cookie: nothing was stripped
    assert not [f for f in _findings([out], Config()) if f[0] == "SF001"]
    stripped = json.loads(out.read_text())
    stripped["log"]["creator"] = {"name": "WebInspector", "version": "537.36"}  # as Chrome exports it sanitized
    (tmp_path / "chrome.har").write_text(json.dumps(stripped))
    assert read_har(str(tmp_path / "chrome.har")).cookie_data == "absent"
