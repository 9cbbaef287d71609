"""Google Cloud Load Balancing generated-cookie affinity, ``GCLB`` (reference §2.13, observed-hypothesis).

Values are base64url without padding of a protobuf-like record: field 1 a 64-bit
varint (an opaque backend/endpoint id, not an IP), optional field 2 a small
integer. Field 1 is the backend key; the meaning of both is undocumented.
"""

from __future__ import annotations

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import b64decode, parse_protobuf, unknown

FAMILY = "gcp-lb"
VENDOR = "Google Cloud Load Balancing"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE


def decode(name: str, value: str) -> PersistenceInfo:
    """Read protobuf field 1 as the opaque backend id."""
    raw = b64decode(value, urlsafe=True)
    fields = parse_protobuf(raw, max_fields=4) if raw else None
    if not fields or fields[0][0] != 1 or fields[0][1] != 0:
        return unknown(FAMILY, VENDOR, ROLE, "not the base64url protobuf layout (field 1 varint)", CHANGE)
    first = fields[0][2]
    if not isinstance(first, int) or first >= 1 << 64:
        return unknown(FAMILY, VENDOR, ROLE, "field 1 is wider than 64 bits", CHANGE)
    pairs = [("field1_hex", f"{first:016x}")]
    for number, wire, item in fields[1:]:
        if wire == 0:
            pairs.append((f"field{number}", str(item)))
    return PersistenceInfo(
        family=FAMILY,
        vendor=VENDOR,
        role=ROLE,
        status="decoded",
        backend=f"{first:016x}",
        change_meaning=CHANGE,
        decoded=tuple(pairs),
        confidence="medium",
        note="field 1 is an opaque backend id (layout is an observed hypothesis)",
    )
