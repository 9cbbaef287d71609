"""The native capture engine: pcap/pcapng -> TCP reassembly -> HTTP/1.x transactions.

Glue only: ``pcapread`` decodes the file, ``reconstruct`` (sans-IO) rebuilds the conversations;
this module runs one into the other, aggregates repetitive diagnostics, and says when the capture
holds only encrypted traffic (``cookie_data="absent"`` with a ``tls.not_decrypted`` diagnostic
that points at the tshark engine and a key log).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.pcapread import open_capture
from stickyforensics.model import DiagLevel, Diagnostic
from stickyforensics.reconstruct.pairing import HttpReconstructor

KEEP_PER_CODE = 10
"""Diagnostics of one code kept one by one (with their positions); the rest are merged into one with a count."""
TLS_SERVERS_NAMED = 5


def read_capture(path: str, *, input_index: int = 0) -> IngestResult:
    """Read one capture with the native engine.

    Raises ``InputError`` only when the file cannot be read as a capture at all; anything wrong
    inside it becomes a diagnostic. Transactions come in capture order (request start time, then
    tcp.stream and depth).
    """
    info, reader = open_capture(path)
    rec = HttpReconstructor(path, info.format, input_index=input_index)
    with _gc_paused():
        try:
            rec.process(reader)
        finally:
            reader.close()
        result = rec.finish()
    stats = dict(result.stats)
    diagnostics: list[Diagnostic] = [*reader.diagnostics, *result.diagnostics]

    cookie_data = "present"
    tls_seen = reader.tls_client_hellos > 0 or bool(reader.tls_servers)
    if tls_seen:
        no_http = not result.transactions and stats.get("http_streams", 0) == 0
        diagnostics.append(_tls_diagnostic(path, reader.tls_client_hellos, reader.tls_servers, no_http))
        if no_http:
            cookie_data = "absent"

    extra = (
        ("packets", str(reader.frames)),
        ("tcp_segments", str(reader.tcp_segments)),
        ("tcp_streams", str(stats.get("tcp_streams", 0))),
        ("http_streams", str(stats.get("http_streams", 0))),
        ("non_http_streams", str(stats.get("non_http_streams", 0))),
        ("upgraded_streams", str(stats.get("upgraded_streams", 0))),
        ("http_transactions", str(len(result.transactions))),
        ("tls_connections", str(reader.tls_client_hellos)),
        ("truncated_frames", str(reader.truncated_frames)),
        ("tcp_gaps", str(stats.get("tcp_gaps", 0))),
        ("tcp_missing_bytes", str(stats.get("tcp_missing_bytes", 0))),
    )
    return IngestResult(
        path=path,
        format=info.format,
        engine="native",
        transactions=result.transactions,
        diagnostics=tuple(aggregate_diagnostics(diagnostics)),
        cookie_data=cookie_data,
        extra=extra,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the transaction graph is built.

    Reading a large capture allocates millions of long-lived objects; every full collection walks
    all of them again, which cost 20-30% of the engine's time. Nothing is lost: the few cycles made
    meanwhile (one set per connection) are collected once the collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _tls_diagnostic(path: str, hellos: int, servers: list[tuple[str, int, str | None]], no_http: bool) -> Diagnostic:
    named = []
    for ip, port, sni in servers[:TLS_SERVERS_NAMED]:
        where = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        named.append(f"{sni} ({where})" if sni else where)
    more = len(servers) - len(named)
    who = ", ".join(named) + (f" and {more} more" if more > 0 else "") if named else "unnamed servers"
    count = max(hellos, 1)
    if no_http:
        message = (
            f"{count} TLS connection(s) to {who} could not be decrypted and the capture has no plain HTTP, so "
            "there are no cookies to analyse; re-run with --engine tshark --tls-keylog FILE (the "
            "SSLKEYLOGFILE of the browser or client) to decrypt them"
        )
        level = DiagLevel.WARNING
    else:
        message = (
            f"{count} TLS connection(s) to {who} were not decrypted; only the plain HTTP was analysed "
            "(--engine tshark --tls-keylog FILE decrypts them)"
        )
        level = DiagLevel.INFO
    return Diagnostic("tls.not_decrypted", message, path, None, level, count)


def aggregate_diagnostics(diagnostics: Iterable[Diagnostic], keep: int = KEEP_PER_CODE) -> list[Diagnostic]:
    """Keep the first ``keep`` diagnostics of each code as they are; merge the rest into one with a count.

    The merged one keeps the first of the merged positions and says how many more there were, so a
    capture with thousands of gaps gives a readable list instead of thousands of lines.
    """
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    merged: dict[str, int] = {}
    for d in diagnostics:
        n = seen.get(d.code, 0)
        seen[d.code] = n + 1
        if n < keep:
            out.append(d)
            continue
        idx = merged.get(d.code)
        if idx is None:
            merged[d.code] = len(out)
            out.append(
                replace(
                    d,
                    message=f"{d.message} (and more like it: {d.code} repeated beyond the first {keep})",
                )
            )
        else:
            out[idx] = replace(out[idx], count=out[idx].count + d.count)
    return out
