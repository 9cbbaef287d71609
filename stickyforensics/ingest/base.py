"""What every ingest engine returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.model import Diagnostic, Transaction


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Transactions (in capture order) and diagnostics read from one input file."""

    path: str
    format: str
    """``har``, ``pcap``, ``pcapng``."""
    engine: str
    """``har``, ``native``, ``tshark``."""
    transactions: tuple[Transaction, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    cookie_data: str = "present"
    """``present``; ``absent`` when the producer stripped cookies (sanitized HAR, TLS without keys)."""
    extra: tuple[tuple[str, str], ...] = field(default=())
    """Engine facts for the summary (``packets``, ``tls_connections``...)."""
