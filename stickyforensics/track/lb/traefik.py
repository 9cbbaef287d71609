"""Traefik sticky cookies (reference §2.20).

v1 (``_TRAEFIK_BACKEND``) stores the server URL in plaintext; later versions
store a hash of it: FNV-1 64-bit hex (no zero padding), now the first 16 hex of
SHA-256. Traefik still accepts the older forms and rewrites them, so a one-time
change of form after an upgrade is not a flip.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, parse_hostport, unknown

FAMILY = "traefik"
VENDOR = "Traefik"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_URL = re.compile(r"(https?)://([^/?#]{1,261})(?:[/?#].{0,2048})?", re.DOTALL)
_HASH16 = re.compile(r"[0-9a-f]{16}")
_SHORT_HASH = re.compile(r"[0-9a-f]{1,15}")
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9_])?")


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode the v1 URL form; recognise the hash forms as opaque per-server keys."""
    m = _URL.fullmatch(value)
    if m is not None:
        authority = m.group(2)
        parsed = parse_hostport(authority)
        if parsed is None and _HOST.fullmatch(authority):
            parsed = (authority, 443 if m.group(1) == "https" else 80)
        if parsed is not None:
            return address_info(FAMILY, VENDOR, ROLE, parsed[0], parsed[1], [("format", "v1 server URL")])
        return unknown(FAMILY, VENDOR, ROLE, "URL value with an unreadable host", CHANGE)
    if _HASH16.fullmatch(value):
        form = "sha256[:16] of the server URL (or an unpadded FNV-64)"
    elif _SHORT_HASH.fullmatch(value):
        form = "FNV-1 64-bit of the server URL (pre-SHA-256 releases)"
    else:
        return unknown(FAMILY, VENDOR, ROLE, "value is neither a server URL nor a hash", CHANGE)
    return PersistenceInfo(
        family=FAMILY,
        vendor=VENDOR,
        role=ROLE,
        status="opaque",
        backend=value,
        change_meaning=CHANGE,
        decoded=(("hash_form", form),),
        note="hash of the server URL: stable per server; a change of hash form after an upgrade is not a flip",
    )
