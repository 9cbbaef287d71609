"""A10 Networks Thunder/AX (ACOS) ``sto-id`` cookies (reference §2.3, observed-hypothesis).

Name ``sto-id-<vport byte-swapped>[-<service group>]``; value 12 letters ``A``..``P``,
one hex nibble each: IPv4 in reversed byte order then the port little-endian. The
layout is inferred from public samples (two of them agree with the port in the
service-group suffix), so results are ``medium`` confidence.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, unknown

FAMILY = "a10"
VENDOR = "A10 Networks Thunder/AX (ACOS)"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_NAME = re.compile(r"sto-id(?:-([0-9]{1,5}))?(?:-(.+))?")
_VALUE = re.compile(r"[A-P]{12}")


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode ``sto-id`` cookies: virtual port and service group from the name, server from the value."""
    pairs: list[tuple[str, str]] = []
    nm = _NAME.fullmatch(name)
    if nm is not None:
        if nm.group(1) is not None and int(nm.group(1)) <= 0xFFFF:
            raw = int(nm.group(1))
            pairs.append(("vport", str(((raw & 0xFF) << 8) | (raw >> 8))))
        if nm.group(2):
            pairs.append(("service_group", nm.group(2)))
    if _VALUE.fullmatch(value) is None:
        return unknown(FAMILY, VENDOR, ROLE, "value is not 12 letters A-P (encrypted or another layout)", CHANGE)
    nibbles = [ord(c) - ord("A") for c in value]
    octets = [(nibbles[2 * i] << 4) | nibbles[2 * i + 1] for i in range(6)]
    ip = ".".join(str(b) for b in reversed(octets[:4]))
    port = octets[4] | (octets[5] << 8)
    return address_info(
        FAMILY,
        VENDOR,
        ROLE,
        ip,
        port,
        pairs,
        confidence="medium",
        note="layout inferred from public samples (observed hypothesis)",
    )
