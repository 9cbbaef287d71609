"""The model's enum members that tracking and the detectors test in their loops, read once.

On Python 3.11 reading a member off its class (``CookieEventKind.SET``) is a slow class-attribute
lookup, about ten times a module global: the loops that test the kind or role of every event of a
capture, several times over, compare with these constants instead (the same objects).
"""

from __future__ import annotations

from stickyforensics.model import ChangeMeaning, CookieEventKind, CookieRole, MissingReason

__all__ = [
    "CHANGED",
    "CLIENT_DROPPED",
    "DELETED",
    "EXPIRED",
    "MISSING",
    "NEVER_SET",
    "REJECTED",
    "ROTATES",
    "ROUTING",
    "SENT",
    "SENT_OR_UNEXPECTED",
    "SESSION",
    "SET",
    "SET_OR_CHANGED",
    "TRACKED_ROLES",
    "UNEXPECTED",
]

SET = CookieEventKind.SET
CHANGED = CookieEventKind.CHANGED
SENT = CookieEventKind.SENT
MISSING = CookieEventKind.MISSING
UNEXPECTED = CookieEventKind.UNEXPECTED
REJECTED = CookieEventKind.REJECTED
DELETED = CookieEventKind.DELETED
SET_OR_CHANGED = frozenset({SET, CHANGED})
SENT_OR_UNEXPECTED = frozenset({SENT, UNEXPECTED})

ROUTING = CookieRole.ROUTING
SESSION = CookieRole.SESSION
TRACKED_ROLES = frozenset({ROUTING, SESSION})
"""The roles whose cookies produce events and findings."""

ROTATES = ChangeMeaning.ROTATES

NEVER_SET = MissingReason.NEVER_SET
CLIENT_DROPPED = MissingReason.CLIENT_DROPPED
EXPIRED = MissingReason.EXPIRED
