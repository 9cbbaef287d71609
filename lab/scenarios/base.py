"""What a scenario is, and how its outcome becomes ``expected.json``.

A scenario runs real software and returns the exchanges its clients logged plus what it set out to
produce (``intended``). The ground truth is *derived* from the logs by ``lab.truth``; if it differs from
the intent, the lab did not reproduce the incident (a timing or balancing surprise) and fails loudly
instead of writing a wrong ``expected.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.exchange import Exchange
from lab.procs import LabError
from lab.stack import Stack
from lab.truth import Fact, Rules, derive, healthy

Key = tuple[str, str, str | None]


@dataclass
class Outcome:
    description: str
    inputs: list[str]
    rules: Rules
    exchanges: list[Exchange]
    clients: list[str]
    intended: set[Key]
    engine: str = "native"
    extra: dict[str, Any] = field(default_factory=dict)
    """Additional expected.json keys (``tls_keylog``, ``notes``...)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    number: int
    seed: str | None
    tools: tuple[str, ...]
    body: Callable[[Stack], Outcome]


def expected_document(scenario: Scenario, outcome: Outcome, facts: list[Fact]) -> dict[str, Any]:
    truth = " ".join(f.why + "." for f in facts) if facts else "No client lost its stickiness."
    doc: dict[str, Any] = {
        "scenario": scenario.name,
        "description": f"{outcome.description} Ground truth from the lab's client logs: {truth}",
        "inputs": outcome.inputs,
        "findings": [f.to_json() for f in facts],
        "healthy_clients": healthy(outcome.clients, facts),
        "engine": outcome.engine,
        "oracle": {
            "persistence": list(outcome.rules.persistence),
            "session": outcome.rules.session,
            "static_prefix": outcome.rules.static_prefix,
            "maxidle": outcome.rules.maxidle,
            "maxlife": outcome.rules.maxlife,
        },
    }
    if scenario.seed is not None:
        doc["seed"] = scenario.seed
    doc.update(outcome.extra)
    return doc


def record(scenario: Scenario, outcome: Outcome, outdir: Path, workdir: Path) -> dict[str, Any]:
    """Derive the truth, check it against the intent, write expected.json (and the client log)."""
    facts = derive(outcome.exchanges, outcome.rules)
    got = {f.key() for f in facts}
    with (workdir / "client-log.jsonl").open("w", encoding="utf-8") as fh:
        for ex in sorted(outcome.exchanges, key=lambda e: e.time):
            fh.write(json.dumps(ex.to_json(), sort_keys=True) + "\n")
    if got != outcome.intended:
        raise LabError(
            f"{scenario.name}: the run did not reproduce the design. intended {sorted(outcome.intended, key=str)}, "
            f"the clients' logs show {sorted(got, key=str)} (see {workdir}/client-log.jsonl)"
        )
    unknown = set(outcome.clients) - {ex.client for ex in outcome.exchanges}
    if unknown:
        raise LabError(f"{scenario.name}: clients {sorted(unknown)} made no request")
    for name in outcome.inputs:
        if not (outdir / name).is_file():
            raise LabError(f"{scenario.name}: input {name} was not written")
    doc = expected_document(scenario, outcome, facts)
    (outdir / "expected.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc
