"""Citrix NetScaler ADC COOKIEINSERT cookies (reference §2.1).

The cookie *name* carries the vserver name with every letter shifted one place
forward (``NSC_`` + shifted name); the classic 44-hex *value* carries the service
IP (XOR 0x03081E11) and port (XOR 0x3630). With "secured/encrypted persistence
cookie" the value is opaque: it is tracked by equality.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, unknown

FAMILY = "citrix-netscaler"
VENDOR = "Citrix NetScaler ADC"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

SIGNATURE = re.compile(r"ffffffff([0-9a-f]{8})45525d5f4f58455e445a4a42([0-9a-f]{4})")
"""The strict value layout: constant prefix and middle, seen in every public sample."""
_LOOSE = re.compile(r"[0-9a-f]{8}([0-9a-f]{8})[0-9a-f]{24}([0-9a-f]{4})")
_IP_KEY = 0x03081E11
_PORT_KEY = 0x3630
_SHIFT_BACK = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "zabcdefghijklmnopqrstuvwxyZABCDEFGHIJKLMNOPQRSTUVWXY",
)
_ENCRYPTED = re.compile(r"[A-Za-z0-9+/_-]{24,512}={0,2}")
"""Secured/encrypted values: layout undocumented; a long hex/base64 token (not a cut classic value)."""
_NAME_PART = re.compile(r"[A-Za-z0-9]+")
_ALNUM_SWITCH = re.compile(r"[A-Za-z][0-9]|[0-9][A-Za-z]")
_CASE_SWITCH = re.compile(r"[a-z][A-Z]")


def vserver_from_name(name: str) -> str | None:
    """The vserver name hidden in ``NSC_<shifted>``, or None when the name is not of that form."""
    if not name.startswith("NSC_") or len(name) <= 4:
        return None
    return name[4:].translate(_SHIFT_BACK)


def looks_random(text: str) -> bool:
    """True when a decoded vserver name reads like a hash rather than an admin-chosen name.

    Sites with hashed cookie names (``NSC_JO0ork0tdyr4qd4blzcfyrcuwai1eb0``) shift to
    gibberish; showing that as a "vserver" would mislead. Admin names are short
    words and abbreviations joined by ``.``, ``-`` or ``_`` (``VS-LB-K12NET``,
    ``V.SITEDEFENDER.NASDAQ.443``): long unbroken runs that flip between letters
    and digits, or between cases, are the tell.
    """
    for part in _NAME_PART.findall(text):
        if len(part) > 24:
            return True
        if len(part) >= 12 and len(_ALNUM_SWITCH.findall(part)) >= 3:
            return True
        if len(part) >= 10 and len(_CASE_SWITCH.findall(part)) >= 2:
            return True
    return False


@lru_cache(maxsize=1024)
def _name_facts(name: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """(display pairs, note) from the cookie name; cached, names repeat on every request."""
    vserver = vserver_from_name(name)
    if vserver is None:
        return (), None
    if looks_random(vserver):
        return (), "the cookie name looks hashed, so no vserver name is shown"
    return (("vserver", vserver),), None


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode a NetScaler cookie: vserver from the name, service IP:port from the value."""
    name_pairs, note = _name_facts(name)
    pairs = list(name_pairs)
    lowered = value.lower()
    m = SIGNATURE.fullmatch(lowered)
    confidence = "high"
    if m is None:
        m = _LOOSE.fullmatch(lowered)
        confidence = "medium"
        if m is not None:
            extra = "prefix/middle differ from the usual constants; decoded with the classic XOR keys"
            note = f"{note}; {extra}" if note else extra
    if m is not None:
        raw_ip = int(m.group(1), 16) ^ _IP_KEY
        ip = ".".join(str((raw_ip >> shift) & 0xFF) for shift in (24, 16, 8, 0))
        port = int(m.group(2), 16) ^ _PORT_KEY
        return address_info(FAMILY, VENDOR, ROLE, ip, port, pairs, confidence=confidence, note=note)
    if _ENCRYPTED.fullmatch(value) and len(set(value)) >= 8 and not lowered.startswith("ffffffff"):
        extra = "secured/encrypted persistence cookie: opaque, tracked by equality"
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="encrypted",
            backend=value,
            change_meaning=CHANGE,
            decoded=tuple(pairs),
            confidence="medium",
            note=f"{note}; {extra}" if note else extra,
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is not a NetScaler persistence value", CHANGE)
