"""Riverbed / Pulse / Ivanti vTM (Stingray, ex-Zeus) persistence cookies (reference §2.7, seed 001).

* Transparent session affinity: ``X-Mapping-<8 letters>`` = 32 hex, a hash of the
  node name. Not reversible, but identical for every client pinned to that node,
  so the value itself is the backend key (tracked by equality).
* ``X-Zeus-Backend``: set by the backend node itself to name the node; the value
  is read as ``host:port`` when it has that shape, else as a node label.
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import LABEL, address_info, parse_hostport, unknown

VENDOR = "Riverbed/Pulse/Ivanti vTM (Stingray)"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

_NODE_HASH = re.compile(r"[0-9A-Fa-f]{32}")


def decode(name: str, value: str) -> PersistenceInfo:
    """``X-Mapping-*`` node hashes and ``X-Zeus-Backend`` node names."""
    if name.startswith("X-Zeus-Backend"):
        return _zeus_backend(value)
    if _NODE_HASH.fullmatch(value) is None:
        return unknown("vtm-xmapping", VENDOR, ROLE, "value is not the 32-hex node hash", CHANGE)
    return PersistenceInfo(
        family="vtm-xmapping",
        vendor=VENDOR,
        role=ROLE,
        status="opaque",
        backend=value,
        change_meaning=CHANGE,
        decoded=(("persistence_class_hash", name[len("X-Mapping-") :]),) if name.startswith("X-Mapping-") else (),
        note="hash of the node name: the same for every client on that node, tracked by equality",
    )


def _zeus_backend(value: str) -> PersistenceInfo:
    family = "vtm-zeus-backend"
    parsed = parse_hostport(value)
    if parsed is not None:
        return address_info(family, VENDOR, ROLE, parsed[0], parsed[1], [("node", value)])
    if LABEL.fullmatch(value):
        return PersistenceInfo(
            family=family,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("node", value),),
            confidence="medium",
            note="value format not documented: read as the node label the backend wrote",
        )
    return unknown(family, VENDOR, ROLE, "value is not a node name", CHANGE)
