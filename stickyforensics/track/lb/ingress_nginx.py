"""Kubernetes ingress-nginx cookie affinity, ``INGRESSCOOKIE`` / ``route`` (reference §2.19).

* persistent mode: ``md5(backend .. ip:port)|md5(md5(backend) .. backend)``: the
  upstream key is stable per endpoint (brute-forceable from the endpoint list).
* balanced mode: the raw consistent-hash key ``<ngx.now()>.<worker pid>.<random>``
  (then ``|backend_key``): it leaks when affinity was created and the worker PID;
  after scaling the same key may map to another pod (an expected re-balance).
* older releases: only the key, possibly hashed (md5/sha1 hex).
"""

from __future__ import annotations

import re

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb._common import iso_utc, plausible_epoch, unknown

FAMILY = "ingress-nginx"
VENDOR = "Kubernetes ingress-nginx"
ROLE = CookieRole.ROUTING
CHANGE = ChangeMeaning.BACKEND_CHANGE

PERSISTENT = re.compile(r"([0-9a-f]{32})\|([0-9a-f]{32})")
BALANCED = re.compile(r"(([0-9]{9,11})(?:\.[0-9]{1,3})?\.([0-9]{1,7})\.([0-9]{1,6}))(?:\|([0-9a-f]{32}))?")
_HASHED = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}")


def decode(name: str, value: str) -> PersistenceInfo:
    """Split the upstream key from the backend key and read the balanced-mode timestamp."""
    m = PERSISTENT.fullmatch(value)
    if m is not None:
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="opaque",
            backend=m.group(1),
            change_meaning=CHANGE,
            decoded=(("mode", "persistent"), ("upstream_key", m.group(1)), ("backend_key", m.group(2))),
            note="upstream key = md5(backend name .. endpoint ip:port): stable per endpoint",
        )
    m = BALANCED.fullmatch(value)
    if m is not None and plausible_epoch(int(m.group(2))):
        pairs = [
            ("mode", "balanced"),
            ("created", iso_utc(int(m.group(2)))),
            ("worker_pid", m.group(3)),
        ]
        if m.group(5) is not None:
            pairs.append(("backend_key", m.group(5)))
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="decoded",
            backend=m.group(1),
            change_meaning=CHANGE,
            decoded=tuple(pairs),
            note="balanced mode: consistent-hash key; after scaling it may map to another pod",
        )
    if _HASHED.fullmatch(value):
        return PersistenceInfo(
            family=FAMILY,
            vendor=VENDOR,
            role=ROLE,
            status="opaque",
            backend=value,
            change_meaning=CHANGE,
            decoded=(("mode", "hashed key (older release)"),),
        )
    return unknown(FAMILY, VENDOR, ROLE, "value is not an ingress-nginx affinity key", CHANGE)
