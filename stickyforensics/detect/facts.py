"""Small per-transaction facts the detectors share: session lost?, static?, evidence records."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from stickyforensics.config import Config
from stickyforensics.model import Evidence, Transaction
from stickyforensics.track.memo import Memo

_EXCERPT_LIMIT = 300

_STATIC: Memo[tuple[str, str, str], bool] = Memo(65536)
"""``Config.is_static`` answers by (static pattern, path, method): all it depends on."""


def is_static(config: Config, path: str, method: str = "GET") -> bool:
    """``config.is_static(path, method)``, remembered: every pass over a client asks about each request."""
    key = (config.static_pattern, path, method)
    found = _STATIC.get(key)
    if found is None:
        found = _STATIC.remember(key, config.is_static(path, method))
    return found


@lru_cache(maxsize=64)
def _lowered_markers(markers: tuple[str, ...]) -> tuple[tuple[str, str, bytes], ...]:
    """(marker, lower-case marker, its UTF-8 bytes) for the non-empty markers, in order."""
    return tuple((m, m.lower(), m.lower().encode("utf-8", "surrogatepass")) for m in markers if m)


def _ascii_lowered(markers: tuple[tuple[str, str, bytes], ...]) -> bool:
    """Whether every lower-cased marker is ASCII (``_first_marker`` may then search the bytes)."""
    return all(encoded.isascii() for _marker, _lowered, encoded in markers)


def _first_marker(prefix: bytes, markers: tuple[tuple[str, str, bytes], ...], ascii_lowered: bool) -> str | None:
    """The first marker (case-insensitive) in a body prefix, or None.

    ``ascii_lowered``: ``_ascii_lowered(markers)``.
    """
    if prefix.isascii() or (
        ascii_lowered
        # U+0130 and the Kelvin sign U+212A are the only characters beyond ASCII whose lower case holds
        # an ASCII one (``i`` and a combining dot, ``k``); a single byte rules each out fastest
        and (b"\xb0" not in prefix or b"\xc4\xb0" not in prefix)
        and (b"\xaa" not in prefix or b"\xe2\x84\xaa" not in prefix)
    ):
        # ASCII decodes to itself and lower-cases alike as bytes. Beyond ASCII (without those two),
        # decoding never joins an ASCII byte to other bytes and lower-casing maps every other
        # character to characters beyond ASCII: an ASCII marker is in the lower-cased text exactly
        # where it is in the lower-cased bytes. No decoding, no copy of the text.
        low = prefix.lower()
        for marker, _lowered, encoded in markers:
            if encoded in low:
                return marker
        return None
    text = prefix.decode("utf-8", "replace").lower()
    for marker, lowered, _encoded in markers:
        if lowered in text:
            return marker
    return None


class BodyMarkers:
    """``_first_marker`` of each body prefix, remembered by content for one analysis.

    Many responses carry the same page or JSON document, and searching a 2 KB prefix for every marker
    is the costliest test of ``session_lost``; a prefix hashes once. Bounded, and dropped with its owner
    (the detect context) so no body outlives the analysis.
    """

    def __init__(self, markers: tuple[str, ...]) -> None:
        self.markers = markers
        self._lowered = _lowered_markers(markers)
        self._ascii = _ascii_lowered(self._lowered)
        self._found: dict[bytes, str | None] = {}

    def first_in(self, prefix: bytes) -> str | None:
        try:
            return self._found[prefix]
        except KeyError:
            pass
        if len(self._found) >= 16384:
            self._found.clear()
        found = self._found[prefix] = _first_marker(prefix, self._lowered, self._ascii)
        return found


@lru_cache(maxsize=64)
def _login_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def request_line(tx: Transaction) -> str:
    status = tx.response.status if tx.response is not None else "no response"
    return f"{tx.request.method} {tx.request.target[:160]} -> {status}"


def session_lost(tx: Transaction, config: Config, markers: BodyMarkers | None = None) -> str | None:
    """Why this response says the session is gone (status, login redirect, body marker), or None.

    ``markers``: a ``BodyMarkers`` of ``config.body_markers`` shared by the caller's analysis.
    """
    resp = tx.response
    if resp is None:
        return None
    prefix = resp.body.prefix
    if prefix and config.body_markers:
        if markers is not None and markers.markers == config.body_markers:
            marker = markers.first_in(prefix)
        else:
            lowered = _lowered_markers(tuple(config.body_markers))
            marker = _first_marker(prefix, lowered, _ascii_lowered(lowered))
        if marker is not None:
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
    return any(p.search(path) for p in _login_patterns(tuple(config.login_paths)))


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
