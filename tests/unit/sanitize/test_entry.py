"""A whole HAR entry: secrets replaced everywhere, structure and timings untouched."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.sanitize.helpers import sanitizer

SID = "zhv1x4fnquvx3zfoabim21cs"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlMTIz"


def _entry() -> dict[str, Any]:
    return {
        "startedDateTime": "2026-03-02T09:00:00.000Z",
        "time": 20.5,
        "_initiator": {"type": "script", "stack": {"callFrames": [{"url": f"http://h/app.js?s={SID}"}]}},
        "_custom": f"saw {SID} here",
        "request": {
            "method": "GET",
            "url": f"http://h/api?sid={SID}&page=2",
            "headers": [
                {"name": "Cookie", "value": f"ASP.NET_SessionId={SID}; SERVERID=web1"},
                {"name": "Authorization", "value": f"Bearer {JWT}"},
                {"name": "X-Api-Key", "value": "ak_live_51HxYz9KqLmN0pQr"},
                {"name": "X-Forwarded-For", "value": "127.0.0.9"},
                {"name": "Referer", "value": f"http://h/page?token={SID}"},
            ],
            "cookies": [{"name": "ASP.NET_SessionId", "value": SID}, {"name": "SERVERID", "value": "web1"}],
            "queryString": [{"name": "sid", "value": SID}, {"name": "page", "value": "2"}],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 302,
            "headers": [
                {"name": "Set-Cookie", "value": f"ASP.NET_SessionId={SID}; path=/; HttpOnly"},
                {"name": "Location", "value": f"/login?token={SID}"},
                {"name": "X-Backend", "value": "web1"},
            ],
            "cookies": [{"name": "ASP.NET_SessionId", "value": SID, "path": "/", "httpOnly": True}],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": f"/login?token={SID}",
        },
        "timings": {"send": 1, "wait": 18, "receive": 1.5},
        "serverIPAddress": "127.0.0.2",
        "_webSocketMessages": [{"type": "send", "time": 1.0, "opcode": 1, "data": f'{{"sid":"{SID}"}}'}],
    }


def _keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_keys(v) for v in node]
    return type(node).__name__


def _sanitized(entry: dict[str, Any]) -> Any:
    """What a HAR file gets: a first pass learns the secrets (here the cookie after ``_custom``)."""
    run = sanitizer()
    run.entry(entry)
    return run.entry(entry)


def test_no_secret_survives_and_structure_is_kept() -> None:
    entry = _entry()
    out = _sanitized(entry)
    text = json.dumps(out)
    for secret in (SID, JWT, "ak_live_51HxYz9KqLmN0pQr"):
        assert secret not in text
    assert list(out) == list(entry)
    assert _keys(out["request"]) == _keys(entry["request"]) and _keys(out["response"]) == _keys(entry["response"])
    for key in ("startedDateTime", "time", "timings", "serverIPAddress"):
        assert out[key] == entry[key]
    headers = {h["name"]: h["value"] for h in out["request"]["headers"]}
    assert headers["X-Forwarded-For"] == "127.0.0.9" and headers["Authorization"].startswith("Bearer ")
    assert out["response"]["headers"][2]["value"] == "web1"


def test_one_value_one_pseudonym_across_the_entry() -> None:
    out = _sanitized(_entry())
    pseudonym = out["request"]["cookies"][0]["value"]
    assert out["request"]["queryString"][0]["value"] == pseudonym
    assert out["request"]["url"] == f"http://h/api?sid={pseudonym}&page={out['request']['queryString'][1]['value']}"
    assert out["response"]["redirectURL"] == f"/login?token={pseudonym}"
    assert pseudonym in out["_custom"] and pseudonym in json.dumps(out["_initiator"])


def test_stats_count_what_was_replaced() -> None:
    run = sanitizer()
    run.entry(_entry())
    assert run.stats.entries == 1 and run.stats.replaced["cookie"] >= 3 and run.stats.replaced["credential"] == 1
    assert run.stats.routing_cookies_kept == {"SERVERID"}
