"""Streamed HAR reading and atomic writing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from stickyforensics.errors import InputError, StickyError
from stickyforensics.sanitize import har_io


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_frame_is_everything_but_the_entries_in_order(tmp_path: Path) -> None:
    doc = '{"log":{"version":"1.2","entries":[{"a":1},{"b":2}],"pages":[{"id":"p"}],"_after":true},"x":1}'
    path = _write(tmp_path / "in.har", doc)
    frame = har_io.frame(path)
    assert frame == {"log": {"version": "1.2", "entries": [], "pages": [{"id": "p"}], "_after": True}, "x": 1}
    assert list(har_io.entries(path)) == [{"a": 1}, {"b": 2}]
    out = tmp_path / "out.har"
    assert har_io.write_har(str(out), frame, har_io.entries(path)) == 2
    assert json.loads(out.read_text()) == json.loads(doc)
    assert list(json.loads(out.read_text())["log"]) == ["version", "entries", "pages", "_after"]


def test_numbers_beyond_64_bits_and_gzip(tmp_path: Path) -> None:
    doc = '{"log":{"big":123456789012345678901234567890,"entries":[{"n":1e400,"m":0.5}]}}'
    path = tmp_path / "in.har.gz"
    path.write_bytes(gzip.compress(doc.encode()))
    frame = har_io.frame(str(path))
    out = tmp_path / "out.har"
    har_io.write_har(str(out), frame, har_io.entries(str(path)))
    written = json.loads(out.read_text())
    assert written["log"]["big"] == 123456789012345678901234567890
    assert written["log"]["entries"][0]["m"] == 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"log":{"entries":[{"a":1},', "truncated"),
        ('{"log":{"entries":[{"a":1}]}} trailing', "byte"),
        ('{"hello":1}', "not a HAR"),
    ],
)
def test_broken_files_raise_input_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path / "bad.har", text)
    with pytest.raises(InputError) as caught:
        list(har_io.entries(path))
        har_io.frame(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    def items():  # type: ignore[no-untyped-def]
        yield {"a": 1}
        raise RuntimeError("boom")

    out = tmp_path / "out.har"
    with pytest.raises(RuntimeError):
        har_io.write_har(str(out), {"log": {"entries": []}}, items())
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StickyError, match="cannot write"):
        har_io.write_har(str(tmp_path / "missing" / "out.har"), {"log": {}}, [])


def test_a_file_larger_than_the_per_entry_bound_is_framed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the frame pass never marked the entries' ends, so the per-entry bound (128 MiB) applied to
    the whole file and every HAR over 128 MB failed to sanitize. Here the bound is 256 KB, the file ~1 MB."""
    from stickyforensics.ingest import har_stream

    monkeypatch.setattr(har_stream, "MAX_ENTRY_BYTES", 256 << 10)
    entry = {"startedDateTime": "2024-01-01T00:00:00Z", "request": {"url": "http://h/", "text": "x" * 20_000}}
    path = tmp_path / "big.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry] * 50, "pages": [{"id": "p"}]}}))
    assert path.stat().st_size > 3 * (256 << 10)
    document = har_io.frame(str(path))
    assert document["log"]["pages"] == [{"id": "p"}] and document["log"]["entries"] == []
    assert sum(1 for _ in har_io.entries(str(path))) == 50
    # one entry past the bound is still refused (the CLI turns this into a one-line input error)
    path.write_text(json.dumps({"log": {"entries": [{"request": {"text": "y" * (600 << 10)}}]}}))
    with pytest.raises(OSError, match="of JSON in one entry"):
        har_io.frame(str(path))


ROOT = Path(__file__).resolve().parents[3]
HARS = sorted({*(ROOT / "samples").rglob("*.har"), *(ROOT / "tests").rglob("*.har")})


def _framed_by_span(path: str) -> tuple[dict[str, object], list[int]]:
    span: list[int] = []
    for _ in har_io.entries(path, span):
        pass
    return har_io.frame(path, span), span


@pytest.mark.parametrize("path", HARS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_frame_from_the_bytes_around_the_entries_is_the_whole_parse(path: Path) -> None:
    """``sanitize`` frames a HAR from where the entry pass found the entries, not from a second full parse."""
    try:
        whole = har_io.frame(str(path))
    except StickyError:
        pytest.skip("a broken HAR: the entry pass refuses it first")
    framed, span = _framed_by_span(str(path))
    assert framed == whole
    if span:  # the bytes around the entries are themselves the document without them (no fallback hides it)
        outside = har_io._outside_entries(str(path), span)
        assert outside is not None and json.loads(outside) == json.loads(json.dumps(whole, default=str))
    assert list(framed) == list(whole) and list(framed["log"]) == list(whole["log"])  # type: ignore[call-overload]


def test_the_span_framing_keeps_keys_around_the_entries_bom_and_gzip(tmp_path: Path) -> None:
    doc = (
        '{"log":{"version":"1.2","pages":[{"id":"p","t":"a]b"}],"entries":[ {"a":"[1]"} , {"b":2} ],'
        '"_after":{"k":[1,2]}},"x":"y"}'
    )
    plain = tmp_path / "in.har"
    plain.write_bytes(b"\xef\xbb\xbf" + doc.encode())
    packed = tmp_path / "in.har.gz"
    packed.write_bytes(gzip.compress(doc.encode()))
    expected = json.loads(doc)
    expected["log"]["entries"] = []
    for path in (plain, packed):
        framed, span = _framed_by_span(str(path))
        assert len(span) == 2 and framed == expected
        assert json.loads(har_io._outside_entries(str(path), span) or b"null") == expected
    empty = _write(tmp_path / "empty.har", '{"log":{"entries":[  ],"z":1}}')
    framed, span = _framed_by_span(empty)
    assert len(span) == 2 and framed == {"log": {"entries": [], "z": 1}}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ('{"log":{"big":1,"entries":[{"n":1e400}]}}', {"log": {"big": 1, "entries": []}}),  # only ijson reads it
        ('{"log":{"entries":[{"a":1}],"entries":[{"b":2}]}}', {"log": {"entries": []}}),  # entries twice
        ('{"log":{"entries":[{"a":1}]},"log":{"x":1}}', {"log": {"x": 1}}),  # the last "log" wins
    ],
)
def test_where_the_fast_entry_path_gives_up_the_frame_is_parsed_whole(
    tmp_path: Path, doc: str, expected: dict[str, object]
) -> None:
    framed, span = _framed_by_span(_write(tmp_path / "in.har", doc))
    assert span == [] and framed == expected
