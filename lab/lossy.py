"""Real packet loss on a loopback interface of our own: a network namespace with a dropping qdisc.

``tc ... netem loss`` is the obvious tool, but many kernels (containers, micro-VMs) ship without
``sch_netem``; then a token-bucket shaper (``tbf``) with a small queue limit drops the bursts that do not
fit, which TCP repairs with real retransmissions. Either way the loss happens only inside a namespace
the lab creates and deletes, never on the host's own ``lo``. The client runs inside the namespace too
(``python -m lab.lossy client ...``) and prints its exchanges as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.exchange import Exchange
from lab.procs import LabError

QDISCS: tuple[tuple[str, list[str]], ...] = (
    ("netem loss 8%", ["netem", "loss", "8%"]),
    (
        "tbf drop-tail shaper (rate 8mbit, 6 kB queue) because sch_netem is unavailable",
        ["tbf", "rate", "8mbit", "burst", "6000", "limit", "6000"],
    ),
)


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15, check=False)


def _remove_stale_namespaces() -> None:
    """Namespaces ``sflab<pid>`` left by a lab run that was killed hard (its process is gone)."""
    listing = _ip("netns", "list")
    for line in listing.stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith("sflab") and name[5:].isdigit() and not Path(f"/proc/{name[5:]}").exists():
            _ip("netns", "del", name)


@contextmanager
def lossy_namespace(name: str) -> Iterator[str | None]:
    """Yield how loss is produced in namespace ``name``: a qdisc description, or None when no namespace or
    no dropping qdisc could be set up here (the caller then says so in the scenario's description)."""
    _remove_stale_namespaces()
    made = _ip("netns", "add", name)
    if made.returncode != 0:
        yield None
        return
    try:
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "mtu", "1500", "up")
        method = None
        for label, spec in QDISCS:
            done = _ip("netns", "exec", name, "tc", "qdisc", "replace", "dev", "lo", "root", *spec)
            if done.returncode == 0:
                method = label
                break
        yield method
    finally:
        _ip("netns", "del", name)


def ns_argv(name: str, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", name, *argv]


def run_client(name: str, ip: str, host: str, port: int, downloads: int) -> list[Exchange]:
    argv = ns_argv(
        name,
        [
            sys.executable,
            "-m",
            "lab.lossy",
            "client",
            "--ip",
            ip,
            "--host",
            host,
            "--port",
            str(port),
            "--downloads",
            str(downloads),
        ],
    )
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LabError("the client in the lossy namespace did not finish in 60 s") from exc
    if done.returncode != 0:
        raise LabError(f"the client in the lossy namespace failed: {done.stderr[-1500:]}")
    return [Exchange.from_json(json.loads(line)) for line in done.stdout.splitlines()]


def _client_main(args: argparse.Namespace) -> None:
    import socket

    from lab.httpclient import HttpClient
    from lab.scenarios.common import browse, login

    deadline = time.monotonic() + 8
    while True:  # the backend starts in parallel: wait (bounded) until it listens
        try:
            socket.create_connection((args.host, args.port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    log: list[Exchange] = []
    client = HttpClient(args.ip, args.host, args.port, log, timeout=20)
    login(client, "lossy")
    for _ in range(args.downloads):
        browse(client, ["/app/home", "/static/big.bin"])
    client.close()
    for ex in log:
        print(json.dumps(ex.to_json()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.lossy")
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client", help="run the lossy-link client (inside the namespace)")
    c.add_argument("--ip", required=True)
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--downloads", type=int, default=4)
    args = parser.parse_args(argv)
    _client_main(args)


if __name__ == "__main__":
    main()
