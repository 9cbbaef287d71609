"""tcpdump on the loopback interface, limited to the lab's ports, started and stopped by PID."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lab.procs import LabError, Supervisor, wait_file_text


def port_filter(ports: Iterable[int]) -> str:
    """A BPF expression matching TCP/UDP traffic on exactly these ports."""
    uniq = sorted(set(ports))
    if not uniq:
        raise LabError("a capture needs at least one port")
    return " or ".join(f"port {p}" for p in uniq)


class Capture:
    """One running tcpdump; ``stop()`` returns how many packets it wrote."""

    def __init__(self, sup: Supervisor, pcap: Path, ports: Sequence[int], *, netns: str | None = None) -> None:
        self.sup = sup
        self.pcap = pcap
        self.filter = port_filter(ports)
        # --immediate-mode: hand every packet over at once (the default 1 s buffering loses the tail of a short
        # run at SIGINT); -Z root keeps the file owned by the lab's user instead of tcpdump's.
        argv = ["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "32768", "-s", "0", "-w", str(pcap)]
        if os.geteuid() == 0:
            argv += ["-Z", "root"]
        argv.append(self.filter)
        if netns is not None:
            argv = ["ip", "netns", "exec", netns, *argv]
        name = f"tcpdump-{pcap.parent.name}-{pcap.stem}"
        self.proc = sup.start(name, argv)
        # tcpdump prints "listening on lo" once the filter is attached: only then is it safe to begin
        wait_file_text(self.proc.log, "listening on", self.proc, timeout=8.0)

    def stop(self) -> int:
        time.sleep(0.3)  # let the last ACK/FIN exchanges reach the wire before tcpdump flushes
        self.sup.stop(self.proc, sig=signal.SIGINT, timeout=5.0)
        text = self.proc.tail(4000)
        m = re.search(r"(\d+) packets? captured", text)
        if m is None or not self.pcap.exists():
            raise LabError(f"tcpdump did not finish {self.pcap} cleanly:\n{text}")
        if int(m.group(1)) == 0:
            raise LabError(f"tcpdump wrote no packet to {self.pcap}:\n{text}")
        dropped = re.search(r"(\d+) packets? dropped by kernel", text)
        if dropped is not None and int(dropped.group(1)) > 0:
            raise LabError(f"tcpdump dropped {dropped.group(1)} packets writing {self.pcap}; rerun the lab")
        return int(m.group(1))


@contextmanager
def capture(sup: Supervisor, pcap: Path, ports: Sequence[int], *, netns: str | None = None) -> Iterator[Capture]:
    """Capture while the body runs; tcpdump is stopped (SIGINT, bounded wait) even if the body fails."""
    cap = Capture(sup, pcap, ports, netns=netns)
    ok = False
    try:
        yield cap
        ok = True
    finally:
        if ok:
            cap.stop()
        else:
            sup.stop(cap.proc, sig=signal.SIGINT, timeout=3.0)
