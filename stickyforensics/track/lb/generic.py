"""Plain labels: cookies whose value is the backend's name as the operator configured it.

Used by families such as ForgeRock/PingAM ``amlbcookie`` (value = server id) and
IBM ``IBMCBR``: an ``ip:port`` value decodes to an address, any other short token
is the label itself.
"""

from __future__ import annotations

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import LABEL, address_info, parse_hostport, unknown

FAMILY = "label"
VENDOR = "unknown"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE


def decode(name: str, value: str) -> PersistenceInfo:
    """The value as a backend label (or address)."""
    parsed = parse_hostport(value)
    if parsed is not None:
        return address_info(FAMILY, VENDOR, ROLE, parsed[0], parsed[1], [])
    if len(value) <= 64 and LABEL.fullmatch(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("label", value),),
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is not a short server label", CHANGE)
