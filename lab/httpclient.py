"""A scripted HTTP/1.1 client bound to its own loopback address (``http.client`` + ``source_address``).

It keeps one keep-alive connection, a cookie jar, and a log of every exchange. ``omit`` leaves named
cookies out of one request although the jar holds them: how the lab reproduces WinHTTP dropping the
persistence cookie (seed 000) with a real client on the wire.
"""

from __future__ import annotations

import http.client
import ssl
import time

from lab.exchange import Exchange, Jar, parse_set_cookie

_BODY_PREFIX = 200


class HttpClient:
    def __init__(
        self,
        ip: str,
        host: str,
        port: int,
        log: list[Exchange],
        *,
        user_agent: str = "lab-client/1.0 (python http.client)",
        tls: ssl.SSLContext | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.ip = ip
        self.host = host
        self.port = port
        self.log = log
        self.user_agent = user_agent
        self.tls = tls
        self.timeout = timeout
        self.jar = Jar()
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.tls is not None:
                self._conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, source_address=(self.ip, 0), context=self.tls
                )
            else:
                self._conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout, source_address=(self.ip, 0)
                )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        *,
        omit: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        note: str = "",
    ) -> Exchange:
        """Send one request on the kept-alive connection (reconnecting once if the server closed it)."""
        cookie_header, sent = self.jar.header(omit)
        hdrs = {"User-Agent": self.user_agent, "Accept": "*/*"}
        if cookie_header:
            hdrs["Cookie"] = cookie_header
        hdrs.update(headers or {})
        started = time.time()
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (
                http.client.RemoteDisconnected,
                ConnectionResetError,
                BrokenPipeError,
                http.client.CannotSendRequest,
            ):
                # a keep-alive connection the server already closed: reconnect once, as browsers do
                self.close()
                if attempt == 2:
                    raise
                started = time.time()
            except (TimeoutError, OSError):
                self.close()
                raise
        now = time.time()
        set_cookies = [c for v in resp.msg.get_all("Set-Cookie") or [] if (c := parse_set_cookie(v, now)) is not None]
        ex = Exchange(
            client=self.ip,
            time=started,
            method=method,
            target=target,
            cookies=sent,
            status=resp.status,
            backend=resp.getheader("X-Backend"),
            set_cookies=set_cookies,
            cache=resp.getheader("X-Cache-Status"),
            body=data[:_BODY_PREFIX].decode("utf-8", "replace"),
            note=note,
        )
        self.jar.apply(set_cookies)
        if (resp.getheader("Connection") or "").lower() == "close":
            self.close()
        self.log.append(ex)
        return ex
