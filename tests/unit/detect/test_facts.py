"""Per-transaction facts: session-lost markers (with and without the shared body search) and static paths."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from conftest import treq, tresp, ttx

from stickyforensics.config import Config
from stickyforensics.detect.facts import BodyMarkers, is_static, session_lost
from stickyforensics.model import BodyInfo, Transaction


def answered(body: bytes, status: int = 200) -> Transaction:
    resp = replace(tresp(status, []), body=BodyInfo(size=len(body), prefix=body))
    return ttx(1, request=treq("GET", "http://app.example/app/x"), response=resp)


BODIES = [
    b"<html>all good</html>",
    b"<p>Your SESSION EXPIRED, please log in again</p>",
    b"bad session",
    "<p>Sitzung abgelaufen \u2013 Session Timed Out</p>".encode(),  # non-ASCII: decoded, then searched
    b"\xff\xfe Session has expired \xff",  # invalid UTF-8: replaced, still found
    "K\u212aELVIN please log in".encode(),  # the Kelvin sign lower-cases to an ASCII k
    b"",
]


@pytest.mark.parametrize("body", BODIES)
def test_body_markers_found_alike_with_and_without_the_shared_search(body: bytes) -> None:
    config = Config()
    tx = answered(body)
    text = body.decode("utf-8", "replace").lower()
    expected = next((m for m in config.body_markers if m and m.lower() in text), None)
    want = f"200 with body '{expected}'" if expected else None
    markers = BodyMarkers(config.body_markers)
    assert session_lost(tx, config) == want
    assert session_lost(tx, config, markers) == want
    assert session_lost(tx, config, markers) == want  # remembered by content


def test_markers_of_another_configuration_are_not_used() -> None:
    config = replace(Config(), body_markers=("gone",))
    shared = BodyMarkers(Config().body_markers)
    assert session_lost(answered(b"the session is gone"), config, shared) == "200 with body 'gone'"


@pytest.mark.parametrize(
    ("path", "method"),
    [("/static/app.js", "GET"), ("/static/app.js", "POST"), ("/api/x", "GET"), ("/img/a.PNG", "HEAD"), ("/", "GET")],
)
def test_is_static_is_the_configurations_answer(path: str, method: str) -> None:
    for config in (Config(), replace(Config(), static_pattern=r"^/api/")):
        assert is_static(config, path, method) == config.is_static(path, method)
        assert is_static(config, path, method) == config.is_static(path, method)


def test_markers_found_in_bytes_as_in_the_decoded_lower_cased_text() -> None:
    """The byte-level search beyond ASCII answers as decoding and lower-casing the text would."""
    rng = random.Random(7)
    markers = ("session expired", "please log in", "SESSION TIMED OUT", "k", "sesi\u00f3n caducada")
    pieces = [
        *(m.encode() for m in markers), b"SESSION EXPIRED", b"Please Log In", b"\xc3\xa9", b"\xe2\x80\x93",
        "\u0130".encode(), "\u212a".encode(), b"\xff", b"\xe2\x84", b"\xc4", b" ", b"x", b"K", "SESI\u00d3N".encode(),
    ]  # fmt: skip
    for ascii_only in (True, False):
        config = Config(body_markers=markers[:4] if ascii_only else markers)
        shared = BodyMarkers(config.body_markers)
        for _ in range(400):
            body = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
            text = body.decode("utf-8", "replace").lower()
            expected = next((m for m in config.body_markers if m.lower() in text), None)
            assert session_lost(answered(body), config, shared) == (f"200 with body '{expected}'" if expected else None)
