"""A HAR file end to end: two passes, the mark, and refusing to overwrite the input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stickyforensics.errors import InputError
from stickyforensics.sanitize import SanitizeOptions, sanitize_har

SID = "zhv1x4fnquvx3zfoabim21cs"


def _har(path: Path) -> Path:
    entries = [
        {"request": {"method": "GET", "url": "http://h/", "headers": [{"name": "X-Trace", "value": f"t {SID}"}]}},
        {"request": {"method": "GET", "url": "http://h/", "headers": [{"name": "Cookie", "value": f"sid={SID}"}]}},
    ]
    path.write_text(json.dumps({"log": {"creator": {"name": "Chrome"}, "entries": entries}}))
    return path


def test_a_secret_learnt_later_is_swept_earlier(tmp_path: Path) -> None:
    out = tmp_path / "out.har"
    stats = sanitize_har(str(_har(tmp_path / "in.har")), str(out), SanitizeOptions(key=b"k" * 32))
    doc = json.loads(out.read_text())
    assert SID not in out.read_text() and stats.entries == 2
    trace = doc["log"]["entries"][0]["request"]["headers"][0]["value"]
    cookie = doc["log"]["entries"][1]["request"]["headers"][0]["value"]
    assert trace == "t " + cookie.removeprefix("sid=")
    assert doc["log"]["creator"] == {"name": "Chrome"} and "by" in doc["log"]["_sanitized"]


def test_the_input_is_never_overwritten(tmp_path: Path) -> None:
    path = _har(tmp_path / "in.har")
    with pytest.raises(InputError, match="overwrite"):
        sanitize_har(str(path), str(path), SanitizeOptions(key=b"k" * 32))


def test_progress_follows_both_passes_in_megabytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stickyforensics.ingest import har_stream

    monkeypatch.setattr(har_stream, "PROGRESS_BYTES", 1 << 16)
    padding = "p" * 3000
    entries = [
        {"request": {"method": "GET", "url": f"http://h/{n}?pad={padding}", "headers": []}, "response": {"status": 200}}
        for n in range(1000)
    ]
    path = tmp_path / "in.har"
    path.write_text(json.dumps({"log": {"entries": entries}}))
    seen: list[tuple[str, int, int]] = []
    sanitize_har(
        str(path), str(tmp_path / "out.har"), SanitizeOptions(key=b"k" * 32), progress=lambda *a: seen.append(a)
    )
    learning = [s for s in seen if s[0].startswith("learning the secrets of in.har")]
    writing = [s for s in seen if s[0].startswith("writing out.har")]
    assert learning and writing and seen.index(learning[-1]) < seen.index(writing[0])
    for phase in (learning, writing):
        assert phase[0][1] == 0 and phase[-1][1] == phase[-1][2] == 4  # 3.1 MB: four MB counted up
        assert len({done for _, done, _ in phase}) > 2  # it moves while the file is read
