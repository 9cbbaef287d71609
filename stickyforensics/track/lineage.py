"""Session-cookie lineage: telling apart several browsers behind one client address (NAT, a proxy
that adds no ``X-Forwarded-For``).

Theory of operation
-------------------
Everything here looks at the transactions of ONE client address and never across addresses, so
the split is local to that address (``--jobs`` groups addresses in several processes and must get
the same answer in each).

1. **Tokens.** A token is a cookie value that names one browser: a session id, a rotating
   load-balancer cookie (AWSALB), an analytics or consent id. A value is a token when it is at
   least ``TOKEN_MIN_LENGTH`` characters long, uses at least ``TOKEN_MIN_SYMBOLS`` different
   characters and holds a digit. A routing cookie that names a backend (NetScaler ``NSC_``, F5
   ``BIGipServer``, HAProxy ``SERVERID=s1``) is never a token: every browser on that backend
   carries the same value.

2. **Lineages.** Transactions belong to one lineage when they share

   * a TCP connection (one connection is one browser), or
   * a token: sent in a ``Cookie`` header, or set by a response (``Set-Cookie``) and sent back
     later; a new value set to the sender of the old one joins both (the issue -> send chain).

   So a browser whose session expired and got a new session cookie stays one lineage when the new
   cookie came in answer to a request that carried the old one, or on the same connection, or
   while it kept sending a long-lived cookie (an analytics id, a rotating persistence cookie).

3. **Proof of several browsers** ("clearly concurrent"). An address clearly carries several
   browsers when a token value of one cookie comes back to a host and first path segment after
   another value of that cookie was sent there, and the two values belong to different lineages
   (A sends ``JSESSIONID=a``, B sends ``JSESSIONID=b``, A sends ``a`` again). One browser cannot:
   its jar holds one value per cookie, and a value it was given joined its lineage in step 2; a
   session that expired and was replaced goes ``a, a, b, b`` and never back. Identity ``auto``
   splits an address only on this proof; identity ``lineage`` splits whenever step 4 leaves
   several groups.

4. **Grouping** (the fewest browsers the evidence allows). Lineages are taken in order of first
   activity; each joins an existing group unless they *contradict* each other
   (``lineage_evidence``):

   * different ``User-Agent`` headers (both known);
   * interleaving: a request of one, sent to the same host and path segment between two requests
     of the other, carries another value of a cookie the other held throughout (a token; or any
     value when no ``Set-Cookie`` of that name at the address could have changed it in between);
   * a token set to one of them and, afterwards, another value of that cookie sent by the other
     where the set applies (host or domain, path) with no newer set in between: the other never
     received it;
   * only once the address is proven to hold several browsers (3): a request with no cookie at all
     between two requests of the other that carried a token to the same host and path segment (a
     browser sends the cookies it holds, so a cookie-less request there comes from another
     browser). Before that proof such a request is the one browser dropping its cookies (a
     finding, SF301), so it stays with it.

   A lineage that sent a token joins a group only when exactly one group is compatible: that is
   how time ordering continues a browser whose cookies all changed (its old lineage ended before
   the new one began and nothing else could have continued it); between two candidates it never
   guesses, and with more than ``CANDIDATE_LIMIT`` groups at the address it starts its own. A
   lineage that sent no token (cookie-less requests, or only routing cookies) joins the compatible
   group with the transaction nearest in time to its first one (the ``CANDIDATE_LIMIT`` nearest
   groups are tried); it starts a group of its own only when it contradicts them all (a different
   ``User-Agent``, or the cookie-less interleaving above).

Groups are numbered by first activity (``10.0.0.1#1``, ``10.0.0.1#2``...).

Limits: a proxy that pools several users on one connection joins them (step 2), and so does a
long cookie value every user gets alike (unless the classifier knows it names a backend); two
browsers that never use the same cookie names on the same paths look like one; a browser that
ignores a ``Set-Cookie`` (rejected for a reason not modelled here), or one cookie name with
different values on sibling paths under one first segment (``/app/a``, ``/app/b``), looks like two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice

from stickyforensics.model import CookiePair, PersistenceInfo, Transaction
from stickyforensics.model.transaction import COOKIES_UNKNOWN
from stickyforensics.track.cookieparse import parse_cookie_header, request_cookies, response_set_cookies
from stickyforensics.track.cookiescope import default_path, domain_match
from stickyforensics.track.enum_members import ROTATES, ROUTING
from stickyforensics.track.lineage_evidence import (
    Address,
    IssuedCookie,
    Lineage,
    SentCookies,
    TxFacts,
    contradict,
    path_segment,
)

Identify = Callable[[str, str], PersistenceInfo | None]

TOKEN_MIN_LENGTH = 12
TOKEN_MIN_SYMBOLS = 6
CANDIDATE_LIMIT = 32
"""Groups a lineage is compared with (the nearest in time first)."""
WALK_LIMIT = 4096
"""Transactions walked past, outward in time, to find those groups."""


def is_token(value: str, info: PersistenceInfo | None) -> bool:
    """Whether a cookie value names one browser (see the module notes)."""
    if info is not None and info.role is ROUTING and info.change_meaning is not ROTATES:
        return False
    return len(value) >= TOKEN_MIN_LENGTH and len(set(value)) >= TOKEN_MIN_SYMBOLS and any(map(str.isdigit, value))


class _Roots:
    """Union-find over transaction positions."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _lineages(facts: Sequence[TxFacts]) -> _Roots:
    roots = _Roots(len(facts))
    first_by_key: dict[tuple[str, str, str], int] = {}
    """("cookie", name, value) or ("connection", input, connection) -> the first transaction with it."""
    for f in facts:
        keys = [("cookie", name, value) for name, value in f.tokens]
        if f.connection is not None:
            keys.append(("connection", *f.connection))
        for key in keys:
            found = first_by_key.setdefault(key, f.order)
            if found != f.order:
                roots.join(found, f.order)
    return roots


def several_browsers(facts: Sequence[TxFacts], roots: _Roots) -> bool:
    """Module notes, 3: a token value comes back to a host and path segment after another value of
    that cookie, and the two values belong to different lineages."""
    last: dict[tuple[str, str, str], str] = {}
    holder: dict[tuple[str, str, str], dict[str, int]] = {}
    for f in facts:
        if f.sent is None or not f.sent.tokens:
            continue
        segment = path_segment(f.sent.path)
        for name, value in f.tokens:
            if name not in f.sent.values or value not in f.sent.values[name]:
                continue  # set by the response, not sent
            key = (f.sent.host, segment, name)
            before = last.get(key)
            holders = holder.setdefault(key, {})
            if (
                before is not None
                and before != value
                and value in holders
                and roots.find(holders[value]) != roots.find(holders[before])
            ):
                return True
            holders.setdefault(value, f.order)
            last[key] = value
    return False


def _nearest_groups(group_of: Sequence[int], times: Sequence[float], start: int) -> Iterator[int]:
    """Groups in order of their transaction nearest in time to transaction ``start`` (walking
    outward over the address's transactions, at most ``WALK_LIMIT`` of them)."""
    at = times[start]
    left, right = start - 1, start + 1
    found: set[int] = set()
    for _step in range(WALK_LIMIT):
        if left < 0 and right >= len(times):
            return
        if right >= len(times) or (left >= 0 and at - times[left] <= times[right] - at):
            g, left = group_of[left], left - 1
        else:
            g, right = group_of[right], right + 1
        if g >= 0 and g not in found:
            found.add(g)
            yield g
            if len(found) >= CANDIDATE_LIMIT:
                return


def _group(facts: Sequence[TxFacts], roots: _Roots, address: Address) -> list[list[int]]:
    members: dict[int, list[TxFacts]] = {}
    for f in facts:
        members.setdefault(roots.find(f.order), []).append(f)
    times = [f.at for f in facts]
    group_of = [-1] * len(facts)
    """The group each transaction joined; -1 until its lineage's turn."""
    groups: list[Lineage] = []
    for root in sorted(members):
        lineage = Lineage.of(members[root])
        target = None
        if not lineage.established:
            # the best fit: the nearest group in time that does not contradict it
            nearest = _nearest_groups(group_of, times, root)
            target = next((g for g in nearest if not contradict(lineage, groups[g], address)), None)
        elif len(groups) <= CANDIDATE_LIMIT:
            # continues a browser only when exactly one could be continued: never guess
            fitting = (g for g, group in enumerate(groups) if not contradict(lineage, group, address))
            compatible = list(islice(fitting, 2))
            target = compatible[0] if len(compatible) == 1 else None
        if target is None:
            target = len(groups)
            groups.append(lineage)
        else:
            groups[target].absorb(lineage)
        for order in lineage.orders:
            group_of[order] = target
    return [g.orders for g in groups]


Parsed = tuple[Mapping[str, frozenset[str]], frozenset[str], tuple[tuple[str, str], ...]]
"""A request's cookies: values per name, the names carrying a token, the (name, value) tokens."""

TOKEN_CACHE_SIZE = 65536
"""(name, value) -> token? answers kept across addresses (a routing cookie's few values recur)."""


class LineageSplitter:
    """Splits one address's transactions into browsers (``split``); one per analysis, it keeps
    only the cookie classifier and a bounded cache of token answers between addresses."""

    def __init__(self, identify: Identify | None = None) -> None:
        self._identify = identify
        self._tokens: dict[tuple[str, str], bool] = {}
        self._token_pairs: dict[int, tuple[tuple[CookiePair, ...], tuple[tuple[str, str], ...], bool]] = {}
        """Per address, by parsed ``Cookie`` header (identity: ``parse_cookie_header`` shares them and
        browsers send the same header again and again): its tokens and whether each token name has
        one value there. The cheap first look (``_values_alternate``) needs only these."""
        self._parsed: dict[tuple[str, ...], Parsed] = {}
        """Per address: the whole ``Parsed`` of each ``Cookie`` header tuple, for the full split."""

    def split(self, transactions: Sequence[Transaction], *, require_proof: bool) -> list[list[Transaction]] | None:
        """The browsers behind one address, each in capture order, or None when the address stays one
        client: the evidence shows one browser, or (``require_proof``, identity ``auto``) it does not
        prove several (module notes, 3). ``transactions``: one address, in capture order."""
        groups = self.split_positions(transactions, require_proof=require_proof)
        return None if groups is None else [[transactions[i] for i in group] for group in groups]

    def split_positions(
        self,
        transactions: Sequence[Transaction],
        *,
        require_proof: bool,
        cookies: Sequence[tuple[CookiePair, ...]] | None = None,
    ) -> list[list[int]] | None:
        """``split``, as positions in ``transactions``. ``cookies``: each request's ``request_cookies``
        when the caller has them (they are parsed once for every stage of tracking)."""
        try:
            return self._split(transactions, require_proof, cookies)
        finally:
            self._token_pairs.clear()
            self._parsed.clear()
            if len(self._tokens) > TOKEN_CACHE_SIZE:
                self._tokens.clear()

    def _split(
        self, transactions: Sequence[Transaction], require_proof: bool, cookies: Sequence[tuple[CookiePair, ...]] | None
    ) -> list[list[int]] | None:
        if require_proof and not self._values_alternate(transactions, cookies):
            return None
        facts = [self._facts(i, tx) for i, tx in enumerate(transactions)]
        roots = _lineages(facts)
        proven = several_browsers(facts, roots)
        if require_proof and not proven:
            return None
        set_times: dict[tuple[str, str], list[float]] = {}
        for f in facts:
            for issue in f.issued:
                set_times.setdefault((issue.host, issue.name), []).append(issue.done)
        for times in set_times.values():
            times.sort()
        groups = _group(facts, roots, Address(proven, set_times))
        return groups if len(groups) >= 2 else None

    def _is_token(self, name: str, value: str) -> bool:
        key = (name, value)
        known = self._tokens.get(key)
        if known is None:
            if self._identify is None:
                self._identify = _default_identify()
            known = self._tokens[key] = is_token(value, self._identify(name, value))
        return known

    def _token_pairs_of(self, pairs: tuple[CookiePair, ...]) -> tuple[tuple[tuple[str, str], ...], bool]:
        """The (name, value) tokens among a request's cookies, in order, and whether each name has a
        single value among them."""
        known = self._token_pairs.get(id(pairs))
        if known is not None and known[0] is pairs:  # the entry holds ``pairs``: its id was not reused
            return known[1], known[2]
        check = self._is_token
        found = tuple([(pair.name, pair.value) for pair in pairs if check(pair.name, pair.value)])
        single = len(set(found)) == len({name for name, _ in found})
        self._token_pairs[id(pairs)] = (pairs, found, single)
        return found, single

    def _cookies(self, headers: tuple[str, ...]) -> Parsed:
        parsed = self._parsed.get(headers)
        if parsed is None:
            values: dict[str, set[str]] = {}
            tokens: list[tuple[str, str]] = []
            for header in headers:
                for pair in parse_cookie_header(header):
                    values.setdefault(pair.name, set()).add(pair.value)
                    if self._is_token(pair.name, pair.value):
                        tokens.append((pair.name, pair.value))
            frozen = {name: frozenset(v) for name, v in values.items()}
            parsed = self._parsed[headers] = (frozen, frozenset(name for name, _ in tokens), tuple(tokens))
        return parsed

    def _values_alternate(
        self, transactions: Sequence[Transaction], cookies: Sequence[tuple[CookiePair, ...]] | None
    ) -> bool:
        """The cheap first look for ``several_browsers``: a token value comes back after another."""
        last: dict[tuple[str, str, str], str] = {}
        seen: dict[tuple[str, str, str], set[str]] = {}
        previous: tuple[tuple[CookiePair, ...], tuple[str, str]] | None = None
        last_pairs: tuple[CookiePair, ...] = ()
        tokens: tuple[tuple[str, str], ...] = ()
        single = False
        """``_token_pairs_of(last_pairs)``: a client sends one Cookie header until a Set-Cookie changes it."""
        for index, tx in enumerate(transactions):
            if tx.notes and not COOKIES_UNKNOWN.isdisjoint(tx.notes):
                continue
            pairs = request_cookies(tx.request.headers) if cookies is None else cookies[index]
            if pairs is not last_pairs:
                last_pairs = pairs
                tokens, single = self._token_pairs_of(pairs)
            if not tokens:
                continue  # no token: nothing to note (and no place to work out)
            host = tx.request.host
            segment = path_segment(tx.request.path)
            place = (host, segment)
            if single and previous is not None and previous[0] is pairs and previous[1] == place:
                continue  # the same tokens, one value per name, to the same place again: nothing changes
            previous = (pairs, place)
            for name, value in tokens:
                key = (host, segment, name)
                before = last.get(key)
                if before is None:
                    seen[key] = {value}
                elif before != value:
                    if value in seen[key]:
                        return True
                    seen[key].add(value)
                last[key] = value
        return False

    def _facts(self, order: int, tx: Transaction) -> TxFacts:
        req = tx.request
        tokens: tuple[tuple[str, str], ...] = ()
        sent = None
        agent = None
        if not tx.notes or COOKIES_UNKNOWN.isdisjoint(tx.notes):
            headers, agent = _cookie_headers(tx)
            values, token_names, tokens = self._cookies(headers)
            sent = SentCookies(order, tx.timing.started, req.host, req.path, values, token_names)
        issued = self._issued(order, tx)
        tokens += tuple((issue.name, issue.value) for issue in issued if issue.token and issue.value is not None)
        return TxFacts(order, tx.timing.started, agent, _connection(tx), sent, issued, tokens)

    def _issued(self, order: int, tx: Transaction) -> tuple[IssuedCookie, ...]:
        if tx.response is None:
            return ()
        req, timing = tx.request, tx.timing
        done = timing.finished or timing.response_started or timing.started
        issued: list[IssuedCookie] = []
        for sc in response_set_cookies(tx.response.headers):
            if not sc.name or (sc.secure and req.scheme != "https"):
                continue  # a browser rejects these: they say nothing about who got them
            if sc.domain and not domain_match(req.host, sc.domain):
                continue
            deleted = (sc.max_age is not None and sc.max_age <= 0) or (
                sc.expires is not None and sc.expires <= timing.started
            )
            token = not deleted and self._is_token(sc.name, sc.value)
            path = sc.path or default_path(req.path)
            value = None if deleted else sc.value
            issued.append(IssuedCookie(order, done, sc.name, value, token, req.host, sc.domain, path))
        return tuple(issued)


def _cookie_headers(tx: Transaction) -> tuple[tuple[str, ...], str | None]:
    """The request's raw ``Cookie`` header values (HTTP/2 may split them) and its ``User-Agent``."""
    cookies: list[str] = []
    agent = None
    for key, value in tx.request.headers.items:
        size = len(key)
        if size == 6 and key.lower() == "cookie":
            cookies.append(value)
        elif size == 10 and agent is None and key.lower() == "user-agent":
            agent = value
    return tuple(cookies), agent


def _connection(tx: Transaction) -> tuple[str, str] | None:
    if tx.connection is not None:
        return (tx.input, tx.connection)
    if tx.provenance.tcp_stream is not None:
        return (tx.input, str(tx.provenance.tcp_stream))
    return None


def _default_identify() -> Identify:
    from stickyforensics.track.lb import CookieClassifier

    return CookieClassifier().identify
