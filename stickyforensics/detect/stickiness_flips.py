"""Stickiness pass 3, ``server_flip`` / ``datacenter_flip``: the cookie was sent, the backend changed.

The client kept sending its cookie and still reached another backend, or the LB replaced the cookie.
Opaque cookies that keep being re-issued, or that alternate between values, point at LB tiers or
datacenters that do not share persistence.
"""

from __future__ import annotations

from collections import defaultdict

from stickyforensics.detect.facts import evidence, is_static, request_line
from stickyforensics.detect.incident import Incident
from stickyforensics.detect.stickiness_view import SessionView, names_with_role, request_consequences
from stickyforensics.model import Confidence, FindingKind, Severity, Transaction
from stickyforensics.track.enum_members import CHANGED, ROTATES, ROUTING, SENT, SESSION

__all__ = ["flip_incidents"]


def _may_flip(view: SessionView, routing: set[str]) -> bool:
    """What every flip and re-issue needs, in one pass over the observations and events: two backends
    or two datacenters that served the client, or a routing cookie the load balancer changed."""
    served: set[str] = set()
    datacenters: set[str] = set()
    for obs in view.session.backends:  # the backends and datacenters ``served_by`` tells
        if obs.backend is not None and not obs.source.startswith("cookie:"):
            served.add(obs.backend)
            if obs.datacenter:
                datacenters.add(obs.datacenter)
    if len(served) > 1 or len(datacenters) > 1:
        return True
    return any(ev.kind is CHANGED and ev.name in routing for ev in view.session.cookie_events)


def flip_incidents(view: SessionView, out: list[Incident]) -> None:
    client = view.session.key.value
    cfg = view.config
    routing = names_with_role(view, ROUTING)
    if not _may_flip(view, routing):
        return
    session_names = names_with_role(view, SESSION)
    learned: dict[tuple[str, str], str] = {}
    flips: list[tuple[Transaction, str, str, str, list[str], str]] = []  # tx, cookie, before, after, effects, how
    reissues: dict[str, list[tuple[Transaction, str, str, list[str]]]] = defaultdict(list)
    datacenters: dict[str, str] = {}
    prev_backend: dict[str, str] = {}
    known_effects: dict[str, list[str]] = {}

    def effects_of(tx: Transaction) -> list[str]:
        """``request_consequences`` of a request, worked out only for one that flips (it may search the
        response body), once: its flips and re-issues share the list."""
        found = known_effects.get(tx.id)
        if found is None:
            found = known_effects[tx.id] = request_consequences(view, tx, None, set())
        return found

    by_kind = view.by_kind
    for tx in view.txs:
        host = tx.request.host
        served = view.served_by(tx)
        static = is_static(cfg, tx.request.path, tx.request.method)
        if tx.id in view.consumed or static:
            if served is not None and not static:
                prev_backend[host] = served
            continue
        # ``view.ev`` by hand: most requests of a client have no event of one kind or the other
        sent = {e.name: e for e in by_kind.get((tx.id, SENT), ()) if e.name in routing}
        changed = {e.name: e for e in by_kind.get((tx.id, CHANGED), ()) if e.name in routing} if sent else {}
        for name, sev in sent.items():
            value = sev.value or ""
            info = sev.persistence or view.info.get(name)
            new = changed.get(name)
            if new is not None and (info is None or info.change_meaning is not ROTATES):
                new_info = new.persistence
                before = info.backend if info is not None else None
                after = new_info.backend if new_info is not None else None
                dc_before = info.datacenter if info is not None else None
                dc_after = new_info.datacenter if new_info is not None else None
                if dc_before and dc_after and dc_before != dc_after:
                    reissues[name].append(
                        (tx, value, new.value or "", [*effects_of(tx), f"datacenter {dc_before} -> {dc_after}"])
                    )
                elif (
                    before is not None
                    and after is not None
                    and before != after
                    and info is not None
                    and info.status == "decoded"
                ):
                    flips.append((tx, name, before, after, effects_of(tx), "the load balancer re-assigned the client"))
                elif before is None or after is None or (info is not None and info.status != "decoded"):
                    reissues[name].append((tx, value, new.value or "", effects_of(tx)))
            elif served is not None:
                key = (name, value)
                expected = learned.get(key)
                if expected is None:
                    learned[key] = served
                elif expected != served:
                    how = "the load balancer did not honour the cookie"
                    flips.append((tx, name, expected, served, effects_of(tx), how))
        if served is not None:
            obs = view.backend.get(tx.id)
            dc = obs.datacenter if obs is not None else None
            if dc:
                if host in datacenters and datacenters[host] != dc and view.lost(tx):
                    reissues["(datacenter header)"].append((tx, datacenters[host], dc, effects_of(tx)))
                datacenters[host] = dc
            if not sent and not routing and host in prev_backend and prev_backend[host] != served:
                session_sent = view.ev(tx, SENT, session_names)
                if session_sent and view.lost(tx):
                    flips.append(
                        (
                            tx,
                            session_sent[0].name,
                            prev_backend[host],
                            served,
                            effects_of(tx),
                            "no persistence cookie is in play although the session lives on one backend",
                        )
                    )
            prev_backend[host] = served

    for name, items in reissues.items():
        values_seen: list[str] = []
        alternating = False
        for _tx, old_value, new_value, _eff in items:
            if new_value in values_seen or old_value in values_seen[:-1]:
                alternating = True
            values_seen.extend([old_value, new_value])
        if len(items) >= 2 or alternating or name == "(datacenter header)":
            ev_list = [
                evidence(
                    tx,
                    f"{request_line(tx)}: sent {name}, got a different one" + (f" -> {'; '.join(eff)}" if eff else ""),
                    role="trigger",
                )
                for tx, _o, _n, eff in items[:20]
            ]
            distinct = len(set(values_seen))
            effects_all = list(dict.fromkeys(e for *_rest, eff in items for e in eff))
            cause = (
                f"requests alternate between load-balancer tiers or datacenters that do not share persistence: "
                f"each one replaces the {name} cookie the other issued "
                f"({len(items)} re-issues, {distinct} distinct values)"
            )
            for tx, *_ in items:
                view.consumed.add(tx.id)
            out.append(
                Incident(
                    FindingKind.DATACENTER_FLIP,
                    client,
                    items[0][0].input,
                    None if name.startswith("(") else name,
                    cause + (f"; consequence: {'; '.join(effects_all[:3])}" if effects_all else ""),
                    cause,
                    ev_list,
                    items[0][0].timing.started,
                    items[-1][0].timing.started,
                    confidence=Confidence.HIGH
                    if name == "(datacenter header)" or any("datacenter" in e for *_r, eff in items for e in eff)
                    else Confidence.MEDIUM,
                    details=[
                        ("reissues", str(len(items))),
                        ("distinct_values", str(distinct)),
                        ("alternating", "yes" if alternating else "no"),
                    ]
                    + [("consequence", e) for e in effects_all[:5]],
                    severity=None if effects_all else Severity.MEDIUM,
                )
            )
        else:
            tx, _old, _new, eff = items[0]
            flips.append(
                (
                    tx,
                    name,
                    "(unknown)",
                    "(unknown)",
                    eff,
                    "the load balancer replaced the cookie the client sent (opaque value: backend unknown)",
                )
            )

    if not flips:
        return
    by_cookie: dict[str, list[tuple[Transaction, str, str, str, list[str], str]]] = defaultdict(list)
    for flip in flips:
        if flip[0].id not in view.consumed:
            by_cookie[flip[1]].append(flip)
    for name, flip_items in by_cookie.items():
        effects_all = list(dict.fromkeys(e for item in flip_items for e in item[4]))
        how = flip_items[0][5]
        moves = list(dict.fromkeys(f"{b} -> {a}" for _t, _n, b, a, _e, _h in flip_items))
        cause = f"{how}: the client sent {name} and was served by another backend ({', '.join(moves[:3])})"
        unknown = all(b == "(unknown)" for _t, _n, b, _a, _e, _h in flip_items)
        ev_list = [
            evidence(
                t,
                f"{request_line(t)}: {b} -> {a}" + (f"; {'; '.join(e)}" if e else ""),
                role="trigger",
                response_names=("Set-Cookie", *cfg.backend_headers),
            )
            for t, _n, b, a, e, _h in flip_items[:20]
        ]
        for t, *_ in flip_items:
            view.consumed.add(t.id)
        out.append(
            Incident(
                FindingKind.SERVER_FLIP,
                client,
                flip_items[0][0].input,
                name,
                f"{len(flip_items)} request(s) that needed the session reached another backend ({', '.join(moves[:3])})"
                + (f"; consequence: {'; '.join(effects_all[:3])}" if effects_all else ""),
                cause,
                ev_list,
                flip_items[0][0].timing.started,
                flip_items[-1][0].timing.started,
                confidence=Confidence.MEDIUM if unknown else Confidence.HIGH,
                severity=None if effects_all else Severity.MEDIUM,
                details=[("moves", ", ".join(moves[:10])), ("flips", str(len(flip_items)))]
                + [("consequence", e) for e in effects_all[:5]],
            )
        )
