"""HAProxy ``cookie`` persistence (reference §2.17).

Insert/rewrite mode writes the server's ``cookie`` label in plaintext; with
``maxidle``/``maxlife`` it appends ``|<last>[|<first>]``, each date 5 base64
characters holding ``seconds / 4`` (30 bits, most significant first). Prefix
mode rides on an application cookie as ``<label>~<original>``; ``dynamic``
cookies are 16 hex of an XXH64 hash of key, server IP and port.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import COOKIE_TOKEN, iso_utc, plausible_epoch, unknown

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
    """A plausible server label: a cookie token of at most 64 characters without ``|`` or ``~``."""
    return len(text) <= 64 and COOKIE_TOKEN.fullmatch(text) is not None and "|" not in text and "~" not in text


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
