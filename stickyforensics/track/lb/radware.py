"""Radware Alteon insert-mode cookie ``AlteonP`` (reference §2.4, observed-hypothesis).

Modern values are 22 base64 characters padded with ``$$`` instead of ``==`` (16
bytes). Bytes 4..7 read little-endian gave a private IPv4 in every public sample,
identical for two samples of one site: most likely the real server. Only the IP
is derived (no port), at ``medium`` confidence.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, b64decode, unknown

FAMILY = "radware-alteon"
VENDOR = "Radware Alteon"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_VALUE = re.compile(r"([A-Za-z0-9+/]{22})(?:\$\$|==)?")


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode the real-server IPv4 out of bytes 4..7 of an ``AlteonP`` value."""
    m = _VALUE.fullmatch(value)
    raw = b64decode(m.group(1)) if m is not None else None
    if raw is None or len(raw) != 16:
        return unknown(FAMILY, VENDOR, ROLE, "value is not the 16-byte ($$-padded base64) insert layout", CHANGE)
    ip = ".".join(str(b) for b in reversed(raw[4:8]))
    return address_info(
        FAMILY,
        VENDOR,
        ROLE,
        ip,
        None,
        [],
        confidence="medium",
        note="bytes 4-7 read as the real-server IPv4 (observed hypothesis); the rest is opaque",
    )
