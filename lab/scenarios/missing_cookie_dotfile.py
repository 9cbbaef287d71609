"""Seed 000: a sync client drops the NetScaler persistence cookie when uploading a dot-file.

Windows 7 WinHTTP left the ``NSC_`` cookie out of requests whose file name began with a dot. Here a
Python client does the same on purpose (its jar holds the cookie; it omits it for ``/upload/.name``):
HAProxy, inserting a NetScaler-format cookie, balances that request to another backend, which answers
``401 BAD SESSION``; the client logs in again (the user is prompted for credentials). A second client
uploading ordinary files stays sticky.
"""

from __future__ import annotations

from lab.exchange import Exchange
from lab.httpclient import HttpClient
from lab.lbcookies import netscaler_cookie_name, netscaler_cookie_value
from lab.procs import LabError
from lab.scenarios.base import Outcome, Scenario
from lab.scenarios.common import expect_ok, login, sticky_haproxy
from lab.stack import Stack
from lab.truth import Rules

VSERVER = "vs_datanow_https"
USER_AGENT = "DataNow-LabClient/1.0 (emulates WinHTTP on Windows 7)"


def _sync(client: HttpClient, names: list[str], cookie: str, user: str) -> None:
    """Upload files the way the buggy client does; log in again whenever the server lost the session."""
    for name in names:
        omit = (cookie,) if name.startswith(".") else ()
        note = f"WinHTTP-style bug: {cookie} left out for a dot-file" if omit else ""
        ex = client.request("PUT", f"/upload/{name}", f"contents of {name}\n".encode() * 8, omit=omit, note=note)
        if ex.status == 401:
            login(client, user)
        else:
            expect_ok(ex, "upload")


def run(stack: Stack) -> Outcome:
    backends = [stack.backend(f"dn{i}", 20 + i, 1) for i in (1, 2, 3)]
    stack.wait_backends(backends)
    port = stack.port(0)
    cookie = netscaler_cookie_name(VSERVER)
    labels = {b.node: netscaler_cookie_value(b.ip, b.port) for b in backends}
    stack.haproxy(
        "haproxy",
        sticky_haproxy(
            f"{stack.lb_ip}:{port}", backends, cookie=f"cookie {cookie} insert indirect nocache httponly", labels=labels
        ),
        [(stack.lb_ip, port)],
    )
    log: list[Exchange] = []
    with stack.capture([port]):
        buggy = HttpClient(stack.client_ip(1), stack.lb_ip, port, log, user_agent=USER_AGENT)
        fine = HttpClient(stack.client_ip(2), stack.lb_ip, port, log, user_agent=USER_AGENT)
        login(buggy, "alice")
        login(fine, "bob")
        _sync(buggy, ["test.txt", "report.docx", ".test.txt", "notes.txt", "budget.xlsx"], cookie, "alice")
        _sync(fine, ["test.txt", "plan.docx", "photo.jpg", "notes.txt"], cookie, "bob")
        _sync(buggy, [".gitconfig", "summary.txt"], cookie, "alice")
        expect_ok(buggy.request("GET", "/app/files"), "listing")
        expect_ok(fine.request("GET", "/app/files"), "listing")
        buggy.close()
        fine.close()
    rejected = [e for e in log if e.client == buggy.ip and e.status == 401]
    if not rejected:
        raise LabError("missing_cookie_dotfile: the dot-file uploads were never rejected")
    return Outcome(
        description=(
            f"Seed 000. HAProxy inserts a NetScaler-format cookie {cookie} (vserver '{VSERVER}') in front of three "
            f"backends. Client {buggy.ip} (a sync client with the Windows 7 WinHTTP bug, emulated) leaves it out "
            f"when uploading files whose name begins with a dot: {len(rejected)} such PUT(s) reached another "
            f"backend and got 401 BAD SESSION, and the client logged in again each time. Client {fine.ip} uploads "
            f"ordinary files and stays sticky."
        ),
        inputs=["capture.pcap"],
        rules=Rules(persistence=(cookie,), session="JSESSIONID"),
        exchanges=log,
        clients=[buggy.ip, fine.ip],
        intended={("missing_cookie", buggy.ip, cookie)},
        extra={"lb": "haproxy"},
    )


SCENARIO = Scenario("missing_cookie_dotfile", 3, "000", ("haproxy", "tcpdump"), run)
