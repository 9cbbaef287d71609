"""HTTPS with HTTP/2 and HTTP/1.1: a capture that only the tshark engine (with the TLS keys) can read.

HAProxy terminates TLS (a self-signed certificate made with openssl at run time, ALPN ``h2,http/1.1``)
with cookie persistence. curl writes its TLS secrets to ``keys.log`` (``SSLKEYLOGFILE``). Client .11
speaks HTTP/1.1 and stays sticky; client .12 speaks HTTP/2 (several requests multiplexed on one
connection) and sends one request without the persistence cookie, which lands on another backend ->
``401 BAD SESSION`` -> login again: a missing-cookie finding that can only be seen after decryption.
"""

from __future__ import annotations

import subprocess

from lab.curlclient import CurlClient
from lab.exchange import Exchange
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import expect_ok, sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules

COOKIE = "SERVERID"


def _certificate(stack: Stack) -> tuple[str, str]:
    """A throwaway self-signed certificate for the LB address; returns (combined pem for HAProxy, cert)."""
    key, cert, both = (stack.workdir / n for n in ("lb.key", "lb.crt", "lb.pem"))
    done = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=stickylab.test",
            "-addext",
            f"subjectAltName=IP:{stack.lb_ip},DNS:stickylab.test",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise LabError(f"openssl could not make the lab certificate: {done.stderr}")
    both.write_text(cert.read_text() + key.read_text())
    return str(both), str(cert)


def run(stack: Stack) -> Outcome:
    backends = [stack.backend(f"tls{i}", 20 + i, 1) for i in (1, 2, 3)]
    stack.wait_backends(backends)
    port = stack.port(0)
    pem, _cert = _certificate(stack)
    bind = f"{stack.lb_ip}:{port} ssl crt {pem} alpn h2,http/1.1"
    stack.haproxy("haproxy", sticky_haproxy(bind, backends, static_round_robin=True), [(stack.lb_ip, port)])
    keylog = stack.outdir / "keys.log"
    base = f"https://{stack.lb_ip}:{port}"
    log: list[Exchange] = []
    form = b"user=kim"
    with stack.capture([port]):
        h1 = CurlClient(
            stack.client_ip(1), base, stack.workdir, log, http2=False, cacert=stack.workdir / "lb.crt", keylog=keylog
        )
        h2 = CurlClient(
            stack.client_ip(2), base, stack.workdir, log, http2=True, cacert=stack.workdir / "lb.crt", keylog=keylog
        )
        for c in (h1, h2):
            expect_ok(c.run([("POST", "/login", form)])[0], "login")
        for c in (h1, h2):
            for ex in c.run(
                [
                    ("GET", "/app/home", None),
                    ("GET", "/static/style.css", None),
                    ("GET", "/static/app.js", None),
                    ("GET", "/app/inbox", None),
                ]
            ):
                expect_ok(ex, "browsing")
        lost = h2.run([("GET", "/app/inbox", None)], omit=(COOKIE,), note=f"{COOKIE} left out on purpose")[0]
        for ex in h2.run([("POST", "/login", form), ("GET", "/app/inbox", None)]):
            expect_ok(ex, "login again")
        for ex in h1.run([("GET", "/app/inbox", None), ("GET", "/app/home", None)]):
            expect_ok(ex, "browsing")
    if lost.status != 401 or not keylog.exists():
        raise LabError(f"https_h2_keylog: the cookie-less HTTP/2 request got {lost.status} (or no keys.log)")
    protocols = sorted({e.protocol for e in log})
    return Outcome(
        description=(
            "HAProxy terminates TLS (self-signed certificate, ALPN h2,http/1.1) with cookie SERVERID insert in "
            f"front of three backends; curl writes the TLS secrets to keys.log. Protocols on the wire: "
            f"{', '.join(protocols)}. Client {h1.ip} (HTTP/1.1) stays sticky. Client {h2.ip} (HTTP/2) sends "
            f"GET /app/inbox without {COOKIE}: it lands on {lost.backend}, gets 401 BAD SESSION and logs in "
            "again. Analyze with the tshark engine and the key log."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=(COOKIE,), session="JSESSIONID"),
        exchanges=log,
        clients=[h1.ip, h2.ip],
        intended={("missing_cookie", h2.ip, COOKIE)},
        engine="tshark",
        extra={"lb": "haproxy", "tls_keylog": "keys.log", "protocols": {h1.ip: "HTTP/1.1", h2.ip: "HTTP/2"}},
    )


SCENARIO = Scenario("https_h2_keylog", 8, None, ("haproxy", "tcpdump", "curl", "openssl"), run)
