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
