"""How to sanitize: the key, what the analysis needs kept, and whether backends stay readable."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.config import Config


@dataclass(frozen=True, slots=True)
class SanitizeOptions:
    key: bytes
    """HMAC key of the pseudonyms (the redaction key, hashed as ``analyze`` hashes it)."""
    hide_backends: bool = False
    """Also pseudonymize load-balancer persistence cookies, backend headers and banners.

    Off by default: decoding them is how the analysis tells backends apart (NetScaler ``NSC_``,
    BIG-IP ``BIGipServer``... carry the backend address), so keeping them keeps the findings.
    On, internal addresses are hidden; backends stay told apart where the value is opaque or a
    header names them, but decoded addresses become pseudonyms or unreadable.
    """
    config: Config = field(default_factory=Config)
    """The analysis configuration: declared cookies, body markers, backend headers and patterns."""
