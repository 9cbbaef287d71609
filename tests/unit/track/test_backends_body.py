"""The backend named in a response body: a body without a pattern's literal start is not decoded,
and the answer is the one decoding and searching every body gives."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest
from conftest import treq, tresp, ttx

from stickyforensics.model import BodyInfo, Transaction
from stickyforensics.track.backends import _body_backend, _compiled, _required_start


@pytest.mark.parametrize(
    ("pattern", "start"),
    [
        (r"Served by (?P<backend>[\w.:-]+)", b"Served by "),
        (r"nodes? (\d+)", b"node"),
        (r"node-(?:a|b)(\d)", b"node-"),
        (r"node-[|(](\d)", b"node-"),
        (r"node-[]|](\d)", b"node-"),
        (r"node-\|x|other", None),  # an alternative at the top level may start anywhere
        (r"Served by (x|y)|(z)", None),
        (r"Served by (?#(|)x|y", None),
        (r"(?i)Served by (\w+)", None),
        (r"Served by (?i:x)", b"Served by "),
        (r"(?x)Served by (\w+)", None),
        (r"\bnode-(\d+)", None),
        (r"ab\d", None),
    ],
)
def test_required_start(pattern: str, start: bytes | None) -> None:
    assert _required_start(re.compile(pattern)) == start


def _answered(body: bytes) -> Transaction:
    resp = replace(tresp(200, []), body=BodyInfo(size=len(body), prefix=body))
    return ttx(1, request=treq("GET", "http://app.example/x"), response=resp)


def _decoded_search(body: bytes, patterns: tuple[str, ...]) -> str | None:
    text = body.decode("utf-8", "replace")
    for pattern in patterns:
        match = re.search(pattern, text)
        if match:
            try:
                return match.group("backend")[:200]
            except IndexError:
                return match.group(0)[:200]
    return None


def test_body_backend_is_the_decoded_search() -> None:
    pattern_sets = [
        (r"Served by (?P<backend>[\w.:-]+)",),
        (r"node-(\d+)|backend=(\w+)", r"Served by (?P<backend>\w+)"),
        (r"Served by (?P<backend>\w+)", r"\bapp-\d"),
    ]
    bodies = [
        b"<div>Served by node2</div>",
        "<p>caf\u00e9 \u2013 Served by n\u00f6de7</p>".encode(),
        b"\xff\xfeServed by \xe2\x84node3",
        b"Served\xc3\xa9by x",
        b"backend=b1 app-3",
        b"nothing here",
        b"node-12 Served by x",
        b"",
    ]
    for patterns, body in itertools.product(pattern_sets, bodies):
        assert _body_backend(_answered(body), _compiled(patterns)) == _decoded_search(body, patterns)
