"""A HAR body is measured without building its bytes where it can be: the result is what decoding it whole gives.

``har_entry._body`` takes an ASCII text's length as it is and a clean base64 text's length from its own
(decoding only the prefix). Checked here against the plain computation: the whole text decoded (strict
base64, else the lenient way) or encoded as UTF-8, then measured and cut.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.ingest.har_cookie_data import CookieSurvey
from stickyforensics.ingest.har_diag import DiagnosticLog
from stickyforensics.ingest.har_entry import EntryContext, _clean_base64, build_transaction
from stickyforensics.model import BODY_PREFIX_LIMIT

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Mostly base64's own characters, with what makes it unclean now and then: padding anywhere, line breaks,
# spaces, a URL-safe character, non-ASCII.
_b64ish = st.text(alphabet=st.sampled_from([*_B64_CHARS * 4, "=", "=", "\n", " ", "-", "_", "é"]), max_size=40)


def _plain_bytes(text: str, base64_encoded: bool) -> tuple[bytes, bool]:
    """The body's bytes as decoding it whole gives them, and whether it was read as bad base64."""
    if not base64_encoded:
        return text.encode("utf-8", "surrogatepass"), False
    try:
        return binascii.a2b_base64(text, strict_mode=True), False
    except (binascii.Error, ValueError):
        try:
            return base64.b64decode("".join(text.split()), validate=True), False
        except (binascii.Error, ValueError):
            return text.encode("utf-8", "surrogatepass"), True


def _read_body(text: str, encoding: str | None, size: int | None) -> tuple[Any, tuple[str, ...]]:
    content: dict[str, Any] = {"mimeType": "text/plain", "text": text}
    if encoding is not None:
        content["encoding"] = encoding
    if size is not None:
        content["size"] = size
    entry = {
        "startedDateTime": "2024-03-01T10:00:00.000Z",
        "request": {"method": "GET", "url": "https://a.example/", "headers": []},
        "response": {"status": 200, "headers": [], "content": content},
    }
    ctx = EntryContext("x.har", 0, "x.har", DiagnosticLog("x.har"), CookieSurvey())
    tx = build_transaction(entry, 0, ctx)
    assert tx.response is not None
    return tx.response.body, tx.notes


@SETTINGS
@given(_b64ish)
def test_clean_base64_is_what_strict_decoding_gives(text: str) -> None:
    measured = _clean_base64(text)
    if measured is None:
        return
    data = binascii.a2b_base64(text, strict_mode=True)  # accepted as clean: strict decoding must take it
    assert measured == (len(data), data[:BODY_PREFIX_LIMIT])


@SETTINGS
@given(
    st.one_of(
        _b64ish.filter(bool),
        st.binary(min_size=1, max_size=5000).map(lambda b: base64.b64encode(b).decode()),
    ),
    st.one_of(st.none(), st.integers(0, 5000)),
)
def test_a_base64_body_reads_as_decoded_whole(text: str, size: int | None) -> None:
    body, notes = _read_body(text, "base64", size)
    data, bad = _plain_bytes(text, True)
    assert body.size == (size if size is not None else len(data))
    assert body.prefix == data[:BODY_PREFIX_LIMIT]
    assert body.complete == (size is None or size <= len(data))
    assert ("har.bad_base64" in notes) == bad
    assert ("har.body_truncated" in notes) == (not body.complete)


@SETTINGS
@given(
    st.one_of(
        st.text(min_size=1, max_size=3000),  # any code point, lone surrogates included
        st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=5000),
        # around the prefix's length, where a text is cut
        st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=12), st.integers(150, 700)),
        st.builds(lambda piece, times: piece * times, st.sampled_from(["ab", "é", "x\n"]), st.integers(900, 2500)),
    ),
    st.one_of(st.none(), st.integers(0, 20000)),
)
def test_a_text_body_reads_as_encoded_whole(text: str, size: int | None) -> None:
    body, notes = _read_body(text, None, size)
    data, _ = _plain_bytes(text, False)
    assert body.size == (size if size is not None else len(data))
    assert body.prefix == data[:BODY_PREFIX_LIMIT]
    assert body.complete == (size is None or size <= len(data))
    assert ("har.body_truncated" in notes) == (not body.complete)


def test_a_clean_base64_body_longer_than_the_prefix() -> None:
    data = bytes(range(256)) * 40
    body, notes = _read_body(base64.b64encode(data).decode(), "base64", len(data))
    assert (body.size, body.prefix, body.complete, notes) == (len(data), data[:BODY_PREFIX_LIMIT], True, ())
