"""Records in a spill file, each its own pickle behind its length (``--jobs`` sessions, HAR shards, export runs).

One pickle per record, not one stream: an ``Unpickler`` reading a whole file keeps every object it ever
loaded (its memo only grows), and a record can be read from its offset alone.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

_LENGTH = struct.Struct("<Q")


def write_record(fh: BinaryIO, record: Any) -> None:
    """Append ``record`` at ``fh``'s position (``fh.tell()`` before the call is its offset)."""
    data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_LENGTH.pack(len(data)))
    fh.write(data)


def read_records(path: str, offset: int = 0, count: int | None = None) -> Iterator[Any]:
    """The records of ``path`` from ``offset``: ``count`` of them, or up to the end."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        read, loads, length = fh.read, pickle.loads, _LENGTH.unpack
        done = 0
        while count is None or done < count:
            head = read(_LENGTH.size)
            if not head:
                return
            yield loads(read(length(head)[0]))
            done += 1


def read_records_at(path: str, offsets: Iterable[int]) -> list[Any]:
    """The records of ``path`` that start at ``offsets``, in that order (one open for them all)."""
    out = []
    with open(path, "rb") as fh:
        read, length = fh.read, _LENGTH.unpack
        for offset in offsets:
            fh.seek(offset)
            out.append(pickle.loads(read(length(read(_LENGTH.size))[0])))
    return out
