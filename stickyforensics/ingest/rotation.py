"""Captures that are one capture cut into files (``tcpdump -C`` / ``-G``, a dumpcap ring buffer), told apart
from separate captures by their times and by the exchanges the cuts broke.

Each file is read as a capture of its own, so a connection open across a cut is read in two pieces: the
request stays in the earlier file without its response, the response starts the later file without its
request (``http.response_without_request``), and what the response showed (a new backend, a replaced
persistence cookie) is lost. Cut the 200k-packet bench capture into 51 files and six server flips went
unseen. Wireshark users merge such files first; this module says so, on the first file of each such set,
rather than let the findings at the cuts go missing without a word.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

from stickyforensics.model import DiagLevel, Diagnostic, InputSummary

ROTATED = "capture.rotated"
CUT_EXCHANGE = "http.response_without_request"
"""What a cut leaves at the start of the later file."""

MIN_GAP = 2.0
"""Seconds between one file's last exchange and the next file's first that always count as adjacent."""
GAP_FACTOR = 5
"""Or up to this many times the files' average time between exchanges (a quiet link rotates slowly)."""
CAPTURE_FORMATS = ("pcap", "pcapng")


def with_rotation_notes(inputs: Sequence[InputSummary]) -> tuple[InputSummary, ...]:
    """``inputs`` with a ``capture.rotated`` warning on the first file of every set that looks like one
    capture cut into files (``rotated_sets``)."""
    notes = {files[0].path: _note(files) for files in rotated_sets(inputs)}
    if not notes:
        return tuple(inputs)
    return tuple(replace(i, diagnostics=(*i.diagnostics, notes[i.path])) if i.path in notes else i for i in inputs)


def rotated_sets(inputs: Sequence[InputSummary]) -> list[list[InputSummary]]:
    """Runs of captures, in time order, each beginning as the one before it ends and with exchanges cut there."""
    captures = sorted(
        (i for i in inputs if i.format in CAPTURE_FORMATS and i.first_time is not None and i.last_time is not None),
        key=lambda i: (i.first_time, i.path),
    )
    sets: list[list[InputSummary]] = []
    run: list[InputSummary] = []
    for before, after in pairwise(captures):
        if continues(before, after):
            run = run or [before]
            run.append(after)
        elif run:
            sets.append(run)
            run = []
    if run:
        sets.append(run)
    return sets


def continues(before: InputSummary, after: InputSummary) -> bool:
    """Whether ``after`` looks like the piece of capture that follows ``before``: it begins within a few of
    their exchanges' intervals after ``before``'s last exchange, and it holds responses whose requests are
    not in it."""
    assert before.last_time is not None and after.first_time is not None
    gap = after.first_time - before.last_time
    limit = max(MIN_GAP, GAP_FACTOR * max(_interval(before), _interval(after)))
    return 0 <= gap <= limit and cut_exchanges(after) > 0


def cut_exchanges(summary: InputSummary) -> int:
    return sum(d.count for d in summary.diagnostics if d.code == CUT_EXCHANGE)


def _interval(summary: InputSummary) -> float:
    """The average time between the starts of the file's exchanges."""
    assert summary.first_time is not None and summary.last_time is not None
    return (summary.last_time - summary.first_time) / max(summary.transactions - 1, 1)


def _note(files: Sequence[InputSummary]) -> Diagnostic:
    cut = sum(cut_exchanges(f) for f in files[1:])
    names = [os.path.basename(f.path) for f in files]
    shown = ", ".join(names) if len(names) <= 4 else f"{names[0]}, {names[1]} ... {names[-1]}"
    return Diagnostic(
        ROTATED,
        f"{len(files)} captures look like one capture cut into files ({shown}): each begins as the one "
        f"before it ends, with responses whose requests are in the file before ({cut} in all). An exchange "
        "that crosses a cut is read in two pieces, and what its response shows (another backend, a new "
        "persistence cookie) is lost. Merge them first, then analyse the merged capture: "
        "mergecap -w merged.pcap <these files>",
        files[0].path,
        level=DiagLevel.WARNING,
    )
