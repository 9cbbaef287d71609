"""Root-cause classification on capture-like transactions built in memory."""

from __future__ import annotations

import string

from conftest import treq, tresp, ttx

from stickyforensics.config import Config
from stickyforensics.ingest.base import IngestResult
from stickyforensics.model import FindingKind, Transaction
from stickyforensics.pipeline import analyze_results

B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
T0 = 1_700_000_000.0


def haproxy_date(epoch: float) -> str:
    """HAProxy's 5-char date: the low 30 bits of seconds/4, six bits a char, most significant first."""
    v = (int(epoch) // 4) & ((1 << 30) - 1)
    return "".join(B64[(v >> shift) & 63] for shift in (24, 18, 12, 6, 0))


def tx(
    n: int,
    at: float,
    path: str,
    *,
    client: str = "10.0.0.1",
    cookie: str | None = None,
    status: int = 200,
    set_cookies: tuple[str, ...] = (),
    backend: str | None = None,
    body: bytes = b"",
) -> Transaction:
    headers = [("Host", "app.example")] + ([("Cookie", cookie)] if cookie else [])
    resp_headers = [("Set-Cookie", sc) for sc in set_cookies] + ([("X-Backend", backend)] if backend else [])
    resp = tresp(status, resp_headers)
    if body:
        from dataclasses import replace

        from stickyforensics.model import BodyInfo

        resp = replace(resp, body=BodyInfo(size=len(body), prefix=body))
    return ttx(n, at=T0 + at, request=treq("GET", f"http://app.example{path}", headers), response=resp, client=client)


def kinds(txs: list[Transaction], config: Config | None = None) -> list[tuple[str, str, str | None]]:
    result = IngestResult(path="test.pcap", format="pcap", engine="native", transactions=tuple(txs))
    report = analyze_results([result], config or Config())
    return [(f.kind, f.client, f.cookie) for f in report.findings if f.kind in {k.value for k in FindingKind}]


def sticky_kinds(txs: list[Transaction], config: Config | None = None) -> set[str]:
    wanted = {"missing_cookie", "server_flip", "datacenter_flip", "cached_set_cookie_replay", "session_timeout"}
    return {k for k, _c, _n in kinds(txs, config) if k in wanted}


def test_haproxy_maxidle_dates_give_idle_timeout() -> None:
    first = 0.0
    txs = [tx(0, 0, "/app/login", set_cookies=(f"SRV=s1|{haproxy_date(T0)}|{haproxy_date(T0)}; path=/",), backend="s1")]
    last = 0.0
    for i, at in enumerate((2, 4, 6), start=1):
        txs.append(
            tx(
                i,
                at,
                f"/app/p{i}",
                cookie=f"SRV=s1|{haproxy_date(T0 + last)}|{haproxy_date(T0 + first)}",
                set_cookies=(f"SRV=s1|{haproxy_date(T0 + at)}|{haproxy_date(T0)}; path=/",),
                backend="s1",
            )
        )
        last = at
    # 60 s idle: HAProxy ignores the cookie and balances to s2, which has no session
    txs.append(
        tx(
            9,
            66,
            "/app/p9",
            cookie=f"SRV=s1|{haproxy_date(T0 + last)}|{haproxy_date(T0)}",
            set_cookies=(f"SRV=s2|{haproxy_date(T0 + 66)}|{haproxy_date(T0 + 66)}; path=/",),
            backend="s2",
            status=401,
            body=b"BAD SESSION",
        )
    )
    found = kinds(txs)
    assert ("session_timeout", "10.0.0.1", "SRV") in found
    assert not any(k in ("server_flip", "missing_cookie") for k, _c, _n in found)


def test_redispatch_with_cookie_kept_is_server_flip() -> None:
    txs = [
        tx(0, 0, "/app/login", set_cookies=("SERVERID=s1; path=/",), backend="s1"),
        tx(1, 1, "/app/a", cookie="SERVERID=s1", backend="s1"),
        tx(
            2,
            2,
            "/app/b",
            cookie="SERVERID=s1",
            backend="s2",
            set_cookies=("SERVERID=s2; path=/",),
            status=401,
            body=b"BAD SESSION",
        ),
    ]
    assert sticky_kinds(txs) == {"server_flip"}


def test_static_content_on_other_backends_is_not_a_flip() -> None:
    txs = [
        tx(0, 0, "/app/login", set_cookies=("SERVERID=s1; path=/",), backend="s1"),
        tx(1, 1, "/static/a.css", cookie="SERVERID=s1", backend="s2"),
        tx(2, 2, "/images/b.png", cookie="SERVERID=s1", backend="s3"),
        tx(3, 3, "/app/b", cookie="SERVERID=s1", backend="s1"),
    ]
    assert sticky_kinds(txs) == set()


def test_healthy_clients_interleaved_get_nothing() -> None:
    txs = []
    for c, (ip, srv) in enumerate((("10.0.0.1", "s1"), ("10.0.0.2", "s2"))):
        txs.append(tx(c * 10, c, "/app/login", client=ip, set_cookies=(f"SERVERID={srv}; path=/",), backend=srv))
        txs += [
            tx(c * 10 + i, c + i, f"/app/{i}", client=ip, cookie=f"SERVERID={srv}", backend=srv) for i in range(1, 5)
        ]
    assert sticky_kinds(txs) == set()


def test_session_cookie_replayed_to_another_ip() -> None:
    sid = "JSESSIONID=0123456789ABCDEF0123456789ABCDEF; Path=/"
    txs = [tx(0, 0, "/", client="10.0.0.1", set_cookies=(sid,)), tx(1, 5, "/", client="10.0.0.2", set_cookies=(sid,))]
    found = kinds(txs)
    assert ("cached_set_cookie_replay", "10.0.0.2", "JSESSIONID") in found
    assert not any(c == "10.0.0.1" and k == "cached_set_cookie_replay" for k, c, _n in found)


def test_no_persistence_cookie_and_backend_change_with_lost_session() -> None:
    sid = "PHPSESSID=0123456789abcdef0123456789abcdef"
    txs = [
        tx(0, 0, "/app/login", set_cookies=(sid + "; path=/",), backend="web1"),
        tx(1, 1, "/app/a", cookie=sid, backend="web1"),
        tx(2, 2, "/app/b", cookie=sid, backend="web2", status=401),
    ]
    assert sticky_kinds(txs) == {"server_flip"}


def test_client_dropped_cookie_is_missing_cookie() -> None:
    txs = [
        tx(0, 0, "/app/login", set_cookies=("SERVERID=s1; path=/",), backend="s1"),
        tx(1, 1, "/app/a", cookie="SERVERID=s1", backend="s1"),
        tx(2, 2, "/app/.hidden", backend="s2", status=401, body=b"BAD SESSION"),
    ]
    assert sticky_kinds(txs) == {"missing_cookie"}


def test_expired_persistence_cookie_is_a_timeout() -> None:
    txs = [
        tx(0, 0, "/app/login", set_cookies=("SERVERID=s1; path=/; Max-Age=30",), backend="s1"),
        tx(1, 10, "/app/a", cookie="SERVERID=s1", backend="s1"),
        tx(2, 50, "/app/b", backend="s2", set_cookies=("SERVERID=s2; path=/; Max-Age=30",), status=401),
    ]
    assert sticky_kinds(txs) == {"session_timeout"}
