"""Headless Chromium (Playwright) through sticky HAProxy, recorded as HAR files: one per browser profile.

* ``browser-sticky.har``: logs in with the form and browses pages that pull CSS/JS/SVG from ``/static/``
  (balanced freely, seed 001); all ``/app`` pages come from one backend.
* ``browser-cookie-cleared.har``: same start, then the persistence cookie ``SERVERID`` is deleted from
  the browser's jar mid-session (``context.clear_cookies(name=...)``, as a privacy extension or a cookie
  with too narrow a scope would); the next page lands on another backend -> 401 BAD SESSION -> the user
  logs in again.

The lab's own log comes from Playwright's network events (request/response headers as Chromium saw
them), not from the HAR files, so ``lab.verify`` checking the HARs is an independent look.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lab.exchange import Exchange, parse_cookie_header, parse_set_cookie
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
COOKIE = "SERVERID"
STICKY, CLEARED = "browser-sticky.har", "browser-cookie-cleared.har"


def _recorder(label: str, log: list[Exchange], error: type[Exception]) -> Any:
    """A ``requestfinished`` handler logging what Chromium sent and received (headers as it saw them)."""

    def on_finished(request: Any) -> None:
        response = request.response()
        if response is None:
            return
        headers = request.headers_array()
        cookies: dict[str, str] = {}
        for h in headers:
            if h["name"].lower() == "cookie":
                cookies.update(parse_cookie_header(h["value"]))
        resp_headers = response.headers_array()
        set_cookies = [
            c
            for h in resp_headers
            if h["name"].lower() == "set-cookie"
            for part in h["value"].split("\n")
            if (c := parse_set_cookie(part)) is not None
        ]
        try:
            body = response.body()[:200].decode("utf-8", "replace")
        except error:  # a body Chromium already discarded (redirects, superseded loads)
            body = ""
        url = request.url
        target = "/" + url.split("://", 1)[-1].split("/", 1)[1] if url.count("/") >= 3 else "/"
        log.append(
            Exchange(
                client=label,
                time=started if (started := request.timing["startTime"] / 1000) > 0 else time.time(),
                method=request.method,
                target=target,
                cookies=cookies,
                status=response.status,
                backend=response.header_value("x-backend"),
                set_cookies=set_cookies,
                body=body,
            )
        )

    return on_finished


def _browse(
    browser: Any, har: Path, base: str, log: list[Exchange], clear_midway: bool, error: type[Exception]
) -> None:
    context = browser.new_context(record_har_path=str(har), record_har_content="embed")
    context.on("requestfinished", _recorder(har.name, log, error))
    try:
        page = context.new_page()
        page.goto(base + "/login")
        page.click("#go")
        page.wait_for_selector("#msg")
        page.click("#home")
        page.wait_for_selector("#node")
        if clear_midway:
            context.clear_cookies(name=COOKIE)
            page.click("#profile")
            if "BAD SESSION" not in page.content():
                raise LabError("browser_har: the page after clearing the cookie was not rejected")
            page.goto(base + "/login")
            page.click("#go")
            page.wait_for_selector("#msg")
        for link in ("#profile", "#settings", "#home"):
            page.click(link)
            page.wait_for_selector("#node")
        page.close()
    finally:
        context.close()  # writes the HAR


def run(stack: Stack) -> Outcome:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    backends = [stack.backend(f"web{i}", 20 + i, 1) for i in (1, 2, 3)]
    stack.wait_backends(backends)
    port = stack.port(0)
    stack.haproxy(
        "haproxy", sticky_haproxy(f"{stack.lb_ip}:{port}", backends, static_round_robin=True), [(stack.lb_ip, port)]
    )
    base = f"http://{stack.lb_ip}:{port}"
    log: list[Exchange] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
            try:
                _browse(browser, stack.outdir / STICKY, base, log, clear_midway=False, error=PlaywrightError)
                _browse(browser, stack.outdir / CLEARED, base, log, clear_midway=True, error=PlaywrightError)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise LabError(f"browser_har: Chromium/Playwright failed: {exc}") from exc
    _check_har_headers(stack.outdir / STICKY)
    return Outcome(
        description=(
            "Headless Chromium 'profiles' (Playwright contexts) log in through HAProxy (cookie SERVERID insert "
            "indirect nocache; /static/ balanced round-robin without persistence, seed 001). "
            f"{STICKY}: a normal session, sticky. {CLEARED}: {COOKIE} is deleted from the browser's cookie jar "
            "mid-session (context.clear_cookies), the next page lands on another backend -> 401 BAD SESSION -> "
            "the user logs in again. Each HAR file is one client."
        ),
        inputs=[STICKY, CLEARED],
        rules=Rules(persistence=(COOKIE,), session="JSESSIONID"),
        exchanges=log,
        clients=[STICKY, CLEARED],
        intended={("missing_cookie", CLEARED, COOKIE)},
        engine="har",
        extra={"lb": "haproxy", "browser": "chromium (Playwright)"},
    )


def _check_har_headers(har: Path) -> None:
    """Playwright HARs must keep the Cookie / Set-Cookie headers, or the analysis has nothing to follow."""
    import json

    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    req = any(h["name"].lower() == "cookie" for e in entries for h in e["request"]["headers"])
    resp = any(h["name"].lower() == "set-cookie" for e in entries for h in e["response"]["headers"])
    if not (req and resp):
        raise LabError(f"{har}: the HAR lost Cookie ({req}) or Set-Cookie ({resp}) headers")


SCENARIO = Scenario("browser_har", 10, "001", ("haproxy",), run)
