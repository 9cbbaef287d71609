"""Java application-server session ids that carry a route (reference §2.23).

* Tomcat / mod_jk: ``<id>.<jvmRoute>``; JvmRouteBinderValve rewrites the suffix on failover.
* WebLogic: ``<id>!<primary JVM hash>[!<secondary>][!<creation ms>]``.
* WebSphere: ``<cache id, 4 digits><id, 23 chars>:<clone>[:<clone>...]``; ``-1`` = no clone id.

The session id itself is a secret and never appears in ``decoded``; the route is
the ``backend``. The role stays *session*: a new value is a new session, and a
new route with it is a failover.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import COOKIE_TOKEN, unknown

ROLE = CookieRole.SESSION
CHANGE = ChangeMeaning.SESSION_RENEWED

WEBLOGIC = re.compile(r"([A-Za-z0-9_\-+/=.]{8,256}+)!(-?[0-9]{1,10})(?:!(-?[0-9]{1,10}|NONE))?(?:!([0-9]{10,14}))?")
WEBSPHERE = re.compile(r"([0-9]{4})([A-Za-z0-9_-]{23})((?::[A-Za-z0-9_-]{1,64})+)")
_ALNUM = re.compile(r"[A-Za-z0-9]")
TOMCAT = re.compile(r"([A-Za-z0-9_\-+/=]{8,256}+)\.([A-Za-z0-9_-][A-Za-z0-9_.-]{0,63})")


def decode(name: str, value: str) -> PersistenceInfo:
    """Split a JSESSIONID-style value into session id and route."""
    m = WEBSPHERE.fullmatch(value)
    if m is not None:
        clones = [c for c in m.group(3).split(":") if c]
        routed = [c for c in clones if c != "-1"]
        return PersistenceInfo(
            family="websphere",
            vendor="IBM WebSphere",
            role=ROLE,
            status="decoded",
            backend=":".join(routed) if routed else None,
            change_meaning=CHANGE,
            decoded=(("cache_id", m.group(1)), ("clone_ids", ":".join(clones))),
            note=None if routed else "clone id -1: no clone id (not routed by clone)",
        )
    m = WEBLOGIC.fullmatch(value)
    if m is not None:
        pairs = [("primary_jvm_hash", m.group(2))]
        if m.group(3) is not None:
            pairs.append(("secondary_jvm_hash", m.group(3)))
        if m.group(4) is not None:
            pairs.append(("created_ms", m.group(4)))
        return PersistenceInfo(
            family="weblogic",
            vendor="Oracle WebLogic",
            role=ROLE,
            status="decoded",
            backend=m.group(2),
            change_meaning=CHANGE,
            decoded=tuple(pairs),
            note="backend is the primary JVM hash; a new primary hash is a failover",
        )
    m = TOMCAT.fullmatch(value)
    if m is not None:
        return PersistenceInfo(
            family="tomcat-jsessionid",
            vendor="Apache Tomcat",
            role=ROLE,
            status="decoded",
            backend=m.group(2),
            change_meaning=CHANGE,
            decoded=(("jvm_route", m.group(2)),),
            note="backend is the jvmRoute suffix; a new suffix with the same id is a failover",
        )
    if COOKIE_TOKEN.fullmatch(value) and _ALNUM.search(value):
        return PersistenceInfo(
            family="java-session",
            vendor="Java EE servlet container",
            role=ROLE,
            status="opaque",
            change_meaning=CHANGE,
            note="session id without a route suffix",
        )
    return unknown("java-session", "Java EE servlet container", ROLE, "not a cookie token", CHANGE)
