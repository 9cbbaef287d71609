"""Akamai cloudlet cookies ``akaalb_*`` / ``akacd_*`` / ``akavpau_*`` (reference §2.15).

Values are ``~``-separated fields: an optional leading epoch (expiry), then
``key=value`` items. ``akaalb_`` (Application Load Balancer) names the chosen
origin(s) in ``m=<origin>:<n>|...`` and ``op=<rule>:<origin>|...``: that origin
label is the datacenter, so a change of it is a datacenter flip. The fields are
integrity-protected (``os=``) but readable.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import iso_utc, unknown

VENDOR = "Akamai"
_EPOCH = re.compile(r"[0-9]{1,10}")
_KEY = re.compile(r"[a-z]{1,8}")
_NEVER = 2147483647


def split_fields(value: str) -> tuple[int | None, dict[str, str]] | None:
    """(leading epoch or None, {key: value}) of a ``~``-separated cloudlet value; None if malformed."""
    parts = value.split("~")
    if len(parts) < 2 or len(parts) > 32:
        return None
    epoch: int | None = None
    head = parts[0]
    if head:
        if _EPOCH.fullmatch(head) is None:
            return None
        epoch = int(head)
    fields: dict[str, str] = {}
    for part in parts[1:]:
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or _KEY.fullmatch(key) is None:
            return None
        fields[key] = val
    return epoch, fields


def _origins(text: str, index: int) -> list[str]:
    """Labels from ``a:b|c:d|``: element ``index`` of each ``:``-split item."""
    labels: list[str] = []
    for item in text.split("|"):
        bits = item.split(":")
        if len(bits) > index and bits[index] and bits[index] not in labels:
            labels.append(bits[index])
    return labels


def _expiry_pairs(epoch: int | None) -> list[tuple[str, str]]:
    if epoch is None:
        return []
    return [("expires", "never" if epoch == _NEVER else iso_utc(epoch))]


def decode(name: str, value: str) -> PersistenceInfo:
    """Decode any of the three cloudlet cookies, chosen by the name prefix."""
    if name.startswith("akacd_"):
        return _decode_phased(name, value)
    if name.startswith("akavpau_"):
        return _decode_vp(name, value)
    return _decode_alb(name, value)


def _decode_alb(name: str, value: str) -> PersistenceInfo:
    family, role, change = "akamai-alb", CookieRole.ROUTING, ChangeMeaning.BACKEND_CHANGE
    split = split_fields(value)
    if split is None:
        return unknown(family, VENDOR, role, "not a ~-separated cloudlet value", change)
    epoch, fields = split
    origins = _origins(fields.get("m", ""), 0) or _origins(fields.get("op", ""), 1)
    pairs = [("policy", name[len("akaalb_") :])] if name.startswith("akaalb_") else []
    rules = _origins(fields.get("op", ""), 0)
    if rules:
        pairs.append(("rule", "|".join(rules)))
    if origins:
        pairs.append(("origin", "|".join(origins)))
    if "rv" in fields:
        pairs.append(("rv", fields["rv"]))
    pairs += _expiry_pairs(epoch)
    if not origins:
        return PersistenceInfo(
            family=family,
            vendor=VENDOR,
            role=role,
            status="unknown",
            change_meaning=change,
            decoded=tuple(pairs),
            confidence="low",
            note="no origin (m= / op=) field in the value",
        )
    label = "|".join(origins)
    return PersistenceInfo(
        family=family,
        vendor=VENDOR,
        role=role,
        status="decoded",
        backend=label,
        datacenter=label,
        change_meaning=change,
        decoded=tuple(pairs),
        note="the origin label is the datacenter; expiry and id fields change without a flip",
    )


def _decode_phased(name: str, value: str) -> PersistenceInfo:
    family, role, change = "akamai-phased", CookieRole.ROUTING, ChangeMeaning.BACKEND_CHANGE
    split = split_fields(value)
    if split is None or "rv" not in split[1]:
        return unknown(family, VENDOR, role, "not a Phased Release value (<expiry>~rv=<n>~id=<hex>)", change)
    epoch, fields = split
    pairs = [("policy", name[len("akacd_") :]), ("rv", fields["rv"]), *_expiry_pairs(epoch)]
    return PersistenceInfo(
        family=family,
        vendor=VENDOR,
        role=role,
        status="decoded",
        backend=f"rv={fields['rv']}",
        change_meaning=change,
        decoded=tuple(pairs),
        confidence="medium",
        note="backend is the rv field (our reading: the release/rule the visitor is pinned to)",
    )


def _decode_vp(name: str, value: str) -> PersistenceInfo:
    family, role, change = "akamai-vp", CookieRole.OTHER, ChangeMeaning.UNKNOWN
    split = split_fields(value)
    if split is None:
        return unknown(family, VENDOR, role, "not a Visitor Prioritization value (<epoch>~id=...)", change)
    epoch, _ = split
    return PersistenceInfo(
        family=family,
        vendor=VENDOR,
        role=role,
        status="decoded",
        change_meaning=change,
        decoded=(("policy", name[len("akavpau_") :]), *_expiry_pairs(epoch)),
        note="waiting-room admission cookie, not routing",
    )
