"""A capture taken with a short snaplen (``tcpdump -s 300``) cuts the header blocks, the Cookie header among
them: what could not be read is neither a missing cookie nor evidence that sessions stayed sticky."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from stickyforensics.config import Config
from stickyforensics.model.diagnostics import HEADS_CUT
from stickyforensics.pipeline import analyze
from stickyforensics.report.verdict import verdict

ROOT = Path(__file__).resolve().parents[2]


def cut_to_snaplen(source: Path, target: Path, snaplen: int) -> None:
    """``editcap -s SNAPLEN`` of a little-endian pcap: every record cut to ``snaplen`` captured bytes."""
    data = source.read_bytes()
    header = bytearray(data[:24])
    struct.pack_into("<I", header, 16, snaplen)
    out, pos = [bytes(header)], 24
    while pos < len(data):
        seconds, fraction, captured, original = struct.unpack_from("<IIII", data, pos)
        kept = min(captured, snaplen)
        out.append(struct.pack("<IIII", seconds, fraction, kept, original) + data[pos + 16 : pos + 16 + kept])
        pos += 16 + captured
    target.write_bytes(b"".join(out))


@pytest.mark.parametrize("sample", ["healthy_haproxy", "healthy_netscaler_bigip"])
def test_cut_cookie_headers_are_not_missing_cookies_and_the_verdict_says_why(sample: str, tmp_path: Path) -> None:
    capture = tmp_path / "short.pcap"
    cut_to_snaplen(ROOT / "samples" / sample / "capture.pcap", capture, 300)
    report = analyze([str(capture)], Config())
    assert not [f for f in report.findings if f.rule == "SF301"]  # was 2 and 4 "client bugs" before
    (cut,) = [d for d in report.inputs[0].diagnostics if d.code == HEADS_CUT]
    assert 0 < cut.count <= report.inputs[0].transactions and "-s 0" in cut.message
    status, sentence = verdict(report)
    assert status == "undetermined" and f"{cut.count} of {report.inputs[0].transactions} requests" in sentence
    split = analyze([str(capture)], Config(), jobs=2, shard_bytes=capture.stat().st_size // 3)
    assert (split.inputs, split.findings) == (report.inputs, report.findings)


def test_what_a_short_capture_does_show_is_still_reported(tmp_path: Path) -> None:
    source = ROOT / "samples/datacenter_flip/capture.pcap"
    capture = tmp_path / "short.pcap"
    cut_to_snaplen(source, capture, 400)  # most header blocks fit (4 of 18 requests are cut), bodies do not
    whole, short = analyze([str(source)], Config()), analyze([str(capture)], Config())
    assert [(f.rule, f.client) for f in short.findings] == [(f.rule, f.client) for f in whole.findings]
    assert verdict(short)[0] == verdict(whole)[0] == "broken"  # a flip seen is a flip, cut headers or not
