"""A client's whole conversation: transactions, cookie timeline and backend timeline."""

from __future__ import annotations

from dataclasses import dataclass

from stickyforensics.model.cookies import CookieEvent, PersistenceInfo
from stickyforensics.model.transaction import Transaction


@dataclass(frozen=True, slots=True)
class ClientKey:
    """Who "a client" is."""

    strategy: str
    """``ip``, ``xff``, ``har-file``, ``ip+lineage``: how the client was identified."""
    value: str
    """The identity: the client IP, the HAR file name, ``10.0.0.1#2``..."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class BackendObservation:
    """Which backend served one transaction, and how we know."""

    transaction_id: str
    at: float
    backend: str | None
    """Stable backend key (``10.0.0.4:80``, ``s1``, ``node2``), None when unknown."""
    datacenter: str | None
    source: str
    """``cookie:NAME`` (sent cookie decoded), ``set-cookie:NAME``, ``header:X-Served-By``, ``server-ip``."""
    confidence: str
    """``high`` / ``medium`` / ``low``."""


@dataclass(frozen=True, slots=True)
class ClientSession:
    """Everything one client did, in capture order."""

    key: ClientKey
    inputs: tuple[str, ...]
    transactions: tuple[Transaction, ...]
    cookie_events: tuple[CookieEvent, ...]
    backends: tuple[BackendObservation, ...]
    persistence_cookies: tuple[tuple[str, PersistenceInfo], ...]
    """Routing and session cookies this client held: (name, what the first value revealed)."""
    cookie_data: str = "present"
    """``present``, ``absent`` (sanitized input) or ``partial``."""

    @property
    def backends_seen(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for obs in self.backends:
            if obs.backend is not None:
                seen.setdefault(obs.backend, None)
        return tuple(seen)
