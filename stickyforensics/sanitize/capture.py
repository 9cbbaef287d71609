"""``export_capture``: a capture's HTTP exchanges -> HAR 1.2 (sanitized by default).

The capture is read as ``analyze`` reads it (``pipeline.read_input``: native engine, or tshark
for TLS / HTTP/2), each exchange becomes an entry (``export``), and the entries are sanitized
with the same rules as a HAR file (``harfile``). A native-engine capture larger than a shard
(``sharded.SHARD_BYTES``) is read shard by shard instead (``capture_stream``): the same files,
in memory bounded by a shard rather than by the capture.

A browser's HAR file is one client. An exported capture keeps each entry's client in
``_clientIPAddress`` / ``_clientPort``, which the HAR reader reads, so a single file analyses
with the capture's clients apart; ``per_client`` writes one HAR per client, named after it, into
a folder instead (smaller files to share one at a time).
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stickyforensics.errors import InputError
from stickyforensics.ingest.base import IngestResult
from stickyforensics.pipeline import EngineOptions, analyze_results, read_input
from stickyforensics.sanitize import har_io
from stickyforensics.sanitize.export import capture_entries, har_frame
from stickyforensics.sanitize.harfile import MARK, HarSanitizer, same_file, sanitized_mark
from stickyforensics.sanitize.options import SanitizeOptions
from stickyforensics.sanitize.stats import SanitizeStats
from stickyforensics.sharded import SHARD_BYTES, shard_count

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")

Progress = Callable[[str, int, int], None]
"""(label, done, total), as ``pipeline.Progress``."""


@dataclass(slots=True)
class ExportResult:
    files: list[tuple[str, int]] = field(default_factory=list)
    """(written file, entries in it)."""
    clients: int = 0
    """Clients in the capture, as ``analyze`` tells them apart."""
    diagnostics: int = 0
    """Capture diagnostics (gaps, truncation...) that a HAR has no place for."""
    stats: SanitizeStats | None = None
    """What sanitizing replaced (None when not sanitized)."""


def client_file_name(client: str) -> str:
    """A portable file name for a client identity (``127.0.0.1.har``, ``fe80__1.har``)."""
    return (_UNSAFE_NAME.sub("_", client) or "client") + ".har"


def read_capture(path: str, engine: EngineOptions) -> IngestResult:
    result = read_input(path, 0, engine)
    if result.format == "har":
        raise InputError(path, "is a HAR file, not a capture: 'stickyforensics sanitize' sanitizes HAR files")
    return result


def _groups(result: IngestResult, options: SanitizeOptions, per_client: bool) -> list[tuple[str | None, list[Any]]]:
    """(client or None, entries) per output file."""
    if not per_client:
        return [(None, capture_entries(result.transactions))]
    report = analyze_results([result], options.config)
    return [(s.key.value, capture_entries(s.transactions)) for s in report.sessions]


def export_capture(
    in_path: str,
    out_path: str,
    options: SanitizeOptions,
    *,
    engine: EngineOptions | None = None,
    sanitize: bool = True,
    per_client: bool = False,
    shard_bytes: int = SHARD_BYTES,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the capture's exchanges as HAR to ``out_path`` (a folder with ``per_client``).

    A capture the native engine reads that is larger than ``shard_bytes`` is exported shard by shard
    (``capture_stream``: the same files, in bounded memory); 0: never. ``progress`` (label, done, total)
    follows that work: the split, the groups of clients, the entries written, the clients' files.
    """
    if not per_client and same_file(in_path, out_path):
        raise InputError(out_path, "the output would overwrite the input; name another file")
    engine = engine or EngineOptions()
    run = HarSanitizer(options) if sanitize else None
    shards = _shards(in_path, engine, shard_bytes)
    if shards > 1:
        with tempfile.TemporaryDirectory(prefix="stickyforensics-export-") as directory:
            return _export_groups(
                in_path,
                out_path,
                options,
                run,
                per_client,
                _streamed(in_path, shards, directory, engine, options, run, per_client, progress),
                progress,
            )
    result = read_capture(in_path, engine)
    groups = _groups(result, options, per_client)
    clients = len(groups) if per_client else len({tx.client.ip for tx in result.transactions if tx.client is not None})
    if run is not None:
        run.learn(entry for _client, entries in groups for entry in entries)
    listed: Groups = [(client, functools.partial(iter, entries)) for client, entries in groups]
    return _export_groups(in_path, out_path, options, run, per_client, (result, clients, listed))


def _shards(in_path: str, engine: EngineOptions, shard_bytes: int) -> int:
    """How many shards the capture is exported in (1: read whole)."""
    if shard_bytes <= 0 or engine.engine != "native" or engine.tls_keylog or not hasattr(os, "fork"):
        return 1  # the split runs in a forked process
    from stickyforensics.ingest.sniff import sniff

    fmt = sniff(in_path)
    if fmt == "har":
        raise InputError(in_path, "is a HAR file, not a capture: 'stickyforensics sanitize' sanitizes HAR files")
    return shard_count([in_path], [fmt], 1, shard_bytes)


Groups = list[tuple[str | None, Callable[[], Iterator[Any]]]]
"""(client or None, a function giving its entries) per output file."""


def _streamed(
    in_path: str,
    shards: int,
    directory: str,
    engine: EngineOptions,
    options: SanitizeOptions,
    run: HarSanitizer | None,
    per_client: bool,
    progress: Progress | None,
) -> tuple[IngestResult, int, Groups]:
    from stickyforensics.sanitize.capture_stream import stream_client_entries, stream_entries

    learn = run.learn if run is not None else None
    keep = engine.keep_body_prefix
    if per_client:
        streamed, clients = stream_client_entries(
            in_path, shards, directory, config=options.config, keep_body_prefix=keep, learn=learn, progress=progress
        )
        groups: Groups = [(client, entries) for client, entries in clients]
        return streamed.result, len(groups), groups
    streamed, entries = stream_entries(
        in_path, shards, directory, keep_body_prefix=keep, learn=learn, progress=progress
    )
    return streamed.result, len(streamed.client_ips), [(None, lambda: entries)]


def _export_groups(
    in_path: str,
    out_path: str,
    options: SanitizeOptions,
    run: HarSanitizer | None,
    per_client: bool,
    read: tuple[IngestResult, int, Groups],
    progress: Progress | None = None,
) -> ExportResult:
    """Write each group's entries (learnt already when sanitizing) to its file."""
    result, clients, groups = read
    if per_client:
        try:
            os.makedirs(out_path, exist_ok=True)
        except OSError as exc:
            raise InputError(out_path, f"cannot create the folder: {exc.strerror or exc}") from None
    outcome = ExportResult(clients=clients, diagnostics=len(result.diagnostics))
    if run is not None:
        outcome.stats = SanitizeStats()
    source = os.path.basename(in_path)
    for done, (client, entries_of) in enumerate(groups):
        if per_client and progress is not None and done % 100 == 0:
            progress("writing one file per client", done, len(groups))
        entries = entries_of()
        target = os.path.join(out_path, client_file_name(client)) if client is not None else out_path
        document = har_frame(source, sanitized=run is not None)
        if run is None or outcome.stats is None:
            count = har_io.write_har(target, document, entries)
        else:
            document["log"][MARK] = sanitized_mark(options)
            writer = run.sanitizer(outcome.stats)
            count = har_io.write_har(target, document, (writer.entry(e) for e in entries), writer.free)
        outcome.files.append((target, count))
    return outcome
