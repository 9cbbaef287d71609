"""The HTML report in a real headless Chromium (Debian's /usr/bin/chromium through Playwright).

Hostile report: nothing runs (no dialog, no console error — a CSP violation would log one —, no
script element), nothing is fetched (only the file itself and data: URLs), and the payloads are
visible as text. Broken report: screenshots at desktop and phone widths are real pictures and the
page never scrolls sideways (wide tables scroll inside their own container).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stickyforensics.report.html import render_html
from stickyforensics.report.redact import Redactor
from tests.unit.report import builders as b

pytestmark = pytest.mark.lab

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs playwright
        pytest.fail(f"playwright (python) is not installed: {exc}")
    with sync_playwright() as pw:
        try:
            instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=30_000)
        except Exception as exc:
            pytest.fail(f"Chromium could not start from {CHROMIUM} (apt-get install chromium): {exc}")
        try:
            yield instance
        finally:
            instance.close()


def _write(tmp_path: Path, name: str, report: Any) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_text(render_html(report, redactor=Redactor(b"e2e"), rule_docs=b.rule_docs()), encoding="utf-8")
    return path


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_hostile_report_runs_nothing_and_fetches_nothing(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "hostile", b.hostile())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    console: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert console == []
    assert requests and all(u == path.as_uri() or u.startswith("data:") for u in requests), requests
    # no active content made it into the DOM
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.images.length") == 0
    handlers = page.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
        ".filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    assert (
        page.evaluate(
            "[...document.querySelectorAll('[href]')].map(e => e.getAttribute('href'))"
            ".filter(h => !h.startsWith('#') && h !== 'https://example.org/docs/persistence')"
        )
        == []
    )
    assert page.evaluate("document.styleSheets.length") == 1
    # payloads are visible as text
    text = page.inner_text("body")
    for payload in (
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "</style><style>body{display:none}</style>",
        "]]></text></svg><svg onload=alert(1)>",
        "\\u202egnp.exe",
        "ctl\\x1b[2J\\x07bell",
    ):
        assert payload in text, payload
    assert page.is_visible("main")
    svg_text = page.evaluate("document.querySelector('svg text.lane-label').textContent")
    assert "<script>alert(1)</script>" in svg_text
    page.close()


def test_broken_report_screenshots_and_responsive_layout(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "broken", b.broken())
    shots = tmp_path / "shots"
    shots.mkdir()
    for width in (1280, 400):
        page = browser.new_page(viewport={"width": width, "height": 1400})
        page.goto(path.as_uri(), wait_until="load")
        # the page itself never scrolls sideways; wide tables and the timeline scroll in their container
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.is_visible("header.verdict h1")
        assert page.inner_text("header.verdict h1") == "Stickiness is broken"
        if width == 400:
            assert page.evaluate(
                "(() => { const s = document.querySelector('table.ev').parentElement;"
                " return s.scrollWidth > s.clientWidth && getComputedStyle(s).overflowX === 'auto'; })()"
            )
        shot = shots / f"broken-{width}.png"
        page.screenshot(path=str(shot))
        assert _png_size(shot) == (width, 1400)
        assert shot.stat().st_size > 60_000, "screenshot looks blank"
        page.close()


def test_folded_evidence_opens_and_prints(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "broken", b.broken())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    folded = page.locator("details:not(.doc)").first
    hidden_row = folded.locator("table.ev tr.main").first
    assert not hidden_row.is_visible()
    folded.locator("summary").click()
    assert hidden_row.is_visible()
    folded.locator("summary").click()
    page.emulate_media(media="print")
    assert hidden_row.is_visible(), "closed <details> must print their content"
    page.close()
