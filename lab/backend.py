"""A small application server for the lab: sessions kept per backend, never shared.

That one property is what makes stickiness matter: a request that a load balancer sends to a backend
other than the one that created its session gets ``401 BAD SESSION`` (the DataNow symptom of seed 000),
exactly as a cluster without session replication behaves.

Run one per backend, each on its own 127.0.0.x address::

    python -m lab.backend --node s1 --host 127.0.1.21 --port 18101 --log s1.jsonl

Routes (every response carries ``X-Backend: <node>``):

* ``GET|POST /login`` create a session and set the session cookie (``POST`` keeps a valid session it is
  given, like frameworks that do not rotate the id at login, so a stolen anonymous id becomes a login);
* ``GET /welcome`` a landing page that starts an anonymous session when none is presented and says it
  must not be cached (the page nginx caches by mistake in the ``cached_set_cookie`` scenario);
* ``/app/...`` needs a known session, else ``401`` with body ``BAD SESSION``; ``/app/chunked`` answers
  with ``Transfer-Encoding: chunked``;
* ``PUT|POST /upload/<name>`` stores a body (needs a session);
* ``/static/...`` needs no session; ``/poll`` (``?UA=0``) answers 200 for background polling;
* ``/health`` for load-balancer checks (not logged).

Session events go to ``--log`` as JSON lines (``session_created`` with the ``X-Forwarded-For`` client
the proxy reported, ``session_rejected``...), which the lab uses as ground truth.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

_ASPNET_ALPHABET = "abcdefghijklmnopqrstuvwxyz012345"
_MAX_BODY = 4 * 1024 * 1024

STATIC_FILES: dict[str, tuple[str, bytes]] = {
    "style.css": ("text/css", b"body{font-family:sans-serif;margin:2em}h1{color:#246}\n"),
    "app.js": ("application/javascript", b"document.documentElement.dataset.lab='1';\n"),
    "logo.svg": (
        "image/svg+xml",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>\n',
    ),
    "help.txt": ("text/plain", b"Static help text: served by any backend, no session needed.\n"),
    "big.bin": ("application/octet-stream", bytes(range(256)) * 256),
}


def new_session_id(style: str, node: str) -> str:
    """A fresh session id in the shape of a real application server's cookie."""
    if style == "tomcat":
        return f"{secrets.token_hex(16).upper()}.{node}"  # Tomcat: 32 hex + "." + jvmRoute
    if style == "aspnet":
        return "".join(secrets.choice(_ASPNET_ALPHABET) for _ in range(24))
    if style == "uuid":
        raw = secrets.token_hex(16)
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return secrets.token_hex(16)


class SessionStore:
    """This backend's sessions: id -> {user, created, last}; thread-safe, in memory only."""

    def __init__(self, node: str, style: str, log_path: Path | None) -> None:
        self.node = node
        self.style = style
        self._sessions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._log = log_path.open("a", encoding="utf-8", buffering=1) if log_path else None

    def log(self, event: str, **fields: Any) -> None:
        if self._log is None:
            return
        record = {"t": time.time(), "node": self.node, "event": event, **fields}
        with self._lock:
            self._log.write(json.dumps(record, sort_keys=True) + "\n")

    def create(self, client: str | None, path: str, user: str | None = None) -> str:
        sid = new_session_id(self.style, self.node)
        now = time.time()
        with self._lock:
            self._sessions[sid] = {"user": user, "created": now, "last": now}
        self.log("session_created", sid=sid, client=client, path=path, user=user)
        return sid

    def touch(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        with self._lock:
            entry = self._sessions.get(sid)
            if entry is not None:
                entry["last"] = time.time()
            return entry

    def set_user(self, sid: str, user: str) -> None:
        with self._lock:
            if sid in self._sessions:
                self._sessions[sid]["user"] = user

    def drop(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)


def parse_cookie_header(value: str) -> dict[str, str]:
    """``a=1; b=2`` -> {a: 1, b: 2} (first occurrence wins, as most servers do)."""
    out: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, val = part.strip().partition("=")
        if sep and name and name not in out:
            out[name] = val
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LabApp/1.0"
    sys_version = ""

    # set on the class by serve()
    store: SessionStore
    cookie_name: str

    def log_message(self, format: str, *args: Any) -> None:
        """Access logging would only slow the lab down; session events are logged by the store."""

    # --- plumbing -------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while total <= _MAX_BODY:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    for _ in range(64):  # trailer fields, up to the blank line (or EOF)
                        if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
                total += size
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, _MAX_BODY)) if length > 0 else b""

    def _client(self) -> str | None:
        xff = self.headers.get("X-Forwarded-For")
        return xff.split(",", 1)[0].strip() if xff else self.client_address[0]

    def _session_id(self) -> str | None:
        return parse_cookie_header(self.headers.get("Cookie") or "").get(self.cookie_name)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("X-Backend", self.store.node)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or ():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _set_cookie(self, sid: str) -> tuple[str, str]:
        return ("Set-Cookie", f"{self.cookie_name}={sid}; Path=/; HttpOnly")

    def _page(self, title: str, text: str) -> bytes:
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>"
            + title
            + "</title><link rel='icon' href='data:,'>"
            "<link rel='stylesheet' href='/static/style.css'><script src='/static/app.js'></script></head>"
            "<body><h1>"
            + title
            + "</h1><p id='msg'>"
            + text
            + f"</p><p>node <b id='node'>{self.store.node}</b></p><img src='/static/logo.svg' alt=''>"
            "<nav><a id='home' href='/app/home'>home</a> <a id='profile' href='/app/profile'>profile</a> "
            "<a id='settings' href='/app/settings'>settings</a> <a id='login' href='/login'>login</a></nav>"
            "</body></html>"
        ).encode()

    # --- routes ---------------------------------------------------------------------------------

    def _route(self) -> None:
        url = urlsplit(self.path)
        path = url.path
        body = self._read_body() if self.command in ("POST", "PUT") else b""
        if path == "/health":
            self._send(200, b"OK\n")
        elif path == "/login":
            self._login(body, path)
        elif path == "/welcome":
            self._welcome(path)
        elif path == "/logout":
            sid = self._session_id()
            if sid:
                self.store.drop(sid)
            self._send(200, b"bye\n", headers=[("Set-Cookie", f"{self.cookie_name}=; Path=/; Max-Age=0")])
        elif path == "/poll":
            entry = self.store.touch(self._session_id())
            ua = parse_qs(url.query).get("UA", ["?"])[0]
            text = f"poll ok UA={ua} session={'yes' if entry else 'no'}\n"
            self._send(200, text.encode(), headers=[("Cache-Control", "no-cache")])
        elif path.startswith("/static/"):
            self._static(path[len("/static/") :])
        elif path.startswith("/app/") or path.startswith("/upload/"):
            self._protected(path, body)
        else:
            self._send(404, b"not found\n")

    def _login(self, body: bytes, path: str) -> None:
        sid = self._session_id()
        form = parse_qs(body.decode("utf-8", "replace"))
        user = form.get("user", ["user"])[0][:40]
        if self.command == "POST" and sid and self.store.touch(sid) is not None:
            self.store.set_user(sid, user)
            self.store.log("login", sid=sid, client=self._client(), user=user)
            self._send(200, self._page("Logged in", f"welcome {user}"), "text/html; charset=utf-8")
            return
        sid = self.store.create(self._client(), path, user if self.command == "POST" else None)
        if self.command == "POST":
            page = self._page("Logged in", f"welcome {user}")
        else:
            page = (
                b"<!doctype html><html><head><title>Login</title><link rel='icon' href='data:,'></head><body>"
                b"<form id='f' method='post' action='/login'><input name='user' id='user' value='user'>"
                b"<button id='go' type='submit'>log in</button></form></body></html>"
            )
        self._send(200, page, "text/html; charset=utf-8", [self._set_cookie(sid)])

    def _welcome(self, path: str) -> None:
        sid = self._session_id()
        headers = [("Cache-Control", "private, no-cache"), ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")]
        if sid and self.store.touch(sid) is not None:
            self._send(200, self._page("Welcome back", "your session is known"), "text/html; charset=utf-8", headers)
            return
        sid = self.store.create(self._client(), path)
        headers.append(self._set_cookie(sid))
        self._send(200, self._page("Welcome", "a session was started for you"), "text/html; charset=utf-8", headers)

    def _static(self, name: str) -> None:
        item = STATIC_FILES.get(name)
        if item is None:
            self._send(404, b"not found\n")
            return
        ctype, data = item
        self._send(200, data, ctype, [("Cache-Control", "public, max-age=300")])

    def _protected(self, path: str, body: bytes) -> None:
        sid = self._session_id()
        entry = self.store.touch(sid)
        if entry is None:
            self.store.log("session_rejected", sid=sid, client=self._client(), path=path)
            self._send(401, b"BAD SESSION\n")
            return
        user = entry.get("user") or "anonymous"
        if path.startswith("/upload/"):
            if self.command not in ("PUT", "POST"):
                self._send(405, b"use PUT or POST\n", headers=[("Allow", "PUT, POST")])
                return
            name = path[len("/upload/") :]
            self.store.log("upload", sid=sid, client=self._client(), name=name, size=len(body))
            self._send(201, f"stored {name} ({len(body)} bytes) for {user}\n".encode())
        elif path == "/app/chunked":
            self._chunked(user)
        else:
            page = self._page(path.rsplit("/", 1)[-1] or "app", f"hello {user}")
            self._send(200, page, "text/html; charset=utf-8", [("Cache-Control", "no-store")])

    def _chunked(self, user: str) -> None:
        self.send_response(200)
        self.send_header("X-Backend", self.store.node)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(4):
            piece = f"part {i} for {user}\n".encode()
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            time.sleep(0.01)
        self.wfile.write(b"0\r\n\r\n")

    def _handle(self) -> None:
        try:
            self._route()
        except (ValueError, UnicodeError) as exc:
            self._send(HTTPStatus.BAD_REQUEST, f"bad request: {exc}\n".encode())

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle


def serve(node: str, host: str, port: int, cookie: str, style: str, log_path: Path | None) -> None:
    handler = type("BoundHandler", (Handler,), {"store": SessionStore(node, style, log_path), "cookie_name": cookie})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"backend {node} listening on {host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--node", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cookie", default="JSESSIONID", help="session cookie name")
    parser.add_argument("--style", default="tomcat", choices=["tomcat", "aspnet", "uuid", "hex"])
    parser.add_argument("--log", type=Path)
    args = parser.parse_args(argv)
    serve(args.node, args.host, args.port, args.cookie, args.style, args.log)


if __name__ == "__main__":
    main()
