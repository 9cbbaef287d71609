"""A capture's reconstructed HTTP exchanges as HAR 1.2 entries.

What the HAR reader reads back is what the capture analysis read: method, absolute URL,
versions, every header in order with its casing and duplicates (every ``Set-Cookie`` is its own
header item), status, timings, the server address (``serverIPAddress`` + ``_serverPort``) and
the body size and first bytes. Capture facts HAR has no field for are custom fields:
``_clientIPAddress`` / ``_clientPort`` (the client side of the connection), ``_frames`` (the
Wireshark frame numbers of the request and the response), ``_tcpStream`` / ``_http2Stream``
(``tcp.stream`` / ``http2.streamid``), ``_transactionId`` and ``_error`` (a partly rebuilt
exchange). Only the first ``BODY_PREFIX_LIMIT`` bytes of a body are known (the analysis keeps no
more), so a longer body's text is that prefix and its size the whole body's: HAR readers call
such a body truncated, which it is.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from stickyforensics import __version__
from stickyforensics.model import BodyInfo, Headers, Transaction
from stickyforensics.track.cookieparse import parse_cookie_header, response_set_cookies

CREATOR = {"name": "stickyforensics", "version": __version__}


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _ms(start: float | None, end: float | None) -> float:
    """Milliseconds between two capture times; -1 (HAR's "not known") when either is missing."""
    if start is None or end is None:
        return -1
    return round(max(0.0, end - start) * 1000.0, 6)


def _headers(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items]


def _body_text(body: BodyInfo) -> dict[str, Any]:
    """``text`` (and ``encoding`` for bytes that are not UTF-8) of a body's known prefix."""
    if not body.prefix:
        return {}
    try:
        return {"text": body.prefix.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body.prefix).decode("ascii"), "encoding": "base64"}


def _query(target: str) -> list[dict[str, str]]:
    query = target.partition("?")[2].partition("#")[0]
    if not query:
        return []
    out = []
    for part in query.split("&"):
        name, _eq, value = part.partition("=")
        out.append({"name": name, "value": value})
    return out


def _request(tx: Transaction) -> dict[str, Any]:
    req = tx.request
    out: dict[str, Any] = {
        "method": req.method,
        "url": req.url,
        "httpVersion": req.version,
        "cookies": [
            {"name": c.name, "value": c.value} for h in req.headers.get_all("Cookie") for c in parse_cookie_header(h)
        ],
        "headers": _headers(req.headers),
        "queryString": _query(req.target),
        "headersSize": -1,
        "bodySize": req.body.size,
    }
    if req.body.size > 0:
        out["postData"] = {"mimeType": req.headers.get("Content-Type") or "", **_body_text(req.body)}
    return out


def _cookie_object(name: str, value: str, sc: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"name": name, "value": value}
    if sc.path is not None:
        item["path"] = sc.path
    if sc.domain is not None:
        item["domain"] = sc.domain
    if sc.expires is not None:
        with contextlib.suppress(OverflowError, OSError, ValueError):  # a date no calendar holds: left out
            item["expires"] = _iso(sc.expires)
    item["httpOnly"] = sc.httponly
    item["secure"] = sc.secure
    if sc.samesite is not None:
        item["sameSite"] = sc.samesite
    return item


def _response(tx: Transaction) -> dict[str, Any]:
    resp = tx.response
    if resp is None:
        # Chrome's way of saying "no response": status 0; the reader keeps the exchange as unanswered.
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": tx.error or "no response",
        }
    return {
        "status": resp.status,
        "statusText": resp.reason,
        "httpVersion": resp.version,
        "cookies": [_cookie_object(sc.name, sc.value, sc) for sc in response_set_cookies(resp.headers)],
        "headers": _headers(resp.headers),
        "content": {
            "size": resp.body.size,
            "mimeType": resp.headers.get("Content-Type") or "x-unknown",
            **_body_text(resp.body),
        },
        "redirectURL": resp.headers.get("Location") or "",
        "headersSize": -1,
        "bodySize": resp.body.size,
    }


def transaction_entry(tx: Transaction) -> dict[str, Any]:
    """The HAR entry of one reconstructed exchange."""
    timing = tx.timing
    prov = tx.provenance
    entry: dict[str, Any] = {
        "startedDateTime": _iso(timing.started),
        "time": _ms(timing.started, timing.finished),
        "request": _request(tx),
        "response": _response(tx),
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "send": _ms(timing.started, timing.request_done) if timing.request_done is not None else 0,
            "wait": _ms(timing.request_done or timing.started, timing.response_started),
            "receive": _ms(timing.response_started, timing.finished),
            "ssl": -1,
        },
    }
    if tx.server is not None:
        entry["serverIPAddress"] = tx.server.ip
        entry["_serverPort"] = tx.server.port
    if tx.connection is not None:
        entry["connection"] = tx.connection
    if tx.client is not None:
        entry["_clientIPAddress"] = tx.client.ip
        entry["_clientPort"] = tx.client.port
    entry["_frames"] = {"request": list(prov.request_frames), "response": list(prov.response_frames)}
    if prov.tcp_stream is not None:
        entry["_tcpStream"] = prov.tcp_stream
    if prov.http2_stream is not None:
        entry["_http2Stream"] = prov.http2_stream
    entry["_transactionId"] = tx.id
    if tx.error is not None:
        entry["_error"] = tx.error
    return entry


def capture_entries(transactions: Iterable[Transaction]) -> list[dict[str, Any]]:
    """HAR entries in start-time order (capture order among equal times), as HAR viewers expect."""
    ordered = sorted(enumerate(transactions), key=lambda item: (item[1].timing.started, item[0]))
    return [transaction_entry(tx) for _index, tx in ordered]


def har_frame(source: str, *, sanitized: bool) -> dict[str, Any]:
    """The document around the entries: HAR 1.2, this tool as creator, a comment naming the source."""
    how = "sanitized (stickyforensics sanitize)" if sanitized else "NOT sanitized: it holds the capture's secrets"
    return {
        "log": {
            "version": "1.2",
            "creator": dict(CREATOR),
            "comment": f"HTTP exchanges reconstructed from {source}; {how}",
            "entries": [],
        }
    }
