"""AWS Application Load Balancer stickiness cookies ``AWSALB*`` (reference §2.11).

The value is encrypted with a rotating key and changes on *every* response, so
it never identifies a backend: ``backend`` stays None and a change is not a flip.
``AWSALBAPP-n=_remove_`` marks an unused slot (sent with a past expiry).
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import unknown

_CIPHERTEXT = re.compile(r"[A-Za-z0-9+/]{16,4096}={0,2}")

FAMILY = "aws-alb"
VENDOR = "AWS Application Load Balancer"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.ROTATES


def decode(name: str, value: str) -> PersistenceInfo:
    """Recognise the rotating ciphertext; the ``_remove_`` placeholder is not a stickiness value."""
    if value == "_remove_":
        return unknown(FAMILY, VENDOR, ROLE, "_remove_ placeholder: this app-stickiness slot is unused", CHANGE)
    if _CIPHERTEXT.fullmatch(value) is None:
        return unknown(FAMILY, VENDOR, ROLE, "value is not the base64 ciphertext AWS writes", CHANGE)
    return PersistenceInfo(
        family=FAMILY,
        vendor=VENDOR,
        role=ROLE,
        status="encrypted",
        backend=None,
        change_meaning=CHANGE,
        note="re-encrypted on every response: a new value is not a backend change",
    )
