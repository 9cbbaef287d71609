"""Diagnostics: anomalies seen while reading input (Zeek's "weirds"), not rule findings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DiagLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something odd in the input; the run goes on."""

    code: str
    """Stable snake_case code with a dotted area: ``tcp.missing_segments``, ``har.entry_invalid``."""
    message: str
    source: str
    """Input path."""
    position: str | None = None
    """Where: ``frame 123``, ``entry 7``, ``byte 4096``, ``tcp.stream 3``."""
    level: DiagLevel = DiagLevel.WARNING
    count: int = 1
    """How many times it happened (aggregated diagnostics)."""


HEADS_CUT = "http.headers_cut"
"""Exchanges whose header blocks were cut (a short snaplen, capture gaps); ``count``: the requests among them.
The verdict reads it: cookies that could not be read are not evidence that a session stayed sticky."""
