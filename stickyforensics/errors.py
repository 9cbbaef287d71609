"""The few real exceptions. Bad traffic is never an exception: it becomes a Diagnostic.

StickyError
├── InputError       a file the user named cannot be read as asked (missing, unknown format, broken)
├── ConfigError      a configuration file or option is wrong
└── RuleLoadError    a rule file in rules/ is invalid
"""

from __future__ import annotations


class StickyError(Exception):
    """Base of every error the CLI turns into a one-line message and exit code 2."""


class InputError(StickyError):
    """An input cannot be used: names the file and the position."""

    def __init__(self, path: str, message: str, position: str | None = None) -> None:
        self.path = path
        self.position = position
        self.detail = message
        where = f"{path}: {position}: " if position else f"{path}: "
        super().__init__(where + message)


class ConfigError(StickyError):
    """Configuration is invalid."""


class RuleLoadError(StickyError):
    """A rule file is invalid."""
