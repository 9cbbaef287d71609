"""A HAR that holds many clients, split by client for ``--jobs`` as a capture is (``ingest.partition``).

A browser's HAR is one client, read whole by one process. A HAR exported from a capture
(``stickyforensics export``) names each entry's client (``_clientIPAddress``) and can hold thousands of
them: read whole, every client's transactions and cookie timeline are in one process at once (the 250 MB
export of bench/data/large.pcap: 428-443 MiB). Here the file is read once, in order, by the two-process
HAR reader (``har_split``; its diagnostics and cookie survey are the file's, as ``read_har`` leaves them),
and each transaction is pickled to the spill file of the shard that owns its client
(``reconstruct.shard.owner_of``, the capture rule; entries without a client go to the shard that owns the
input), a batch at a time, each reading process to its own set of files. Each worker then loads its
shard's transactions, in file order, and judges its clients as it would a capture's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import BinaryIO

from stickyforensics.ingest.base import IngestResult
from stickyforensics.model import Transaction
from stickyforensics.reconstruct.shard import owner_of
from stickyforensics.spill_records import read_records, write_record

BATCH = 512
"""Transactions pickled together: fewer, larger pickles, and at most this many per shard held meanwhile."""


@dataclass(frozen=True, slots=True)
class HarPartition:
    """A HAR split into one spill file per shard, and what reading it taught about the file."""

    path: str
    result: IngestResult
    """The file's ``read_har`` result without its transactions (diagnostics, cookie data, counts)."""
    spill_files: tuple[tuple[str, str], ...]
    """Per shard: the files of the first half of the entries and of the second (absent unless split)."""
    transactions: int


SPLIT_BYTES = 16_000_000
"""A HAR holding many clients is split by client from this size (below, one process reads it whole)."""


def splits_by_client(path: str) -> bool:
    """Whether a HAR file is large enough (decompressed: ``sniff.content_size``) and holds many clients
    (``holds_clients``)."""
    from stickyforensics.ingest.sniff import content_size

    try:
        size = content_size(path)
    except OSError:
        return False
    return size >= SPLIT_BYTES and holds_clients(path)


def holds_clients(path: str) -> bool:
    """Whether the HAR's first entry names its client (``_clientIPAddress``): the mark of a capture's export.

    A guess that only decides how the work is shared out (a browser's HAR split this way gives the same
    report, more slowly); anything unreadable says no, and the ordinary read reports it.
    """
    from stickyforensics.ingest.har_fast import fast_entries
    from stickyforensics.ingest.har_limits import MAX_ENTRY_BYTES
    from stickyforensics.ingest.har_stream import open_har_stream

    try:
        raw, reader = open_har_stream(path, guarded=False)
    except Exception:  # the ordinary read says what is wrong, with the file's name
        return False
    try:
        first = next(fast_entries(reader.read_large, MAX_ENTRY_BYTES // 2), None)
    except Exception:
        return False
    finally:
        raw.close()
    return isinstance(first, dict) and isinstance(first.get("_clientIPAddress"), str)


class _ShardSink:
    """``read_har``'s transaction list, sending each transaction to its shard's spill file instead.

    A large file is read by two processes (``har_split``): each writes its half to its own set of files
    (``use_half``), and a shard's transactions are read back from the first half's file, then the second's.
    """

    def __init__(self, files: tuple[tuple[str, ...], tuple[str, ...]], input_owner: int) -> None:
        self.halves = files
        self.shards = len(files[0])
        self.input_owner = input_owner
        self._owners: dict[str, int] = {}
        self.first_notes: tuple[str, ...] | None = None
        self.count = 0
        self._half = 0
        self._files: list[BinaryIO] = []
        self._batches: list[list[Transaction]] = []
        self._open()

    def _open(self) -> None:
        self._files = [open(path, "wb") for path in self.halves[self._half]]  # noqa: SIM115 - closed by ``close``
        self._batches = [[] for _ in self._files]
        self.first_notes = None

    def use_half(self, which: int) -> None:
        # In the forked child: the parent's files (nothing buffered in them yet) are left to the parent.
        self._half = which
        self._open()

    def append(self, tx: Transaction, /) -> None:
        client = tx.client
        if client is None:
            shard = self.input_owner
        else:
            found = self._owners.get(client.ip)
            shard = found if found is not None else self._owners.setdefault(client.ip, owner_of(client.ip, self.shards))
        if self.first_notes is None:
            self.first_notes = tx.notes
        batch = self._batches[shard]
        batch.append(tx)
        self.count += 1
        if len(batch) >= BATCH:
            self._flush(shard)

    def __len__(self) -> int:
        return self.count

    def _flush(self, shard: int) -> None:
        batch = self._batches[shard]
        if batch:
            write_record(self._files[shard], batch)
            batch.clear()

    def close(self) -> None:
        for shard, fh in enumerate(self._files):
            if not fh.closed:
                self._flush(shard)
                fh.close()

    def reset(self) -> None:
        for fh in self._files:
            fh.close()
        for path in self.halves[1]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._half, self.count = 0, 0
        self._open()


def partition_har(
    path: str,
    shards: int,
    directory: str,
    *,
    input_index: int = 0,
    keep_body_prefix: Callable[[bytes], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    client_label: str | None = None,
) -> HarPartition:
    """Read ``path`` once, each transaction to its shard's spill file in ``directory``; ``progress`` is told
    (bytes read, file size); ``client_label``: as ``read_har``'s, for entries that name no client address.

    Raises ``InputError`` as ``read_har`` does (nothing of the file is usable).
    """
    from stickyforensics.ingest.har import read_har

    files = tuple(
        tuple(os.path.join(directory, f"input{input_index}.har{half}.shard{k}.spill") for k in range(shards))
        for half in (0, 1)
    )
    sink = _ShardSink((files[0], files[1]), input_index % shards)  # as ``Shard.owns_input`` shares out inputs
    try:
        result = read_har(
            path,
            input_index=input_index,
            keep_body_prefix=keep_body_prefix,
            processes=2,
            sink=sink,
            progress=progress,
            client_label=client_label,
        )
    finally:
        sink.close()
    spills = tuple((first, second) for first, second in zip(files[0], files[1], strict=True))
    return HarPartition(path, replace(result, transactions=()), spills, len(sink))


def read_har_shard(partition: HarPartition, shard: int) -> list[Transaction]:
    """The transactions of one shard, in the file's order."""
    out: list[Transaction] = []
    for path in partition.spill_files[shard]:
        if os.path.exists(path):  # the second half's is absent when one process read the file
            for batch in read_records(path):
                out.extend(batch)
    return out
