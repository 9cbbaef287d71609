"""Hypothesis properties of the HAR reader on mutated-but-valid JSON.

The same HAR written another way must read the same: any JSON formatting (indentation, separators,
``\\uXXXX`` escapes, key order), a BOM or UTF-16, gzip / xz / bzip2, and unknown fields added anywhere
(producers add ``_private`` fields freely). Type mutations of known fields are
``tests/unit/ingest/test_har_fuzz.py``'s concern.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.har import read_har

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=10)
# Any text a producer may write, astral characters included (escaped as surrogate pairs by ensure_ascii).
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@st.composite
def entry(draw: st.DrawFn) -> dict[str, Any]:
    host = draw(_token) + ".example"
    cookies = draw(st.lists(st.tuples(_token, _token), max_size=2))
    request_headers = [{"name": "Host", "value": host}]
    if cookies:
        request_headers.append({"name": "Cookie", "value": "; ".join(f"{n}={v}" for n, v in cookies)})
    request_headers += [{"name": draw(_token).title(), "value": draw(_text)} for _ in range(draw(st.integers(0, 2)))]
    sets = [f"{draw(_token)}={draw(_token)}; Path=/" for _ in range(draw(st.integers(0, 2)))]
    return {
        "startedDateTime": f"2024-03-01T10:{draw(st.integers(0, 59)):02d}:00.{draw(st.integers(0, 999)):03d}Z",
        "time": draw(st.floats(0, 5000, allow_nan=False)),
        "request": {
            "method": draw(st.sampled_from(["GET", "POST", "HEAD"])),
            "url": f"https://{host}/{draw(_token)}?q={draw(_token)}",
            "httpVersion": draw(st.sampled_from(["HTTP/1.1", "http/2.0", "h3"])),
            "headers": request_headers,
            "cookies": [{"name": n, "value": v} for n, v in cookies],
        },
        "response": {
            "status": draw(st.sampled_from([200, 302, 304, 404])),
            "statusText": draw(_text),
            "headers": [{"name": "Set-Cookie", "value": line} for line in sets],
            "cookies": [],
            "content": {"size": 0, "mimeType": "text/html", "text": draw(_text)},
        },
        "timings": {"send": 1, "wait": draw(st.integers(0, 100)), "receive": 1},
    }


def har(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "prop", "version": "1"}, "entries": entries}}


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), _text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_token, inner, max_size=3),
    max_leaves=8,
)


def add_unknown_fields(doc: Any, extras: list[Any], at: list[int]) -> Any:
    """Copy of ``doc`` with ``_x`` fields added to some of its objects (picked by ``at``)."""
    counter = iter(range(10**9))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items()}
            index = next(counter)
            if index in at:
                out[f"_x{index}"] = extras[index % len(extras)]
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(doc)


Writer = Callable[[bytes], bytes]
ENCODINGS: dict[str, Writer] = {
    "plain": lambda b: b,
    "utf8-bom": lambda b: codecs.BOM_UTF8 + b,
    "utf16-le": lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le"),
    "gzip": gzip.compress,
    "xz": lzma.compress,
    "bzip2": bz2.compress,
}


def read(data: bytes) -> IngestResult:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prop.har"
        path.write_bytes(data)
        return read_har(str(path))


def projection(res: IngestResult) -> list[object]:
    out: list[object] = []
    for tx in res.transactions:
        resp = tx.response
        out.append(
            (
                tx.id,
                tx.request.method,
                tx.request.url,
                tx.request.version,
                tx.request.headers.items,
                tx.timing.started,
                None if resp is None else (resp.status, resp.reason, resp.headers.items, resp.body),
                tx.error,
                tx.notes,
            )
        )
    return [*out, res.cookie_data, sorted((d.code, d.position) for d in res.diagnostics)]


@SETTINGS
@given(
    entries=st.lists(entry(), min_size=1, max_size=4),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    separators=st.sampled_from([None, (",", ":"), (" , ", " : ")]),
    ensure_ascii=st.booleans(),
    sort_keys=st.booleans(),
    encoding=st.sampled_from(sorted(ENCODINGS)),
)
def test_formatting_and_encoding_do_not_change_what_is_read(
    entries: list[dict[str, Any]],
    indent: int | str | None,
    separators: tuple[str, str] | None,
    ensure_ascii: bool,
    sort_keys: bool,
    encoding: str,
) -> None:
    doc = har(entries)
    reference = read(json.dumps(doc).encode())
    assert len(reference.transactions) == len(entries)
    text = json.dumps(doc, indent=indent, separators=separators, ensure_ascii=ensure_ascii, sort_keys=sort_keys)
    assert projection(read(ENCODINGS[encoding](text.encode()))) == projection(reference)


@SETTINGS
@given(
    entries=st.lists(entry(), min_size=1, max_size=3),
    extras=st.lists(json_values, min_size=1, max_size=4),
    at=st.lists(st.integers(0, 40), max_size=8),
)
def test_unknown_fields_anywhere_do_not_change_what_is_read(
    entries: list[dict[str, Any]], extras: list[Any], at: list[int]
) -> None:
    doc = har(entries)
    assert projection(read(json.dumps(add_unknown_fields(doc, extras, at)).encode())) == projection(
        read(json.dumps(doc).encode())
    )
