"""One sanitizer for the unit tests, with its stats and sweep list at hand."""

from __future__ import annotations

from stickyforensics.config import Config
from stickyforensics.sanitize.entry import EntrySanitizer
from stickyforensics.sanitize.options import SanitizeOptions
from stickyforensics.sanitize.pseudonym import Pseudonyms
from stickyforensics.sanitize.stats import SanitizeStats
from stickyforensics.sanitize.sweep import SecretSweep

KEY = b"k" * 32


def sanitizer(*, hide_backends: bool = False, config: Config | None = None) -> EntrySanitizer:
    options = SanitizeOptions(key=KEY, hide_backends=hide_backends, config=config or Config())
    return EntrySanitizer(options, pseudonyms=Pseudonyms(KEY), sweep=SecretSweep(), stats=SanitizeStats())
