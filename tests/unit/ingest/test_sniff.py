"""sniff() decides the format by content; expand_inputs() turns files and folders into inputs."""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import os
import struct
from pathlib import Path

import pytest

from stickyforensics.errors import InputError
from stickyforensics.ingest import sniff as sniff_module
from stickyforensics.ingest.sniff import expand_inputs, sniff
from tests.conftest import CORPUS, shared_or_skip

PCAP_HEADER_REST = struct.pack("<HHiIII", 2, 4, 0, 0, 65535, 1)
HAR = b'{"log": {"version": "1.2", "entries": []}}'


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def _pcapng() -> bytes:
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    length = 12 + len(body)
    return struct.pack("<II", 0x0A0D0D0A, length) + body + struct.pack("<I", length)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        pytest.param(b"\xd4\xc3\xb2\xa1" + PCAP_HEADER_REST, "pcap", id="pcap-le-usec"),
        pytest.param(b"\xa1\xb2\xc3\xd4" + PCAP_HEADER_REST, "pcap", id="pcap-be-usec"),
        pytest.param(b"\x4d\x3c\xb2\xa1" + PCAP_HEADER_REST, "pcap", id="pcap-le-nsec"),
        pytest.param(b"\xa1\xb2\x3c\x4d" + PCAP_HEADER_REST, "pcap", id="pcap-be-nsec"),
        pytest.param(_pcapng(), "pcapng", id="pcapng"),
        pytest.param(HAR, "har", id="har"),
        pytest.param(b" \r\n\t" + HAR, "har", id="har-leading-whitespace"),
        pytest.param(codecs.BOM_UTF8 + HAR, "har", id="har-utf8-bom"),
        pytest.param(codecs.BOM_UTF16_LE + HAR.decode().encode("utf-16-le"), "har", id="har-utf16"),
        pytest.param(b'{"comment": "first", "log": {"entries": []}}', "har", id="har-log-not-first"),
        pytest.param(gzip.compress(b"\xd4\xc3\xb2\xa1" + PCAP_HEADER_REST), "pcap", id="gzip-pcap"),
        pytest.param(gzip.compress(_pcapng()), "pcapng", id="gzip-pcapng"),
        pytest.param(gzip.compress(codecs.BOM_UTF8 + HAR), "har", id="gzip-har-bom"),
        pytest.param(lzma.compress(_pcapng()), "pcapng", id="xz-pcapng"),
        pytest.param(bz2.compress(HAR), "har", id="bzip2-har"),
    ],
)
def test_formats_by_content(tmp_path: Path, data: bytes, fmt: str) -> None:
    # A misleading name: the content decides.
    assert sniff(_write(tmp_path, "capture.txt", data)) == fmt


def test_truncated_gzip_still_sniffs(tmp_path: Path) -> None:
    data = gzip.compress(HAR + b" " * 200_000)
    assert sniff(_write(tmp_path, "x.har.gz", data[: len(data) // 2])) == "har"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param(
            "a.pcap",
            b"PK\x03\x04rest",
            r"not a pcap, pcapng or HAR file: starts with 'PK\x03\x04' (a zip archive?)",
            id="zip",
        ),
        pytest.param("a.pdf", b"%PDF-1.7", "(a PDF document?)", id="pdf"),
        pytest.param("a.json", b'{"foo": 1}', 'JSON, but no "log" key near the start: not a HAR', id="json-not-har"),
        pytest.param("a.json", b"[1, 2]", "a JSON array, not a HAR", id="json-array"),
        pytest.param("a.html", b"<!DOCTYPE html><html>", "an HTML page?", id="html"),
        pytest.param(
            "a.pcap", b"hello world", "the name says .pcap but the content does not match", id="text-named-pcap"
        ),
        pytest.param(
            "a.gz", gzip.compress(b"plain text"), "gzip-compressed, but the content is not a pcap", id="gz-text"
        ),
        pytest.param("a.gz", b"\x1f\x8b\x08\x00garbage-not-deflate", "corrupt gzip data", id="gz-corrupt"),
        pytest.param("a.gz", gzip.compress(b""), "empty once decompressed", id="gz-empty"),
        pytest.param("a.xz", lzma.compress(b"PK\x03\x04"), "xz-compressed, but the content is not a pcap", id="xz-zip"),
        pytest.param("a.bz2", b"BZh91AY&SYgarbage", "corrupt bzip2 data", id="bz2-corrupt"),
        pytest.param("empty.har", b"", "empty file (0 bytes)", id="empty"),
    ],
)
def test_not_a_capture(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError) as err:
        sniff(path)
    assert err.value.path == path
    assert message in err.value.detail
    assert str(err.value).startswith(path + ": ")


def test_har_key_far_away_is_not_a_har(tmp_path: Path) -> None:
    data = b'{"padding": "' + b"x" * 20_000 + b'", "log": {"entries": []}}'
    with pytest.raises(InputError, match="not a HAR"):
        sniff(_write(tmp_path, "late.json", data))


def test_missing_folder_and_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="no such file"):
        sniff(str(tmp_path / "missing.pcap"))
    with pytest.raises(InputError, match="is a folder"):
        sniff(str(tmp_path))
    path = _write(tmp_path, "locked.pcap", b"\xd4\xc3\xb2\xa1" + PCAP_HEADER_REST)
    if os.geteuid() != 0:
        os.chmod(path, 0)
    else:  # root reads anything: make open() refuse as it would for a user.

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(sniff_module, "open", refuse, raising=False)
    with pytest.raises(InputError, match="permission denied"):
        sniff(path)


def test_expand_inputs_recurses_sorted_and_skips_non_captures(tmp_path: Path) -> None:
    pcap = b"\xd4\xc3\xb2\xa1" + PCAP_HEADER_REST
    root = tmp_path / "case"
    _write(root, "README.md", b"# notes")
    _write(root, "b.har", HAR)
    _write(root, "a.pcapng", _pcapng())
    _write(root, "sub/z.pcap", pcap)
    _write(root, "sub/keys.txt", b"CLIENT_RANDOM 00 11")
    _write(root, "sub/deeper/c.pcap.gz", gzip.compress(pcap))
    _write(root, ".git/objects/x.pcap", pcap)
    _write(root, ".hidden.pcap", pcap)
    single = _write(tmp_path, "single.har", HAR)
    got = expand_inputs([single, str(root), single])
    assert got == [
        single,
        str(root / "a.pcapng"),
        str(root / "b.har"),
        str(root / "sub" / "z.pcap"),
        str(root / "sub" / "deeper" / "c.pcap.gz"),
    ]
    assert expand_inputs([str(root)]) == expand_inputs([str(root)])


def test_pipes_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "capture.pcap"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        sniff(str(fifo))
    assert expand_inputs([str(tmp_path)]) == []  # skipped inside a folder, never opened


def test_expand_inputs_explicit_non_capture_and_missing(tmp_path: Path) -> None:
    readme = _write(tmp_path, "README.md", b"# notes")
    with pytest.raises(InputError, match="not a pcap, pcapng or HAR file") as err:
        expand_inputs([readme])
    assert err.value.path == readme
    with pytest.raises(InputError, match="no such file or folder"):
        expand_inputs([str(tmp_path / "nope")])
    assert expand_inputs([str(tmp_path)]) == []


def test_corpus_files_sniff_as_their_manifest_says() -> None:
    manifest = shared_or_skip(CORPUS / "MANIFEST.json")
    for item in json.loads(manifest.read_text()):
        path = str(CORPUS / item["file"])
        kind = item["kind"]
        if kind.startswith("tls-keylog"):
            with pytest.raises(InputError):
                sniff(path)
        elif item["file"].endswith("brokenfile.har"):
            assert sniff(path) == "har"  # looks like a HAR; read_har then refuses it
        else:
            assert sniff(path) == kind.removesuffix(".gz"), item["file"]


def test_content_size_is_what_the_readers_will_read(tmp_path: Path) -> None:
    """Work is split by the bytes of capture a file holds: a gzip file's decompressed size (its trailer), an
    xz or bzip2 file's by a generous ratio, a plain file's own size."""
    from stickyforensics.ingest.sniff import RATIO_GUESS, content_size, decompressed_limit

    capture = Path(__file__).resolve().parents[3] / "samples" / "noise" / "capture.pcap"
    data = capture.read_bytes()
    plain = tmp_path / "c.pcap"
    plain.write_bytes(data)
    assert content_size(str(plain)) == len(data)
    gz = tmp_path / "c.pcap.gz"
    gz.write_bytes(gzip.compress(data))
    assert gz.stat().st_size < len(data) and content_size(str(gz)) == len(data)
    xz = tmp_path / "c.pcap.xz"
    xz.write_bytes(lzma.compress(data))
    assert content_size(str(xz)) == xz.stat().st_size * RATIO_GUESS
    # A trailer smaller than the file: the data passed 4 GiB (the trailer keeps it modulo 2**32), bounded as
    # the readers bound a decompression.
    odd = tmp_path / "odd.gz"
    odd.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 200 + struct.pack("<II", 0, 5))
    assert content_size(str(odd)) == min(5 + (1 << 32), decompressed_limit(odd.stat().st_size))
