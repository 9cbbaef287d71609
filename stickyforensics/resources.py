"""Where the shipped data (the rule catalog) lives: inside the wheel, or the repository's rules/."""

from __future__ import annotations

from pathlib import Path


def rules_dir() -> Path:
    """The catalog folder: ``stickyforensics/_rules`` in a wheel, else ``<repo>/rules``."""
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    repo = here.parent / "rules"
    if repo.is_dir():
        return repo
    raise FileNotFoundError("the rule catalog (rules/) is not installed with stickyforensics")
