"""Root-cause classification of one client's stickiness anomalies.

Theory of operation
-------------------
A client's anomalies form one incident per root cause; the effects (a flip, a
rejected session, a re-login) are evidence of that cause, not findings of their
own. So the classification runs in a fixed order and every transaction it
explains is *consumed*, so later, weaker explanations cannot claim it again:

1. ``session_timeout`` — the session died of time: a persistence cookie expired
   in the client, an LB cookie's own dates (HAProxy ``maxidle``/``maxlife``) say
   the LB discarded it, or the session was lost right after an idle gap that is
   long for this client (or while only background polling kept it alive).
2. ``missing_cookie`` — a request lacked a routing/session cookie the jar says
   it should carry (``client_dropped``: no RFC 6265 rule explains it, a client
   bug), or a scope rule dropped it on a request that needed the session.
3. ``server_flip`` / ``datacenter_flip`` — the client kept sending its cookie
   and still reached another backend, or the LB replaced the cookie; opaque
   cookies that keep being re-issued, or alternate between values, point at
   LB tiers / datacenters that do not share persistence.

Static content (seed 001: images, scripts) may be balanced freely and never
counts as a flip.
"""

from __future__ import annotations

from stickyforensics.config import Config
from stickyforensics.detect.facts import BodyMarkers
from stickyforensics.detect.incident import Incident
from stickyforensics.detect.polling import Polling, find_polling
from stickyforensics.detect.stickiness_flips import flip_incidents
from stickyforensics.detect.stickiness_missing import missing_cookie_incidents
from stickyforensics.detect.stickiness_timeouts import timeout_incidents
from stickyforensics.detect.stickiness_view import session_view
from stickyforensics.model import ClientSession

__all__ = ["Incident", "Polling", "classify_session", "find_polling"]


def classify_session(
    session: ClientSession,
    config: Config,
    *,
    polling: list[Polling] | None = None,
    markers: BodyMarkers | None = None,
) -> list[Incident]:
    """Every stickiness incident of one client, each under its root cause.

    ``polling``: ``find_polling(session.transactions, config.polling_min_requests)`` when the caller
    has it already (the detect context shares it with the keep-alive rule). ``markers``: the body-marker
    search of the caller's analysis (``facts.BodyMarkers``), shared across sessions.
    """
    if session.cookie_data != "present" or not session.transactions:
        return []
    view = session_view(session, config)
    view.polling = polling
    view.markers = markers
    out: list[Incident] = []
    timeout_incidents(view, out)
    missing_cookie_incidents(view, out)
    flip_incidents(view, out)
    return out
