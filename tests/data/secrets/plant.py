"""A small scenario with planted secrets, as a capture and as a HAR, built at test time.

One client (127.0.0.1) talks to one server (127.0.0.2:8080) through a load balancer that pins
it with ``SERVERID``. Along the way it carries every kind of secret a support capture holds:

1. ``GET /login``: the server sets ``SERVERID=web1``, an ``ASP.NET_SessionId`` and an anti-forgery
   cookie (``__RequestVerificationToken_L1ZQQw2``, seed 002);
2. ``POST /Account/ChangePassword``: a form body with the token and a new password (seed 002's
   ``OldPassword=&NewPassword=...&ConfirmPassword=...``) and ``Authorization: Basic``;
3. ``GET /api/data``: ``Authorization: Bearer <JWT>`` and ``X-API-Key``; another backend answers
   (a server flip while ``SERVERID`` was sent), and its ``X-Backend`` carries a terminal escape;
4. ``GET /app/report?sessionid=...``: the session id in the query string, and no ``SERVERID``
   (a missing persistence cookie); the answer redirects to ``/login?token=...``;
5. ``GET /login?token=...``: backend and note headers with an OSC 8 hyperlink escape.

``SECRETS`` lists what must never appear in any report or sanitized file; ``ESCAPES`` the raw
escape sequences that must never reach a terminal.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.unit.reconstruct.tcpbuild import Clock, Conversation, write_pcap

CLIENT = ("127.0.0.1", 41000)
SERVER = ("127.0.0.2", 8080)
HOST = "127.0.0.2:8080"
T0 = 1_700_000_000.0

SESSION_ID = "S3ss10nV4lu3Q8wZ2xY7kP"
CSRF_TOKEN = "Z-4ET7RU0ug-iziJfLrAKtuBy_JVGsL1GoLw07U2"
PASSWORD = "Hunter2-Pa55word!"
BASIC_PASSWORD = "Tr0ub4dor&3"
BASIC = base64.b64encode(f"alice:{BASIC_PASSWORD}".encode()).decode()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZTEyMyJ9.c2VjcmV0c2lnbmF0dXJlMTIz"
API_KEY = "ak_live_51HxYz9KqLmN0pQr"
QUERY_SESSION_ID = "q5e55i0nIdInUrl9876"
LOCATION_TOKEN = "L0c4t10nT0k3nXyZ12"

SECRETS = {
    "session cookie": SESSION_ID,
    "anti-forgery token": CSRF_TOKEN,
    "form password": PASSWORD,
    "form password, encoded": PASSWORD.replace("!", "%21"),
    "basic credentials": BASIC,
    "basic password": BASIC_PASSWORD,
    "bearer token": JWT,
    "api key": API_KEY,
    "query session id": QUERY_SESSION_ID,
    "redirect token": LOCATION_TOKEN,
}

SGR = "\x1b[31m"
OSC8 = "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"
ESCAPES = (SGR, OSC8)


@dataclass
class Exchange:
    at: float
    method: str
    target: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: str = ""
    response_body: str = "ok"
    content_type: str = "text/plain"
    extra: dict[str, str] = field(default_factory=dict)


def _form_body() -> str:
    return (
        f"__RequestVerificationToken={CSRF_TOKEN}&OldPassword=&NewPassword={PASSWORD.replace('!', '%21')}"
        f"&ConfirmPassword={PASSWORD.replace('!', '%21')}"
    )


def exchanges() -> list[Exchange]:
    all_cookies = f"SERVERID=web1; ASP.NET_SessionId={SESSION_ID}; __RequestVerificationToken_L1ZQQw2={CSRF_TOKEN}"
    return [
        Exchange(
            0.0,
            "GET",
            "/login",
            [],
            200,
            "OK",
            [
                ("X-Backend", "web1"),
                ("Set-Cookie", "SERVERID=web1; path=/"),
                ("Set-Cookie", f"ASP.NET_SessionId={SESSION_ID}; path=/; HttpOnly"),
                ("Set-Cookie", f"__RequestVerificationToken_L1ZQQw2={CSRF_TOKEN}; path=/; secure; HttpOnly"),
            ],
            response_body="<form>please log in</form>",
            content_type="text/html",
        ),
        Exchange(
            5.0,
            "POST",
            "/Account/ChangePassword",
            [
                ("Cookie", all_cookies),
                ("Authorization", f"Basic {BASIC}"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            200,
            "OK",
            [("X-Backend", "web1")],
            body=_form_body(),
        ),
        Exchange(
            10.0,
            "GET",
            "/api/data",
            [("Cookie", all_cookies), ("Authorization", f"Bearer {JWT}"), ("X-API-Key", API_KEY)],
            200,
            "OK",
            [("X-Backend", f"web2{SGR}")],
            response_body=json.dumps({"token": SESSION_ID}),
            content_type="application/json",
        ),
        Exchange(
            15.0,
            "GET",
            f"/app/report?sessionid={QUERY_SESSION_ID}&page=2",
            [("Cookie", f"ASP.NET_SessionId={SESSION_ID}")],
            302,
            "Found",
            [("X-Backend", f"web2{SGR}"), ("Location", f"/login?token={LOCATION_TOKEN}")],
        ),
        Exchange(
            20.0,
            "GET",
            f"/login?token={LOCATION_TOKEN}",
            [("Cookie", f"ASP.NET_SessionId={SESSION_ID}")],
            200,
            "OK",
            [("X-Backend", f"web3{OSC8}"), ("X-Note", OSC8)],
        ),
    ]


def _request_bytes(ex: Exchange) -> bytes:
    headers = [("Host", HOST), ("User-Agent", "secrets-fixture/1.0"), *ex.request_headers]
    if ex.body:
        headers.append(("Content-Length", str(len(ex.body.encode()))))
    head = f"{ex.method} {ex.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + ex.body.encode()


def _response_bytes(ex: Exchange) -> bytes:
    body = ex.response_body.encode()
    headers = [("Content-Type", ex.content_type), ("Content-Length", str(len(body))), *ex.response_headers]
    head = f"HTTP/1.1 {ex.status} {ex.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + body


def write_capture(path: Path) -> Path:
    """The scenario as a pcap: one connection per exchange, loopback addresses."""
    segments = []
    for index, ex in enumerate(exchanges()):
        clock = Clock(start=T0 + ex.at)
        conv = Conversation((CLIENT[0], CLIENT[1] + index), SERVER, clock=clock)
        conv.handshake()
        conv.send(_request_bytes(ex))
        conv.ack(False)
        conv.reply(_response_bytes(ex))
        conv.ack(True)
        conv.close()
        segments.extend(conv.segments)
    for number, seg in enumerate(segments, 1):
        seg.frame = number  # one frame numbering across the connections, as in a real capture
    return write_pcap(path, segments)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(T0 + at, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _har_entry(ex: Exchange) -> dict[str, object]:
    query = ex.target.partition("?")[2]
    request_headers = [("Host", HOST), ("User-Agent", "secrets-fixture/1.0"), *ex.request_headers]
    cookies = []
    for name, value in ex.request_headers:
        if name == "Cookie":
            for crumb in value.split("; "):
                key, _, val = crumb.partition("=")
                cookies.append({"name": key, "value": val})
    request: dict[str, object] = {
        "method": ex.method,
        "url": f"http://{HOST}{ex.target}",
        "httpVersion": "HTTP/1.1",
        "headers": [{"name": k, "value": v} for k, v in request_headers],
        "cookies": cookies,
        "queryString": [
            {"name": k, "value": v} for k, _, v in (part.partition("=") for part in query.split("&") if part)
        ],
        "headersSize": -1,
        "bodySize": len(ex.body),
    }
    if ex.body:
        request["postData"] = {
            "mimeType": "application/x-www-form-urlencoded",
            "text": ex.body,
            "params": [{"name": k, "value": v} for k, _, v in (p.partition("=") for p in ex.body.split("&"))],
        }
    response_cookies = []
    for name, value in ex.response_headers:
        if name == "Set-Cookie":
            key, _, val = value.split(";", 1)[0].partition("=")
            response_cookies.append({"name": key, "value": val, "path": "/"})
    return {
        "startedDateTime": _iso(ex.at),
        "time": 20,
        "request": request,
        "response": {
            "status": ex.status,
            "statusText": ex.reason,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in ex.response_headers],
            "cookies": response_cookies,
            "content": {"size": len(ex.response_body), "mimeType": ex.content_type, "text": ex.response_body},
            "redirectURL": dict(ex.response_headers).get("Location", ""),
            "headersSize": -1,
            "bodySize": len(ex.response_body),
        },
        "cache": {},
        "timings": {"send": 1, "wait": 18, "receive": 1},
        "serverIPAddress": SERVER[0],
        "_initiator": {"type": "script", "url": f"http://{HOST}/app.js?session={SESSION_ID}"},
    }


def write_har(path: Path) -> Path:
    """The scenario as a HAR file (one browser profile)."""
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "secrets-fixture", "version": "1.0"},
            "pages": [{"id": "page_1", "title": f"http://{HOST}/login?token={LOCATION_TOKEN}"}],
            "entries": [_har_entry(ex) for ex in exchanges()],
        }
    }
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path
