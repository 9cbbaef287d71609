"""The native capture engine: pcap/pcapng -> TCP reassembly -> HTTP/1.x transactions.

Glue only: ``pcapread`` decodes the file, ``reconstruct`` (sans-IO) rebuilds the conversations;
this module runs one into the other, aggregates repetitive diagnostics, and says when the capture
holds only encrypted traffic (``cookie_data="absent"`` with a ``tls.not_decrypted`` diagnostic
that points at the tshark engine and a key log).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from stickyforensics.gc_pause import gc_paused
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.partition import Partition, read_spill
from stickyforensics.ingest.pcapread import open_capture
from stickyforensics.ingest.segment_reader import ReaderFacts
from stickyforensics.model import DiagLevel, Diagnostic, Transaction
from stickyforensics.reconstruct.pairing import (
    HttpReconstructor,
    capture_order,
    heads_cut_diagnostic,
    non_http_diagnostic,
)

KEEP_PER_CODE = 10
"""Diagnostics of one code kept one by one (with their positions); the rest are merged into one with a count."""
TLS_SERVERS_NAMED = 5


@dataclass(frozen=True, slots=True)
class CapturePart:
    """What one process read of a capture: all of it, or the clients of its shard (``--jobs``)."""

    path: str
    format: str
    transactions: tuple[Transaction, ...]
    reader: ReaderFacts
    """About the file itself: counted once, by the process that read the file."""
    stream_diagnostics: tuple[Diagnostic, ...]
    """About the shard's connections (reassembly, HTTP), unaggregated."""
    stats: tuple[tuple[str, int], ...]


def read_capture(
    path: str, *, input_index: int = 0, keep_body_prefix: Callable[[bytes], bool] | None = None
) -> IngestResult:
    """Read one capture with the native engine.

    Raises ``InputError`` only when the file cannot be read as a capture at all; anything wrong
    inside it becomes a diagnostic. Transactions come in capture order (request start time, then
    tcp.stream and depth).
    """
    return assemble_capture([read_capture_part(path, input_index=input_index, keep_body_prefix=keep_body_prefix)])


def read_capture_part(
    path: str, *, input_index: int = 0, keep_body_prefix: Callable[[bytes], bool] | None = None
) -> CapturePart:
    """Read a capture, reassembling every connection.

    ``keep_body_prefix``: which body prefixes to keep (``track.body_prefix``); all when None.
    """
    info, reader = open_capture(path)
    rec = HttpReconstructor(path, info.format, input_index=input_index, keep_body_prefix=keep_body_prefix)
    with gc_paused():
        try:
            rec.process(reader)
        finally:
            reader.close()
        result = rec.finish()
    return CapturePart(
        path=path,
        format=info.format,
        transactions=result.transactions,
        reader=reader.facts(),
        stream_diagnostics=result.diagnostics,
        stats=result.stats,
    )


def read_spill_part(
    partition: Partition, shard: int, *, input_index: int = 0, keep_body_prefix: Callable[[bytes], bool] | None = None
) -> CapturePart:
    """Reassemble one shard of a partitioned capture (``ingest.partition``) from its spill file.

    The part holds the shard's transactions and stream diagnostics; what concerns the file itself is
    in ``partition_part``.
    """
    rec = HttpReconstructor(
        partition.path, partition.format, input_index=input_index, sweep_every=0, keep_body_prefix=keep_body_prefix
    )
    with gc_paused():
        rec.process(read_spill(partition.spill_files[shard], rec.tcp.sweep, rec.tcp.advance))
        result = rec.finish()
    return CapturePart(
        path=partition.path,
        format=partition.format,
        transactions=result.transactions,
        reader=ReaderFacts(),
        stream_diagnostics=result.diagnostics,
        stats=result.stats,
    )


def partition_part(partition: Partition) -> CapturePart:
    """What a partitioning pass learnt of the file itself; first among the parts ``assemble_capture`` joins."""
    return CapturePart(
        path=partition.path,
        format=partition.format,
        transactions=(),
        reader=partition.reader,
        stream_diagnostics=partition.numbering_diagnostics,
        stats=(("tcp_streams", partition.tcp_streams),),
    )


def _frame_order(d: Diagnostic) -> tuple[int, str, str]:
    """Diagnostics by the frame they name (those naming none last), then code and text: the same order
    whichever process found them."""
    pos = d.position or ""
    frame = int(pos[6:]) if pos.startswith("frame ") and pos[6:].isdigit() else 1 << 62
    return (frame, d.code, d.message)


def assemble_capture(parts: Sequence[CapturePart], *, transaction_count: int | None = None) -> IngestResult:
    """One capture's ``IngestResult`` from the parts read by one or several processes.

    ``transaction_count``: how many transactions the parts held, when they come without them.
    """
    first = parts[0]
    path = first.path
    stats: dict[str, int] = {}
    for part in parts:
        for key, value in part.stats:
            # Every part knows the highest tcp.stream it saw: the count is the largest, not a sum.
            stats[key] = max(stats.get(key, 0), value) if key == "tcp_streams" else stats.get(key, 0) + value
    if len(parts) == 1:
        transactions = first.transactions
        stream_diags = [d for d in first.stream_diagnostics if d.code != "tcp.non_http_streams"]
    else:
        transactions = tuple(heapq.merge(*(p.transactions for p in parts), key=capture_order))
        stream_diags = [d for p in parts for d in p.stream_diagnostics if d.code != "tcp.non_http_streams"]
    stream_diags.sort(key=_frame_order)
    if stats.get("non_http_streams"):
        stream_diags.append(non_http_diagnostic(path, stats["non_http_streams"]))
    count = len(transactions) if transaction_count is None else transaction_count
    cut_requests, cut_responses = stats.get("request_heads_cut", 0), stats.get("response_heads_cut", 0)
    if cut_requests or cut_responses:
        stream_diags.append(heads_cut_diagnostic(path, cut_requests, cut_responses, count))
    facts = first.reader
    diagnostics: list[Diagnostic] = [*facts.diagnostics, *stream_diags]

    cookie_data = "present"
    if facts.tls_client_hellos > 0 or facts.tls_servers:
        no_http = not count and stats.get("http_streams", 0) == 0
        diagnostics.append(_tls_diagnostic(path, facts.tls_client_hellos, list(facts.tls_servers), no_http))
        if no_http:
            cookie_data = "absent"

    extra = (
        ("packets", str(facts.frames)),
        ("tcp_segments", str(facts.tcp_segments)),
        ("tcp_streams", str(stats.get("tcp_streams", 0))),
        ("http_streams", str(stats.get("http_streams", 0))),
        ("non_http_streams", str(stats.get("non_http_streams", 0))),
        ("upgraded_streams", str(stats.get("upgraded_streams", 0))),
        ("http_transactions", str(count)),
        ("tls_connections", str(facts.tls_client_hellos)),
        ("truncated_frames", str(facts.truncated_frames)),
        ("tcp_gaps", str(stats.get("tcp_gaps", 0))),
        ("tcp_missing_bytes", str(stats.get("tcp_missing_bytes", 0))),
    )
    return IngestResult(
        path=path,
        format=first.format,
        engine="native",
        transactions=transactions,
        diagnostics=tuple(aggregate_diagnostics(diagnostics)),
        cookie_data=cookie_data,
        extra=extra,
    )


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
