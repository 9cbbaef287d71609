"""AWS Application Load Balancer stickiness cookies ``AWSALB*`` (reference §2.11).

The value is encrypted with a rotating key and changes on *every* response, so
it never identifies a backend: ``backend`` stays None and a change is not a flip.
``AWSALBAPP-n=_remove_`` marks an unused slot (sent with a past expiry).
"""

from __future__ import annotations

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import COOKIE_TOKEN, unknown

FAMILY = "aws-alb"
VENDOR = "AWS Application Load Balancer"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.ROTATES


def decode(name: str, value: str) -> PersistenceInfo:
    """Recognise the rotating ciphertext; the ``_remove_`` placeholder is not a stickiness value."""
    if value == "_remove_":
        return unknown(FAMILY, VENDOR, ROLE, "_remove_ placeholder: this app-stickiness slot is unused", CHANGE)
    if len(value) < 16 or COOKIE_TOKEN.fullmatch(value) is None:
        return unknown(FAMILY, VENDOR, ROLE, "value is too short or not a cookie token", CHANGE)
    return PersistenceInfo(
        family=FAMILY,
        vendor=VENDOR,
        role=ROLE,
        status="encrypted",
        backend=None,
        change_meaning=CHANGE,
        note="re-encrypted on every response: a new value is not a backend change",
    )
