"""F5 BIG-IP LTM insert-mode cookies, ``BIGipServer<pool>`` (reference §2.2, F5 K6917).

Four plaintext layouts (IPv4 / IPv6, default or numbered route domain) and the
encrypted ``!``+base64 form. The same ``!`` signature under a custom name (seed
002's ``lbs``) is recognised as an encrypted BIG-IP cookie too.
"""

from __future__ import annotations

import ipaddress
import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import address_info, b64decode, unknown

FAMILY = "f5-bigip"
VENDOR = "F5 BIG-IP LTM"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_V4 = re.compile(r"([0-9]{1,10})\.([0-9]{1,5})\.0000")
_RD = re.compile(r"rd([0-9]{1,5})o([0-9a-f]{32})o([0-9]{1,5})")
_V6 = re.compile(r"vi([0-9a-f]{32})\.([0-9]{1,5})")
_ENCRYPTED = re.compile(r"!([A-Za-z0-9+/]{16,}={0,2})")
_REWRITE_PLACEHOLDER = re.compile(r"0{120}")


def pool_from_name(name: str) -> str | None:
    """``BIGipServer~Common~web_pool`` -> ``/Common/web_pool``; None for other names."""
    if not name.startswith("BIGipServer") or len(name) == len("BIGipServer"):
        return None
    return name[len("BIGipServer") :].replace("~", "/")


def _swap16(n: int) -> int:
    return ((n & 0xFF) << 8) | (n >> 8)


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode a BIG-IP persistence value; the pool comes from the cookie name when it has one."""
    pairs: list[tuple[str, str]] = []
    pool = pool_from_name(name)
    if pool is not None:
        pairs.append(("pool", pool))

    m = _V4.fullmatch(value)
    if m is not None:
        raw_ip, raw_port = int(m.group(1)), int(m.group(2))
        if raw_ip <= 0xFFFFFFFF and raw_port <= 0xFFFF:
            ip = ".".join(str((raw_ip >> shift) & 0xFF) for shift in (0, 8, 16, 24))
            pairs.append(("format", "ipv4"))
            return address_info(FAMILY, VENDOR, ROLE, ip, _swap16(raw_port), pairs)
    m = _RD.fullmatch(value)
    if m is not None:
        port = int(m.group(3))
        if port <= 0xFFFF:
            addr = ipaddress.IPv6Address(bytes.fromhex(m.group(2)))
            mapped = addr.ipv4_mapped
            ip = str(mapped) if mapped is not None else str(addr)
            pairs.append(("format", "ipv4_route_domain" if mapped is not None else "ipv6_route_domain"))
            pairs.append(("route_domain", str(int(m.group(1)))))
            return address_info(FAMILY, VENDOR, ROLE, ip, port, pairs)
    m = _V6.fullmatch(value)
    if m is not None:
        raw_port = int(m.group(2))
        if raw_port <= 0xFFFF:
            ip = str(ipaddress.IPv6Address(bytes.fromhex(m.group(1))))
            pairs.append(("format", "ipv6"))
            return address_info(FAMILY, VENDOR, ROLE, ip, _swap16(raw_port), pairs)
    m = _ENCRYPTED.fullmatch(value)
    if m is not None and b64decode(m.group(1)) is not None:
        pairs.append(("format", "encrypted"))
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="encrypted",
            backend=value,
            change_meaning=CHANGE,
            decoded=tuple(pairs),
            note="encrypted cookie (! + base64 AES): opaque, tracked by equality",
        )
    if _REWRITE_PLACEHOLDER.fullmatch(value):
        return unknown(FAMILY, VENDOR, ROLE, "rewrite-mode placeholder (120 zeros): the LTM did not rewrite it", CHANGE)
    return unknown(FAMILY, VENDOR, ROLE, "value is not a BIG-IP persistence value", CHANGE)
