"""Start, watch and stop the lab's processes, always by the PID we got when starting them.

Every process is started in its own session (so its own process group, whose id is its PID) with its
output in a log file, registered in a ``Supervisor``; ``stop_all`` runs from ``finally`` blocks and from
``atexit``, so HAProxy, nginx, tcpdump and backends do not outlive the lab on errors or Ctrl-C.
Every wait here is bounded.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class LabError(RuntimeError):
    """Something the lab needs did not work; the message says what and where to look."""


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, limit: int = 2000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-limit:]
        except OSError:
            return ""


def _signal_group(pid: int, sig: int) -> None:
    """Signal the process group we created for ``pid`` (its id is ``pid``).

    Linux never hands out a PID that is still some group's id, so while members of our group live the
    id is ours; once the group is empty, ``ProcessLookupError`` says there is nothing left to stop.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class Supervisor:
    """The processes one lab run started, stopped in reverse order of start."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: list[Proc] = []
        self.closed = False
        self._lock = threading.Lock()  # scenarios run in threads
        atexit.register(self.stop_all)

    def close(self) -> None:
        """Stop everything and refuse new processes (Ctrl-C: scenario threads must not start more)."""
        self.closed = True
        self.stop_all()

    def start(
        self, name: str, argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> Proc:
        if self.closed:
            raise LabError(f"not starting {name}: the lab is stopping")
        self.logdir.mkdir(parents=True, exist_ok=True)
        log = self.logdir / f"{name}.log"
        with log.open("wb") as out:
            try:
                popen = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=cwd,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise LabError(f"cannot start {name} ({argv[0]}): {exc}") from exc
        proc = Proc(name, popen, log)
        with self._lock:
            self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int | None:
        """Signal ``proc`` (by its PID / process group), wait at most ``timeout``, then SIGKILL."""
        if proc.alive():
            _signal_group(proc.pid, sig)
            try:
                proc.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.popen.wait(timeout=timeout)
        else:
            # the leader is gone; children it left in its group (nginx workers) still go
            _signal_group(proc.pid, signal.SIGKILL)
        with self._lock:
            if proc in self.procs and not proc.alive():
                self.procs.remove(proc)
        return proc.popen.returncode

    def stop_all(self) -> None:
        with self._lock:
            procs = list(self.procs)
        for proc in reversed(procs):
            self.stop(proc, timeout=3.0)


def wait_port(host: str, port: int, proc: Proc | None = None, timeout: float = 8.0) -> None:
    """Wait (bounded) until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise LabError(
                f"{proc.name} exited with {proc.popen.returncode} before listening on {host}:{port}:\n{proc.tail()}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    detail = f"\n{proc.tail()}" if proc is not None else ""
    raise LabError(f"nothing listens on {host}:{port} after {timeout:.0f} s ({last}){detail}")


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_file_text(path: Path, needle: str, proc: Proc, timeout: float = 8.0) -> None:
    """Wait (bounded) until ``path`` contains ``needle`` (e.g. tcpdump's 'listening on')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if needle in path.read_text(encoding="utf-8", errors="replace"):
                return
        except OSError:
            pass
        if not proc.alive():
            raise LabError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        time.sleep(0.05)
    raise LabError(f"{proc.name} did not say {needle!r} within {timeout:.0f} s:\n{proc.tail()}")
