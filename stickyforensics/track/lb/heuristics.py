"""Name/value heuristics for cookies the catalog does not know.

Only *whole word parts* of the name count (``ASP.NET_SessionId`` -> ``asp net
session id``), so ``consider`` never matches ``sid`` and ``authenKey`` never
matches ``auth``. Routing needs both a routing word in the name and a value
shaped like a route (``srv1``, ``node2``, ``web-03``, an ``ip:port`` or a hash),
because names like ``server`` are common in ordinary cookies. Everything found
here is ``low`` confidence.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb import haproxy, tengine
from stickyforensics.track.lb._common import COOKIE_TOKEN, address_info, parse_hostport

SESSION_WORDS = frozenset({"sess", "session", "sessid", "sessionid", "sid", "token", "auth", "jwt", "sso"})
ROUTING_WORDS = frozenset(
    {
        "route",
        "routeid",
        "routing",
        "server",
        "serverid",
        "srv",
        "srvid",
        "backend",
        "lb",
        "sticky",
        "affinity",
        "persist",
        "persistence",
        "node",
        "nodeid",
        "upstream",
        "balancer",
        "balanceid",
    }
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
ROUTE_VALUE = re.compile(r"[A-Za-z][A-Za-z]{0,15}[-_.]?[0-9]{1,4}")
"""``srv1``, ``node2``, ``web-03``, ``s1``, ``app_12``: a short word and a number."""
_HASH = re.compile(r"(?=[0-9]*[a-fA-F])(?=[a-fA-F]*[0-9])[0-9a-fA-F]{8,64}")
"""Hex of 8..64 digits with both letters and digits (a plain number is a time or a count)."""
MIN_SESSION_VALUE = 8
"""Shorter values under session-like names are flags (``auth=1``), not session ids."""


@lru_cache(maxsize=8192)
def name_words(name: str) -> frozenset[str]:
    """Lower-cased word parts of a cookie name, split on punctuation, case changes and digits."""
    return frozenset(w.lower() for w in _WORD.findall(name))


def classify(name: str, value: str) -> PersistenceInfo | None:
    """A low-confidence routing or session guess for an unknown cookie, or None."""
    words = name_words(name)
    if words & ROUTING_WORDS:
        routing = _routing(value)
        if routing is not None:
            return routing
    if words & SESSION_WORDS and len(value) >= MIN_SESSION_VALUE and COOKIE_TOKEN.fullmatch(value):
        hit = sorted(words & SESSION_WORDS)[0]
        return PersistenceInfo(
            family="heuristic-session",
            vendor="unknown",
            role=CookieRole.SESSION,
            status="opaque",
            change_meaning=ChangeMeaning.SESSION_RENEWED,
            confidence="low",
            note=f"unknown cookie; the name word '{hit}' suggests an application session",
        )
    return None


def _dated(value: str) -> PersistenceInfo | None:
    """HAProxy ``label|date[|date]`` or Tengine ``sid|epoch|epoch`` under a routing-like custom name.

    Both layouts are distinctive enough together with a routing word in the name
    (alone, ``x|hello`` could be anything), and their dates drive idle-timeout checks.
    """
    for decode, layout in ((haproxy.decode, haproxy.DATED), (tengine.decode, tengine.DATED)):
        if layout.fullmatch(value) is None:
            continue
        info = decode("", value)
        if info.status == "decoded":
            return replace(
                info,
                confidence="medium",
                note=f"custom cookie name; {info.vendor} value layout with dates",
            )
    return None


def _routing(value: str) -> PersistenceInfo | None:
    family, vendor, role = "heuristic-routing", "unknown", CookieRole.ROUTING
    note = "unknown cookie; the name and the route-like value suggest LB persistence"
    if "|" in value:
        return _dated(value)
    parsed = parse_hostport(value)
    if parsed is not None:
        return address_info(family, vendor, role, parsed[0], parsed[1], [], confidence="low", note=note)
    pairs: tuple[tuple[str, str], ...]
    if ROUTE_VALUE.fullmatch(value):
        status, pairs = "decoded", (("route", value),)
    elif _HASH.fullmatch(value):
        status, pairs = "opaque", ()
    else:
        return None
    return PersistenceInfo(
        family=family,
        vendor=vendor,
        role=role,
        status=status,
        backend=value,
        change_meaning=ChangeMeaning.BACKEND_CHANGE,
        decoded=pairs,
        confidence="low",
        note=note,
    )
