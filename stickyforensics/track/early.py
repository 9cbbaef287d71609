"""Tracking a HAR's client while the rest of its file is still being read.

A large HAR is read by two processes (``ingest.har_split``): this one's half first, then the other's,
which arrives in chunks. A HAR is one client, whose cookie timeline (most of the tracking) needs its
transactions in capture order only, so it can start on our half while the other is being read, and go on
with each chunk as it comes, instead of waiting for the whole file.

It is a guess checked afterwards: ``build_sessions`` takes the events only for a client whose transactions
are exactly those fed, in that order (the same objects). Anything else (entries out of time order, several
clients in the file, a split that failed) and the client is tracked the ordinary way, with the same
result. A chunk out of order stops the feeding at once, so little is spent on a guess that cannot hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stickyforensics.config import Config
from stickyforensics.model import CookieEvent, Transaction

if TYPE_CHECKING:
    from stickyforensics.track.lb import CookieClassifier
    from stickyforensics.track.timeline import CookieTimeline, TxCookies


class EarlyTracking:
    """The cookie timeline of the transactions fed so far, in the order fed (``ingest.har_split.EarlyFeed``)."""

    __slots__ = ("_classifier", "_config", "_last", "_live", "_timeline", "parsed", "transactions")

    def __init__(self, config: Config, classifier: CookieClassifier | None = None) -> None:
        self._config = config
        self._classifier = classifier
        self.transactions: list[Transaction] = []
        self.parsed: list[TxCookies] = []
        self._timeline: CookieTimeline | None = None
        self._last: tuple[float, str] | None = None
        self._live = True

    @property
    def classifier(self) -> CookieClassifier:
        """``build_sessions`` must classify with this one for the events to be used. Made when first
        needed: reading the cookie catalogs takes about 0.1 s, better spent once the other process reads."""
        if self._classifier is None:
            from stickyforensics.track.lb import CookieClassifier  # with the catalogs: after the fork, as they are

            self._classifier = CookieClassifier(declared=self._config.declared_cookies())
        return self._classifier

    def feed(self, batch: Sequence[Transaction]) -> None:
        """The next transactions of the file, in its order."""
        if not self._live or not batch:
            return
        # ``group_by_address`` orders a client's transactions by (start, id): fed otherwise, they cannot be used.
        last = self._last
        for tx in batch:
            key = (tx.timing.started, tx.id)
            if last is not None and key < last:
                self.abandon()
                return
            last = key
        self._last = last
        from stickyforensics.track.timeline import CookieTimeline, tx_cookies  # see ``classifier``

        parsed = [tx_cookies(tx) for tx in batch]
        if self._timeline is None:
            self._timeline = CookieTimeline(self.classifier.identify)
        self._timeline.feed(batch, parsed)
        self.transactions.extend(batch)
        self.parsed.extend(parsed)

    def abandon(self) -> None:
        """Stop, and forget what was fed: the file is read again, its order cannot be used, or
        ``build_sessions`` has taken what it needed."""
        self._live = False
        self.transactions, self.parsed = [], []
        self._timeline = None

    def covers(self, transactions: Sequence[Transaction]) -> bool:
        """Whether ``transactions`` are exactly those fed, in that order."""
        fed = self.transactions
        if not self._live or len(fed) != len(transactions):
            return False
        return all(a is b for a, b in zip(fed, transactions, strict=True))

    def events(self) -> tuple[CookieEvent, ...]:
        return self._timeline.events() if self._timeline is not None else ()
