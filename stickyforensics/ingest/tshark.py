"""The tshark engine (``--engine tshark``): Wireshark's dissectors for HTTPS (TLS key log) and HTTP/2.

One ``tshark -T fields`` run per capture; its rows stream into ``CaptureAssembler`` (tshark_capture.py),
which builds the same ``Transaction``s the native engine builds, so every detector works unchanged.
Why fields output and not JSON/EK or pyshark, with measurements: docs/decisions/0003-tshark-engine.md.

tshark runs with an empty, private configuration folder (``WIRESHARK_CONFIG_DIR``): a user's Wireshark
profile (disabled protocols, "decode as", a key log set in the GUI) must not change a forensic result.
Name resolution is off (``-n``): reading a capture never sends a DNS query.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile

from stickyforensics.errors import InputError, StickyError
from stickyforensics.gc_pause import gc_paused
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.tshark_capture import CaptureAssembler
from stickyforensics.ingest.tshark_fields import tshark_command
from stickyforensics.model import DiagLevel, Diagnostic

TSHARK_MISSING = "tshark not found: install the Debian package 'tshark'"

_NOISE = ("Running as user",)
"""stderr lines tshark prints on every run that say nothing about the file."""


def _env(config_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = config_dir
    env.pop("SSLKEYLOGFILE", None)
    return env


def tshark_available() -> str | None:
    """tshark's version (``"4.0.17"``), or None when tshark is not installed or does not run."""
    exe = shutil.which("tshark")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="sf-tshark-") as config_dir:
        try:
            proc = subprocess.run(
                [exe, "--version"], capture_output=True, text=True, timeout=60, env=_env(config_dir), check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
    if proc.returncode != 0:
        return None
    first = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""
    match = re.search(r"\d+\.\d+\.\d+", first)
    return match.group(0) if match else (first or None)


def _first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        line = line.strip()
        if line and not line.startswith(_NOISE):
            return line
    return "tshark failed without a message"


def _capture_format(path: str) -> str:
    from stickyforensics.ingest.sniff import sniff

    fmt = sniff(path)
    if fmt == "har":
        raise InputError(path, "this is a HAR file; the tshark engine reads pcap and pcapng captures")
    return fmt


def _run(cmd: list[str], assembler: CaptureAssembler) -> tuple[int, str]:
    """Run tshark, streaming its rows into ``assembler``; (exit status, stderr). tshark is killed if
    reading stops early (an exception, Ctrl-C), so no process outlives the call."""
    with (
        tempfile.TemporaryDirectory(prefix="sf-tshark-") as config_dir,
        tempfile.TemporaryFile(mode="w+b") as errors,  # a file, not a pipe: a chatty stderr cannot block tshark
    ):
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, env=_env(config_dir)
        )
        try:
            assert proc.stdout is not None
            # newline="\n": tshark escapes CR inside values, so only LF ends a row.
            for line in io.TextIOWrapper(proc.stdout, encoding="utf-8", errors="replace", newline="\n"):
                assembler.feed(line)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        errors.seek(0)
        return returncode, errors.read().decode("utf-8", "replace")


def tls_server_ports(path: str) -> tuple[int, ...]:
    """The server ports of the TLS ClientHellos in ``path`` (a pass of the native reader), for tshark to
    decode as TLS: otherwise a connection whose client port is some protocol's registered port (34980
    is EtherCAT's) goes to that dissector and is neither decrypted nor reported. Empty when the native
    reader cannot read the file (tshark may still)."""
    from stickyforensics.ingest.pcapread import open_capture

    try:
        _info, reader = open_capture(path)
    except StickyError:
        return ()
    try:
        for _segment in reader:
            pass
    finally:
        reader.close()
    return tuple(sorted({port for _server, port, _sni in reader.tls_servers}))


def read_capture_tshark(path: str, *, input_index: int = 0, keylog: str | None = None) -> IngestResult:
    """Read one pcap/pcapng with tshark; decrypt TLS with ``keylog`` (SSLKEYLOGFILE / NSS key log format).

    Raises ``InputError`` when tshark is missing, the key log file is missing, or tshark cannot read the
    capture at all. A capture tshark reads partly (cut short) gives its transactions and a
    ``capture.read_error`` diagnostic. TLS connections nothing could be read from give a
    ``tls.not_decrypted`` diagnostic and ``cookie_data`` ``absent`` (nothing read) or ``partial``.
    """
    exe = shutil.which("tshark")
    if exe is None:
        raise InputError(path, TSHARK_MISSING)
    if keylog is not None and not os.path.isfile(keylog):
        raise InputError(keylog, "TLS key log file not found (--tls-keylog expects an SSLKEYLOGFILE)")
    kind = _capture_format(path)
    assembler = CaptureAssembler(path, kind, input_index, keylog)
    with gc_paused():
        tls_ports = tls_server_ports(path) if keylog is not None else ()
        returncode, stderr = _run(tshark_command(exe, path, keylog, tls_ports), assembler)
        result = assembler.finish()
    extra_diags: list[Diagnostic] = []
    if returncode != 0:
        message = _first_error(stderr)
        if assembler.frames == 0:
            raise InputError(path, message)
        extra_diags.append(
            Diagnostic(
                code="capture.read_error",
                message=f"tshark stopped early: {message}",
                source=path,
                position=f"frame {assembler.frames}",
                level=DiagLevel.ERROR,
            )
        )
    return IngestResult(
        path=path,
        format=kind,
        engine="tshark",
        transactions=result.transactions,
        diagnostics=result.diagnostics + tuple(extra_diags),
        cookie_data=result.cookie_data,
        extra=(
            ("packets", str(result.frames)),
            ("tls_connections", str(result.tls_connections)),
            ("tls_not_decrypted", str(result.tls_not_decrypted)),
            ("http2_streams", str(result.http2_streams)),
        ),
    )
