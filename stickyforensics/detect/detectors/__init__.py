"""The explicit detector registry: rule YAML files name these."""

from __future__ import annotations

from collections.abc import Callable

from stickyforensics.detect.context import DetectContext
from stickyforensics.detect.detectors import expectations, hygiene, inputs, replay, stickiness
from stickyforensics.detect.rule import Rule
from stickyforensics.model import Finding

Detector = Callable[[DetectContext, Rule], list[Finding]]

DETECTORS: dict[str, Detector] = {
    "inputs.cookie_data_absent": inputs.cookie_data_absent,
    "inputs.tls_not_decrypted": inputs.tls_not_decrypted,
    "hygiene.insecure_persistence_cookie": hygiene.insecure_persistence_cookie,
    "hygiene.duplicate_cookie": hygiene.duplicate_cookie,
    "hygiene.oversized_cookie_header": hygiene.oversized_cookie_header,
    "hygiene.cookie_scope_drops": hygiene.cookie_scope_drops,
    "hygiene.internal_address_disclosed": hygiene.internal_address_disclosed,
    "hygiene.keepalive_polling": hygiene.keepalive_polling,
    "stickiness.incidents": stickiness.incidents_of_kind,
    "replay.cached_set_cookie_replay": replay.cached_set_cookie_replay,
    "replay.cacheable_set_cookie": replay.cacheable_set_cookie,
    "expectations.check": expectations.check_expectations,
}

GLOBAL_DETECTORS = frozenset(
    {
        "inputs.cookie_data_absent",
        "inputs.tls_not_decrypted",
        "hygiene.insecure_persistence_cookie",
        "hygiene.internal_address_disclosed",
        "replay.cached_set_cookie_replay",
        "replay.cacheable_set_cookie",
    }
)
"""Detectors that compare clients with each other. With ``--jobs`` they run once, in the parent, over
every client's ``global_view`` (SF201, SF305 and SF401 over the workers' merged ``set_cookie_digest``); the others
judge one client at a time in the process that owns it."""
SPLIT_DETECTORS = frozenset({"expectations.check"})
"""Detectors with both kinds of checks: they look at ``DetectContext.scope``."""


def detector_runs_in(detector: str, scope: str) -> bool:
    """Whether ``detector`` has work in a run of ``scope`` (``all``, ``session`` or ``global``)."""
    if scope == "all" or detector in SPLIT_DETECTORS:
        return True
    return (detector in GLOBAL_DETECTORS) == (scope == "global")
