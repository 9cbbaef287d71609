"""Envoy / Istio stateful-session cookies (reference §2.21).

The value is standard base64 of either the upstream address text ``ip:port``
(legacy) or a protobuf ``Cookie { string address = 1; uint64 expires = 2; }``.
``expires`` is Envoy's *monotonic* clock plus the TTL, not a Unix time, so it is
shown raw and never compared with wall-clock time.
"""

from __future__ import annotations

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, b64decode, parse_hostport, parse_protobuf, unknown

FAMILY = "envoy"
VENDOR = "Envoy / Istio stateful session"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE


def _address(raw: bytes) -> tuple[str, int] | None:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return parse_hostport(text)


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode either Envoy encoding into the upstream ``ip:port``."""
    raw = b64decode(value)
    if raw is None:
        return unknown(FAMILY, VENDOR, ROLE, "value is not base64", CHANGE)
    legacy = _address(raw)
    if legacy is not None:
        return address_info(FAMILY, VENDOR, ROLE, legacy[0], legacy[1], [("format", "legacy")])
    fields = parse_protobuf(raw)
    if fields:
        address: tuple[str, int] | None = None
        expires: int | None = None
        for number, wire, item in fields:
            if number == 1 and wire == 2 and isinstance(item, bytes):
                address = _address(item)
            elif number == 2 and wire == 0 and isinstance(item, int):
                expires = item
        if address is not None:
            pairs = [("format", "proto")]
            if expires is not None:
                pairs.append(("expires_monotonic_s", str(expires)))
            return address_info(FAMILY, VENDOR, ROLE, address[0], address[1], pairs)
    return unknown(FAMILY, VENDOR, ROLE, "base64 that holds neither ip:port nor the Cookie message", CHANGE)
