"""Tengine ``session_sticky`` cookies with ``maxidle``/``maxlife``: ``sid|last|first`` (reference §2.18).

``sid`` is the lowercase md5 of the peer ``ip:port`` (or the plain server id with
``hash=plain``); the two dates are decimal epoch seconds and change on every
response, so only ``sid`` is the backend key.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import LABEL, iso_utc, plausible_epoch, unknown

FAMILY = "tengine"
VENDOR = "Tengine session_sticky"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

DATED = re.compile(r"([^|]{1,64}+)\|([0-9]{1,11})\|([0-9]{1,11})")
_MD5 = re.compile(r"[0-9a-f]{32}")


def decode(name: str, value: str) -> PersistenceInfo:
    """Split ``sid|last|first``; a bare sid is accepted too."""
    m = DATED.fullmatch(value)
    if m is not None:
        sid, last, first = m.group(1), int(m.group(2)), int(m.group(3))
        if LABEL.fullmatch(sid) and plausible_epoch(last) and plausible_epoch(first):
            return PersistenceInfo(
                family=FAMILY,
                vendor=VENDOR,
                role=ROLE,
                status="decoded",
                backend=sid,
                change_meaning=CHANGE,
                decoded=(
                    ("sid", sid),
                    ("sid_form", "md5 of ip:port" if _MD5.fullmatch(sid) else "plain server id"),
                    ("last_seen", iso_utc(last)),
                    ("last_seen_epoch", str(last)),
                    ("first_seen", iso_utc(first)),
                    ("first_seen_epoch", str(first)),
                ),
                note="the dates change on every response; compare the sid only",
            )
        return unknown(FAMILY, VENDOR, ROLE, "sid|last|first value with invalid parts", CHANGE)
    if len(value) <= 64 and LABEL.fullmatch(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="opaque" if _MD5.fullmatch(value) else "decoded",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("sid", value),),
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is not a session_sticky sid", CHANGE)
