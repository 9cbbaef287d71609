"""A capture cut into files (tcpdump -C / -G, ring buffers) is told from separate captures, and said so."""

from __future__ import annotations

import struct
from pathlib import Path

from stickyforensics.config import Config
from stickyforensics.ingest.rotation import ROTATED, rotated_sets, with_rotation_notes
from stickyforensics.model import DiagLevel, Diagnostic, InputSummary
from stickyforensics.pipeline import analyze

ROOT = Path(__file__).resolve().parents[3]
CUT = Diagnostic("http.response_without_request", "a response with no request", "x", count=2)


def _capture(path: str, first: float, last: float, transactions: int = 10, cut: bool = True) -> InputSummary:
    return InputSummary(path, "pcap", "native", transactions, 1, (CUT,) if cut else (), "present", first, last)


def test_files_that_follow_each_other_with_cut_exchanges_are_one_set() -> None:
    a, b, c = _capture("a.pcap", 0.0, 9.0), _capture("b.pcap", 9.1, 19.0), _capture("c.pcap", 19.2, 30.0)
    assert rotated_sets([c, a, b]) == [[a, b, c]]
    noted = with_rotation_notes([c, a, b])
    rotated = [(i.path, d) for i in noted for d in i.diagnostics if d.code == ROTATED]
    assert len(rotated) == 1 and rotated[0][0] == "a.pcap"
    note = rotated[0][1]
    assert note.level is DiagLevel.WARNING and "3 captures" in note.message and "mergecap" in note.message
    assert "(4 in all)" in note.message  # the cut exchanges of the later files


def test_separate_captures_are_not_a_set() -> None:
    a = _capture("a.pcap", 0.0, 9.0)
    overlapping = _capture("node2.pcap", 5.0, 12.0)  # another node, the same time
    uncut = _capture("next.pcap", 9.1, 19.0, cut=False)  # back to back, but no exchange was cut
    later = _capture("later.pcap", 60.0, 70.0)  # minutes apart
    har = InputSummary("b.har", "har", "har", 10, 1, (CUT,), "present", 9.1, 19.0)
    for other in (overlapping, uncut, later, har):
        assert rotated_sets([a, other]) == [], other.path
    assert with_rotation_notes([a, later]) == (a, later)


def test_a_quiet_link_rotates_with_longer_gaps() -> None:
    slow = _capture("a.pcap", 0.0, 900.0, transactions=10)  # one exchange every 100 s
    assert rotated_sets([slow, _capture("b.pcap", 1100.0, 2000.0)]) != []
    assert rotated_sets([slow, _capture("b.pcap", 1600.0, 2000.0)]) == []


def _records(data: bytes) -> tuple[bytes, list[bytes]]:
    header, pos, records = data[:24], 24, []
    while pos < len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        records.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    return header, records


def test_a_capture_cut_into_two_files_is_said_to_be_one_on_any_number_of_processes(tmp_path: Path) -> None:
    header, records = _records((ROOT / "samples/missing_cookie_dotfile/capture.pcap").read_bytes())
    folder = tmp_path / "rotated"
    folder.mkdir()
    noted = None
    for cut in range(len(records) // 2, len(records)):  # bounded: the first cut inside an exchange
        (folder / "part1.pcap").write_bytes(header + b"".join(records[:cut]))
        (folder / "part2.pcap").write_bytes(header + b"".join(records[cut:]))
        report = analyze([str(folder)], Config())
        noted = [d for i in report.inputs for d in i.diagnostics if d.code == ROTATED]
        if noted:
            break
    assert noted and noted[0].source.endswith("part1.pcap") and "part1.pcap, part2.pcap" in noted[0].message
    split = analyze([str(folder)], Config(), jobs=2, shard_bytes=4096)
    assert split.inputs == report.inputs
