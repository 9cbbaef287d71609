"""Small pure helpers shared by the cookie decoders.

Every helper here is total: bad input gives ``None`` (or ``False``), never an
exception, because cookie values come straight from hostile captures.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import UTC, datetime
from functools import lru_cache

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo

_PRIVATE_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT), internal by intent
    )
)
_PRIVATE_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::1/128",
        "fe80::/10",  # link-local
        "fc00::/7",  # unique local
        "fec0::/10",  # deprecated site-local, still seen in old pools
    )
)

_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")
_EPOCH_MIN = 946684800  # 2000-01-01: older "dates" are not plausible LB timestamps
_EPOCH_MAX = 4102444800  # 2100-01-01


def is_internal_ip(text: str) -> bool:
    """True for private, loopback, link-local, CGNAT and unique-local addresses.

    Python's ``is_private`` also flags documentation ranges (192.0.2.0/24...),
    which are not "internal" for a disclosure finding, hence the explicit lists.
    """
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return is_internal_ip(str(addr.ipv4_mapped))
        return any(addr in net for net in _PRIVATE_V6)
    return any(addr in net for net in _PRIVATE_V4)


def hostport(host: str, port: int | None) -> str:
    """``10.0.0.4:80`` / ``[2001:db8::1]:443`` (the ``Endpoint.__str__`` style) or the bare host."""
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_hostport(text: str) -> tuple[str, int] | None:
    """Split ``host:port`` / ``[v6]:port``; None unless the port is 0..65535 and the host sane."""
    if text.startswith("["):
        end = text.find("]:")
        if end < 0:
            return None
        host, port_text = text[1:end], text[end + 2 :]
        if ip_or_none(host) is None or ":" not in host:
            return None
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or _HOSTNAME.fullmatch(host) is None:
            return None
    if _PORT.fullmatch(port_text) is None:
        return None
    port = int(port_text)
    return (host, port) if port <= 65535 else None


def ip_or_none(text: str) -> str | None:
    """The canonical text of an IP address, or None."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def iso_utc(epoch: int | float) -> str:
    """``2023-11-14T22:13:20Z`` for display, or the raw number when out of range."""
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(epoch)


def plausible_epoch(epoch: int | float) -> bool:
    """A wall-clock time an LB could have written (2000..2100)."""
    return _EPOCH_MIN <= epoch <= _EPOCH_MAX


def b64decode(text: str, *, urlsafe: bool = False, pad_char: str = "=") -> bytes | None:
    """Strict base64 decode (optionally url-safe, optional padding); None on any error."""
    body = text.rstrip(pad_char)
    if pad_char != "=" and "=" in body:
        return None
    alphabet = _B64URL if urlsafe else _B64STD
    if not body or alphabet.fullmatch(body) is None or len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


_B64STD = re.compile(r"[A-Za-z0-9+/]+")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def read_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """One protobuf varint at ``pos``: (value, next position), None when cut or over 10 bytes."""
    value = 0
    shift = 0
    for i in range(10):
        if pos + i >= len(data):
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos + i + 1
        shift += 7
    return None


def parse_protobuf(data: bytes, max_fields: int = 16) -> list[tuple[int, int, int | bytes]] | None:
    """Flat protobuf wire-format parse: [(field, wire type, varint value or bytes)], None if malformed.

    Only wire types 0 (varint) and 2 (length-delimited) are accepted: the cookies we
    read (Envoy stateful session, GCLB) use nothing else, and refusing the rest keeps
    random bytes from parsing as a "message" by accident.
    """
    fields: list[tuple[int, int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        if len(fields) >= max_fields:
            return None
        key = read_varint(data, pos)
        if key is None:
            return None
        tag, pos = key
        field_no, wire = tag >> 3, tag & 7
        if field_no == 0:
            return None
        if wire == 0:
            got = read_varint(data, pos)
            if got is None:
                return None
            value, pos = got
            fields.append((field_no, 0, value))
        elif wire == 2:
            got = read_varint(data, pos)
            if got is None:
                return None
            length, pos = got
            if pos + length > len(data):
                return None
            fields.append((field_no, 2, data[pos : pos + length]))
            pos += length
        else:
            return None
    return fields


def address_info(
    family: str,
    vendor: str,
    role: CookieRole,
    host: str,
    port: int | None,
    decoded: list[tuple[str, str]],
    *,
    change: ChangeMeaning = ChangeMeaning.BACKEND_CHANGE,
    confidence: str = "high",
    note: str | None = None,
) -> PersistenceInfo:
    """A ``decoded`` result whose backend is an address: adds ip/port pairs and the disclosure flag."""
    pairs = [*decoded, ("ip", host)]
    if port is not None:
        pairs.append(("port", str(port)))
    return PersistenceInfo(
        family=family,
        vendor=vendor,
        role=role,
        status="decoded",
        backend=hostport(host, port),
        change_meaning=change,
        decoded=tuple(pairs),
        discloses_internal_address=is_internal_ip(host),
        confidence=confidence,
        note=note,
    )


@lru_cache(maxsize=512)
def unknown(family: str, vendor: str, role: CookieRole, note: str, change: ChangeMeaning) -> PersistenceInfo:
    """The family is known (by name) but this value is not in any layout we know.

    Cached: results are immutable, and malformed values are the common case for the
    value-signature probes that run on every unknown cookie.
    """
    return PersistenceInfo(
        family=family,
        vendor=vendor,
        role=role,
        status="unknown",
        change_meaning=change,
        confidence="low",
        note=note,
    )


def opaque(
    family: str,
    vendor: str,
    role: CookieRole,
    value: str,
    *,
    change: ChangeMeaning,
    status: str = "opaque",
    decoded: tuple[tuple[str, str], ...] = (),
    confidence: str = "high",
    note: str | None = None,
) -> PersistenceInfo:
    """Not decodable: the value itself is the backend key when it is stable per backend."""
    return PersistenceInfo(
        family=family,
        vendor=vendor,
        role=role,
        status=status,
        backend=value if change is ChangeMeaning.BACKEND_CHANGE else None,
        change_meaning=change,
        decoded=decoded,
        confidence=confidence,
        note=note,
    )


LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:@+=/-]{0,127}")
"""A server label / route / node name as operators write them: starts with a letter or digit."""

COOKIE_TOKEN = re.compile(r"[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]{1,4096}")
"""RFC 6265 cookie-octets (printable ASCII without space, DQUOTE, comma, semicolon, backslash)."""
