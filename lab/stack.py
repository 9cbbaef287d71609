"""One scenario's running stack: addresses, ports, backends, HAProxy/nginx instances, capture.

Each scenario gets its own address block and port block so the samples never mix clients:
scenario number ``n`` uses ``127.0.n.0/24`` (LB ``.10``, clients ``.11``..., backends ``.21``...,
datacenter LBs ``.31``...) and TCP ports ``18000 + 100 n`` ... ``+ 99``.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab.capture import Capture, capture
from lab.procs import LabError, Proc, Supervisor, port_free, wait_port

REPO = Path(__file__).resolve().parent.parent

HAPROXY_DEFAULTS = """\
global
    maxconn 512
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option http-ignore-probes
    option forwardfor
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 30s
    timeout check 1s
"""


@dataclass
class Backend:
    node: str
    ip: str
    port: int
    proc: Proc
    log: Path

    @property
    def addr(self) -> str:
        return f"{self.ip}:{self.port}"


class Stack:
    """Everything one scenario starts; ``close()`` stops it all (called from a finally block)."""

    def __init__(self, number: int, sup: Supervisor, workdir: Path, outdir: Path) -> None:
        if not 1 <= number <= 99:
            raise LabError(f"scenario number {number} out of range")
        self.number = number
        self.sup = sup
        self.workdir = workdir
        self.outdir = outdir
        self.started: list[Proc] = []
        workdir.mkdir(parents=True, exist_ok=True)
        outdir.mkdir(parents=True, exist_ok=True)

    # --- addressing ------------------------------------------------------------------------------

    def ip(self, host: int) -> str:
        return f"127.0.{self.number}.{host}"

    def port(self, offset: int) -> int:
        if not 0 <= offset < 100:
            raise LabError(f"port offset {offset} out of range")
        return 18000 + 100 * self.number + offset

    @property
    def lb_ip(self) -> str:
        return self.ip(10)

    def client_ip(self, k: int) -> str:
        """The k-th client (1-based): 127.0.n.11, .12, ..."""
        return self.ip(10 + k)

    def _claim(self, ip: str, port: int) -> None:
        if not port_free(ip, port):
            raise LabError(f"{ip}:{port} is already in use; stop whatever listens there and rerun the lab")

    def _start(self, name: str, argv: Sequence[str]) -> Proc:
        proc = self.sup.start(f"{self.number:02d}-{name}", argv)
        self.started.append(proc)
        return proc

    # --- components ------------------------------------------------------------------------------

    def backend(
        self, node: str, host: int, port_offset: int, *, cookie: str = "JSESSIONID", style: str = "tomcat"
    ) -> Backend:
        ip, port = self.ip(host), self.port(port_offset)
        self._claim(ip, port)
        log = self.workdir / f"backend-{node}.jsonl"
        proc = self._start(
            f"backend-{node}",
            [
                sys.executable,
                "-m",
                "lab.backend",
                "--node",
                node,
                "--host",
                ip,
                "--port",
                str(port),
                "--cookie",
                cookie,
                "--style",
                style,
                "--log",
                str(log),
            ],
        )
        return Backend(node, ip, port, proc, log)

    def wait_backends(self, backends: Sequence[Backend]) -> None:
        for b in backends:
            wait_port(b.ip, b.port, b.proc)

    def haproxy(self, name: str, config: str, listens: Sequence[tuple[str, int]]) -> Proc:
        """Validate ``config`` with ``haproxy -c``, run it in the foreground, wait for its listeners."""
        for ip, port in listens:
            self._claim(ip, port)
        path = self.workdir / f"{name}.cfg"
        path.write_text(config, encoding="utf-8")
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(path)], capture_output=True, text=True, timeout=20)
        if check.returncode != 0:
            raise LabError(f"haproxy rejects {path}:\n{check.stdout}{check.stderr}")
        proc = self._start(name, ["haproxy", "-db", "-f", str(path)])
        for ip, port in listens:
            wait_port(ip, port, proc)
        return proc

    def nginx(self, name: str, http_block: str, listens: Sequence[tuple[str, int]]) -> Proc:
        """nginx in the foreground with its own prefix, temp paths and logs under the work dir."""
        for ip, port in listens:
            self._claim(ip, port)
        prefix = self.workdir / name
        for sub in ("logs", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi", "cache"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        user = getpass.getuser()
        conf = prefix / "nginx.conf"
        conf.write_text(
            ("user " + user + ";\n" if user == "root" else "")
            + "daemon off;\nmaster_process on;\nworker_processes 1;\n"
            f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log notice;\n"
            "events { worker_connections 128; }\n"
            "http {\n"
            f"    access_log {prefix}/logs/access.log;\n"
            f"    client_body_temp_path {prefix}/tmp/body;\n    proxy_temp_path {prefix}/tmp/proxy;\n"
            f"    fastcgi_temp_path {prefix}/tmp/fastcgi;\n    uwsgi_temp_path {prefix}/tmp/uwsgi;\n"
            f"    scgi_temp_path {prefix}/tmp/scgi;\n" + http_block.replace("@PREFIX@", str(prefix)) + "\n}\n",
            encoding="utf-8",
        )
        argv = ["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs" / "error.log")]
        check = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True, timeout=20)
        if check.returncode != 0:
            raise LabError(f"nginx rejects {conf}:\n{check.stdout}{check.stderr}")
        proc = self._start(name, argv)
        for ip, port in listens:
            wait_port(ip, port, proc)
        return proc

    @contextmanager
    def capture(self, ports: Sequence[int], name: str = "capture.pcap") -> Iterator[Capture]:
        with capture(self.sup, self.outdir / name, ports) as cap:
            yield cap

    def kill(self, proc: Proc, sig: int) -> None:
        """Stop one component on purpose (a crashed backend) by its PID."""
        self.sup.stop(proc, sig=sig, timeout=3.0)

    def close(self) -> None:
        for proc in reversed(self.started):
            self.sup.stop(proc, timeout=3.0)
        self.started.clear()


def require_tools(names: Sequence[str]) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise LabError(
            f"the lab needs {', '.join(missing)} (Debian: haproxy nginx-light tcpdump tshark curl openssl "
            "iproute2 chromium); install them, or run scripts/setup.sh test"
        )
