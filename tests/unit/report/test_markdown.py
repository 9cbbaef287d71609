"""Markdown reporter: rendered with a real CommonMark parser (markdown-it, a rich dependency) with
raw HTML enabled, so any escape we miss would show up as a live tag or a broken table."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from stickyforensics.model import Severity
from stickyforensics.report.markdown import md_code, md_text, render_markdown
from stickyforensics.report.redact import Redactor
from tests.unit.report import builders as b

KEY = b"test-key"


def _md(report, **kw) -> str:  # type: ignore[no-untyped-def]
    kw.setdefault("redactor", Redactor(KEY))
    kw.setdefault("rule_docs", b.rule_docs())
    return render_markdown(report, **kw)


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(markdown)


def test_broken_summary_table_and_evidence() -> None:
    out = _md(b.broken())
    assert out.startswith("## stickyforensics report\n")
    assert "**Verdict: Stickiness is broken.**" in out
    html = _html(out)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", html, re.S)
    assert [(r[0], r[1].split()[0], r[2]) for r in rows] == [
        ("critical", "SF304", b.HAR),
        ("high", "SF301", "10.0.0.1"),
        ("high", "SF302", "10.0.0.2"),
        ("medium", "SF201", "10.0.0.2"),
        ("low", "SF401", "10.0.0.1"),
    ]
    assert "filter `tcp.stream eq 6 && http`" in out
    assert "frames 28, 30 of `captures/lb-prod.pcap`" in out
    assert "HAR entry 1 of `captures/browser user.har`" in out
    assert "3 at or above high" in out
    assert "and 26 more (see the JSON or HTML report)" in out
    assert "<code>tcp.stream eq 6 &amp;&amp; http</code>" in html


def test_fail_on_threshold_counts() -> None:
    assert "(1 at or above critical)" in _md(b.broken(), fail_on=Severity.CRITICAL)


def test_secrets_redacted_and_same_pseudonym() -> None:
    red = Redactor(KEY)
    out = _md(b.broken(), redactor=red)
    for secret in b.ALL_SECRETS:
        assert secret not in out
    assert "URLSECRET" not in out
    assert out.count(f"JSESSIONID={red.token(b.SECRET_SESSION)}") >= 3
    revealed = _md(b.broken(), redactor=Redactor(KEY, reveal=True))
    assert b.SECRET_SESSION in revealed and b.SECRET_ROUTE_A in revealed


def test_hostile_renders_as_text() -> None:
    out = _md(b.hostile())
    html = _html(out)
    ours = re.sub(r"<strong>(Verdict: Stickiness is broken\.|Root cause:|Evidence:|Fix:)</strong>", "", html)
    ours = ours.replace("<em>Why it matters:</em>", "")
    for tag in ("<script", "<img", "<svg", "<style", "<a ", "<em>", "<strong>", "<del>"):
        assert tag not in ours, tag
    assert "\u202e" not in out and "\x1b" not in out
    # the findings table keeps exactly 4 cells per row despite the '|' in the message
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        assert row.count("<td>") == 4
    assert "pipe|`tick`*star*_u_[l](x)" in re.sub(r"<[^>]+>", "", html).replace("&quot;", '"')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("# not a heading", "# not a heading"),
        ("- not a list", "- not a list"),
        ("1. not a list", "1. not a list"),
        ("> not a quote", "&gt; not a quote"),
        ("10.0.0.1", "10.0.0.1"),
        ("<b>x</b> & &amp;", "&lt;b&gt;x&lt;/b&gt; &amp; &amp;amp;"),
        ("[a](javascript:alert(1))", "[a](javascript:alert(1))"),
        ("$x$ ~~y~~ *z* _w_", "$x$ ~~y~~ *z* _w_"),
    ],
)
def test_md_text_renders_literally(text: str, rendered: str) -> None:
    html = _html(md_text(text))
    assert html.strip() == f"<p>{rendered}</p>"


@pytest.mark.parametrize("text", ["a`b", "``x``", "`", "plain", "<script>", "ends with `"])
def test_md_code_keeps_text_verbatim(text: str) -> None:
    html = _html("x " + md_code(text))
    inner = re.search(r"<code>(.*)</code>", html, re.S)
    assert inner is not None
    unescaped = inner.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    assert unescaped == text


def test_no_findings() -> None:
    out = _md(b.healthy())
    assert "**Verdict: Sessions stayed sticky.**" in out and "No findings." in out


def test_cookie_data_absent() -> None:
    assert "**Verdict: Cannot be judged: cookie data absent.**" in _md(b.absent())
