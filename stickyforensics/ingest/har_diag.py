"""Diagnostics of one HAR file, bounded in number.

A 300 MB HAR can have 100k entries with the same oddity (no zone on every date,
a garbage ``httpVersion`` on every entry). Listing each would drown the report,
so each code keeps its first ``PER_CODE`` occurrences one by one and folds the
rest into one aggregated ``Diagnostic`` with a ``count``. Codes that are only
ever interesting as a total (``tally``) are folded from the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.model import DiagLevel, Diagnostic

PER_CODE = 10
"""Occurrences of one code listed one by one before the rest are aggregated."""


@dataclass(slots=True)
class _Fold:
    message: str
    level: DiagLevel
    first: str | None
    last: str | None
    count: int = 0


@dataclass(slots=True)
class DiagnosticLog:
    source: str
    _items: list[Diagnostic] = field(default_factory=list)
    _listed: dict[str, int] = field(default_factory=dict)
    _folds: dict[str, _Fold] = field(default_factory=dict)

    def add(self, code: str, message: str, position: str | None = None, level: DiagLevel = DiagLevel.WARNING) -> None:
        """One occurrence; listed while its code has fewer than ``PER_CODE`` listed, else folded."""
        listed = self._listed.get(code, 0)
        if listed < PER_CODE:
            self._listed[code] = listed + 1
            self._items.append(Diagnostic(code, message, self.source, position, level))
            return
        self.tally(code, f"more {code} occurrences (the first {PER_CODE} are listed)", position, level)

    def tally(self, code: str, message: str, position: str | None = None, level: DiagLevel = DiagLevel.INFO) -> None:
        """Count an occurrence into the one aggregated diagnostic of ``code``."""
        fold = self._folds.get(code)
        if fold is None:
            fold = self._folds[code] = _Fold(message, level, position, position)
        fold.count += 1
        fold.last = position

    def result(self) -> tuple[Diagnostic, ...]:
        folded = []
        for code, fold in self._folds.items():
            if fold.first is None or fold.last is None or fold.first == fold.last:
                where = fold.first or fold.last
            else:
                where = f"{fold.first} .. {fold.last}"
            folded.append(Diagnostic(code, fold.message, self.source, where, fold.level, fold.count))
        return (*self._items, *folded)
