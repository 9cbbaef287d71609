"""``sanitize_har``: a HAR file -> a sanitized HAR file with the same entries, order and timings.

Two passes over the entries: the first learns which secret values exist (so the sweep can find
a session id in a custom field of an entry that comes before the cookie that holds it), the
second writes. Both stream the file; the rest of the document is read once (``har_io.frame``), from
the bytes around the entries where the first pass found them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stickyforensics import __version__
from stickyforensics.errors import InputError
from stickyforensics.ingest.har import plain_size
from stickyforensics.ingest.har_stream import reading_progress
from stickyforensics.pipeline import Progress, in_megabytes
from stickyforensics.sanitize import har_io
from stickyforensics.sanitize.entry import EntrySanitizer
from stickyforensics.sanitize.options import SanitizeOptions
from stickyforensics.sanitize.pseudonym import Pseudonyms
from stickyforensics.sanitize.stats import SanitizeStats
from stickyforensics.sanitize.sweep import SecretSweep
from stickyforensics.track.lb import CookieClassifier

MARK = "_sanitized"
"""The ``log`` key saying how the file was sanitized (HAR 1.2 allows ``_``-prefixed custom fields)."""


def sanitized_mark(options: SanitizeOptions) -> dict[str, Any]:
    lb = "pseudonymized" if options.hide_backends else "kept (they may encode backend addresses)"
    return {
        "by": f"stickyforensics {__version__}",
        "secrets": "cookie values, credentials, query, form and secret-header values replaced by keyed pseudonyms",
        "bodies": "removed (response bodies keep only the session-loss markers and backend banners found in them)",
        "loadBalancerCookies": lb,
    }


class HarSanitizer:
    """One key, one sweep list, one classifier: what both passes and every output file share."""

    def __init__(self, options: SanitizeOptions) -> None:
        self.options = options
        self.pseudonyms = Pseudonyms(options.key)
        self.sweep = SecretSweep()
        self.classifier = CookieClassifier(declared=options.config.declared_cookies())

    def sanitizer(self, stats: SanitizeStats, *, learning: bool = False) -> EntrySanitizer:
        return EntrySanitizer(
            self.options,
            pseudonyms=self.pseudonyms,
            sweep=self.sweep,
            stats=stats,
            classifier=self.classifier,
            learning=learning,
        )

    def learn(self, entries: Any) -> None:
        """First pass: run the field rules once, only to fill the sweep list."""
        learner = self.sanitizer(SanitizeStats(), learning=True)
        for entry in entries:
            learner.entry(entry)


def same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def sanitize_har(
    in_path: str, out_path: str, options: SanitizeOptions, *, progress: Progress | None = None
) -> SanitizeStats:
    """Write the sanitized copy of ``in_path`` to ``out_path``; raises ``InputError`` for a broken HAR.

    ``progress``: told (phase, MB read, MB in all) through both passes (an uncompressed file only: the
    reader counts the bytes it decodes).
    """
    if same_file(in_path, out_path):
        raise InputError(out_path, "the output would overwrite the input; name another file")
    run = HarSanitizer(options)
    span: list[int] = []
    name = os.path.basename(in_path)
    with _read_in_megabytes(in_path, progress, f"learning the secrets of {name} (MB)"):
        run.learn(har_io.entries(in_path, span))
    document = har_io.frame(in_path, span)
    document["log"][MARK] = sanitized_mark(options)
    stats = SanitizeStats()
    writer = run.sanitizer(stats)
    with _read_in_megabytes(in_path, progress, f"writing {os.path.basename(out_path)} (MB)"):
        har_io.write_har(out_path, document, (writer.entry(e) for e in har_io.entries(in_path)), writer.free)
    return stats


@contextmanager
def _read_in_megabytes(path: str, progress: Progress | None, label: str) -> Iterator[None]:
    size = plain_size(path) if progress is not None else None
    if progress is None or size is None:
        yield
        return
    told = in_megabytes(progress, label)
    told(0, size)
    with reading_progress(lambda done: told(min(done, size), size)):
        yield
    told(size, size)
