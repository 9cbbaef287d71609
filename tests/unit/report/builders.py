"""AnalysisReport fixtures for the reporter tests: healthy, broken, cookie-data-absent, hostile, large.

Built by hand from model objects (no pipeline), so reporter tests do not depend on detection.
The secrets below must never appear in a default (redacted) rendering.
"""

from __future__ import annotations

from stickyforensics.model import (
    SCHEMA_VERSION,
    AnalysisReport,
    BackendObservation,
    ChangeMeaning,
    ClientKey,
    ClientSession,
    Confidence,
    CookieRole,
    DiagLevel,
    Diagnostic,
    Evidence,
    Finding,
    InputSummary,
    PersistenceInfo,
    RuleRun,
    Severity,
    Transaction,
)
from stickyforensics.report.common import RuleDoc
from tests.conftest import treq, tresp, ttx

T0 = 1_700_000_000.0
PCAP = "captures/lb-prod.pcap"
HAR = "captures/browser user.har"

SECRET_SESSION = "S3SS10N-9f8e7d6c5b4a"
"""The application session cookie every broken-report client sends (A's is replayed to C)."""
SECRET_SESSION_B = "B0B-SESSION-77aa66bb"
SECRET_ROUTE_A = "1677787402.20480.0000"
SECRET_ROUTE_B = "1694564618.20480.0000"
SECRET_AUTH = "dXNlcjpodW50ZXIy"
ALL_SECRETS = (SECRET_SESSION, SECRET_SESSION_B, SECRET_ROUTE_A, SECRET_ROUTE_B, SECRET_AUTH)

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</style><style>body{display:none}</style>",
    "]]></text></svg><svg onload=alert(1)>",
    "\u202egnp.exe",
    "ctl\x1b[2J\x07bell",
    "pipe|`tick`*star*_u_[l](x)",
)

F5 = PersistenceInfo(
    family="f5-bigip",
    vendor="F5 BIG-IP",
    role=CookieRole.ROUTING,
    status="decoded",
    backend="10.1.1.100:80",
    change_meaning=ChangeMeaning.BACKEND_CHANGE,
    decoded=(("pool", "pool_app"), ("ip", "10.1.1.100"), ("port", "80")),
    discloses_internal_address=True,
)
JSESSION = PersistenceInfo(family="java", vendor="Java servlet", role=CookieRole.SESSION, status="opaque")

RULES: tuple[tuple[str, str, str, str, str], ...] = (
    # code, name, kind, category, title
    ("SF001", "cookie-data-absent", "cookie_data_absent", "capture", "Cookie data is absent from the input"),
    ("SF002", "tls-not-decrypted", "tls_not_decrypted", "capture", "TLS traffic was not decrypted"),
    (
        "SF201",
        "insecure-persistence-cookie",
        "insecure_persistence_cookie",
        "cookies",
        "Persistence cookie without Secure",
    ),
    ("SF203", "oversized-cookie-header", "oversized_cookie_header", "cookies", "Cookie header too large"),
    ("SF301", "missing-persistence-cookie", "missing_cookie", "persistence", "Persistence cookie not sent"),
    ("SF302", "server-flip", "server_flip", "persistence", "Client reached another backend mid-session"),
    (
        "SF304",
        "cached-set-cookie-replay",
        "cached_set_cookie_replay",
        "persistence",
        "A cached Set-Cookie was replayed to another user",
    ),
    (
        "SF401",
        "internal-address-disclosed",
        "internal_address_disclosed",
        "backend",
        "Persistence cookie discloses an internal address",
    ),
    ("SF501", "session-timeout", "session_timeout", "timing", "Session timed out"),
)
_RULE = {r[0]: r for r in RULES}


def rule_runs(
    findings: tuple[Finding, ...], *, skipped: dict[str, str] | None = None, errored: dict[str, str] | None = None
) -> tuple[RuleRun, ...]:
    skipped = skipped or {}
    errored = errored or {}
    runs = []
    for code, name, kind, category, title in RULES:
        status, reason = "ran", None
        if code in skipped:
            status, reason = "skipped", skipped[code]
        if code in errored:
            status, reason = "errored", errored[code]
        runs.append(
            RuleRun(
                code=code,
                name=name,
                kind=kind,
                title=title,
                category=category,
                status=status,
                findings=sum(1 for f in findings if f.rule == code),
                reason=reason,
            )
        )
    return tuple(runs)


def rule_docs() -> dict[str, RuleDoc]:
    docs = {}
    for code, name, kind, category, title in RULES:
        docs[code] = RuleDoc(
            code=code,
            name=name,
            title=title,
            kind=kind,
            category=category,
            severity=Severity.HIGH,
            summary=f"{title}: what {code} detects.",
            why=f"Why {code} matters: the user loses the session.",
            example="t=0.0  GET /cart  Cookie: SERVERID=s1 -> 200\nt=9.0  GET /pay  Cookie: SERVERID=s1 -> 401",
            what_to_check=("Health-check flaps at the time.", "Persistence timeout < session timeout."),
            remediation=(("general", "Share session state."), ("f5-bigip", "Attach the cookie persistence profile.")),
            falsepositives=("A planned drain.",),
            references=("https://example.org/docs/persistence", "javascript:alert('ref')", "seed 001: a note"),
        )
    return docs


def finding(
    code: str,
    *,
    severity: Severity,
    client: str,
    message: str,
    evidence: tuple[Evidence, ...] = (),
    input: str = PCAP,
    cookie: str | None = None,
    root_cause: str | None = None,
    details: tuple[tuple[str, str], ...] = (),
    clients: tuple[str, ...] = (),
) -> Finding:
    _, name, kind, _cat, title = _RULE[code]
    times = [e.time for e in evidence] or [T0]
    return Finding(
        rule=code,
        rule_name=name,
        kind=kind,
        title=title,
        severity=severity,
        confidence=Confidence.HIGH,
        message=message,
        input=input,
        client=client,
        first_seen=min(times),
        last_seen=max(times),
        cookie=cookie,
        evidence=evidence,
        details=details,
        root_cause=root_cause,
        clients=clients,
        remediation="Share session state between backends.",
    )


def ev(tx: Transaction, summary: str, role: str = "evidence") -> Evidence:
    prov = tx.provenance
    excerpts = tuple(f"{k}: {v}" for k, v in tx.request.headers if k.lower() in ("cookie", "authorization"))
    if tx.response is not None:
        excerpts += tuple(f"{k}: {v}" for k, v in tx.response.headers if k.lower() == "set-cookie")
    return Evidence(
        input=tx.input,
        time=tx.timing.started,
        summary=summary,
        transaction_id=tx.id,
        frames=prov.request_frames[:1] + prov.response_frames[:1],
        har_entry=prov.har_entry,
        tcp_stream=prov.tcp_stream,
        wireshark_filter=prov.wireshark_filter,
        excerpts=excerpts,
        role=role,
    )


def session(
    client: str,
    txs: list[Transaction],
    backends: list[str | None],
    *,
    cookies: tuple[tuple[str, PersistenceInfo], ...] = (),
    cookie_data: str = "present",
    strategy: str = "ip",
) -> ClientSession:
    obs = tuple(
        BackendObservation(
            transaction_id=tx.id,
            at=tx.timing.started,
            backend=b,
            datacenter=None,
            source="cookie:BIGipServerpool_app",
            confidence="high",
        )
        for tx, b in zip(txs, backends, strict=True)
    )
    return ClientSession(
        key=ClientKey(strategy, client),
        inputs=tuple(dict.fromkeys(t.input for t in txs)),
        transactions=tuple(txs),
        cookie_events=(),
        backends=obs,
        persistence_cookies=cookies,
        cookie_data=cookie_data,
    )


def _cookie(route: str, sess: str) -> list[tuple[str, str]]:
    return [("Cookie", f"BIGipServerpool_app={route}; JSESSIONID={sess}")]


def report(
    inputs: tuple[InputSummary, ...],
    sessions: tuple[ClientSession, ...],
    findings: tuple[Finding, ...],
    **runs: dict[str, str],
) -> AnalysisReport:
    return AnalysisReport(
        schema_version=SCHEMA_VERSION,
        tool_version="0.1.0",
        inputs=inputs,
        sessions=sessions,
        findings=findings,
        rule_runs=rule_runs(findings, **runs),
        stats=(("packets", 120),),
    )


def healthy() -> AnalysisReport:
    txs = [
        ttx(
            n,
            at=T0 + n * 5,
            client="10.0.0.1",
            source=PCAP,
            request=treq(url=f"http://app.example/app/page{n}", headers=_cookie(SECRET_ROUTE_A, SECRET_SESSION)),
        )
        for n in range(8)
    ]
    s = session("10.0.0.1", txs, ["10.1.1.100:80"] * 8, cookies=(("BIGipServerpool_app", F5), ("JSESSIONID", JSESSION)))
    inp = InputSummary(
        path=PCAP, format="pcap", engine="native", transactions=8, clients=1, first_time=T0, last_time=T0 + 35
    )
    return report((inp,), (s,), ())


def broken() -> AnalysisReport:
    """Three clients: A misses its cookie (SF301), B flips server (SF302), C gets A's Set-Cookie replayed (SF304)."""
    a_txs, b_txs, c_txs = [], [], []
    for n in range(10):
        hdrs = (
            _cookie(SECRET_ROUTE_A, SECRET_SESSION) if n not in (6, 7) else [("Cookie", f"JSESSIONID={SECRET_SESSION}")]
        )
        resp = tresp(
            401 if n == 6 else 200,
            reason="Unauthorized" if n == 6 else "OK",
            headers=[("Set-Cookie", f"BIGipServerpool_app={SECRET_ROUTE_B}; path=/; Secure")] if n == 6 else [],
        )
        a_txs.append(
            ttx(
                n,
                at=T0 + n * 6,
                client="10.0.0.1",
                source=PCAP,
                response=resp,
                request=treq(
                    url=f"http://app.example/app/step{n}", headers=[*hdrs, ("Authorization", f"Basic {SECRET_AUTH}")]
                ),
            )
        )
    for n in range(10, 22):
        route = SECRET_ROUTE_A
        resp = (
            tresp(200)
            if n != 17
            else tresp(
                302,
                [("Location", "/login"), ("Set-Cookie", f"JSESSIONID={SECRET_SESSION_B}x; HttpOnly")],
                reason="Found",
            )
        )
        b_txs.append(
            ttx(
                n,
                at=T0 + 3 + (n - 10) * 5,
                client="10.0.0.2",
                source=PCAP,
                response=resp,
                request=treq(url=f"http://app.example/app/b{n}", headers=_cookie(route, SECRET_SESSION_B)),
            )
        )
    for n in range(4):
        resp = tresp(200, [("Set-Cookie", f"JSESSIONID={SECRET_SESSION}; Path=/")]) if n == 1 else tresp(200)
        c_txs.append(
            ttx(
                n,
                at=T0 + 20 + n * 7,
                source=HAR,
                har=True,
                response=resp,
                request=treq(
                    url=f"https://app.example/app/c{n}?sid=URLSECRET{n}",
                    headers=[("Cookie", f"JSESSIONID={SECRET_SESSION}")] if n > 1 else [],
                ),
            )
        )
    a = session(
        "10.0.0.1",
        a_txs,
        ["10.1.1.100:80"] * 6 + ["10.1.1.101:80"] * 2 + ["10.1.1.100:80"] * 2,
        cookies=(("BIGipServerpool_app", F5), ("JSESSIONID", JSESSION)),
    )
    b = session(
        "10.0.0.2",
        b_txs,
        ["10.1.1.100:80"] * 7 + ["10.1.1.102:80"] * 5,
        cookies=(("BIGipServerpool_app", F5), ("JSESSIONID", JSESSION)),
    )
    c = session(
        HAR,
        c_txs,
        [None, "10.1.1.100:80", "10.1.1.100:80", "10.1.1.101:80"],
        cookies=(("JSESSIONID", JSESSION),),
        strategy="har-file",
    )
    f_missing = finding(
        "SF301",
        severity=Severity.HIGH,
        client="10.0.0.1",
        cookie="BIGipServerpool_app",
        message="10.0.0.1 stopped sending BIGipServerpool_app on 2 request(s) and was balanced to another backend",
        root_cause="the client dropped the BIGipServerpool_app cookie for /app/step6",
        evidence=(
            ev(a_txs[5], "GET /app/step5 -> 200 (cookie sent)", "context"),
            ev(a_txs[6], "GET /app/step6 -> 401 (no BIGipServerpool_app cookie)", "trigger"),
            ev(a_txs[7], "GET /app/step7 -> 200 (no BIGipServerpool_app cookie)", "effect"),
        ),
        details=(("reason", "client_dropped"), ("requests_without_cookie", "2"), ("consequence", "401 on /app/step6")),
    )
    f_flip = finding(
        "SF302",
        severity=Severity.HIGH,
        client="10.0.0.2",
        cookie="BIGipServerpool_app",
        message="10.0.0.2 moved from 10.1.1.100:80 to 10.1.1.102:80 while sending the same cookie",
        root_cause="the load balancer re-assigned 10.0.0.2 while it kept its persistence cookie",
        evidence=(
            ev(b_txs[6], "GET /app/b16 -> 200 on 10.1.1.100:80", "context"),
            ev(b_txs[7], "GET /app/b17 -> 302 redirect to login on 10.1.1.102:80", "trigger"),
        ),
        details=(("backend_before", "10.1.1.100:80"), ("backend_after", "10.1.1.102:80"), ("flips", "1")),
    )
    replay_evidence = tuple(
        ev(c_txs[1], f"GET /app/c1 -> 200: {HAR} was given 10.0.0.1's JSESSIONID", "trigger") for _ in range(1)
    ) + tuple(
        ev(a_txs[n % 10], f"GET /app/step{n % 10} -> 200: JSESSIONID first issued to 10.0.0.1 (copy {n})", "context")
        for n in range(30)
    )
    f_replay = finding(
        "SF304",
        severity=Severity.CRITICAL,
        client=HAR,
        input=HAR,
        cookie="JSESSIONID",
        message=f"{HAR} was given the JSESSIONID session cookie first issued to 10.0.0.1",
        root_cause="a shared cache replayed a response carrying 10.0.0.1's Set-Cookie",
        evidence=replay_evidence,
        clients=("10.0.0.1", HAR),
        details=(("origin_client", "10.0.0.1"), ("victim_client", HAR)),
    )
    f_insecure = finding(
        "SF201",
        severity=Severity.MEDIUM,
        client="10.0.0.2",
        cookie="BIGipServerpool_app",
        message="BIGipServerpool_app is sent over plain HTTP without Secure",
        evidence=(ev(b_txs[0], "GET /app/b10 -> 200 over http"),),
    )
    f_disclosed = finding(
        "SF401",
        severity=Severity.LOW,
        client="10.0.0.1",
        cookie="BIGipServerpool_app",
        message="BIGipServerpool_app decodes to the internal address 10.1.1.100:80",
        evidence=(ev(a_txs[0], "GET /app/step0 -> 200"),),
    )
    findings = (f_replay, f_missing, f_flip, f_insecure, f_disclosed)
    inputs = (
        InputSummary(
            path=PCAP,
            format="pcap",
            engine="native",
            transactions=22,
            clients=2,
            first_time=T0,
            last_time=T0 + 58,
            diagnostics=(
                Diagnostic(
                    code="tcp.missing_segments",
                    message="2 bytes missing",
                    source=PCAP,
                    position="tcp.stream 3",
                    count=2,
                ),
            ),
        ),
        InputSummary(
            path=HAR,
            format="har",
            engine="har",
            transactions=4,
            clients=1,
            first_time=T0 + 20,
            last_time=T0 + 41,
            diagnostics=(
                Diagnostic(
                    code="har.entry_invalid",
                    message="entry without response",
                    source=HAR,
                    position="entry 9",
                    level=DiagLevel.INFO,
                ),
            ),
        ),
    )
    return report(
        inputs,
        (a, b, c),
        findings,
        skipped={"SF002": "no TLS traffic in the inputs"},
        errored={"SF203": "RuleError: detector crashed on entry 3"},
    )


def absent() -> AnalysisReport:
    """A sanitized HAR: no Cookie / Set-Cookie at all, so stickiness cannot be judged."""
    txs = [
        ttx(n, at=T0 + n, source="sanitized.har", har=True, request=treq(url=f"https://app.example/p{n}"))
        for n in range(5)
    ]
    s = session("sanitized.har", txs, [None] * 5, cookie_data="absent", strategy="har-file")
    f = finding(
        "SF001",
        severity=Severity.MEDIUM,
        client="sanitized.har",
        input="sanitized.har",
        message="sanitized.har has no Cookie or Set-Cookie headers (sanitized export)",
        root_cause="the HAR was exported without cookies",
        evidence=(ev(txs[0], "GET /p0 -> 200 (no cookie headers)"),),
    )
    inp = InputSummary(
        path="sanitized.har",
        format="har",
        engine="har",
        transactions=5,
        clients=1,
        cookie_data="absent",
        first_time=T0,
        last_time=T0 + 4,
    )
    return report((inp,), (s,), (f,))


def hostile() -> AnalysisReport:
    """Payloads in header values, URLs, cookie names, client labels, input paths, details and diagnostics."""
    path = 'evil/"><img src=x onerror=alert(1)>\u202e<script>alert(1)</script>.har'
    label = "<script>alert(1)</script>\u202eclient"
    cname = '"><img src=x onerror=alert(1)>'
    txs = []
    for n, payload in enumerate(PAYLOADS):
        req = treq(
            url=f"http://app.example/{payload}",
            headers=[
                ("Cookie", f"{cname}={SECRET_SESSION}; x=</style>"),
                ("X-Forwarded-For", payload),
                ("Authorization", f"Bearer {SECRET_AUTH}"),
            ],
        )
        resp = tresp(
            200, [("Set-Cookie", f"{cname}={SECRET_ROUTE_A}; Path=/{payload}"), ("Server", payload)], reason=payload
        )
        txs.append(ttx(n, at=T0 + n, request=req, response=resp, source=path, har=True))
    info = PersistenceInfo(
        family="<b>fam</b>",
        vendor="<i>vendor</i>",
        role=CookieRole.ROUTING,
        status="decoded",
        backend=PAYLOADS[4],
        decoded=(("pool", PAYLOADS[0]), (PAYLOADS[1], PAYLOADS[5])),
    )
    s = session(label, txs, [PAYLOADS[n % 3] for n in range(len(txs))], cookies=((cname, info),), strategy="har-file")
    f = finding(
        "SF302",
        severity=Severity.HIGH,
        client=label,
        input=path,
        cookie=cname,
        message=" ".join(PAYLOADS),
        root_cause=PAYLOADS[0] + " javascript:alert(2)",
        evidence=tuple(ev(tx, f"GET {p} -> 200 {p}", "trigger") for tx, p in zip(txs, PAYLOADS, strict=True)),
        details=tuple((f"k{n}{p}", p) for n, p in enumerate(PAYLOADS)),
        clients=(label, PAYLOADS[2]),
    )
    inp = InputSummary(
        path=path,
        format="har",
        engine="har",
        transactions=len(txs),
        clients=1,
        first_time=T0,
        last_time=T0 + len(txs),
        diagnostics=(Diagnostic(code="har.<script>", message=PAYLOADS[3], source=path, position=PAYLOADS[1]),),
    )
    return report((inp,), (s,), (f,), skipped={"SF002": PAYLOADS[0]})


def large(clients: int = 120, busy: int = 6000) -> AnalysisReport:
    """Many clients (folding) and one lane with thousands of requests (downsampling)."""
    sessions = []
    findings = []
    stream = 0
    for c in range(clients):
        count = busy if c == 0 else 3
        txs = []
        for i in range(count):
            txs.append(
                ttx(
                    stream,
                    at=T0 + i * (3600.0 / count) + c,
                    client=f"10.2.{c // 250}.{c % 250 + 1}",
                    source=PCAP,
                    request=treq(url=f"http://app.example/poll{i}", headers=_cookie(SECRET_ROUTE_A, SECRET_SESSION)),
                )
            )
            stream += 1
        backends = [f"10.1.1.{100 + (i * 7 // max(count, 1)) % 7}:80" for i in range(count)]
        sessions.append(
            session(
                txs[0].client.ip if txs[0].client else str(c), txs, backends, cookies=(("BIGipServerpool_app", F5),)
            )
        )
        if c % 2 == 0:
            evs = tuple(ev(tx, f"GET /poll{i} -> 200") for i, tx in enumerate(txs[:60]))
            findings.append(
                finding(
                    "SF302",
                    severity=Severity.HIGH,
                    client=sessions[-1].key.value,
                    message=f"client {c} flipped",
                    evidence=evs,
                )
            )
    inp = InputSummary(
        path=PCAP,
        format="pcap",
        engine="native",
        transactions=stream,
        clients=clients,
        first_time=T0,
        last_time=T0 + 3600,
        diagnostics=tuple(
            Diagnostic(code="tcp.gap", message=f"gap {i}", source=PCAP, position=f"frame {i}") for i in range(150)
        ),
    )
    return report((inp,), tuple(sessions), tuple(findings))
