"""What a sanitizer run replaced and kept, for the one-paragraph summary the CLI prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class SanitizeStats:
    """Counts of replaced values per kind, and what was deliberately kept."""

    entries: int = 0
    replaced: Counter[str] = field(default_factory=Counter)
    """Kind (``cookie``, ``credential``, ``query``, ``form``...) -> values replaced by a pseudonym."""
    bodies_removed: int = 0
    bodies_with_markers: int = 0
    """Bodies replaced by the session-loss markers / backend banners the analysis reads in them."""
    routing_cookies_kept: set[str] = field(default_factory=set)
    """Names of load-balancer persistence cookies whose values were kept (they may encode addresses)."""
    placeholders_kept: int = 0
    """Cookie values another sanitizer had already replaced (``REDACTED``...): kept as they are."""

    def count(self, kind: str) -> None:
        self.replaced[kind] += 1

    def summary(self) -> str:
        """One line: ``12 entries; pseudonyms for 40 cookie, 3 credential values; ...``."""
        parts = [f"{self.entries} {'entry' if self.entries == 1 else 'entries'}"]
        if self.replaced:
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.replaced.items()))
            parts.append(f"pseudonyms for {kinds} values")
        if self.bodies_removed:
            markers = self.bodies_with_markers
            kept = f" ({markers} reduced to their session-loss markers)" if markers else ""
            parts.append(f"{self.bodies_removed} bodies removed{kept}")
        if self.placeholders_kept:
            parts.append(f"{self.placeholders_kept} already-redacted cookie values kept")
        return "; ".join(parts)
