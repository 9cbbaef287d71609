"""Barracuda Load Balancer ADC / WAF persistence cookies (reference §2.5).

Legacy plaintext ``BNI_persistence`` values are 40 hex: 24 zeros, the IPv4
little-endian, ``0000``, the port little-endian (observed-hypothesis). Modern
values are 64 encrypted bytes in base64url: opaque, tracked by equality.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, b64decode, unknown

FAMILY = "barracuda"
VENDOR = "Barracuda Load Balancer ADC / WAF"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

LEGACY = re.compile(r"0{24}([0-9a-f]{8})0000([0-9a-f]{4})")


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode a legacy plaintext value, or recognise the encrypted 64-byte form."""
    m = LEGACY.fullmatch(value.lower())
    if m is not None:
        ip_bytes = bytes.fromhex(m.group(1))
        port_bytes = bytes.fromhex(m.group(2))
        ip = ".".join(str(b) for b in reversed(ip_bytes))
        port = port_bytes[0] | (port_bytes[1] << 8)
        return address_info(
            FAMILY,
            VENDOR,
            ROLE,
            ip,
            port,
            [("format", "legacy")],
            confidence="medium",
            note="legacy plaintext layout inferred from public samples (observed hypothesis)",
        )
    raw = b64decode(value, urlsafe=True)
    if raw is not None and len(raw) >= 32:
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="encrypted",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("format", "encrypted"),),
            confidence="medium",
            note="encrypted value: opaque, tracked by equality",
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is neither the legacy hex nor the encrypted layout", CHANGE)
