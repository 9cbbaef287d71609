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
