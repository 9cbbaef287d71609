"""Expectations a team declares for its recorded traffic (``[expectations]`` in the configuration).

Each violated expectation is a finding like any other, so CI gates on it with --fail-on.
"""

from __future__ import annotations

from collections import Counter

from stickyforensics.detect.cacheability import cacheable_because
from stickyforensics.detect.context import DetectContext, make_finding
from stickyforensics.detect.detectors.replay import per_client_token
from stickyforensics.detect.facts import evidence, is_static, request_line
from stickyforensics.detect.rule import Rule
from stickyforensics.model import ClientSession, Finding, Transaction
from stickyforensics.track.enum_members import SENT, SET_OR_CHANGED, TRACKED_ROLES


def _session_backends(ctx: DetectContext, session: ClientSession) -> list[tuple[Transaction, str]]:
    """(transaction, backend) for the requests that need the session (static content excluded)."""
    served = {b.transaction_id: b for b in session.backends}
    out = []
    for tx in session.transactions:
        obs = served.get(tx.id)
        if obs is None or obs.backend is None or obs.source.startswith("cookie:"):
            continue
        if is_static(ctx.config, tx.request.path, tx.request.method):
            continue
        out.append((tx, obs.backend))
    return out


def check_expectations(ctx: DetectContext, rule: Rule) -> list[Finding]:
    exp = ctx.config.expectations
    out: list[Finding] = []

    def add(
        session: ClientSession | None,
        name: str,
        message: str,
        txs: list[Transaction],
        cookie: str | None = None,
        clients: tuple[str, ...] = (),
    ) -> None:
        first = txs[0] if txs else None
        out.append(
            make_finding(
                rule,
                message=f"expectation '{name}' violated: {message}",
                input=first.input if first else (ctx.inputs[0].path if ctx.inputs else ""),
                client=session.key.value if session else "*",
                first_seen=first.timing.started if first else 0.0,
                last_seen=txs[-1].timing.started if txs else 0.0,
                evidence=[evidence(tx, request_line(tx), role="trigger") for tx in txs[:5]],
                cookie=cookie,
                details=[("expectation", name)],
                clients=clients,
            )
        )

    per_client = ctx.scope != "global"
    by_backend = bool(exp.allowed_backends or exp.single_backend_per_client or exp.min_first_backend_share is not None)
    """Whether an expectation looks at the backends (a pass over every request of every client)."""
    for session in ctx.sessions if per_client and (by_backend or exp.persistence_cookie) else ():
        if session.cookie_data != "present":
            continue
        pairs = _session_backends(ctx, session) if by_backend else []
        if exp.persistence_cookie:
            held = any(ev.name == exp.persistence_cookie for ev in session.cookie_events)
            needing = [
                tx for tx in session.transactions if not is_static(ctx.config, tx.request.path, tx.request.method)
            ]
            if needing and not held:
                add(
                    session,
                    "persistence_cookie",
                    f"{session.key.value} never received or sent {exp.persistence_cookie}",
                    needing[:1],
                    exp.persistence_cookie,
                )
        if exp.allowed_backends:
            bad = [(tx, b) for tx, b in pairs if b not in exp.allowed_backends]
            if bad:
                names = sorted({b for _, b in bad})
                add(
                    session,
                    "allowed_backends",
                    f"served by backend(s) not allowed: {', '.join(names)}",
                    [tx for tx, _ in bad],
                )
        backends = list(dict.fromkeys(b for _, b in pairs))
        if exp.single_backend_per_client and len(backends) > 1:
            moved = [tx for tx, b in pairs if b != backends[0]]
            add(
                session,
                "single_backend_per_client",
                f"{session.key.value} was served by {len(backends)} backends ({', '.join(backends[:5])})",
                moved,
            )
        if exp.min_first_backend_share is not None and pairs:
            share = Counter(b for _, b in pairs)[backends[0]] / len(pairs)
            if share < exp.min_first_backend_share:
                add(
                    session,
                    "min_first_backend_share",
                    f"only {share:.1%} of {session.key.value}'s requests reached its first backend {backends[0]} "
                    f"(expected at least {exp.min_first_backend_share:.1%})",
                    [tx for tx, b in pairs if b != backends[0]],
                )

    if exp.no_shared_session_tokens and ctx.scope != "session":
        owners: dict[tuple[str, str], dict[str, Transaction]] = {}
        for session in ctx.sessions:
            by_id = ctx.tx_by_id(session)
            for ev in session.cookie_events:
                if (ev.kind in SET_OR_CHANGED or ev.kind is SENT) and per_client_token(ev.persistence, ev.value or ""):
                    owners.setdefault((ev.name, ev.value or ""), {}).setdefault(
                        session.key.value, by_id[ev.transaction_id]
                    )
        for (name, _value), clients in owners.items():
            if len(clients) > 1:
                add(
                    None,
                    "no_shared_session_tokens",
                    f"one {name} value was used by {len(clients)} clients ({', '.join(sorted(clients)[:5])})",
                    list(clients.values()),
                    name,
                    tuple(clients),  # whose requests the evidence quotes (and the HTML joins, with --jobs too)
                )

    if exp.no_set_cookie_on_cacheable and per_client:
        for session in ctx.sessions:
            by_id = ctx.tx_by_id(session)
            hits = []
            for ev in session.cookie_events:
                tx = by_id[ev.transaction_id]
                if (
                    ev.kind in SET_OR_CHANGED
                    and ev.persistence is not None
                    and ev.persistence.role in TRACKED_ROLES
                    and tx.response is not None
                    and cacheable_because(tx.response)
                ):
                    hits.append(tx)
            if hits:
                add(
                    session,
                    "no_set_cookie_on_cacheable",
                    f"{len(hits)} cacheable response(s) set a session or persistence cookie",
                    hits,
                )
    return out
