"""A HAR read by two processes gives exactly what one process gives."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from stickyforensics.ingest import har, har_fast, har_split, har_stream
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.har import read_har
from stickyforensics.ingest.har_split import read_split

ROOT = Path(__file__).resolve().parents[3]


def _dump(result: IngestResult) -> str:
    return "\n".join(
        [repr(tx) for tx in result.transactions]
        + [repr(d) for d in result.diagnostics]
        + [repr(result.cookie_data), repr(result.extra)]
    )


def _hars() -> list[Path]:
    found = [p for top in ("samples", "tests/data") for p in (ROOT / top).rglob("*.har")]
    return sorted(found)


@pytest.fixture(autouse=True)
def _split_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 0)


@pytest.mark.parametrize("path", _hars(), ids=lambda p: str(p.relative_to(ROOT)))
def test_two_processes_read_what_one_reads(path: Path) -> None:
    try:
        one = _dump(read_har(str(path)))
    except Exception as exc:  # the same error either way
        with pytest.raises(type(exc)):
            read_har(str(path), processes=2)
        return
    assert _dump(read_har(str(path), processes=2)) == one


def _entry(i: int, started: Any = None, cookie: str = "") -> dict[str, Any]:
    headers = [{"name": "Cookie", "value": cookie}] if cookie else []
    return {
        "startedDateTime": started if started is not None else f"2024-03-01T10:00:{i % 60:02d}.000Z",
        "time": 5,
        "request": {"method": "GET", "url": f"https://a.example/{i}", "httpVersion": "HTTP/1.1", "headers": headers},
        "response": {
            "status": 200,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Set-Cookie", "value": f"s={i}; Path=/"}],
            "content": {"size": 0, "text": "x" * 200},
        },
        "timings": {"send": 1, "wait": 2, "receive": 2},
    }


def _write(tmp_path: Path, entries: list[Any], tail: bytes = b"") -> str:
    path = tmp_path / "s.har"
    text = json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}}, indent=1
    )
    path.write_bytes(text.encode() + tail)
    return str(path)


def _same_both_ways(path: str, *, split: bool | None = None) -> IngestResult:
    """Both ways alike; ``split``: whether the two processes' halves were used (else the ordinary read)."""
    one = read_har(path)
    outcomes: list[object] = []

    def spy(*args: Any) -> Any:
        outcomes.append(result := read_split(*args))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(har, "read_split", spy)
        assert _dump(read_har(path, processes=2)) == _dump(one)
    if split is not None:
        assert (outcomes[0] is not None) is split
    return one


def test_ordered_state_is_replayed_in_entry_order(tmp_path: Path) -> None:
    # Diagnostics listed then folded past PER_CODE, and the survey's "sent no cookie after a Set-Cookie".
    # Unreadable times far from the middle (the child's first entry, near 30, has its own time).
    bad = {i for i in range(1, 60) if i % 2 == 0 and not 20 <= i <= 40}
    entries = [_entry(i, started="not a date" if i in bad else None) for i in range(60)]
    result = _same_both_ways(_write(tmp_path, entries), split=True)
    assert any(d.code == "har.bad_time" and d.count for d in result.diagnostics)


def test_a_child_half_that_starts_with_an_unreadable_time_is_read_again_here(tmp_path: Path) -> None:
    # It takes the previous entry's time, which is in the other half.
    entries = [_entry(i, started="bad" if i >= 20 else None) for i in range(40)]
    result = _same_both_ways(_write(tmp_path, entries), split=False)
    assert result.transactions[-1].timing == result.transactions[19].timing


def test_broken_json_in_either_half_is_read_the_ordinary_way(tmp_path: Path) -> None:
    path = _write(tmp_path, [_entry(i) for i in range(40)], tail=b"}")  # trailing garbage: the child's half
    result = _same_both_ways(path, split=False)
    assert any(d.code == "har.truncated" for d in result.diagnostics)
    text = Path(path).read_bytes()
    Path(path).write_bytes(text.replace(b'"https://a.example/3"', b'"https://a.example/3\xff"', 1))  # ours
    _same_both_ways(path, split=False)


def test_only_large_plain_files_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, [_entry(i) for i in range(3)])
    assert har_split.splittable(path)
    monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 1 << 30)
    assert not har_split.splittable(path)
    monkeypatch.setattr(har_split, "SPLIT_MIN_BYTES", 0)
    utf16 = tmp_path / "u.har"
    utf16.write_bytes(Path(path).read_text().encode("utf-16"))
    assert not har_split.splittable(str(utf16))
    assert not har_split.splittable(str(tmp_path / "missing.har"))


def _fail_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's half raises (as a bug of ours would)."""
    real = har_split._read_half

    def failing(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("decode_from"):
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(har_split, "_read_half", failing)


def test_a_child_that_fails_leaves_the_ordinary_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug in the child's half (here: any exception) must cost time, not the result.
    _fail_the_child(monkeypatch)
    _same_both_ways(_write(tmp_path, [_entry(i) for i in range(40)]), split=False)


class _Feed:
    """An ``EarlyFeed`` that keeps what it is told."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.abandoned = 0

    def feed(self, batch: Any) -> None:
        self.batches.append(list(batch))

    def abandon(self) -> None:
        self.abandoned += 1


def test_the_feed_is_told_every_transaction_in_order_as_chunks_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(har_split, "CHUNK", 4)
    path = _write(tmp_path, [_entry(i) for i in range(40)])
    feed = _Feed()
    result = read_har(path, processes=2, early=feed)
    assert _dump(result) == _dump(read_har(path))
    told = [tx for batch in feed.batches for tx in batch]
    assert len(told) == len(result.transactions) and all(a is b for a, b in zip(told, result.transactions, strict=True))
    assert len(feed.batches) > 3 and max(map(len, feed.batches[1:])) == 4  # ours, then the child's chunks
    assert feed.abandoned == 0


def test_the_bar_follows_the_other_half_as_its_chunks_come(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our half tells the bar as it reads; then each chunk of the child's tells how far the child had read, so
    the bar does not stop at our share while the rest is being read."""
    monkeypatch.setattr(har_split, "CHUNK", 4)
    monkeypatch.setattr(har_stream, "PROGRESS_BYTES", 16 << 10)
    path = _write(tmp_path, [_entry(i) for i in range(3000)])
    size = os.path.getsize(path)
    told: list[int] = []
    result = read_har(path, processes=2, progress=lambda done, total: told.append(done))
    assert _dump(result) == _dump(read_har(path))
    ours = int(size * har_split.OUR_SHARE) + har_fast.WINDOW  # the most our reader reads of the file
    assert told == sorted(told) and told[-1] == size
    assert len([done for done in told if ours < done < size]) >= 2  # only the child reads there (256 KB a read)


def test_the_feed_is_abandoned_when_the_halves_are_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(har_split, "CHUNK", 4)
    monkeypatch.setattr(har_split, "AFTER_OUR_HALF_MB", 0)  # halves, whatever the file's size
    # The child's first entry takes the previous entry's time: its half is refused, the file read again.
    path = _write(tmp_path, [_entry(i, started="bad" if i >= 8 else None) for i in range(40)])
    feed = _Feed()
    assert _dump(read_har(path, processes=2, early=feed)) == _dump(read_har(path))
    assert feed.abandoned and len(feed.batches) == 1  # our half only: the refused half was not fed
    # A child that dies: the same.
    _fail_the_child(monkeypatch)
    path = _write(tmp_path, [_entry(i) for i in range(40)])
    feed = _Feed()
    assert _dump(read_har(path, processes=2, early=feed)) == _dump(read_har(path))
    assert feed.abandoned


def test_frames_cut_short_are_not_taken(tmp_path: Path) -> None:
    # Notices that name more bytes than the spool holds, or that end mid-notice: no half, no error.
    spool = tmp_path / "spool"
    spool.write_bytes(b"abc")
    for notices in (har_split._TRANSACTIONS + (10).to_bytes(8, "big"), har_split._HALF + b"\x00\x00"):
        read_end, write_end = os.pipe()
        os.write(write_end, notices)
        os.close(write_end)
        received: list[Any] = []
        with open(spool, "rb") as fh:
            assert har_split._receive(read_end, fh.fileno(), received, None) is None
        os.close(read_end)
        assert received == []


def test_no_temporary_directory_leaves_the_ordinary_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The child's chunks go through a temporary file: without one, one process reads the file.
    def unwritable(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError("read-only temporary directory")

    monkeypatch.setattr(har_split.tempfile, "TemporaryFile", unwritable)
    _same_both_ways(_write(tmp_path, [_entry(i) for i in range(40)]), split=False)


def test_our_share_leaves_the_child_more_of_a_smaller_file_when_we_also_track() -> None:
    # What this process loads after its half weighs more against a smaller file (``AFTER_OUR_HALF_MB``).
    shares = [har_split._our_share(mb * 1_000_000, tracking=True) for mb in (1, 16, 30, 100, 300, 3000)]
    assert shares == sorted(shares) and shares[0] == har_split.MIN_SHARE
    assert 0.43 <= shares[-2] <= har_split.OUR_SHARE_TRACKING > shares[-1] > shares[-2]
    assert har_split._our_share(30_000_000, tracking=False) == har_split.OUR_SHARE
