"""Every replacement goes through ``ValueRewriter``: the pseudonym, the count, the sweep list."""

from __future__ import annotations

from collections.abc import Callable

from stickyforensics.sanitize.pseudonym import Pseudonyms
from stickyforensics.sanitize.stats import SanitizeStats
from stickyforensics.sanitize.sweep import SecretSweep, token_like


class ValueRewriter:
    """Pseudonyms for secret values, counted per kind and remembered for the sweep."""

    def __init__(self, pseudonyms: Pseudonyms, stats: SanitizeStats, sweep: SecretSweep) -> None:
        self.pseudonyms = pseudonyms
        self.stats = stats
        self.sweep = sweep

    def replace(self, value: str, kind: str, *, accept: Callable[[str], bool] | None = None, secret: bool) -> str:
        """The pseudonym of ``value`` (an empty value stays empty).

        ``secret``: the value is a secret whatever it looks like (a cookie, a credential), so the
        sweep looks for it elsewhere; other values (query, form) are swept only when token-like.
        """
        if not value:
            return value
        pseudonym = self.pseudonyms.pseudonym(value, accept)
        self.stats.count(kind)
        if secret or token_like(value):
            self.sweep.add(value, pseudonym)
        return pseudonym
