"""Apache httpd mod_proxy_balancer sticky cookies, ``ROUTEID=.<route>`` (reference §2.22).

The balancer routes on the text after the first ``.`` of the value (the
``stickysessionsep``), matched against ``BalancerMember ... route=<id>``. The
documented LB-inserted cookie is ``ROUTEID=.<route>``, re-issued only when the
route changes, so a new ``ROUTEID`` mid-session is itself a flip indicator.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import unknown

FAMILY = "apache-balancer"
VENDOR = "Apache httpd mod_proxy_balancer"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_ROUTE = re.compile(r"[^.]{0,256}+\.([A-Za-z0-9_-][A-Za-z0-9_.:-]{0,63})")


def decode(name: str, value: str) -> PersistenceInfo:
    """The balancer route after the first ``.``."""
    m = _ROUTE.fullmatch(value)
    if m is None:
        return unknown(FAMILY, VENDOR, ROLE, "no '.<route>' in the value: the balancer cannot route on it", CHANGE)
    return PersistenceInfo(
        family=FAMILY,
        vendor=VENDOR,
        role=ROLE,
        status="decoded",
        backend=m.group(1),
        change_meaning=CHANGE,
        decoded=(("route", m.group(1)),),
    )
