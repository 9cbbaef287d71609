"""What the CLI's commands share: the one-line error, and the options several commands take."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

KEY_ENV = "STICKYFORENSICS_REDACTION_KEY"
"""Environment variable holding the redaction / pseudonym key."""


class Engine(StrEnum):
    native = "native"
    tshark = "tshark"


def fail(message: str) -> typer.Exit:
    """Print a one-line error and give the exit (code 2) to raise."""
    typer.echo(f"stickyforensics: error: {message}", err=True)
    return typer.Exit(2)


EngineOpt = Annotated[
    Engine, typer.Option("--engine", help="Capture engine: native (fast, HTTP/1.x) or tshark (TLS, HTTP/2).")
]
KeylogOpt = Annotated[
    str | None, typer.Option("--tls-keylog", help="SSLKEYLOGFILE to decrypt TLS (implies --engine tshark).")
]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="stickyforensics.toml or pyproject.toml to read.")]
PCookieOpt = Annotated[
    list[str] | None,
    typer.Option("--persistence-cookie", help="Treat this cookie name (or re:REGEX) as the LB persistence cookie."),
]
SCookieOpt = Annotated[
    list[str] | None,
    typer.Option("--session-cookie", help="Treat this cookie name (or re:REGEX) as an application session cookie."),
]
