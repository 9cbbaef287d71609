"""``stickyforensics sanitize`` and ``stickyforensics export``: HAR files safe to share.

``sanitize IN.har -o OUT.har`` rewrites a HAR; ``sanitize capture.pcap -o OUT.har`` exports a
capture's HTTP exchanges and sanitizes them; ``export capture.pcap -o OUT.har`` does the same
and can skip sanitizing (``--no-sanitize``). The key is the redaction key of ``analyze``
(same option, same environment variable, hashed the same way); without one a random key is
used and said so on stderr. Errors are one line on stderr and exit code 2.

Registered on the application by ``register`` (the only line ``cli/app.py`` needs).
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING, Annotated

import typer

from stickyforensics.cli.options import (
    KEY_ENV,
    ConfigOpt,
    Engine,
    EngineOpt,
    KeylogOpt,
    PCookieOpt,
    SCookieOpt,
)
from stickyforensics.cli.options import fail as _fail
from stickyforensics.errors import StickyError

if TYPE_CHECKING:
    from stickyforensics.config import Config
    from stickyforensics.sanitize import ExportResult, SanitizeOptions, SanitizeStats


def _note(message: str) -> None:
    typer.echo(f"stickyforensics: {message}", err=True)


def pseudonym_key(explicit: str | None) -> tuple[bytes, bool]:
    """The key (hashed like ``analyze``'s redaction key) and whether it had to be made up."""
    text = explicit or os.environ.get(KEY_ENV)
    if text:
        return hashlib.sha256(text.encode()).digest(), False
    return os.urandom(32), True


OutputOpt = Annotated[str, typer.Option("--output", "-o", help="The HAR file to write (a folder with --per-client).")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--redaction-key",
        help=f"Secret for the pseudonyms (or ${KEY_ENV}); the same key gives the same pseudonyms across files "
        "and runs. Without one a random key is used. Keep it private.",
    ),
]
HideOpt = Annotated[
    bool,
    typer.Option(
        "--hide-backends",
        help="Also pseudonymize load-balancer persistence cookies (NSC_, BIGipServer..., SERVERID), backend "
        "headers and 'Served by' banners. By default they are kept, because decoding them is how the analysis "
        "tells backends apart; they can reveal internal addresses.",
    ),
]
PerClientOpt = Annotated[
    bool,
    typer.Option(
        "--per-client",
        help="Captures: write one HAR per client into the folder -o names.",
    ),
]


def _config(config_file: str | None, persistence: list[str] | None, session: list[str] | None) -> Config:
    from dataclasses import replace

    from stickyforensics.config import load_config

    config, _origin = load_config(config_file)
    if persistence:
        config = replace(config, persistence_cookies=config.persistence_cookies + tuple(persistence))
    if session:
        config = replace(config, session_cookies=config.session_cookies + tuple(session))
    return config


def _report_sanitized(stats: SanitizeStats, options: SanitizeOptions) -> None:
    _note(f"sanitized: {stats.summary()}")
    if stats.routing_cookies_kept:
        names = ", ".join(sorted(stats.routing_cookies_kept)[:8])
        _note(
            f"kept the values of load-balancer persistence cookies ({names}): the analysis decodes them to tell "
            "backends apart, and they may reveal internal addresses; --hide-backends replaces them"
        )
    elif options.hide_backends:
        _note("load-balancer persistence cookies, backend headers and banners were pseudonymized (--hide-backends)")


def _report_export(outcome: ExportResult, options: SanitizeOptions, per_client: bool) -> None:
    for path, count in outcome.files:
        _note(f"wrote {path} ({count} {'entry' if count == 1 else 'entries'})")
    if not any(count for _path, count in outcome.files):
        _note("no HTTP exchange was found in the capture (HTTPS needs --tls-keylog); nothing to analyse in the HAR")
    if outcome.stats is not None:
        _report_sanitized(outcome.stats, options)
    else:
        _note("NOT sanitized (--no-sanitize): the HAR holds every cookie, credential and form value of the capture")
    if outcome.diagnostics:
        _note(
            f"{outcome.diagnostics} capture diagnostic(s) (gaps, truncation...) have no place in HAR: "
            "'stickyforensics analyze' on the capture lists them"
        )
    if not per_client and outcome.clients > 1:
        _note(
            f"the capture has {outcome.clients} client addresses; each entry keeps its client in _clientIPAddress, "
            "which analyze reads to tell them apart (--per-client writes one HAR per client instead)"
        )


def _run(
    input_path: str,
    output: str,
    *,
    redaction_key: str | None,
    hide_backends: bool,
    config_file: str | None,
    persistence_cookie: list[str] | None,
    session_cookie: list[str] | None,
    engine: Engine,
    tls_keylog: str | None,
    per_client: bool,
    sanitize: bool,
    har_allowed: bool,
) -> None:
    from stickyforensics.cli.progress import stderr_progress
    from stickyforensics.ingest.sniff import sniff
    from stickyforensics.pipeline import EngineOptions
    from stickyforensics.sanitize import SanitizeOptions, export_capture, sanitize_har

    key, made_up = pseudonym_key(redaction_key)
    try:
        options = SanitizeOptions(
            key=key, hide_backends=hide_backends, config=_config(config_file, persistence_cookie, session_cookie)
        )
        if tls_keylog and not os.path.isfile(tls_keylog):
            raise _fail(f"{tls_keylog}: TLS key log file not found")
        if os.path.isdir(input_path):
            raise _fail(f"{input_path}: is a folder; name one HAR or capture file")
        is_har = sniff(input_path) == "har"
        if is_har and not har_allowed:
            raise _fail(f"{input_path}: is a HAR file, not a capture; 'stickyforensics sanitize' sanitizes HAR files")
        if is_har:
            if per_client:
                raise _fail(f"{input_path}: --per-client applies to captures; a HAR file is already one client")
            progress = stderr_progress()
            try:
                stats = sanitize_har(input_path, output, options, progress=progress)
            finally:
                if progress is not None:
                    progress.close()
            _note(f"wrote {output}")
            _report_sanitized(stats, options)
        else:
            progress = stderr_progress()
            try:
                outcome = export_capture(
                    input_path,
                    output,
                    options,
                    engine=EngineOptions(engine=engine.value, tls_keylog=tls_keylog),
                    sanitize=sanitize,
                    per_client=per_client,
                    progress=progress,
                )
            finally:
                if progress is not None:
                    progress.close()
            _report_export(outcome, options, per_client)
    except StickyError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or input_path}: {exc.strerror or exc}") from None
    except (ValueError, re.error) as exc:
        raise _fail(str(exc)) from None
    if sanitize and made_up:
        _note(
            f"no --redaction-key (or ${KEY_ENV}): the pseudonyms used a random key, so they will not match "
            "another run's; pass a key to keep them stable across files and runs"
        )


def sanitize(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help="A HAR file, or a pcap/pcapng capture.")],
    output: OutputOpt,
    redaction_key: KeyOpt = None,
    hide_backends: HideOpt = False,
    config: ConfigOpt = None,
    persistence_cookie: PCookieOpt = None,
    session_cookie: SCookieOpt = None,
    engine: EngineOpt = Engine.native,
    tls_keylog: KeylogOpt = None,
    per_client: PerClientOpt = False,
) -> None:
    """Write a copy of a HAR (or of a capture's HTTP exchanges) that is safe to share and analyses the same.

    Cookie values (Cookie, every Set-Cookie, the cookies arrays), Authorization / Proxy-Authorization
    credentials, secret-named headers (X-API-Key, X-Auth-Token, X-CSRF-Token...), query-string, form
    (passwords) and JSON-body values become keyed pseudonyms: equal values get equal pseudonyms, and a
    pseudonym keeps its value's length and character classes, so it stays a valid cookie value and the
    findings stay the same. Bodies are removed (response bodies keep only the session-loss markers and
    backend banners the analysis reads). Kept: names, header casing and order, URLs' hosts and paths,
    client and server addresses, timings, entry order, and load-balancer persistence cookies (see
    --hide-backends). docs/sanitize.md has the details.
    """
    _run(
        input_path,
        output,
        redaction_key=redaction_key,
        hide_backends=hide_backends,
        config_file=config,
        persistence_cookie=persistence_cookie,
        session_cookie=session_cookie,
        engine=engine,
        tls_keylog=tls_keylog,
        per_client=per_client,
        sanitize=True,
        har_allowed=True,
    )


def export(
    input_path: Annotated[str, typer.Argument(metavar="CAPTURE", help="A pcap or pcapng capture.")],
    output: OutputOpt,
    no_sanitize: Annotated[
        bool, typer.Option("--no-sanitize", help="Keep every secret as captured (for your own use only).")
    ] = False,
    redaction_key: KeyOpt = None,
    hide_backends: HideOpt = False,
    config: ConfigOpt = None,
    persistence_cookie: PCookieOpt = None,
    session_cookie: SCookieOpt = None,
    engine: EngineOpt = Engine.native,
    tls_keylog: KeylogOpt = None,
    per_client: PerClientOpt = False,
) -> None:
    """Export a capture's reconstructed HTTP exchanges as HAR 1.2, sanitized unless --no-sanitize.

    Timings, every header (each Set-Cookie its own item), the server address (serverIPAddress,
    _serverPort), the client address (_clientIPAddress, _clientPort) and Wireshark frame numbers
    (_frames, _tcpStream) are kept. Bodies: only the first 2 KB the analysis keeps are known.
    """
    _run(
        input_path,
        output,
        redaction_key=redaction_key,
        hide_backends=hide_backends,
        config_file=config,
        persistence_cookie=persistence_cookie,
        session_cookie=session_cookie,
        engine=engine,
        tls_keylog=tls_keylog,
        per_client=per_client,
        sanitize=not no_sanitize,
        har_allowed=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``sanitize`` and ``export`` to the command line application."""
    app.command("sanitize")(sanitize)
    app.command("export")(export)
