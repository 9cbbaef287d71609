"""A progress bar on stderr, shown only for inputs that take more than a second."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class StderrProgress:
    """Callable as (label, done, total); appears after the first second of work."""

    def __init__(self, delay: float = 1.0) -> None:
        self._start = time.monotonic()
        self._delay = delay
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._pending: tuple[str, int, int] | None = None

    def __call__(self, path: str, index: int, total: int) -> None:
        self._pending = (path, index, total)
        if self._progress is None and time.monotonic() - self._start < self._delay and index == 0:
            return
        self._show()

    def _show(self) -> None:
        from rich.markup import escape

        if self._pending is None:
            return
        path, index, total = self._pending
        if self._progress is None:
            # Imported when a bar is first shown: a run without one (no terminal) is spared rich's import.
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=total)
        assert self._task is not None
        # One bar for successive phases (files read, MB split, groups of clients): each brings its own total
        # and says what it does ("reading x.har", "splitting x.pcap by client (MB)"). Escaped: a file name is
        # not rich markup.
        self._progress.update(self._task, completed=index, total=total, description=escape(_shortened(path)))

    def close(self) -> None:
        """Take the bar away (again: nothing)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._pending = None


def _shortened(label: str, limit: int = 70) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def stderr_progress() -> StderrProgress | None:
    """A progress bar when stderr is a terminal (none in pipes, logs and CI)."""
    return StderrProgress() if sys.stderr.isatty() else None
