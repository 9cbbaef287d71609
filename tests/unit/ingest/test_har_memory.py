"""Streaming: reading a ~30 MB HAR must not hold the JSON tree (or the bodies) in memory.

``json.load`` of such a file needs several times its size; the streaming reader
keeps one entry at a time plus what the model keeps (headers, body size, hash and
a 2 KB prefix), so the traced peak stays a small fraction of the file.
"""

from __future__ import annotations

import base64
import json
import os
import tracemalloc
from pathlib import Path

from stickyforensics.ingest.har import read_har
from stickyforensics.model import BODY_PREFIX_LIMIT

TARGET_BYTES = 30 * 1024 * 1024
BODY_BYTES = 48 * 1024


def _write_large_har(path: Path) -> int:
    """About 30 MB: ~480 entries, each with a 48 KB base64 body and two Set-Cookie headers."""
    body = base64.b64encode(bytes(range(256)) * (BODY_BYTES // 256)).decode()
    entries = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"log": {"version": "1.2", "creator": {"name": "memtest", "version": "1"}, "entries": [\n')
        while fh.tell() < TARGET_BYTES:
            if entries:
                fh.write(",\n")
            entry = {
                "startedDateTime": "2024-03-01T10:00:00.000Z",
                "time": 10,
                "request": {
                    "method": "GET",
                    "url": f"https://app.example.com/blob/{entries}",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Cookie", "value": f"NSC_web=ffffffff{entries:08x}; JSESSIONID=S{entries}"}],
                },
                "response": {
                    "status": 200,
                    "httpVersion": "HTTP/1.1",
                    "headers": [
                        {"name": "Set-Cookie", "value": f"NSC_web=ffffffff{entries:08x};path=/;httponly"},
                        {"name": "Set-Cookie", "value": f"JSESSIONID=S{entries}; Path=/"},
                    ],
                    "content": {
                        "size": BODY_BYTES,
                        "mimeType": "application/octet-stream",
                        "encoding": "base64",
                        "text": body,
                    },
                },
            }
            fh.write(json.dumps(entry))
            entries += 1
        fh.write("\n]}}\n")
    return entries


def test_peak_traced_memory_is_well_below_file_size(tmp_path: Path) -> None:
    path = tmp_path / "large.har"
    entries = _write_large_har(path)
    size = os.path.getsize(path)
    assert size >= TARGET_BYTES

    tracemalloc.start()
    try:
        result = read_har(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(result.transactions) == entries
    assert all(
        tx.response is not None and len(tx.response.headers.get_all("set-cookie")) == 2 for tx in result.transactions
    )
    body = result.transactions[0].response.body  # type: ignore[union-attr]
    assert body.size == BODY_BYTES and body.complete and len(body.prefix) == BODY_PREFIX_LIMIT
    assert peak < size / 8, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB HAR"
