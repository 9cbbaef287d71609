"""Generate a large HAR of one long browser session, as Chrome DevTools exports it (deterministic).

    python bench/gen_har.py --size-mb 300 -o bench/data/session-300.har              # 8,766 entries, 13 s
    python bench/gen_har.py --size-mb 30  -o bench/data/session-30.har               # same mix, 871 entries
    python bench/gen_har.py --size-mb 300 --mix small -o bench/data/small-300.har    # 39,923 entries, 37 s
    python bench/gen_har.py --size-mb 30  --mix small -o bench/data/small-30.har     # 3,998 entries

What it holds (for a given ``--seed`` the bytes are always the same, and a smaller
``--size-mb`` gives a prefix of the same session, so two sizes share the entry mix):

* one user browsing ``shop.example.com`` for hours: each page view is a document,
  then static assets from ``static.example.com`` (HTTP/2, pseudo-headers, lowercase
  names, some served from memory / disk cache), XHR calls to the app's ``/api`` and
  analytics beacons to a third party;
* the app sits behind an F5 BIG-IP: ``BIGipServer~shop~pool_app`` (the load-balancer
  persistence cookie, decodable to a backend) is set on the first response and,
  rarely, re-set to another backend (``analyze`` reports it: SF302); ``JSESSIONID``
  (the session cookie) is set at login and renewed after a re-pin; API responses
  repeat ``Set-Cookie`` lines (``XSRF-TOKEN``, ``session_expiry``) on every
  response, 2-4 lines per response;
* request ``cookies`` / response ``cookies`` arrays next to the headers, as Chrome
  writes them, plus ``_initiator``, ``_priority``, ``_resourceType``, ``_transferSize``
  and Chrome's timings;
* ``--mix bodies`` (default): response bodies in ``content.text`` as browsers export
  them: HTML / JS / CSS / JSON as text (with escapes and some non-ASCII), images and
  fonts base64-encoded (``"encoding": "base64"``), 1 KB to 120 KB;
* ``--mix small``: an app that polls: XHR calls with JSON bodies of 100 B to 1.5 KB,
  204 beacons and 304s, the same headers and cookies.

The file is pretty-printed with 2-space indents like Chrome's export; ``pages`` comes
before ``entries``, so entries are written to a temporary file first (flat memory).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP = "shop.example.com"
STATIC = "static.example.com"
BEACON = "www.analytics.example.net"
APP_IP = "203.0.113.10"
STATIC_IP = "198.51.100.20"
BEACON_IP = "192.0.2.33"
T0 = 1_709_280_000.0  # 2024-03-01T08:00:00Z
LB_COOKIE = "BIGipServer~shop~pool_app"
SITE_COOKIES = (("_ga", "GA1.2.1873645521.1709280000"), ("_gid", "GA1.2.90412377.1709280000"))
"""Set for the whole site (Domain=example.com), so the static host gets them too."""
BACKENDS = ("10.1.4.21", "10.1.4.22", "10.1.4.23")
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
SEC_CH = '"Chromium";v="122", "Not(A:Brand";v="24", "Google Chrome";v="122"'
PAGES = (
    "/",
    "/catalog",
    "/catalog/shoes",
    "/catalog/shoes/item/4711",
    "/cart",
    "/checkout",
    "/account/orders",
    "/search?q=boots",
    "/account/settings",
    "/help/returns",
)
API = (
    "/api/cart",
    "/api/stock/4711",
    "/api/recommendations",
    "/api/user/me",
    "/api/notifications",
    "/api/search/suggest?q=bo",
    "/api/prices?ids=4711,4712,4713",
)

_WORDS = (
    "load",
    "balancer",
    "session",
    "cookie",
    "sticky",
    "backend",
    "pool",
    "persistence",
    "render",
    "component",
    "price",
    "stock",
    "café",
    "größe",
    "naïve",
    "カート",
    "item",
    "value",
    "state",
)


def bigip_value(ip: str, port: int = 8080) -> str:
    """F5's plaintext IPv4 encoding: the address as a little-endian integer, the port byte-swapped."""
    a, b, c, d = (int(x) for x in ip.split("."))
    swapped = ((port & 0xFF) << 8) | (port >> 8)
    return f"{a | b << 8 | c << 16 | d << 24}.{swapped}.0000"


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def _http_date(epoch: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))


def _text_pool(rng: random.Random, size: int) -> str:
    """About ``size`` characters of JS/HTML-like text with quotes, backslashes, newlines and some non-ASCII."""
    parts: list[str] = []
    total = 0
    while total < size:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 12)))
        kind = rng.random()
        if kind < 0.4:
            line = f'  var {rng.choice(_WORDS)}_{rng.randint(0, 999)} = "{words}";\n'
        elif kind < 0.7:
            line = f'<div class="{rng.choice(_WORDS)}" data-id="{rng.randint(0, 99999)}">{words}</div>\n'
        elif kind < 0.9:
            line = f'  if (s.{rng.choice(_WORDS)} !== null) {{ r = s.replace(/\\s+/g, "\\t"); }}\n'
        else:
            line = f'{{"{rng.choice(_WORDS)}": "{words}", "n": {rng.randint(0, 10**6)}}}\n'
        parts.append(line)
        total += len(line)
    return "".join(parts)


@dataclass
class Session:
    """What the browser and the servers remember between requests."""

    rng: random.Random
    pool: str
    clock: float = T0
    backend: int = 0
    lb_value: str | None = None
    """The persistence cookie the browser holds (None until the first app response)."""
    jsession: str | None = None
    xsrf: str = ""
    expiry: str = ""
    page: int = 0
    pages: list[dict[str, Any]] = field(default_factory=list)
    cached: set[str] = field(default_factory=set)
    """Static URLs the browser has cached (later loads come from memory / disk)."""

    def token(self, bits: int = 128) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}X}"

    def tick(self, low: float, high: float) -> float:
        self.clock += self.rng.uniform(low, high)
        return self.clock


def _headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "value": v} for n, v in pairs]


def _timings(rng: random.Random, fresh: bool) -> tuple[dict[str, float], float]:
    blocked = round(rng.uniform(0.3, 6.0), 3)
    dns = round(rng.uniform(5, 40), 3) if fresh else -1
    connect = round(rng.uniform(10, 60), 3) if fresh else -1
    ssl = round(connect * 0.6, 3) if fresh else -1
    send = round(rng.uniform(0.05, 0.5), 3)
    wait = round(rng.lognormvariate(3.8, 0.6), 3)
    receive = round(rng.lognormvariate(1.0, 1.2), 3)
    total = blocked + max(dns, 0) + max(connect, 0) + send + wait + receive
    timings = {
        "blocked": blocked,
        "dns": dns,
        "ssl": ssl,
        "connect": connect,
        "send": send,
        "wait": wait,
        "receive": receive,
        "_blocked_queueing": round(blocked * 0.7, 3),
        "_workerStart": -1,
        "_workerReady": -1,
        "_workerFetchStart": -1,
        "_workerRespondWithSettled": -1,
    }
    return timings, round(total, 3)


class SessionWriter:
    """Turns the session's page views into Chrome-style entries."""

    def __init__(self, seed: int, mix: str) -> None:
        self.rng = random.Random(seed)
        self.mix = mix
        self.s = Session(self.rng, _text_pool(random.Random(seed + 1), 1 << 20))

    # --- cookies -------------------------------------------------------------------------------

    def _jar(self) -> list[tuple[str, str]]:
        s = self.s
        jar = list(SITE_COOKIES)
        if s.lb_value is not None:
            jar.insert(0, (LB_COOKIE, s.lb_value))
        if s.jsession is not None:
            jar.append(("JSESSIONID", s.jsession))
        if s.xsrf:
            jar.append(("XSRF-TOKEN", s.xsrf))
            jar.append(("session_expiry", s.expiry))
        return jar

    def _app_set_cookies(self, document: bool) -> list[tuple[str, dict[str, Any]]]:
        """The Set-Cookie lines of one app response (value, cookie-array item)."""
        s, rng = self.s, self.rng
        lines: list[tuple[str, dict[str, Any]]] = []
        expires = _http_date(s.clock + 1800)
        if s.lb_value is None or rng.random() < 0.0004:
            # First response, or (rarely) the BIG-IP re-pins the client to another backend.
            if s.lb_value is not None:
                s.backend = (s.backend + 1) % len(BACKENDS)
                s.jsession = None  # the new backend does not know the session: the app issues a new one
            s.lb_value = bigip_value(BACKENDS[s.backend])
            lines.append(
                (
                    f"{LB_COOKIE}={s.lb_value}; path=/; Httponly; Secure",
                    {"name": LB_COOKIE, "value": s.lb_value, "path": "/", "httpOnly": True, "secure": True},
                )
            )
        if s.jsession is None or (document and rng.random() < 0.01):
            s.jsession = s.token(128) + ".node" + str(s.backend + 1)
            lines.append(
                (
                    f"JSESSIONID={s.jsession}; Path=/; Secure; HttpOnly; SameSite=Lax",
                    {
                        "name": "JSESSIONID",
                        "value": s.jsession,
                        "path": "/",
                        "httpOnly": True,
                        "secure": True,
                        "sameSite": "Lax",
                    },
                )
            )
        s.xsrf = s.token(96)
        lines.append(
            (
                f"XSRF-TOKEN={s.xsrf}; Path=/; Secure; SameSite=Strict",
                {"name": "XSRF-TOKEN", "value": s.xsrf, "path": "/", "secure": True, "sameSite": "Strict"},
            )
        )
        expiry = s.expiry = str(int(s.clock) + 1800)
        lines.append(
            (
                f"session_expiry={expiry}; Path=/; Expires={expires}; Secure",
                {
                    "name": "session_expiry",
                    "value": expiry,
                    "path": "/",
                    "secure": True,
                    "expires": _stamp(s.clock + 1800),
                },
            )
        )
        return lines

    # --- bodies --------------------------------------------------------------------------------

    def _text(self, low: int, high: int) -> str:
        size = int(self.rng.uniform(low, high))
        pool = self.s.pool
        start = self.rng.randrange(0, len(pool) - size) if size < len(pool) else 0
        return pool[start : start + size]

    def _binary(self, low: int, high: int) -> str:
        return base64.b64encode(self.rng.randbytes(int(self.rng.uniform(low, high)))).decode()

    # --- entries -------------------------------------------------------------------------------

    def _entry(
        self,
        host: str,
        path: str,
        kind: str,
        *,
        method: str = "GET",
        mime: str,
        status: int = 200,
        body: str | None = None,
        base64_body: bool = False,
        app_cookies: str | None = None,
        from_cache: str | None = None,
        initiator: str = "script",
    ) -> dict[str, Any]:
        s, rng = self.s, self.rng
        started = s.tick(0.002, 0.25)
        http2 = host == STATIC
        url = f"https://{host}{path}"
        # Host-only cookies go to the app; the static host gets only the site-wide analytics cookies.
        jar = self._jar() if host == APP else list(SITE_COOKIES) if host == STATIC else []
        # The server answers after the browser sent its cookies: "document" or "xhr" responses set new ones.
        set_cookies = self._app_set_cookies(document=app_cookies == "document") if app_cookies else None
        cookie_value = "; ".join(f"{n}={v}" for n, v in jar)
        if http2:
            req = [
                (":authority", host),
                (":method", method),
                (":path", path),
                (":scheme", "https"),
                ("accept", "*/*"),
                ("accept-encoding", "gzip, deflate, br, zstd"),
                ("accept-language", "en-US,en;q=0.9,de;q=0.8"),
            ]
            if cookie_value:
                req.append(("cookie", cookie_value))
            req += [
                ("referer", f"https://{APP}{PAGES[s.page % len(PAGES)]}"),
                ("sec-ch-ua", SEC_CH),
                ("sec-ch-ua-mobile", "?0"),
                ("sec-ch-ua-platform", '"Windows"'),
                ("sec-fetch-dest", kind),
                ("sec-fetch-mode", "no-cors"),
                ("sec-fetch-site", "same-site"),
                ("user-agent", UA),
            ]
        else:
            req = [
                (
                    "Accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
                    if kind == "document"
                    else "application/json, text/plain, */*",
                ),
                ("Accept-Encoding", "gzip, deflate, br, zstd"),
                ("Accept-Language", "en-US,en;q=0.9,de;q=0.8"),
                ("Connection", "keep-alive"),
            ]
            if cookie_value:
                req.append(("Cookie", cookie_value))
            req += [
                ("Host", host),
                ("Referer", f"https://{APP}/"),
                ("Sec-Fetch-Dest", kind),
                ("Sec-Fetch-Mode", "navigate" if kind == "document" else "cors"),
                ("Sec-Fetch-Site", "same-origin"),
                ("User-Agent", UA),
                ("sec-ch-ua", SEC_CH),
                ("sec-ch-ua-mobile", "?0"),
                ("sec-ch-ua-platform", '"Windows"'),
            ]
            if method == "POST":
                req.append(("X-XSRF-TOKEN", s.xsrf))
        cookies_array = [
            {
                "name": n,
                "value": v,
                "path": "/",
                "domain": f".{APP.split('.', 1)[1]}",
                "expires": _stamp(s.clock + 86400),
                "httpOnly": n in (LB_COOKIE, "JSESSIONID"),
                "secure": True,
            }
            for n, v in jar
        ]
        size = 0 if body is None else (len(body) * 3 // 4 if base64_body else len(body.encode("utf-8")))
        resp = [("date", _http_date(started))] if http2 else [("Date", _http_date(started))]
        if http2:
            resp += [
                ("content-type", mime),
                ("content-length", str(size)),
                ("cache-control", "public, max-age=31536000"),
                ("etag", f'"{rng.getrandbits(64):016x}"'),
                ("server", "cloudfront"),
                ("x-cache", "Hit from cloudfront"),
                ("via", "1.1 a1b2c3.cloudfront.net (CloudFront)"),
                ("age", str(rng.randint(0, 86400))),
            ]
        else:
            resp += [
                ("Content-Type", mime),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "keep-alive"),
                ("Cache-Control", "no-cache, no-store, must-revalidate"),
                ("Pragma", "no-cache"),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "SAMEORIGIN"),
                ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
                ("X-Request-Id", s.token(96).lower()),
                ("Server", "nginx"),
            ]
        for line, _ in set_cookies or ():
            resp.append(("Set-Cookie", line))
        content: dict[str, Any] = {"size": size, "mimeType": mime}
        if body is not None:
            content["text"] = body
            if base64_body:
                content["encoding"] = "base64"
        else:
            content["compression"] = 0
        fresh = rng.random() < 0.05
        timings, total = _timings(rng, fresh)
        entry: dict[str, Any] = {
            "_initiator": {"type": initiator},
            "_priority": "VeryHigh" if kind == "document" else "High",
            "_resourceType": kind,
            "cache": {},
            "connection": str(30000 + rng.randint(0, 40) if not http2 else 41234),
            "pageref": f"page_{s.page}",
            "request": {
                "method": method,
                "url": url,
                "httpVersion": "http/2.0" if http2 else "HTTP/1.1",
                "headers": _headers(req),
                "queryString": [
                    {"name": k, "value": v}
                    for k, _, v in (p.partition("=") for p in path.partition("?")[2].split("&") if p)
                ],
                "cookies": cookies_array,
                "headersSize": -1 if http2 else 600 + len(cookie_value),
                "bodySize": 0,
            },
            "response": {
                "status": status,
                "statusText": {200: "OK", 204: "No Content", 304: "Not Modified"}.get(status, "") if not http2 else "",
                "httpVersion": "http/2.0" if http2 else "HTTP/1.1",
                "headers": _headers(resp),
                "cookies": [item for _, item in set_cookies or ()],
                "content": content,
                "redirectURL": "",
                "headersSize": -1 if http2 else 420,
                "bodySize": size if from_cache is None else 0,
                "_transferSize": size + 400 if from_cache is None else 0,
                "_error": None,
            },
            "serverIPAddress": {APP: APP_IP, STATIC: STATIC_IP}.get(host, BEACON_IP),
            "startedDateTime": _stamp(started),
            "time": total,
            "timings": timings,
        }
        if method == "POST":
            payload = json.dumps({"item": rng.randint(1000, 9999), "qty": rng.randint(1, 3)})
            entry["request"]["postData"] = {"mimeType": "application/json", "text": payload}
            entry["request"]["bodySize"] = len(payload)
        if from_cache is not None:
            entry["_fromCache"] = from_cache
        return entry

    def _static(self, path: str, kind: str, mime: str) -> dict[str, Any]:
        rng = self.s.rng
        cached = path in self.s.cached
        self.s.cached.add(path)
        if kind == "image":
            body, b64 = self._binary(1_000, 60_000), True
        elif kind == "font":
            body, b64 = self._binary(20_000, 60_000), True
        else:
            body, b64 = self._text(5_000, 120_000 if kind == "script" else 60_000), False
        where = ("memory" if rng.random() < 0.5 else "disk") if cached and rng.random() < 0.7 else None
        return self._entry(
            STATIC, path, kind, mime=mime, body=body, base64_body=b64, from_cache=where, initiator="parser"
        )

    def _api(self, method: str = "GET") -> dict[str, Any]:
        rng = self.rng
        small = self.mix == "small"
        status = 304 if method == "GET" and rng.random() < 0.1 else 200
        body = None if status == 304 else self._text(100, 1_500) if small else self._text(200, 8_000)
        return self._entry(
            APP,
            rng.choice(API),
            "xhr",
            method=method,
            mime="application/json",
            status=status,
            body=body,
            app_cookies="xhr",
        )

    def _beacon(self) -> dict[str, Any]:
        path = f"/g/collect?v=2&tid=G-SHOP42&cid=1873645521&en=page_view&_s={self.rng.randint(1, 999)}"
        return self._entry(BEACON, path, "ping", method="POST", mime="text/plain", status=204, initiator="script")

    def page_view(self) -> Iterator[dict[str, Any]]:
        """One navigation and what the page loads next."""
        s, rng = self.s, self.rng
        s.tick(2.0, 40.0)  # think time
        s.page += 1
        path = PAGES[rng.randrange(len(PAGES))]
        s.pages.append(
            {
                "startedDateTime": _stamp(s.clock),
                "id": f"page_{s.page}",
                "title": f"https://{APP}{path}",
                "pageTimings": {
                    "onContentLoad": round(rng.uniform(300, 900), 3),
                    "onLoad": round(rng.uniform(900, 2500), 3),
                },
            }
        )
        if self.mix == "small":
            # A single-page app that polls: one document now and then, mostly small API calls.
            yield self._entry(
                APP,
                path,
                "document",
                mime="text/html",
                body=self._text(300, 1_500),
                app_cookies="document",
                initiator="other",
            )
            for _ in range(rng.randint(10, 40)):
                yield self._api("POST" if rng.random() < 0.1 else "GET")
                if rng.random() < 0.2:
                    yield self._beacon()
            return
        yield self._entry(
            APP,
            path,
            "document",
            mime="text/html",
            body=self._text(15_000, 80_000),
            app_cookies="document",
            initiator="other",
        )
        for i in range(rng.randint(2, 5)):
            yield self._static(f"/assets/app.{i}.js", "script", "application/javascript")
        yield self._static("/assets/site.css", "stylesheet", "text/css")
        if rng.random() < 0.3:
            yield self._static(f"/fonts/inter-{rng.randint(1, 3)}.woff2", "font", "font/woff2")
        for _ in range(rng.randint(2, 8)):
            yield self._static(f"/img/product-{rng.randint(1, 400)}.webp", "image", "image/webp")
        for _ in range(rng.randint(3, 15)):
            yield self._api("POST" if rng.random() < 0.1 else "GET")
        yield self._beacon()


def _indent(text: str, by: str) -> str:
    return by + text.replace("\n", "\n" + by)


def generate(out: Path, size_mb: float, seed: int, mix: str) -> tuple[int, int]:
    """Write the HAR; returns (entries, pages)."""
    target = int(size_mb * 1_000_000)
    writer = SessionWriter(seed, mix)
    tmp = out.with_name(out.name + ".entries.tmp")
    entries = 0
    written = 0
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            while written < target:
                for entry in writer.page_view():
                    text = (",\n" if entries else "") + _indent(
                        json.dumps(entry, indent=2, ensure_ascii=False), "      "
                    )
                    fh.write(text)
                    written += len(text.encode("utf-8")) if not text.isascii() else len(text)
                    entries += 1
        pages = ",\n".join(_indent(json.dumps(p, indent=2), "      ") for p in writer.s.pages)
        with out.open("w", encoding="utf-8") as fh:
            fh.write(
                '{\n  "log": {\n    "version": "1.2",\n    "creator": {\n      "name": "WebInspector",\n'
                '      "version": "537.36"\n    },\n    "pages": [\n'
            )
            fh.write(pages)
            fh.write('\n    ],\n    "entries": [\n')
            with tmp.open(encoding="utf-8") as src:
                shutil.copyfileobj(src, fh, 1 << 20)
            fh.write("\n    ]\n  }\n}\n")
    finally:
        tmp.unlink(missing_ok=True)
    return entries, len(writer.s.pages)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=300.0, help="stop after the entry that passes this size")
    ap.add_argument("--mix", choices=("bodies", "small"), default="bodies")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    entries, pages = generate(args.output, args.size_mb, args.seed, args.mix)
    size = args.output.stat().st_size
    print(
        f"{args.output}: {entries} entries, {pages} pages, {size / 1e6:.1f} MB, mix {args.mix}, "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
