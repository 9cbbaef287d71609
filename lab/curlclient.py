"""curl as a lab client: ``--interface`` for the source address, a cookie-jar file, and the exchanges
read back from curl's own ``--trace-ascii`` log (so the record is what curl really sent and received,
over HTTP/1.1 or HTTP/2, TLS keys written to ``SSLKEYLOGFILE``).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from lab.exchange import Exchange, parse_cookie_header, parse_set_cookie
from lab.procs import LabError

_LINE = re.compile(r"^([0-9a-f]{4}): ?(.*)$")


def _header_lines(lines: list[tuple[int, str]]) -> list[str]:
    """Rebuild header lines of one trace chunk: curl wraps at 64 columns; offsets show where CRLFs were."""
    out: list[str] = []
    current = ""
    for i, (offset, text) in enumerate(lines):
        current += text
        nxt = lines[i + 1][0] if i + 1 < len(lines) else None
        if nxt is None or nxt != offset + len(text):
            out.append(current)
            current = ""
    return out


def parse_trace(text: str) -> list[tuple[list[str], list[str]]]:
    """(request header lines, response header lines) per transfer, in order, from ``--trace-ascii``."""
    chunks: list[tuple[str, list[tuple[int, str]]]] = []
    current: list[tuple[int, str]] | None = None
    for raw in text.splitlines():
        if raw.startswith(("=> Send header", "<= Recv header")):
            current = []
            chunks.append(("send" if raw.startswith("=>") else "recv", current))
        elif raw.startswith(("=>", "<=", "==")):
            current = None
        elif current is not None and (m := _LINE.match(raw)):
            current.append((int(m.group(1), 16), m.group(2)))
    pairs: list[tuple[list[str], list[str]]] = []
    pending: list[str] | None = None
    response: list[str] = []
    for direction, lines in chunks:
        header_lines = _header_lines(lines)
        if direction == "send":
            pending = [h for h in header_lines if h]
            response = []
            continue
        for line in header_lines:
            if line:
                response.append(line)
                continue
            # blank line: end of one response head (an interim 1xx is followed by the final one)
            if response and not re.match(r"HTTP/\S+ 1\d\d", response[0]) and pending is not None:
                pairs.append((pending, response))
                pending = None
            response = []
    return pairs


class CurlClient:
    """Runs curl transfers from one source address, sharing a cookie jar file between invocations."""

    def __init__(
        self,
        ip: str,
        base_url: str,
        workdir: Path,
        log: list[Exchange],
        *,
        http2: bool,
        cacert: Path | None = None,
        keylog: Path | None = None,
    ) -> None:
        self.ip = ip
        self.base_url = base_url.rstrip("/")
        self.workdir = workdir
        self.log = log
        self.http2 = http2
        self.cacert = cacert
        self.keylog = keylog
        self.jar = workdir / f"cookies-{ip}.txt"
        self._n = 0

    def _cookie_args(self, omit: tuple[str, ...]) -> list[str]:
        """Send the jar (minus ``omit``, left out on purpose) and store whatever comes back in the jar."""
        if not omit:
            return ["-b", str(self.jar), "-c", str(self.jar)]
        partial = self.jar.with_suffix(".partial.txt")
        kept = [
            line
            for line in (self.jar.read_text(encoding="utf-8").splitlines() if self.jar.exists() else [])
            if not (len(f := line.split("\t")) == 7 and f[5] in omit)
        ]
        partial.write_text("\n".join(kept) + "\n", encoding="utf-8")
        return ["-b", str(partial), "-c", str(self.jar)]

    def run(
        self, transfers: list[tuple[str, str, bytes | None]], *, omit: tuple[str, ...] = (), note: str = ""
    ) -> list[Exchange]:
        """One curl invocation (one connection, reused) for ``[(method, target, body)]``."""
        self._n += 1
        trace = self.workdir / f"curl-{self.ip}-{self._n}.trace"
        argv = [
            "curl",
            "-sS",
            "--interface",
            self.ip,
            "--trace-ascii",
            str(trace),
            "--max-time",
            "15",
            "-A",
            "lab-curl/7 (curl)",
            "--http2" if self.http2 else "--http1.1",
        ]
        if self.cacert is not None:
            argv += ["--cacert", str(self.cacert)]
        argv += self._cookie_args(omit)
        for i, (method, target, body) in enumerate(transfers):
            if i:
                argv.append("--next")
                argv += ["--interface", self.ip, "--http2" if self.http2 else "--http1.1", "-A", "lab-curl/7 (curl)"]
                if self.cacert is not None:
                    argv += ["--cacert", str(self.cacert)]
                argv += self._cookie_args(omit)
            argv += ["-X", method, "-o", os.devnull]
            if body is not None:
                form = b"=" in body and b"\n" not in body
                ctype = "application/x-www-form-urlencoded" if form else "application/octet-stream"
                argv += ["--data-binary", body.decode("latin-1"), "-H", f"Content-Type: {ctype}"]
            argv.append(self.base_url + target)
        env = dict(os.environ)
        if self.keylog is not None:
            env["SSLKEYLOGFILE"] = str(self.keylog)
        started = time.time()
        try:
            done = subprocess.run(argv, capture_output=True, env=env, timeout=30, check=False)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"curl from {self.ip} did not finish in 30 s: {argv}") from exc
        if done.returncode != 0:
            raise LabError(f"curl from {self.ip} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
        pairs = parse_trace(trace.read_text(encoding="utf-8", errors="replace"))
        if len(pairs) != len(transfers):
            raise LabError(f"curl trace {trace} has {len(pairs)} exchanges, expected {len(transfers)}")
        out: list[Exchange] = []
        now = time.time()
        for (method, target, _body), (req, resp) in zip(transfers, pairs, strict=True):
            cookies: dict[str, str] = {}
            for line in req[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "cookie":
                    cookies.update(parse_cookie_header(value.strip()))
            status_parts = resp[0].split() if resp else []
            headers = [(n.strip().lower(), v.strip()) for n, _, v in (line.partition(":") for line in resp[1:]) if n]
            set_cookies = [c for n, v in headers if n == "set-cookie" and (c := parse_set_cookie(v, now)) is not None]
            ex = Exchange(
                client=self.ip,
                time=started,
                method=method,
                target=target,
                cookies=cookies,
                status=int(status_parts[1]) if len(status_parts) > 1 else None,
                backend=next((v for n, v in headers if n == "x-backend"), None),
                set_cookies=set_cookies,
                cache=next((v for n, v in headers if n == "x-cache-status"), None),
                protocol=status_parts[0] if status_parts else "",
                note=note,
            )
            out.append(ex)
            self.log.append(ex)
        return out
