"""Hostile HAR entries never raise out of read_har: they become transactions or diagnostics."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.errors import InputError
from stickyforensics.ingest.har import read_har

KEYS = [
    "request", "response", "method", "url", "headers", "cookies", "name", "value", "status", "statusText",
    "httpVersion", "content", "text", "encoding", "size", "startedDateTime", "time", "timings", "send", "wait",
    "serverIPAddress", "connection", "_fromCache", "postData", "bodySize", "expires", "httpOnly", "_serverPort",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["base64", "http://a.example/x", "https://[::1]:8443/p?q", "set-cookie", "cookie", "a=1; b=2",
                     "2024-03-01T10:00:00Z", "h2", "::1", "0", "-1", "Set-Cookie"]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=5),
    ),
    max_leaves=25,
)


def _skeleton() -> dict[str, Any]:
    return {
        "startedDateTime": "2024-03-01T10:00:00Z",
        "time": 5,
        "request": {"method": "GET", "url": "http://app.example/", "headers": [], "cookies": []},
        "response": {"status": 200, "headers": [], "cookies": [], "content": {"size": 0}},
    }


@st.composite
def entries(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(json_values)
    entry = _skeleton()
    for _ in range(draw(st.integers(1, 4))):
        request, response = entry.get("request"), entry.get("response")
        content = response.get("content") if isinstance(response, dict) else None
        sections = [x for x in (entry, request, response, content) if isinstance(x, dict)]
        section = draw(st.sampled_from(sections))
        section[draw(st.sampled_from(KEYS))] = draw(json_values)
    return entry


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entries(), min_size=1, max_size=4))
def test_read_har_never_raises_on_hostile_entries(items: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.har"
        path.write_text(json.dumps({"log": {"entries": items}}), encoding="utf-8")
        try:
            res = read_har(str(path))
        except InputError:
            return
    assert len(res.transactions) <= len(items)
    for tx in res.transactions:
        assert tx.request.method and tx.request.host and tx.request.target.startswith("/")
        for name, value in tx.request.headers:
            assert isinstance(name, str) and isinstance(value, str)
            name.encode("utf-8") and value.encode("utf-8")
    listed = {d.position for d in res.diagnostics if d.code in {"har.entry_invalid", "har.entry_not_http"}}
    kept = {f"entry {tx.provenance.har_entry}" for tx in res.transactions}
    assert listed.isdisjoint(kept)
    assert len(listed) + len(kept) == len(items)
