"""Writes the positive/negative HAR fixtures of every rule under tests/rules/<CODE>/.

Each fixture is a small, readable scenario (one HAR file = one browser profile = one client; a folder
of HAR files = several clients). Run ``python tests/rules/make_fixtures.py`` after changing a scenario;
the generated files are committed so the tests need no generator at run time.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)

NSC = "NSC_eob1-qspe-xxb-mc-ttm"
NSC_A = "ffffffffc3a094ae45525d5f4f58455e445a4a4229a9"
BIGIP = "BIGipServerweb_pool"
SID_A = "K3J2H4G5F6D7S8A9Q0W1E2R3"
SID_B = "Z9X8C7V6B5N4M3L2K1J0H9G8"


@dataclass
class E:
    """One HAR entry in shorthand."""

    at: float
    method: str
    url: str
    status: int = 200
    cookie: str | None = None
    set_cookies: list[str] = field(default_factory=list)
    resp_headers: list[tuple[str, str]] = field(default_factory=list)
    req_headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""


def _entry(e: E) -> dict[str, object]:
    req_headers = [
        {"name": "Host", "value": e.url.split("/")[2]},
        {"name": "User-Agent", "value": "FixtureBrowser/1.0"},
    ]
    req_headers += [{"name": k, "value": v} for k, v in e.req_headers]
    if e.cookie is not None:
        req_headers.append({"name": "Cookie", "value": e.cookie})
    resp_headers = [{"name": "Date", "value": (T0 + dt.timedelta(seconds=e.at)).strftime("%a, %d %b %Y %H:%M:%S GMT")}]
    resp_headers += [{"name": k, "value": v} for k, v in e.resp_headers]
    resp_headers += [{"name": "Set-Cookie", "value": sc} for sc in e.set_cookies]
    started = (T0 + dt.timedelta(seconds=e.at)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "startedDateTime": started,
        "time": 20,
        "request": {
            "method": e.method,
            "url": e.url,
            "httpVersion": "HTTP/1.1",
            "headers": req_headers,
            "cookies": [],
            "queryString": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": e.status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "headers": resp_headers,
            "cookies": [],
            "content": {"size": len(e.body), "mimeType": "text/plain", "text": e.body},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(e.body),
        },
        "cache": {},
        "timings": {"send": 1, "wait": 18, "receive": 1},
    }


def har(entries: list[E], creator: str = "stickyforensics-fixture") -> dict[str, object]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": creator, "version": "1"},
            "pages": [],
            "entries": [_entry(e) for e in entries],
        }
    }


def write(path: Path, doc: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


APP = "http://app.example"
SAPP = "https://app.example"


def sticky_session(base: str = APP, n: int = 4) -> list[E]:
    entries = [
        E(
            0,
            "POST",
            f"{base}/login",
            set_cookies=[f"{NSC}={NSC_A};path=/;httponly", f"ASP.NET_SessionId={SID_A}; path=/; HttpOnly"],
            resp_headers=[("X-Backend", "web1")],
        )
    ]
    for i in range(n):
        entries.append(
            E(
                1 + i,
                "GET",
                f"{base}/app/page{i}",
                cookie=f"{NSC}={NSC_A}; ASP.NET_SessionId={SID_A}",
                resp_headers=[("X-Backend", "web1")],
            )
        )
    return entries


def main() -> None:
    cookie = f"{NSC}={NSC_A}; ASP.NET_SessionId={SID_A}"
    # SF001 cookie data absent: Chrome's sanitized export (no Cookie / Set-Cookie anywhere)
    write(
        HERE / "SF001/positive-sanitized.har",
        har([E(i, "GET", f"{APP}/app/p{i}") for i in range(4)], creator="WebInspector"),
    )
    write(HERE / "SF001/negative-with-cookies.har", har(sticky_session()))
    # SF201 persistence cookie without Secure/HttpOnly over HTTPS
    write(
        HERE / "SF201/positive-no-secure.har",
        har(
            [
                E(0, "GET", f"{SAPP}/", set_cookies=[f"{BIGIP}=1677787402.20480.0000; path=/"]),
                E(1, "GET", f"{SAPP}/app", cookie=f"{BIGIP}=1677787402.20480.0000"),
            ]
        ),
    )
    write(
        HERE / "SF201/negative-secure.har",
        har(
            [
                E(0, "GET", f"{SAPP}/", set_cookies=[f"{BIGIP}=1677787402.20480.0000; path=/; Secure; HttpOnly"]),
                E(1, "GET", f"{SAPP}/app", cookie=f"{BIGIP}=1677787402.20480.0000"),
            ]
        ),
    )
    # SF202 same persistence cookie twice
    write(
        HERE / "SF202/positive-two-values.har",
        har(
            [
                E(0, "GET", f"{APP}/", set_cookies=["ARRAffinity=" + "a" * 64 + "; Path=/; HttpOnly"]),
                E(1, "GET", f"{APP}/app", cookie="ARRAffinity=" + "a" * 64 + "; ARRAffinity=" + "b" * 64),
            ]
        ),
    )
    write(
        HERE / "SF202/negative-one-value.har",
        har(
            [
                E(0, "GET", f"{APP}/", set_cookies=["ARRAffinity=" + "a" * 64 + "; Path=/; HttpOnly"]),
                E(1, "GET", f"{APP}/app", cookie="ARRAffinity=" + "a" * 64),
            ]
        ),
    )
    # SF203 oversized Cookie header
    big = "; ".join(f"track{i}={'x' * 90}" for i in range(100))
    write(
        HERE / "SF203/positive-huge-cookie.har",
        har(
            [
                E(0, "GET", f"{APP}/", set_cookies=[f"{NSC}={NSC_A};path=/;httponly"]),
                E(1, "GET", f"{APP}/app", cookie=f"{big}; {NSC}={NSC_A}", status=400),
            ]
        ),
    )
    write(HERE / "SF203/negative-small-cookie.har", har(sticky_session()))
    # SF204 cookie the browser must reject (SameSite=None without Secure)
    write(
        HERE / "SF204/positive-samesite-none.har",
        har(
            [
                E(0, "GET", f"{APP}/", set_cookies=["AWSALBCORS=QkFTRTY0ZW5jcnlwdGVkdGFyZ2V0; Path=/; SameSite=None"]),
                E(1, "GET", f"{APP}/app"),
            ]
        ),
    )
    write(
        HERE / "SF204/negative-samesite-none-secure.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{SAPP}/",
                    set_cookies=["AWSALBCORS=QkFTRTY0ZW5jcnlwdGVkdGFyZ2V0; Path=/; SameSite=None; Secure"],
                ),
                E(1, "GET", f"{SAPP}/app", cookie="AWSALBCORS=QkFTRTY0ZW5jcnlwdGVkdGFyZ2V0"),
            ]
        ),
    )
    # SF301 seed 000: the client omits the NetScaler cookie on uploads of dot-files
    entries = [
        E(
            0,
            "POST",
            f"{APP}/login",
            set_cookies=[f"{NSC}={NSC_A};path=/;httponly", f"ASP.NET_SessionId={SID_A}; path=/; HttpOnly"],
            resp_headers=[("X-Backend", "web1")],
        )
    ]
    entries += [
        E(1, "PUT", f"{APP}/upload/test.txt", cookie=cookie, status=201, resp_headers=[("X-Backend", "web1")]),
        E(2, "PUT", f"{APP}/upload/.test.txt", status=401, body="BAD SESSION", resp_headers=[("X-Backend", "web2")]),
        E(3, "PUT", f"{APP}/upload/notes.txt", cookie=cookie, status=201, resp_headers=[("X-Backend", "web1")]),
        E(4, "PUT", f"{APP}/upload/.profile", status=401, body="BAD SESSION", resp_headers=[("X-Backend", "web2")]),
    ]
    write(HERE / "SF301/positive-dotfile-upload.har", har(entries))
    write(HERE / "SF301/negative-all-sent.har", har(sticky_session()))
    # SF302 backend failure: client keeps its cookie and lands on another backend
    write(
        HERE / "SF302/positive-redispatch.har",
        har(
            [
                E(
                    0,
                    "POST",
                    f"{APP}/login",
                    set_cookies=["SERVERID=s1; path=/", f"JSESSIONID={SID_A}.s1; Path=/; HttpOnly"],
                    resp_headers=[("X-Backend", "s1")],
                ),
                E(
                    1,
                    "GET",
                    f"{APP}/app/cart",
                    cookie=f"SERVERID=s1; JSESSIONID={SID_A}.s1",
                    resp_headers=[("X-Backend", "s1")],
                ),
                E(
                    2,
                    "GET",
                    f"{APP}/app/pay",
                    cookie=f"SERVERID=s1; JSESSIONID={SID_A}.s1",
                    status=401,
                    body="BAD SESSION",
                    set_cookies=["SERVERID=s2; path=/"],
                    resp_headers=[("X-Backend", "s2")],
                ),
            ]
        ),
    )
    # seed 001: static content balanced freely is not a flip
    write(
        HERE / "SF302/negative-static-balanced.har",
        har(
            [
                E(
                    0,
                    "POST",
                    f"{APP}/login",
                    set_cookies=["SERVERID=s1; path=/", f"JSESSIONID={SID_A}.s1; Path=/; HttpOnly"],
                    resp_headers=[("X-Backend", "s1")],
                ),
                E(
                    1,
                    "GET",
                    f"{APP}/app/cart",
                    cookie=f"SERVERID=s1; JSESSIONID={SID_A}.s1",
                    resp_headers=[("X-Backend", "s1")],
                ),
                E(
                    2,
                    "GET",
                    f"{APP}/static/logo.png",
                    cookie=f"SERVERID=s1; JSESSIONID={SID_A}.s1",
                    resp_headers=[("X-Backend", "s3")],
                ),
                E(
                    3,
                    "GET",
                    f"{APP}/app/pay",
                    cookie=f"SERVERID=s1; JSESSIONID={SID_A}.s1",
                    resp_headers=[("X-Backend", "s1")],
                ),
            ]
        ),
    )
    # SF303 seed 002: opaque lbs cookie alternating between two datacenters
    lbs_a = "!GV5Yy2cYv344wI3jE2oBe50eA+UGWA7f1BrBpPINpuVLab5+I/HGywXuPGP8jH4Jvi5oATYegQPYvPfoYCC8QLS9hoyHNDvkUgTIWGs="
    lbs_b = "!nTPOR+bX0WkHaPgEn+fedyiDBMRN945agVkmnDAzk8uIXi6qHlajCLL1bVePFZrFp7m5fRheeGsRqF/SR6vMdqQFwgCMTrmsE0EAjmk="
    tok = "__RequestVerificationToken_L1ZQQw2"
    write(
        HERE / "SF303/positive-lbs-alternates.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{SAPP}/login",
                    set_cookies=[
                        f"{tok}=UPuWgLNlghfOjvCZ; path=/; secure; HttpOnly",
                        f"lbs={lbs_a};Path=/;Version=1;Secure;HttpOnly",
                    ],
                ),
                E(
                    1,
                    "POST",
                    f"{SAPP}/login",
                    cookie=f"{tok}=UPuWgLNlghfOjvCZ; lbs={lbs_a}",
                    status=302,
                    set_cookies=[
                        f"{tok}=oZZNrVVzP2wnKBv6; path=/; secure; HttpOnly",
                        f"lbs={lbs_b};Path=/;Version=1;Secure;HttpOnly",
                    ],
                    resp_headers=[("Location", "/login?error=1")],
                ),
                E(2, "GET", f"{SAPP}/login?error=1", cookie=f"{tok}=oZZNrVVzP2wnKBv6; lbs={lbs_b}"),
                E(
                    3,
                    "POST",
                    f"{SAPP}/login",
                    cookie=f"{tok}=oZZNrVVzP2wnKBv6; lbs={lbs_b}",
                    status=302,
                    set_cookies=[
                        f"{tok}=Q2w3e4r5t6y7u8i9; path=/; secure; HttpOnly",
                        f"lbs={lbs_a};Path=/;Version=1;Secure;HttpOnly",
                    ],
                    resp_headers=[("Location", "/login?error=1")],
                ),
            ]
        ),
    )
    write(
        HERE / "SF303/negative-lbs-stable.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{SAPP}/login",
                    set_cookies=[
                        f"{tok}=UPuWgLNlghfOjvCZ; path=/; secure; HttpOnly",
                        f"lbs={lbs_a};Path=/;Version=1;Secure;HttpOnly",
                    ],
                ),
                E(
                    1,
                    "POST",
                    f"{SAPP}/login",
                    cookie=f"{tok}=UPuWgLNlghfOjvCZ; lbs={lbs_a}",
                    status=302,
                    resp_headers=[("Location", "/app")],
                ),
                E(2, "GET", f"{SAPP}/app", cookie=f"{tok}=UPuWgLNlghfOjvCZ; lbs={lbs_a}"),
            ]
        ),
    )
    # SF304 seed 003: a cached response hands user A's session cookie to user B
    write(
        HERE / "SF304/positive-cache-replay/alice.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{APP}/home",
                    set_cookies=[f"ASPSESSIONIDQACRBTQB={SID_A}; path=/"],
                    resp_headers=[("X-Cache", "MISS")],
                ),
                E(1, "GET", f"{APP}/account", cookie=f"ASPSESSIONIDQACRBTQB={SID_A}"),
            ]
        ),
    )
    write(
        HERE / "SF304/positive-cache-replay/bob.har",
        har(
            [
                E(
                    30,
                    "GET",
                    f"{APP}/home",
                    set_cookies=[f"ASPSESSIONIDQACRBTQB={SID_A}; path=/"],
                    resp_headers=[("X-Cache", "HIT"), ("Age", "30")],
                ),
                E(31, "GET", f"{APP}/account", cookie=f"ASPSESSIONIDQACRBTQB={SID_A}"),
            ]
        ),
    )
    write(
        HERE / "SF304/negative-own-sessions/alice.har",
        har(
            [
                E(0, "GET", f"{APP}/home", set_cookies=[f"ASPSESSIONIDQACRBTQB={SID_A}; path=/"]),
            ]
        ),
    )
    write(
        HERE / "SF304/negative-own-sessions/bob.har",
        har(
            [
                E(30, "GET", f"{APP}/home", set_cookies=[f"ASPSESSIONIDQACRBTQB={SID_B}; path=/"]),
            ]
        ),
    )
    # SF305 session cookie on a publicly cacheable response
    write(
        HERE / "SF305/positive-public.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{APP}/",
                    set_cookies=[f"JSESSIONID={SID_A}; Path=/; HttpOnly"],
                    resp_headers=[("Cache-Control", "public, max-age=600")],
                ),
            ]
        ),
    )
    write(
        HERE / "SF305/negative-private.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{APP}/",
                    set_cookies=[f"JSESSIONID={SID_A}; Path=/; HttpOnly"],
                    resp_headers=[("Cache-Control", "private, no-cache")],
                ),
            ]
        ),
    )
    # SF401 plaintext BIG-IP cookie discloses an internal address
    write(
        HERE / "SF401/positive-bigip-plain.har",
        har(
            [
                E(0, "GET", f"{APP}/", set_cookies=[f"{BIGIP}=1677787402.20480.0000; path=/; HttpOnly"]),
            ]
        ),
    )
    write(
        HERE / "SF401/negative-bigip-encrypted.har",
        har(
            [
                E(
                    0,
                    "GET",
                    f"{APP}/",
                    set_cookies=[
                        f"{BIGIP}=!VPyexJn/769hVyb9FVTnmPYOSADbxpddXoz+VcGjdpv7+"
                        "MdiHxdFdc7OgVGeKLfKY/RlKPU7JJYcHwA=; path=/; HttpOnly"
                    ],
                ),
            ]
        ),
    )
    # SF501 idle timeout: after a long pause the session is rejected
    idle = [E(0, "POST", f"{APP}/login", set_cookies=[f"JSESSIONID={SID_A}; Path=/; HttpOnly"])]
    idle += [E(1 + i, "GET", f"{APP}/app/p{i}", cookie=f"JSESSIONID={SID_A}") for i in range(5)]
    idle += [
        E(
            900,
            "GET",
            f"{APP}/app/p9",
            cookie=f"JSESSIONID={SID_A}",
            status=302,
            resp_headers=[("Location", "/login?expired=1")],
        )
    ]
    write(HERE / "SF501/positive-idle.har", har(idle))
    write(HERE / "SF501/negative-active.har", har(idle[:-1]))
    # SF502 seed 004: background polling keeps the session alive
    poll = [E(0, "POST", f"{APP}/owa/auth", set_cookies=[f"ASP.NET_SessionId={SID_A}; path=/; HttpOnly"])]
    poll += [
        E(30 * (i + 1), "POST", f"{APP}/owa/service.svc?action=Ping&UA=0", cookie=f"ASP.NET_SessionId={SID_A}")
        for i in range(8)
    ]
    write(HERE / "SF502/positive-ua0-polling.har", har(poll))
    write(
        HERE / "SF502/negative-user-activity.har",
        har(
            [poll[0]]
            + [
                E(t, "GET", f"{APP}/owa/mail{i}", cookie=f"ASP.NET_SessionId={SID_A}")
                for i, t in enumerate((5, 7, 40, 41, 130, 300))
            ]
        ),
    )
    # SF601 expectations (the folder's stickyforensics.toml declares them)
    (HERE / "SF601").mkdir(exist_ok=True)
    (HERE / "SF601/stickyforensics.toml").write_text(
        '[expectations]\npersistence_cookie = "SERVERID"\nsingle_backend_per_client = true\n'
        'allowed_backends = ["s1", "s2"]\n',
        encoding="utf-8",
    )
    write(
        HERE / "SF601/positive-two-backends.har",
        har(
            [
                E(0, "GET", f"{APP}/app", set_cookies=["SERVERID=s1; path=/"], resp_headers=[("X-Backend", "s1")]),
                E(1, "GET", f"{APP}/app/a", cookie="SERVERID=s1", resp_headers=[("X-Backend", "s1")]),
                E(2, "GET", f"{APP}/app/b", cookie="SERVERID=s1", resp_headers=[("X-Backend", "s3")]),
            ]
        ),
    )
    write(
        HERE / "SF601/negative-one-backend.har",
        har(
            [
                E(0, "GET", f"{APP}/app", set_cookies=["SERVERID=s1; path=/"], resp_headers=[("X-Backend", "s1")]),
                E(1, "GET", f"{APP}/app/a", cookie="SERVERID=s1", resp_headers=[("X-Backend", "s1")]),
                E(2, "GET", f"{APP}/static/x.css", cookie="SERVERID=s1", resp_headers=[("X-Backend", "s2")]),
            ]
        ),
    )


if __name__ == "__main__":
    main()
