"""HAProxy ``cookie`` persistence (reference §2.17).

Insert/rewrite mode writes the server's ``cookie`` label in plaintext; with
``maxidle``/``maxlife`` it appends ``|<last>[|<first>]``, each date 5 base64
characters holding ``seconds / 4`` (30 bits, most significant first). Prefix
mode rides on an application cookie as ``<label>~<original>``; ``dynamic``
cookies are 16 hex of an XXH64 hash of key, server IP and port.
"""

from __future__ import annotations

import ipaddress
import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import LABEL, iso_utc, plausible_epoch, unknown

FAMILY = "haproxy"
VENDOR = "HAProxy"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_INDEX = {c: i for i, c in enumerate(_B64)}
DATED = re.compile(r"([^|~]{1,64}+)\|([A-Za-z0-9+/]{5})(?:\|([A-Za-z0-9+/]{5}))?")
PREFIXED = re.compile(r"([A-Za-z0-9._:@-]{1,64}+)~(.+)", re.DOTALL)
DYNAMIC = re.compile(r"[0-9a-f]{16}")


def b64_date(text: str) -> int | None:
    """A 5-character HAProxy date (30-bit base64 of seconds/4) as epoch seconds, or None."""
    if len(text) != 5:
        return None
    value = 0
    for char in text:
        digit = _B64_INDEX.get(char)
        if digit is None:
            return None
        value = (value << 6) | digit
    return value << 2


def is_label(text: str) -> bool:
    """A plausible server label: at most 64 label characters (no ``|`` or ``~``)."""
    return len(text) <= 64 and LABEL.fullmatch(text) is not None


def _date_pairs(last: int, first: int | None) -> list[tuple[str, str]]:
    pairs = [("last_seen", iso_utc(last)), ("last_seen_epoch", str(last))]
    if first is not None:
        pairs += [("first_seen", iso_utc(first)), ("first_seen_epoch", str(first))]
    return pairs


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode a HAProxy persistence value in any of its modes."""
    m = DATED.fullmatch(value)
    if m is not None:
        label = m.group(1)
        last = b64_date(m.group(2))
        first = b64_date(m.group(3)) if m.group(3) is not None else None
        dates_ok = last is not None and plausible_epoch(last) and (first is None or plausible_epoch(first))
        if is_label(label) and last is not None and dates_ok:
            return PersistenceInfo(
                family=FAMILY,
                vendor=VENDOR,
                role=ROLE,
                status="decoded",
                backend=label,
                change_meaning=CHANGE,
                decoded=(("server", label), ("mode", "insert+dates"), *_date_pairs(last, first)),
                note="maxidle/maxlife dates change on every response; compare the server label only",
            )
        return unknown(FAMILY, VENDOR, ROLE, "label|date value with invalid dates", CHANGE)
    m = PREFIXED.fullmatch(value)
    if m is not None:
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=m.group(1),
            change_meaning=CHANGE,
            decoded=(("server", m.group(1)), ("mode", "prefix")),
            note="prefix mode: the server label is prepended to the application cookie",
        )
    if DYNAMIC.fullmatch(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="opaque",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("mode", "dynamic"),),
            note="dynamic cookie: XXH64 of dynamic-cookie-key, server IP and port; stable per server",
        )
    if is_label(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("server", value), ("mode", "insert")),
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is not a HAProxy server label", CHANGE)


_M64 = (1 << 64) - 1
_P1, _P2, _P3, _P4, _P5 = (
    11400714785074694791,
    14029467366897019727,
    1609587929392839161,
    9650029242287828579,
    2870177450012600261,
)


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _M64, 31) * _P1) & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 (the hash HAProxy uses for dynamic cookies), pure Python; inputs are a few dozen bytes."""
    n, i = len(data), 0
    if n >= 32:
        acc = [(seed + _P1 + _P2) & _M64, (seed + _P2) & _M64, seed & _M64, (seed - _P1) & _M64]
        while i + 32 <= n:
            for k in range(4):
                acc[k] = _round(acc[k], int.from_bytes(data[i + 8 * k : i + 8 * k + 8], "little"))
            i += 32
        h = (_rotl(acc[0], 1) + _rotl(acc[1], 7) + _rotl(acc[2], 12) + _rotl(acc[3], 18)) & _M64
        for lane in acc:
            h = (((h ^ _round(0, lane)) * _P1) + _P4) & _M64
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i : i + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i : i + 4], "little") * _P1) & _M64
        h = (_rotl(h, 23) * _P2 + _P3) & _M64
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M64
        h = (_rotl(h, 11) * _P1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    return h ^ (h >> 32)


def dynamic_cookie(key: str, ip: str, port: int) -> str | None:
    """The label HAProxy's ``dynamic`` cookies give ``ip:port`` under ``dynamic-cookie-key key``.

    ``srv_set_dyncookie`` hashes key bytes, the raw address (4 or 16 bytes) and the
    port as a 4-byte big-endian integer. Lets an operator who knows the key name the
    server behind an observed 16-hex value. None for an invalid address or port.
    """
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if not 0 <= port <= 0xFFFF:
        return None
    return f"{xxh64(key.encode() + addr.packed + port.to_bytes(4, 'big')):016x}"
