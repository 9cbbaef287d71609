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
    transaction_count: int = -1
    """How many transactions the client made (given when ``transactions`` holds only some of them)."""
    first_seen: float | None = None
    last_seen: float | None = None
    backend_keys: tuple[str, ...] | None = None
    """The backends seen, in order (given when ``backends`` holds only some of the observations)."""

    def __post_init__(self) -> None:
        # A session built with all its transactions describes itself; a summary (``--jobs``: the
        # client was judged in another process) carries these figures instead.
        if self.transaction_count < 0:
            txs = self.transactions
            object.__setattr__(self, "transaction_count", len(txs))
            if txs:
                object.__setattr__(self, "first_seen", txs[0].timing.started)
                object.__setattr__(self, "last_seen", txs[-1].timing.started)

    @property
    def complete(self) -> bool:
        """Whether ``transactions`` holds every transaction (not a summary)."""
        return len(self.transactions) == self.transaction_count

    @property
    def backends_seen(self) -> tuple[str, ...]:
        if self.backend_keys is not None:
            return self.backend_keys
        seen: dict[str, None] = {}
        for obs in self.backends:
            if obs.backend is not None:
                seen.setdefault(obs.backend, None)
        return tuple(seen)
