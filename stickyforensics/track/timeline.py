"""The per-client cookie timeline: replay every request and response through an RFC 6265 jar.

Theory of operation
-------------------
For each client, in capture order:

* request: the jar says which held cookies should be on it. A held routing or
  session cookie that is absent is ``missing`` (``client_dropped`` when no rule
  explains it); one carried with another value is ``unexpected``. Cookies the
  client sends that the jar never saw set were set before the capture began:
  they are adopted (host-only, ``Path=/``) so what follows can be judged.
* response: every ``Set-Cookie`` goes through the jar: ``set``, ``changed``
  (a held value replaced), ``deleted`` or ``rejected`` (with the rule).

Only routing and session cookies (per the classifier) produce events; the jar
still stores every cookie, so scope and limits behave as in a browser.

Most requests of a session carry the same Cookie header as the one before, to the
same site, while the jar holds the same cookies: when nothing but those decided
the earlier request's events (no question to the jar that depends on the time,
no cookie adopted), they are the events again, with this request's id and time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stickyforensics.model import (
    CookieEvent,
    CookieEventKind,
    CookiePair,
    MissingReason,
    PersistenceInfo,
    SetCookie,
    Transaction,
)
from stickyforensics.model.frozen_build import builder
from stickyforensics.model.transaction import COOKIES_UNKNOWN
from stickyforensics.track.cookieparse import parse_http_date, request_cookies, response_set_cookies
from stickyforensics.track.enum_members import (
    CHANGED,
    CLIENT_DROPPED,
    DELETED,
    MISSING,
    NEVER_SET,
    REJECTED,
    SENT,
    SET,
    TRACKED_ROLES,
    UNEXPECTED,
)
from stickyforensics.track.jar import CookieJar, StoredCookie, registrable_domain
from stickyforensics.track.memo import Memo

Identify = Callable[[str, str], PersistenceInfo | None]

_new_event = builder(CookieEvent)
"""``CookieEvent`` from every field, positionally: half the cost of its ``__init__`` (several per request)."""


_SUMMARIES: Memo[tuple[object, ...], tuple[str, ...]] = Memo(8192)
"""``_attr_summary`` by what it reads of a Set-Cookie: the lines of a capture have a few (a rotating
cookie's values come with the same attributes), so building the strings again is rare."""

_SHARED_SUMMARIES: Memo[tuple[str, ...], tuple[str, ...]] = Memo(8192)
"""One tuple per distinct summary: the lines of a capture have a few, and ``--jobs`` views pickle
each object once."""


def _attr_summary(sc: SetCookie) -> tuple[str, ...]:
    key = (sc.domain, sc.path, sc.max_age, sc.expires is not None, sc.secure, sc.httponly, sc.samesite)
    found = _SUMMARIES.get(key)
    if found is not None:
        return found
    return _SUMMARIES.remember(key, _SHARED_SUMMARIES.one(_summarize(sc)))


def _summarize(sc: SetCookie) -> tuple[str, ...]:
    out: list[str] = []
    if sc.domain:
        out.append(f"Domain={sc.domain}")
    if sc.path:
        out.append(f"Path={sc.path}")
    if sc.max_age is not None:
        out.append(f"Max-Age={sc.max_age}")
    elif sc.expires is not None:
        out.append("Expires")
    if sc.secure:
        out.append("Secure")
    if sc.httponly:
        out.append("HttpOnly")
    if sc.samesite:
        out.append(f"SameSite={sc.samesite}")
    return tuple(out)


def _adopted(name: str, value: str) -> SetCookie:
    return SetCookie(name=name, value=value, raw=f"{name}={value}", path="/")


def _tracked_only(identify: Identify) -> Identify:
    """Only routing and session cookies produce events (WAF, analytics and consent cookies do not)."""

    def wrapped(name: str, value: str) -> PersistenceInfo | None:
        info = identify(name, value)
        if info is None or info.role not in TRACKED_ROLES:
            return None
        return info

    return wrapped


TxCookies = tuple[tuple[CookiePair, ...], tuple[SetCookie, ...]]

EventFields = tuple[
    CookieEventKind, str, str | None, str | None, str | None, str | None, PersistenceInfo | None, str | None, str | None
]
"""A request's ``CookieEvent`` without its transaction and time: kind, name, value, previous, reason,
detail, persistence, domain, path."""

DROPPED = MissingReason.CLIENT_DROPPED.value
"""The reason of a held cookie not sent, as events carry it (a plain string)."""


def tx_cookies(tx: Transaction) -> TxCookies:
    """The request's cookies and the response's Set-Cookies, parsed once and shared by the track stages."""
    sets = response_set_cookies(tx.response.headers) if tx.response is not None else ()
    return request_cookies(tx.request.headers), sets


def _sent_values(pairs: tuple[CookiePair, ...]) -> dict[str, list[str]]:
    """The values sent per cookie name, in order (a name may be sent twice)."""
    sent: dict[str, list[str]] = {}
    for pair in pairs:
        values_of = sent.get(pair.name)
        if values_of is None:
            sent[pair.name] = [pair.value]
        else:
            values_of.append(pair.value)
    return sent


def cookie_timeline(
    transactions: Sequence[Transaction],
    identify: Identify,
    parsed: Sequence[TxCookies] | None = None,
    *,
    reuse_requests: bool = True,
) -> tuple[CookieEvent, ...]:
    """Cookie events for one client's transactions (already in capture order).

    ``parsed``: ``tx_cookies`` of each transaction, in the same order, when the caller has them.
    ``reuse_requests=False`` works every request out from scratch instead of repeating the events of
    an identical request before it: the reference the reuse is tested against.
    """
    timeline = CookieTimeline(identify, reuse_requests=reuse_requests)
    timeline.feed(transactions, parsed)
    return timeline.events()


class CookieTimeline:
    """One client's cookie timeline fed its transactions in capture order, in as many parts as they come:
    the same events as ``cookie_timeline`` over them all (a HAR read by two processes is tracked while its
    second half is still being read: ``track.early``)."""

    __slots__ = ("_events", "_info_of", "_jar", "_last", "_noted", "_repeat", "_reuse", "_sites", "_tracked")

    def __init__(self, identify: Identify, *, reuse_requests: bool = True) -> None:
        tracked_only = _tracked_only(identify)
        known: dict[tuple[str, str], PersistenceInfo | None] = {}
        """The classifier's answers for this client, without the wrapper and LRU cost of asking again."""

        def info_of(name: str, value: str) -> PersistenceInfo | None:
            key = (name, value)
            try:
                return known[key]
            except KeyError:
                info = known[key] = tracked_only(name, value)
                return info

        self._info_of = info_of
        self._jar = CookieJar()
        self._events: list[CookieEvent] = []
        self._reuse = reuse_requests
        self._tracked: dict[str, PersistenceInfo] = {}
        """The routing and session cookies seen so far."""
        self._sites: dict[str, set[str]] = {}
        """Sites (registrable domains) where each tracked cookie was set or sent."""
        self._last: tuple[tuple[CookiePair, ...] | None, dict[str, list[str]]] = (None, {})
        """The last parsed Cookie header and its ``_sent_values`` (``parse_cookie_header`` shares them, and
        a client sends the same header until a Set-Cookie changes it); read only once built."""
        self._noted: tuple[tuple[CookiePair, ...], str] | None = None
        """The last (parsed Cookie header, site) whose names were added to ``sites``."""
        self._repeat: tuple[tuple[CookiePair, ...], str, int, list[StoredCookie], list[EventFields]] | None = None
        """The last request whose events followed from its cookies alone: (its parsed Cookie header, its
        site, how many cookies were tracked, the cookies held for it, its events without transaction and
        time). A request with the same header and site, tracking as many cookies and holding the same ones
        has the same events (most requests of a session)."""

    def events(self) -> tuple[CookieEvent, ...]:
        """The events of every transaction fed so far."""
        return tuple(self._events)

    def feed(self, transactions: Sequence[Transaction], parsed: Sequence[TxCookies] | None = None) -> None:
        """The client's next transactions, in capture order (``parsed``: their ``tx_cookies``, in the same order)."""
        # The state in locals for the loop (an attribute load per use would cost), the rebound parts stored after.
        info_of, jar, tracked, sites = self._info_of, self._jar, self._tracked, self._sites
        reuse_requests, append = self._reuse, self._events.append
        (last_pairs, last_sent), noted, repeat = self._last, self._noted, self._repeat
        for index, tx in enumerate(transactions):
            req = tx.request
            at = tx.timing.started
            scheme, host, path, tx_id = req.scheme, req.host, req.path, tx.id
            pairs, set_cookies = parsed[index] if parsed is not None else tx_cookies(tx)
            if pairs is not last_pairs:
                last_pairs, last_sent = pairs, _sent_values(pairs)
            sent = last_sent

            # A request whose headers the engine could not attribute (tshark, pipelined requests in one
            # packet) or whose header block was cut (a short snaplen) says nothing about which cookies it
            # carried: judge only its response.
            headers_known = not tx.notes or COOKIES_UNKNOWN.isdisjoint(tx.notes)
            expected = jar.held_for(scheme, host, path, at) if headers_known else []  # read only
            site = registrable_domain(host)
            if (
                repeat is not None
                and headers_known
                and repeat[0] is pairs
                and repeat[1] == site
                and repeat[2] == len(tracked)
                and repeat[3] == expected
            ):
                fields = repeat[4]  # the request before, again: the same cookies held, sent and tracked
            else:
                fields = []
                pure = headers_known
                """Whether the events follow from the held, sent and tracked cookies alone (no jar question
                that depends on the time, no change to the jar): the next request may reuse them."""
                expected_names: set[str] = set()
                for held in expected:
                    name, value = held.name, held.value
                    expected_names.add(name)
                    held_info = info_of(name, value)
                    info = tracked.get(name) or held_info
                    if info is None:
                        continue
                    if name not in tracked:
                        tracked[name] = info
                    values = sent.get(name)
                    if values is None:
                        detail = "held and in scope (domain, path, secure, expiry all match) but not sent"
                        fields.append((MISSING, name, None, value, DROPPED, detail, held_info, held.domain, held.path))
                    elif value in values:
                        fields.append((SENT, name, value, None, None, None, held_info, None, None))
                    else:
                        detail = "sent a value other than the one the server set last"
                        fields.append((UNEXPECTED, name, values[0], value, None, detail, info_of(name, values[0]), None,
                                       None))  # fmt: skip

                if noted is None or noted[0] is not pairs or noted[1] != site:  # again would add nothing
                    noted = (pairs, site)
                    for name in sent:
                        name_sites = sites.get(name)
                        if name_sites is None:
                            sites[name] = {site}
                        else:
                            name_sites.add(site)
                for name, values in sent.items():
                    if name in expected_names:
                        continue
                    info = tracked.get(name) or info_of(name, values[0])
                    if info is None:
                        continue
                    pure = False
                    tracked.setdefault(name, info)
                    explanation = jar.explain_missing(name, scheme=scheme, host=host, path=path, at=at)
                    if explanation is not None and explanation[0] is not NEVER_SET:
                        detail = f"sent although the jar would not send it: {explanation[1]}"
                        fields.append((UNEXPECTED, name, values[0], None, explanation[0].value, detail,
                                       info_of(name, values[0]), None, None))  # fmt: skip
                        continue
                    jar.set_from_response(
                        _adopted(name, values[0]), scheme=scheme, host=host, path="/", at=at, transaction_id=tx_id
                    )
                    detail = "first seen in a request: set before the capture began"
                    fields.append((SENT, name, values[0], None, None, detail, info_of(name, values[0]), None, None))

                for name in tracked if headers_known else ():
                    if name in sent or name in expected_names:
                        continue
                    pure = False
                    if site not in sites.get(name, ()):
                        continue  # another site's cookie: not sending it is not an event
                    explanation = jar.explain_missing(name, scheme=scheme, host=host, path=path, at=at)
                    if explanation is None or explanation[0] is NEVER_SET or explanation[0] is CLIENT_DROPPED:
                        continue
                    fields.append((MISSING, name, None, None, explanation[0].value, explanation[1], None, None, None))
                repeat = (pairs, site, len(tracked), expected, fields) if pure and reuse_requests else None
            for kind, name, sent_value, previous, reason, why, info, domain, cookie_path in fields:
                append(
                    _new_event(kind, name, tx_id, at, sent_value, previous, reason, why, info, domain, cookie_path, ())
                )

            if not set_cookies or tx.response is None:  # most responses set no cookie
                continue
            server_date = parse_http_date(tx.response.headers.get("Date") or "")
            resp_at = tx.timing.response_started or tx.timing.finished or at
            for sc in set_cookies:
                info = info_of(sc.name, sc.value)
                decision = jar.set_from_response(
                    sc,
                    scheme=scheme,
                    host=host,
                    path=path,
                    at=resp_at,
                    transaction_id=tx_id,
                    server_date=server_date,
                )
                if info is None and sc.name not in tracked:
                    continue
                if info is not None:
                    tracked.setdefault(sc.name, info)
                set_site = registrable_domain(sc.domain or host)
                name_sites = sites.get(sc.name)
                if name_sites is None:
                    sites[sc.name] = {set_site}
                else:
                    name_sites.add(set_site)
                attrs = _attr_summary(sc)
                previous = decision.previous.value if decision.previous is not None else None
                if decision.action == "rejected":
                    kind = REJECTED
                elif decision.action in ("deleted", "ignored_delete"):
                    kind = DELETED
                elif previous is not None and previous != sc.value:
                    kind = CHANGED
                else:
                    kind = SET
                append(
                    _new_event(
                        kind, sc.name, tx_id, resp_at, sc.value, previous, decision.reason, None, info, sc.domain,
                        sc.path, attrs,
                    )
                )  # fmt: skip
        self._last, self._noted, self._repeat = (last_pairs, last_sent), noted, repeat
