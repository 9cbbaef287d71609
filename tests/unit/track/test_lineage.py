"""Several browsers behind one client address, told apart by the lineage of their cookies."""

from __future__ import annotations

from dataclasses import replace

from conftest import REPO, treq, tresp, ttx

from stickyforensics.config import Config
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.har import read_har
from stickyforensics.model import AnalysisReport, Endpoint, Transaction
from stickyforensics.pipeline import analyze_results
from stickyforensics.report.json import report_dict
from stickyforensics.report.redact import Redactor
from stickyforensics.track.clients import group_by_client
from stickyforensics.track.cookieparse import request_cookies
from stickyforensics.track.lineage import LineageSplitter, is_token

NAT = "10.0.0.9"
T0 = 1_700_000_000.0
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CURL = "curl/8.5.0"
SID_A = "A1b2C3d4E5f6G7h8I9j0K1l2"
SID_A2 = "N3w5e6S7s8I9o0N1a2B3c4D5"
SID_B = "Z9y8X7w6V5u4T3s2R1q0P9o8"
STICKY = {"SF301", "SF302"}


def tx(
    n: int,
    at: float,
    path: str,
    *,
    cookie: str | None = None,
    set_cookies: tuple[str, ...] = (),
    status: int = 200,
    backend: str | None = None,
    agent: str = FIREFOX,
    host: str = "app.example",
    client: str = NAT,
    location: str | None = None,
    connection: str | None = None,
) -> Transaction:
    """One exchange; each on its own TCP connection unless ``connection`` names a shared one."""
    headers = [("Host", host), ("User-Agent", agent)] + ([("Cookie", cookie)] if cookie else [])
    resp_headers = [("Set-Cookie", sc) for sc in set_cookies]
    resp_headers += [("X-Backend", backend)] if backend else []
    resp_headers += [("Location", location)] if location else []
    made = ttx(
        n,
        at=T0 + at,
        request=treq("GET", f"http://{host}{path}", headers),
        response=tresp(status, resp_headers),
        client=client,
    )
    return replace(made, connection=connection) if connection is not None else made


def browser(n0: int, start: float, sid: str, server: str, pages: int = 5) -> list[Transaction]:
    """Cookie-less login (given a routing and a session cookie), then pages every 2 s carrying both."""
    out = [
        tx(
            n0,
            start,
            "/login",
            set_cookies=(f"SERVERID={server}; path=/", f"JSESSIONID={sid}; Path=/; HttpOnly"),
            backend=server,
        )
    ]
    for i in range(1, pages + 1):
        cookie = f"SERVERID={server}; JSESSIONID={sid}"
        out.append(tx(n0 + i, start + 2 * i, f"/app/p{i}", cookie=cookie, backend=server))
    return out


def expiring_browser(*, chain: bool) -> list[Transaction]:
    """SF501's idle timeout, then a new login and a new session cookie.

    ``chain``: the new cookie answers a request that still carried the old one; otherwise the server
    deleted the old one and the new login comes without cookies, on a new connection.
    """
    out = [tx(0, 0, "/login", set_cookies=(f"JSESSIONID={SID_A}; Path=/; HttpOnly",))]
    out += [tx(1 + i, 1 + i, f"/app/p{i}", cookie=f"JSESSIONID={SID_A}") for i in range(5)]
    deletion = () if chain else ("JSESSIONID=; Max-Age=0; Path=/",)
    out.append(
        tx(
            9,
            900,
            "/app/p9",
            cookie=f"JSESSIONID={SID_A}",
            status=302,
            location="/login?expired=1",
            set_cookies=deletion,
        )
    )
    relogin_cookie = f"JSESSIONID={SID_A}" if chain else None
    out.append(tx(10, 901, "/login", cookie=relogin_cookie, set_cookies=(f"JSESSIONID={SID_A2}; Path=/; HttpOnly",)))
    out += [tx(11 + i, 902 + i, f"/app/q{i}", cookie=f"JSESSIONID={SID_A2}") for i in range(3)]
    return out


def busy_neighbour(start: float = 0.5, until: float = 1000.0) -> list[Transaction]:
    """Another browser at the same address, active the whole time (every 10 s)."""
    out = [tx(100, start, "/login", set_cookies=(f"JSESSIONID={SID_B}; Path=/; HttpOnly",))]
    n, at = 101, start + 1
    while at < until:
        out.append(tx(n, at, f"/app/b{n}", cookie=f"JSESSIONID={SID_B}"))
        n, at = n + 1, at + 10
    return out


def analyze(txs: list[Transaction], identity: str = "auto") -> AnalysisReport:
    result = IngestResult(path="test.pcap", format="pcap", engine="native", transactions=tuple(txs))
    return analyze_results([result], Config(client_identity=identity))


def clients(report: AnalysisReport) -> dict[str, set[str]]:
    """Client identity -> its transaction ids."""
    return {s.key.value: {t.id for t in s.transactions} for s in report.sessions}


def rules_of(report: AnalysisReport) -> set[tuple[str, str]]:
    return {(f.rule, f.client) for f in report.findings}


def ids(txs: list[Transaction]) -> set[str]:
    return {t.id for t in txs}


# -- two browsers behind one address --------------------------------------------------------------


def test_two_browsers_behind_one_nat_address_are_two_clients() -> None:
    alice = browser(0, 0.0, SID_A, "s1")
    bob = browser(100, 1.0, SID_B, "s2")
    report = analyze(alice + bob)
    assert clients(report) == {f"{NAT}#1": ids(alice), f"{NAT}#2": ids(bob)}
    assert {s.key.strategy for s in report.sessions} == {"ip+lineage"}
    assert not {rule for rule, _client in rules_of(report)} & STICKY


def test_the_same_traffic_as_one_ip_client_gives_false_findings() -> None:
    """What the split prevents: one "client" that loses its cookies when the other browser logs in."""
    report = analyze(browser(0, 0.0, SID_A, "s1") + browser(100, 1.0, SID_B, "s2"), identity="ip")
    assert [s.key.value for s in report.sessions] == [NAT]
    assert {rule for rule, _client in rules_of(report)} & STICKY


def test_json_report_names_the_strategy() -> None:
    report = analyze(browser(0, 0.0, SID_A, "s1") + browser(100, 1.0, SID_B, "s2"))
    listed = report_dict(report, Redactor(b"k"))["clients"]
    assert sorted((c["client"], c["identity"]) for c in listed) == [
        (f"{NAT}#1", "ip+lineage"),
        (f"{NAT}#2", "ip+lineage"),
    ]


# -- one browser must stay one client ---------------------------------------------------------------


def test_expired_session_reissued_stays_one_client() -> None:
    for chain in (True, False):
        for identity in ("auto", "lineage"):
            report = analyze(expiring_browser(chain=chain), identity)
            assert [(s.key.strategy, s.key.value) for s in report.sessions] == [("ip", NAT)], (chain, identity)
            assert ("SF501", NAT) in rules_of(report)


def test_expired_session_behind_nat_keeps_its_timeout_finding() -> None:
    """The address is proven to hold two browsers; the one whose session expired is still one client,
    whether its new cookie came in answer to the old one or after a deletion and a cookie-less login."""
    for chain in (True, False):
        alice = expiring_browser(chain=chain)
        bob = busy_neighbour()
        for identity in ("auto", "lineage"):
            report = analyze(alice + bob, identity)
            assert clients(report) == {f"{NAT}#1": ids(alice), f"{NAT}#2": ids(bob)}, (chain, identity)
            found = rules_of(report)
            assert ("SF501", f"{NAT}#1") in found
            assert not {rule for rule, _client in found} & STICKY
        merged = rules_of(analyze(alice + bob, "ip"))
        assert ("SF501", NAT) not in merged  # one "client" never idled: the finding was lost


def test_a_browser_dropping_its_cookie_keeps_its_missing_cookie_finding() -> None:
    """Seed 000 (SF301's fixture) recorded at one address: the cookie-less uploads between requests
    with cookies are that browser dropping its cookie, not another browser."""
    har = read_har(str(REPO / "tests/rules/SF301/positive-dotfile-upload.har"))
    txs = tuple(replace(t, client=Endpoint(NAT, 40000 + i), client_label=None) for i, t in enumerate(har.transactions))
    for identity in ("auto", "lineage"):
        report = analyze_results([replace(har, transactions=txs)], Config(client_identity=identity))
        assert [(s.key.strategy, s.key.value) for s in report.sessions] == [("ip", NAT)]
        assert ("SF301", NAT) in rules_of(report)


def test_browsers_one_after_the_other_are_not_proven_concurrent() -> None:
    """``auto`` splits only on proof; ``lineage`` joins a later lineage to the only one it could continue."""
    first = browser(0, 0.0, SID_A, "s1")
    second = browser(100, 60.0, SID_B, "s1")
    for identity in ("auto", "lineage"):
        assert [s.key.value for s in analyze(first + second, identity).sessions] == [NAT]


def test_one_browser_with_a_session_per_host_is_one_client() -> None:
    txs = []
    for i in range(6):
        txs.append(tx(i * 2, i, f"/a/{i}", host="one.example", cookie=f"JSESSIONID={SID_A}"))
        txs.append(tx(i * 2 + 1, i + 0.5, f"/a/{i}", host="two.example", cookie=f"JSESSIONID={SID_B}"))
    for identity in ("auto", "lineage"):
        assert [s.key.value for s in analyze(txs, identity).sessions] == [NAT]


# -- requests without cookies -------------------------------------------------------------------------


def test_cookie_less_first_request_belongs_to_the_browser_it_started() -> None:
    """Bob's login carries no cookie, while Alice is active: the session it was given ties it to Bob."""
    alice = browser(0, 0.0, SID_A, "s1", pages=8)
    bob = browser(100, 5.0, SID_B, "s1")
    groups = group_by_client(alice + bob)
    assert {k.value: ids(v) for k, v in groups.items()} == {f"{NAT}#1": ids(alice), f"{NAT}#2": ids(bob)}


def test_cookie_less_request_attaches_to_the_only_browser() -> None:
    """A first request with no cookie and no Set-Cookie, on its own connection: the browser's own."""
    home = tx(50, -1, "/")
    txs = [home, *browser(0, 0.0, SID_A, "s1")]
    for identity in ("auto", "lineage"):
        groups = group_by_client(txs, identity)
        assert [(k.strategy, k.value, ids(v)) for k, v in groups.items()] == [("ip", NAT, ids(txs))]


def test_cookie_less_request_with_another_user_agent_is_another_client() -> None:
    alice = browser(0, 0.0, SID_A, "s1")
    bob = browser(100, 1.0, SID_B, "s2")
    probe = tx(200, 4.5, "/health", agent=CURL)
    groups = group_by_client([*alice, *bob, probe])
    assert sorted(ids(v) for v in groups.values()) == sorted([ids(alice), ids(bob), {probe.id}], key=sorted)
    same_agent = replace(probe, request=treq("GET", "http://app.example/health", [("User-Agent", FIREFOX)]))
    assert len(group_by_client([*alice, *bob, same_agent])) == 2


def test_a_session_given_and_never_used_belongs_to_another_browser() -> None:
    """One visit got a new session cookie, and Alice went on with her old one: she never received it."""
    alice = browser(0, 0.0, SID_A, "s1")
    visit = tx(50, 4.5, "/login", set_cookies=(f"JSESSIONID={SID_B}; Path=/",))
    groups = group_by_client([*alice, visit], "lineage")
    assert sorted(ids(v) for v in groups.values()) == sorted([ids(alice), {visit.id}], key=sorted)
    assert [k.value for k in group_by_client([*alice, visit])] == [NAT]  # auto: nothing proves two browsers


def test_a_later_lineage_that_ignores_the_last_session_given_is_not_its_continuation() -> None:
    """Alice's last answer gave her a new session; a later lineage sending another one is not Alice."""
    alice = browser(0, 0.0, SID_A, "s1")
    alice[-1] = replace(alice[-1], response=tresp(200, [("Set-Cookie", f"JSESSIONID={SID_A2}; Path=/")]))
    later = [tx(200 + i, 60.0 + i, f"/app/p{i}", cookie=f"JSESSIONID={SID_B}") for i in range(3)]
    groups = group_by_client([*alice, *later], "lineage")
    assert sorted(ids(v) for v in groups.values()) == sorted([ids(alice), ids(later)], key=sorted)
    continued = [replace(t, request=treq("GET", t.request.url, [("Cookie", f"JSESSIONID={SID_A2}")])) for t in later]
    assert len(group_by_client([*alice, *continued], "lineage")) == 1


def test_a_lineage_that_could_continue_either_browser_is_its_own() -> None:
    alice = browser(0, 0.0, SID_A, "s1")
    bob = browser(100, 1.0, SID_B, "s2")
    later = browser(200, 100.0, SID_A2, "s1")
    groups = group_by_client([*alice, *bob, *later])
    assert sorted(ids(v) for v in groups.values()) == sorted([ids(alice), ids(bob), ids(later)], key=sorted)


def test_cookie_less_request_interleaved_with_both_browsers_is_neither() -> None:
    """Proven NAT: a cookie-less request to where both browsers send their session is a third browser."""
    alice = browser(0, 0.0, SID_A, "s1")
    bob = browser(100, 1.0, SID_B, "s2")
    stranger = tx(200, 4.5, "/app/p9")
    groups = group_by_client([*alice, *bob, stranger])
    assert sorted(ids(v) for v in groups.values()) == sorted([ids(alice), ids(bob), {stranger.id}], key=sorted)


def test_keep_alive_connection_keeps_a_cookie_less_request_with_its_browser() -> None:
    """A credential-less fetch on Alice's connection goes to Alice although Bob's request is nearer."""
    alice = browser(0, 0.0, SID_A, "s1")
    alice[3] = replace(alice[3], connection="7")
    fetch = tx(50, 6.45, "/font.woff2", host="static.example", connection="7")
    bob = browser(100, 0.4, SID_B, "s2")
    groups = group_by_client([*alice, fetch, *bob])
    by_value = {k.value: ids(v) for k, v in groups.items()}
    assert by_value == {f"{NAT}#1": ids(alice) | {fetch.id}, f"{NAT}#2": ids(bob)}
    without = group_by_client([*alice, replace(fetch, connection=None), *bob])
    assert {k.value: ids(v) for k, v in without.items()}[f"{NAT}#2"] == ids(bob) | {fetch.id}


def test_keep_alive_connection_carries_a_session_change() -> None:
    """A new session given on Alice's connection to a request without her cookie is still Alice."""
    alice = browser(0, 0.0, SID_A, "s1", pages=8)
    dropped = tx(50, 9.0, "/app/again", set_cookies=(f"JSESSIONID={SID_A2}; Path=/",), connection="3")
    alice = [replace(t, connection="3") if t.timing.started < T0 + 9 else t for t in alice]
    after = [tx(60 + i, 9.5 + i, f"/app/n{i}", cookie=f"SERVERID=s1; JSESSIONID={SID_A2}") for i in range(8)]
    bob = browser(100, 1.0, SID_B, "s2", pages=12)
    groups = group_by_client([*alice, dropped, *after, *bob])
    assert sorted(ids(v) for v in groups.values()) == sorted(
        [ids(alice) | {dropped.id} | ids(after), ids(bob)], key=sorted
    )


# -- scope of the rule ----------------------------------------------------------------------------------


def test_split_is_local_to_each_address() -> None:
    nat = browser(0, 0.0, SID_A, "s1") + browser(100, 1.0, SID_B, "s2")
    lone = browser(200, 0.5, "Q1w2E3r4T5y6U7i8O9p0", "s1", pages=3)
    lone = [replace(t, client=replace(t.client, ip="10.0.0.8")) if t.client else t for t in lone]
    together = {k.value: ids(v) for k, v in group_by_client(nat + lone).items()}
    apart = {k.value: ids(v) for k, v in group_by_client(nat).items()}
    assert together == {**apart, "10.0.0.8": ids(lone)}


def test_ip_and_har_identities_are_untouched() -> None:
    nat = browser(0, 0.0, SID_A, "s1") + browser(100, 1.0, SID_B, "s2")
    assert [k.value for k in group_by_client(nat, "ip")] == [NAT]
    har = [ttx(1, har=True, source="alice.har"), ttx(2, har=True, source="alice.har")]
    assert [(k.strategy, k.value) for k in group_by_client(har, "lineage")] == [("har-file", "alice.har")]


def test_tokens_are_browser_ids_not_backend_names() -> None:
    assert is_token(SID_A, None)
    assert not is_token("en-US", None)
    assert not is_token("1700000000000", None)  # too few different characters
    from stickyforensics.track.lb import CookieClassifier

    identify = CookieClassifier().identify
    assert not is_token("1677787402.20480.0000", identify("BIGipServerweb_pool", "1677787402.20480.0000"))
    assert is_token(SID_A, identify("JSESSIONID", SID_A))


def test_a_header_repeating_two_values_of_one_token_alternates_when_sent_again() -> None:
    """The cheap first look skips a request that repeats the one before it only when that cannot
    change its answer: here the second request brings SID_A back after SID_B."""
    twice = f"JSESSIONID={SID_A}; JSESSIONID={SID_B}"
    txs = [tx(1, 0.0, "/app/a", cookie=twice), tx(2, 1.0, "/app/a", cookie=twice)]
    for cookies in (None, [request_cookies(t.request.headers) for t in txs]):
        assert LineageSplitter()._values_alternate(txs, cookies)
    once = [tx(1, 0.0, "/app/a", cookie=f"JSESSIONID={SID_A}"), tx(2, 1.0, "/app/a", cookie=f"JSESSIONID={SID_A}")]
    assert not LineageSplitter()._values_alternate(once, None)


def test_values_alternate_across_repeated_and_token_less_headers() -> None:
    """The first look reads each parsed Cookie header's tokens once (a client repeats its header) and
    passes over requests without a token; a value that comes back after another is still found."""
    a, b, plain = f"JSESSIONID={SID_A}", f"JSESSIONID={SID_B}", "lang=en"
    splitter = LineageSplitter(None)

    def alternate(headers: list[str | None]) -> bool:
        txs = [tx(i, float(i), "/app/x", cookie=h) for i, h in enumerate(headers)]
        return splitter._values_alternate(txs, [request_cookies(t.request.headers) for t in txs])

    assert alternate([a, a, plain, None, b, b, plain, a])
    assert not alternate([a, a, plain, a, None, a, b, b, plain, b])
    assert alternate([a, plain, b, plain, a]) == alternate([a, b, a])
