"""nginx-sticky-module-ng ``route`` and NGINX Plus ``sticky cookie`` values (reference §2.18).

Both hash the upstream (md5 hex by default, sha1 optional): opaque but stable per
upstream, so the hash is the backend key. ``hash=index`` writes the peer index and
``text=raw`` the server text; an ``ip:port`` text decodes to an address.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import LABEL, address_info, parse_hostport, unknown

FAMILY = "nginx-sticky"
VENDOR = "nginx sticky (nginx-sticky-module-ng / NGINX Plus)"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_MD5 = re.compile(r"[0-9a-f]{32}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_INDEX = re.compile(r"[0-9]{1,4}")


def decode(name: str, value: str) -> PersistenceInfo:
    """Classify the value form; hashes are opaque per-upstream keys."""
    form = "md5" if _MD5.fullmatch(value) else "sha1" if _SHA1.fullmatch(value) else None
    if form is not None:
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="opaque",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("hash_form", form),),
            note="hash of the upstream address: stable per upstream (brute-force against candidates)",
        )
    if _INDEX.fullmatch(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("peer_index", value),),
        )
    parsed = parse_hostport(value)
    if parsed is not None:
        return address_info(FAMILY, VENDOR, ROLE, parsed[0], parsed[1], [("hash_form", "text=raw")])
    if len(value) <= 64 and LABEL.fullmatch(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("route", value),),
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is not a sticky hash, index or route", CHANGE)
