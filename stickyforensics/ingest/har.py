"""HAR input: every producer's variant, streamed, into ``Transaction``s.

``read_har`` is the engine behind ``format == "har"``. It does not use
haralyzer: haralyzer loads the whole file (RSS about 4x the file) and its
header helpers return only the first ``Set-Cookie`` of a response. The
measurement behind that choice is in docs/decisions/0001-har-reader.md
(reproduce with ``python bench/bench_har.py``).

Modules:

* ``har_stream``: gzip / BOM / UTF-16, the head pass (shape, producer) and the
  streamed ``log.entries`` items, with byte positions for JSON errors.
* ``har_entry``: one entry -> one ``Transaction`` (URL, headers, versions,
  bodies, timings, server address, cache flags).
* ``har_cookies``: cookie arrays reconciled into the headers.
* ``har_cookie_data``: sanitized / redacted HAR detection (``cookie_data``).
* ``har_diag``: diagnostics, bounded in number.

Failure policy: a file that cannot be read as a HAR at all raises
``InputError``; a broken entry is skipped with ``har.entry_invalid``; JSON that
breaks after some entries keeps those entries and adds ``har.truncated``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

from stickyforensics.errors import InputError
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.har_cookie_data import CookieSurvey
from stickyforensics.ingest.har_diag import DiagnosticLog
from stickyforensics.ingest.har_entry import EntryContext, EntryInvalid, EntryNotHttp, build_transaction
from stickyforensics.ingest.har_split import EarlyFeed, SplitSink, TransactionSink, read_split, splittable
from stickyforensics.ingest.har_stream import (
    HarBreak,
    JsonBreak,
    creator_from_tail,
    ijson_backend,
    iter_entries,
    read_head,
    reading_progress,
)
from stickyforensics.ingest.sniff import compression
from stickyforensics.model import DiagLevel, Transaction

FAST_BACKEND = "yajl2_c"


def read_har(
    path: str,
    *,
    input_index: int = 0,
    keep_body_prefix: Callable[[bytes], bool] | None = None,
    processes: int = 1,
    sink: SplitSink | None = None,
    progress: Callable[[int, int], None] | None = None,
    early: EarlyFeed | None = None,
    client_label: str | None = None,
) -> IngestResult:
    """Read a HAR (plain, gzip, xz or bzip2; UTF-8 with or without BOM, UTF-16) into transactions.

    Transaction ids are ``"{input_index}.e{entry}"``; the client is ``client_label`` (each HAR file is one
    client; ``ingest.input_names`` tells apart files of one base name), by default the file's base name.
    ``keep_body_prefix``: which body prefixes to keep (``track.body_prefix``, as for captures); all when None.
    ``processes`` > 1: a large file's entries are read by two processes (``har_split``), same result.
    ``sink``: where each transaction goes as it is read (``har_partition``); the result then holds none.
    ``progress``: told (bytes read, file size) as the file is read (plain files; when two processes read
    it, this one's half as it reads it, then how far the other had read at each of its chunks).
    ``early``: fed the transactions as they come when two processes read the file (``har_split``), so
    that tracking can begin before the file is read (``track.early``).
    Raises ``InputError`` when the file is not a HAR or no entry could be read
    before the JSON broke.
    """
    head = read_head(path)
    log = DiagnosticLog(path)
    backend = ijson_backend()
    if backend != FAST_BACKEND:
        log.add(
            "har.slow_json_backend",
            f"ijson backend {backend!r} in use ({FAST_BACKEND} is not available): reading is about 10x slower",
            level=DiagLevel.INFO,
        )
    survey = CookieSurvey()
    ctx = EntryContext(
        path=path,
        input_index=input_index,
        client_label=client_label or os.path.basename(path) or path,
        log=log,
        survey=survey,
        keep_body_prefix=keep_body_prefix,
    )
    collected: list[Transaction] = []
    transactions: TransactionSink = sink if sink is not None else collected
    entries = 0
    brk: JsonBreak | None = None
    parser_notes: list[str] = []

    def counted() -> Iterator[tuple[int, Any]]:
        nonlocal entries
        for index, entry in enumerate(iter_entries(path, parser_notes)):
            entries = index + 1
            yield index, entry

    # As the capture engines do: a large HAR makes ~50 long-lived objects per entry and every full
    # collection would walk them all again; the few cycles made meanwhile are collected afterwards.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    size = plain_size(path) if progress is not None else None
    told = (lambda done: progress(min(done, size), size)) if progress is not None and size is not None else None
    try:
        with reading_progress(told):
            split = (
                read_split(path, ctx, map_entries, sink, early, told) if processes > 1 and splittable(path) else None
            )
            if split is not None:
                collected, entries = split
                transactions = collected
            else:
                map_entries(counted(), ctx, transactions)
    except HarBreak as exc:
        brk = exc.brk
    finally:
        if gc_was_enabled:
            gc.enable()
    if told is not None and size is not None:
        told(size)  # both halves read
    for note in parser_notes:
        log.add("har.json_slow_path", note, level=DiagLevel.INFO)
    if brk is not None:
        what = f"reading stopped at {brk.where}" if brk.limit else f"invalid JSON at {brk.where}"
        if not transactions:
            read = f" ({entries} unusable {'entry' if entries == 1 else 'entries'} before it)" if entries else ""
            raise InputError(path, f"{what}: {brk.message}{read}", position=brk.where)
        log.add(
            "har.limit_exceeded" if brk.limit else "har.truncated",
            f"{what}: {brk.message}; the {entries} "
            f"{'entry before it is' if entries == 1 else 'entries before it are'} analyzed, anything after it is lost",
            brk.where,
            DiagLevel.ERROR,
        )
    if head.producer is None:
        creator_from_tail(path, head)
    verdict = survey.verdict(head.producer)
    for code, message, level in verdict.diagnostics:
        log.add(code, message, None, level)
    extra = (
        ("entries", str(entries)),
        ("producer", head.producer or "unknown"),
        ("json_backend", backend),
    )
    return IngestResult(
        path=path,
        format="har",
        engine="har",
        transactions=tuple(collected),
        diagnostics=log.result(),
        cookie_data=verdict.cookie_data,
        extra=extra,
    )


def plain_size(path: str) -> int | None:
    """The file's size, when its bytes are what the reader reads (not compressed): the progress total."""
    try:
        with open(path, "rb") as fh:
            compressed = compression(fh.read(8)) is not None
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return None
    return None if compressed else size


def map_entries(entries: Iterator[tuple[int, Any]], ctx: EntryContext, transactions: TransactionSink) -> None:
    """Each (index, entry) to a transaction appended to ``transactions``, or to a diagnostic in ``ctx.log``."""
    log = ctx.log
    for index, entry in entries:
        try:
            transactions.append(build_transaction(entry, index, ctx))
        except EntryNotHttp as exc:
            log.add("har.entry_not_http", f"entry {index}: {exc.reason}; skipped", f"entry {index}", DiagLevel.INFO)
        except EntryInvalid as exc:
            log.add("har.entry_invalid", f"entry {index}: {exc.reason}; skipped", f"entry {index}")
        except Exception as exc:
            # A bug of ours, not of the input: one entry must not sink a 300 MB analysis.
            # Say so loudly and keep the rest of the file.
            log.add(
                "har.entry_error",
                f"entry {index}: internal error while reading it ({type(exc).__name__}: {exc}); "
                "skipped, please report it",
                f"entry {index}",
                DiagLevel.ERROR,
            )
