"""Small per-transaction facts the detectors share: session lost?, static?, evidence records."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stickyforensics.config import Config
from stickyforensics.model import Evidence, Transaction

_EXCERPT_LIMIT = 300


def request_line(tx: Transaction) -> str:
    status = tx.response.status if tx.response is not None else "no response"
    return f"{tx.request.method} {tx.request.target[:160]} -> {status}"


def session_lost(tx: Transaction, config: Config) -> str | None:
    """Why this response says the session is gone (status, login redirect, body marker), or None."""
    resp = tx.response
    if resp is None:
        return None
    if resp.body.prefix and config.body_markers:
        text = resp.body.prefix.decode("utf-8", "replace").lower()
        for marker in config.body_markers:
            if marker and marker.lower() in text:
                return f"{resp.status} with body '{marker}'"
    if resp.status in config.session_lost_statuses:
        return f"{resp.status} {resp.reason}".strip()
    if 300 <= resp.status < 400:
        location = resp.headers.get("Location") or ""
        if location and is_login(location, config):
            if not is_login(tx.request.path, config):
                return f"{resp.status} redirect to login ({location[:80]})"
            if tx.request.method == "POST":
                return f"login rejected ({resp.status} back to {location[:80]})"
    return None


def is_login(path: str, config: Config) -> bool:
    return any(re.search(p, path) for p in config.login_paths)


def excerpt_lines(
    tx: Transaction, names: Iterable[str] = ("Cookie",), response_names: Iterable[str] = ()
) -> tuple[str, ...]:
    lines: list[str] = []
    lname = {n.lower() for n in names}
    for key, value in tx.request.headers:
        if key.lower() in lname:
            lines.append(f"{key}: {value}"[:_EXCERPT_LIMIT])
    if tx.response is not None:
        rname = {n.lower() for n in response_names}
        for key, value in tx.response.headers:
            if key.lower() in rname:
                lines.append(f"{key}: {value}"[:_EXCERPT_LIMIT])
    return tuple(lines)


def evidence(
    tx: Transaction,
    summary: str,
    *,
    role: str = "evidence",
    names: Iterable[str] = ("Cookie",),
    response_names: Iterable[str] = ("Set-Cookie",),
) -> Evidence:
    prov = tx.provenance
    return Evidence(
        input=tx.input,
        time=tx.timing.started,
        summary=summary,
        transaction_id=tx.id,
        frames=tuple(prov.request_frames[:1] + prov.response_frames[:1]),
        har_entry=prov.har_entry,
        tcp_stream=prov.tcp_stream,
        wireshark_filter=prov.wireshark_filter,
        excerpts=excerpt_lines(tx, names, response_names),
        role=role,
    )
