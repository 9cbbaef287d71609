"""The lab's scenarios, in run order (each module of ``lab.scenarios`` defines one ``SCENARIO``)."""

from __future__ import annotations

from lab.scenarios import (
    backend_killed_redispatch,
    browser_har,
    cached_set_cookie,
    datacenter_flip,
    healthy_haproxy,
    healthy_netscaler_bigip,
    https_h2_keylog,
    idle_maxlife_timeout,
    missing_cookie_dotfile,
    noise,
)
from lab.scenarios.base import Scenario

SCENARIOS: tuple[Scenario, ...] = (
    healthy_haproxy.SCENARIO,
    healthy_netscaler_bigip.SCENARIO,
    missing_cookie_dotfile.SCENARIO,
    backend_killed_redispatch.SCENARIO,
    datacenter_flip.SCENARIO,
    cached_set_cookie.SCENARIO,
    idle_maxlife_timeout.SCENARIO,
    https_h2_keylog.SCENARIO,
    noise.SCENARIO,
    browser_har.SCENARIO,
)

BY_NAME = {s.name: s for s in SCENARIOS}
