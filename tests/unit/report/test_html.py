"""HTML reporter: content, caps for large captures, redaction and hostile input (static checks).

The same hostile report is loaded in a real Chromium by tests/e2e/test_html_chromium.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

import pytest

from stickyforensics.model import Severity
from stickyforensics.report import html as html_mod
from stickyforensics.report.html import build_page, render_html
from stickyforensics.report.redact import Redactor
from tests.unit.report import builders as b

KEY = b"test-key"


class _Tags(HTMLParser):
    """Collects every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(doc: str) -> _Tags:
    parser = _Tags()
    parser.feed(doc)
    parser.close()
    return parser


def _text(doc: str) -> str:
    """The document's text as a reader sees it (whitespace collapsed)."""
    return re.sub(r"\s+", " ", "".join(_parse(doc).text))


def _render(report, **kw) -> str:  # type: ignore[no-untyped-def]
    kw.setdefault("redactor", Redactor(KEY))
    kw.setdefault("rule_docs", b.rule_docs())
    return render_html(report, **kw)


ALL = [pytest.param(fn, id=fn.__name__) for fn in (b.healthy, b.broken, b.absent, b.hostile)]


@pytest.mark.parametrize("make", ALL)
def test_self_contained_strict_csp_and_no_script(make) -> None:  # type: ignore[no-untyped-def]
    doc = _render(make())
    assert doc.startswith("<!DOCTYPE html>")
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
    ) in doc
    parsed = _parse(doc)
    names = {t for t, _ in parsed.tags}
    assert not names & {"script", "iframe", "object", "embed", "link", "img", "form", "base", "meta refresh"}
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            assert name not in ("src", "srcdoc", "action", "formaction", "xlink:href"), (tag, name)
            if name == "href":
                assert value is not None
                assert value.startswith("#") or value == "https://example.org/docs/persistence", value
            if name == "style":
                assert re.fullmatch(r"background:#[0-9a-f]{6}", value or ""), value
    assert "@import" not in doc and "url(" not in doc


def test_deterministic() -> None:
    assert _render(b.broken()) == _render(b.broken())


def test_broken_verdict_incidents_and_evidence() -> None:
    doc = _render(b.broken())
    text = _text(doc)
    assert "Stickiness is broken" in text
    assert "a shared cache replayed a response carrying 10.0.0.1's Set-Cookie" in text
    for client in ("10.0.0.1", "10.0.0.2", b.HAR):
        assert client in text
    for badge in ("1 critical", "2 high", "1 medium", "1 low"):
        assert badge in text
    assert "tcp.stream eq 6 &amp;&amp; http" in doc  # Wireshark filter, escaped, in a <code>
    assert re.search(r'<code class="filter">tcp\.stream eq 6 &amp;&amp; http</code>', doc)
    assert "frames 28, 30" in text and "HAR entry 1" in text
    assert "pool_app" in text and "10.1.1.100:80" in text  # decoded persistence cookie
    assert "Attach the cookie persistence profile." in text  # rule remediation from rule_docs
    assert "and 23 more evidence row(s)" in text  # SF304 has 31 evidence items: 8 shown, 23 folded
    assert "RuleError: detector crashed on entry 3" in text and "no TLS traffic in the inputs" in text
    assert "tcp.missing_segments" in text and "har.entry_invalid" in text


def test_rule_doc_for_vendor_seen_comes_first() -> None:
    page = build_page(b.broken(), redactor=Redactor(KEY), rule_docs=b.rule_docs())
    group = next(g for g in page.groups if g.label == "10.0.0.1")
    assert group.findings[0].fixes[0][0] == "f5-bigip"
    assert group.findings[0].doc_open  # first finding of a rule shows its doc unfolded


def test_timeline_lanes_colours_and_markers() -> None:
    page = build_page(b.broken(), redactor=Redactor(KEY))
    sw = page.swimlane
    assert sw is not None
    assert [lane.full_label for lane in sw.lanes] == [b.HAR, "10.0.0.1", "10.0.0.2"]
    legend = dict(sw.legend)
    assert {"10.1.1.100:80", "10.1.1.101:80", "10.1.1.102:80", "backend unknown"} <= set(legend)
    kinds = {lane.full_label: {m.kind for m in lane.markers} for lane in sw.lanes}
    assert kinds == {b.HAR: {"replay"}, "10.0.0.1": {"missing"}, "10.0.0.2": {"flip"}}
    b_lane = sw.lanes[2]
    assert {m.colour for m in b_lane.marks} == {legend["10.1.1.100:80"], legend["10.1.1.102:80"]}
    for lane in sw.lanes:
        assert len(lane.marks) == lane.requests and not lane.downsampled
        assert all(sw.plot_x0 - 5 <= m.x <= sw.plot_x1 + 5 for m in lane.marks)
        assert all(sw.plot_x0 - 1 <= m.x <= sw.plot_x1 + 1 for m in lane.markers)
    # the first mark is at the plot start, the last request of the capture at its end
    xs = [m.x + m.w / 2 for lane in sw.lanes for m in lane.marks]
    assert min(xs) == pytest.approx(sw.plot_x0, abs=0.2) and max(xs) == pytest.approx(sw.plot_x1, abs=0.2)


def test_cookie_data_absent_verdict() -> None:
    doc = _render(b.absent())
    text = _text(doc)
    assert "Cannot be judged: cookie data absent" in text
    assert "verdict-undetermined" in doc


def test_healthy_verdict() -> None:
    text = _text(_render(b.healthy()))
    assert "Sessions stayed sticky" in text and "No findings" in text


@pytest.mark.parametrize("make", ALL)
def test_no_secret_in_default_output_and_reveal_shows_them(make) -> None:  # type: ignore[no-untyped-def]
    report = make()
    doc = _render(report)
    for secret in b.ALL_SECRETS:
        assert secret not in doc
    assert "URLSECRET" not in doc  # ?sid= in a request target
    if make is b.broken:
        revealed = _render(report, redactor=Redactor(KEY, reveal=True))
        assert b.SECRET_SESSION in revealed and b.SECRET_ROUTE_A in revealed


def test_same_secret_same_pseudonym() -> None:
    red = Redactor(KEY)
    doc = _render(b.broken(), redactor=red)
    same = red.token(b.SECRET_SESSION)
    assert doc.count(same.replace("<", "&lt;").replace(">", "&gt;")) >= 5
    other = red.token(b.SECRET_SESSION_B)
    assert other != same and other.replace("<", "&lt;").replace(">", "&gt;") in doc


def test_hostile_payloads_are_text() -> None:
    doc = _render(b.hostile())
    for raw in (
        "<script>",
        "<img src=x",
        "<svg onload",
        "</style><style>",
        'javascript:alert(1)"',
        "\u202e",
        "\x1b",
        "\x07",
    ):
        assert raw not in doc, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in doc
    assert "\\u202egnp.exe" in doc and "ctl\\x1b[2J\\x07bell" in doc
    # the SVG is still well-formed: payloads in lane labels and mark titles are escaped
    svg = doc[doc.index("<svg xmlns") : doc.index("</svg>") + 6]
    assert svg.count("<svg") == 1 and "onload" not in svg.replace("svg onload=alert(1)&gt;", "")
    # the only <style> element is ours
    assert doc.count("<style>") == 1 and doc.count("</style>") == 1


def test_lone_surrogates_do_not_break_encoding() -> None:
    report = b.hostile()
    from dataclasses import replace

    bad = replace(report.findings[0], message="bytes \udcff\udc80 end")
    doc = _render(replace(report, findings=(bad,)))
    doc.encode("utf-8")
    assert "bytes \\xff\\x80 end" in doc


def test_large_capture_stays_bounded() -> None:
    report = b.large()
    page = build_page(report, redactor=Redactor(KEY))
    sw = page.swimlane
    assert sw is not None
    assert len(sw.lanes) == html_mod.LANES_LIMIT and sw.hidden_lanes == 120 - html_mod.LANES_LIMIT
    busy = sw.lanes[0]
    assert busy.requests == 6000 and busy.downsampled
    assert len(busy.marks) <= html_mod.LANE_MARKS_LIMIT * 4
    assert sw.downsampled_lanes == 1
    assert len(page.groups) == html_mod.CLIENT_GROUPS_SHOWN
    assert len(page.compact) == 60 - html_mod.CLIENT_GROUPS_SHOWN
    assert len(page.clients) == html_mod.CLIENT_ROWS_SHOWN and len(page.clients_folded) == 70
    first = page.groups[0].findings[0]
    assert len(first.evidence) == html_mod.EVIDENCE_SHOWN and len(first.evidence_folded) == 52
    diag = page.inputs[0]
    assert len(diag.diagnostics) == html_mod.DIAGNOSTICS_SHOWN and len(diag.diagnostics_folded) == 130
    doc = _render(report)
    assert len(doc) < 3_000_000
    assert "1 busy lane(s) are drawn as time columns" in doc and "80 more client(s) are not drawn" in doc


def test_fail_on_changes_gate_line() -> None:
    text = _text(_render(b.broken(), fail_on=Severity.CRITICAL))
    assert "1 finding(s) at or above critical" in text


def test_templates_ship_inside_the_package() -> None:
    folder = resources.files("stickyforensics.report") / "templates"
    for name in ("report.html.j2", "_macros.html.j2", "_swimlane.svg.j2", "_style.css"):
        assert (folder / name).is_file(), name


def test_no_report_content_without_sessions() -> None:
    from dataclasses import replace

    empty = replace(b.healthy(), sessions=(), inputs=(), findings=())
    doc = _render(empty)
    assert "No HTTP traffic found" in doc and "No HTTP transactions to draw." in doc


def test_timeout_and_datacenter_findings_get_markers() -> None:
    from dataclasses import replace

    report = b.broken()
    timeout = replace(report.findings[1], rule="SF501", kind="session_timeout", title="Session timed out")
    dc = replace(report.findings[2], kind="datacenter_flip")
    page = build_page(replace(report, findings=(timeout, dc)), redactor=Redactor(KEY))
    assert page.swimlane is not None
    kinds = {lane.full_label: {m.kind for m in lane.markers} for lane in page.swimlane.lanes}
    assert kinds["10.0.0.1"] == {"timeout"} and kinds["10.0.0.2"] == {"flip"}
    # context evidence (the request before the incident) is not marked
    assert len(page.swimlane.lanes[0].markers) == 2


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\u202eb", "a\\u202eb"),
        ("\u2066x\u2069\u200b", "\\u2066x\\u2069\\u200b"),
        ("esc\x1b[31m", "esc\\x1b[31m"),
        ("c1\x85", "c1\\x85"),
        ("line\nbreak\ttab", "line break tab"),
        ("bytes \udcfe", "bytes \\xfe"),
        ("x" * 10, "xxxx…"),
    ],
)
def test_display_makes_invisible_characters_visible(raw: str, shown: str) -> None:
    from stickyforensics.report.common import display

    assert display(raw, 5 if raw == "x" * 10 else 400) == shown


def test_with_jobs_the_html_report_asks_for_its_lanes_whole_and_its_rows_transactions() -> None:
    """With ``--jobs`` what is asked for is re-read into the parent: whole sessions for the lanes only, and the
    transactions the evidence rows join, naming the clients that hold them: a finding naming every client
    (SF401) names its own first; only the findings drawn with evidence rows count, at most the rows drawn."""
    from dataclasses import replace

    from stickyforensics.report.html import (
        CLIENT_GROUPS_SHOWN,
        EVIDENCE_FOLDED,
        EVIDENCE_SHOWN,
        LANES_LIMIT,
        cited,
        clients_shown,
    )

    report = b.large(clients=LANES_LIMIT + 200, busy=3)
    everyone = tuple(s.key.value for s in report.sessions)
    txs = {s.key.value: s.transactions for s in report.sessions}
    lanes = clients_shown(report)
    assert len(lanes) == LANES_LIMIT and lanes < set(everyone)
    rows = EVIDENCE_SHOWN + EVIDENCE_FOLDED
    many_rows = tuple(b.ev(txs[everyone[-10]][i % 3], "s") for i in range(rows + 5))
    wide = b.finding(
        "SF401", severity=Severity.MEDIUM, client=everyone[-10], message="m", clients=everyone, evidence=many_rows
    )
    assert list(cited(replace(report, findings=(wide,)))) == [
        ((everyone[-10], *everyone), tuple(e.transaction_id for e in many_rows[:rows]))
    ]
    # Only the first CLIENT_GROUPS_SHOWN clients' findings get evidence rows; the others are one-line rows.
    many = tuple(
        b.finding("SF401", severity=Severity.MEDIUM, client=c, message="m", evidence=(b.ev(txs[c][0], "s"),))
        for c in everyone[LANES_LIMIT:]
    )
    asked = list(cited(replace(report, findings=many)))
    assert [clients[0] for clients, _ in asked] == [f.client for f in many[:CLIENT_GROUPS_SHOWN]]
