"""Shared test helpers: builders for model objects (mitmproxy tflow style) and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from stickyforensics.model import (
    Endpoint,
    Headers,
    Provenance,
    Request,
    Response,
    Timing,
    Transaction,
)

# The suite is a gate (CI, a user's setup check): the same examples every run, so a red run means a
# change, not the dice. SF_HYPOTHESIS_EXPLORE=1 searches afresh each run, to hunt for new failures;
# one found that way is replayed from .hypothesis/ on the next runs.
settings.register_profile("gate", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("SF_HYPOTHESIS_EXPLORE") else "gate")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def shared_or_skip(path: Path) -> Path:
    """A ../shared path, or a visible skip when this clone has no ../shared."""
    if not path.exists():
        pytest.skip(f"{path} is absent (a user's clone has no ../shared)")
    return path


def treq(
    method: str = "GET",
    url: str = "http://app.example/",
    headers: list[tuple[str, str]] | None = None,
) -> Request:
    scheme, _, rest = url.partition("://")
    hostport, slash, tail = rest.partition("/")
    target = "/" + tail if slash else "/"
    path = target.split("?", 1)[0]
    host = hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport
    return Request(
        method=method,
        target=target,
        url=url,
        scheme=scheme,
        host=host.lower(),
        path=path,
        headers=Headers(tuple(headers or ())),
    )


def tresp(status: int = 200, headers: list[tuple[str, str]] | None = None, reason: str = "OK") -> Response:
    return Response(status=status, reason=reason, headers=Headers(tuple(headers or ())))


def ttx(
    n: int,
    *,
    at: float | None = None,
    request: Request | None = None,
    response: Response | None = None,
    client: str = "10.0.0.1",
    server: str = "10.0.0.100",
    source: str = "test.pcap",
    har: bool = False,
) -> Transaction:
    started = at if at is not None else 1_700_000_000.0 + n
    prov = (
        Provenance(source=source, kind="har", har_entry=n)
        if har
        else Provenance(
            source=source, kind="pcap", request_frames=(n * 4 + 4,), response_frames=(n * 4 + 6,), tcp_stream=n
        )
    )
    return Transaction(
        id=f"0.e{n}" if har else f"0.{n}.0",
        input=source,
        request=request or treq(),
        response=response if response is not None else tresp(),
        timing=Timing(started=started, finished=started + 0.01),
        provenance=prov,
        client=None if har else Endpoint(client, 40000 + n),
        server=None if har else Endpoint(server, 80),
        client_label=source if har else None,
    )


def cacheable_set_cookie_hars(folder: Path, clients: int) -> list[Path]:
    """``clients`` browser HARs (one client each) whose one response a shared cache may store sets the
    routing cookie (tests/rules/SF305's positive case), each a minute after the last, on its own path, with
    an ``Expires`` header the finding quotes, each its own session: what SF305 groups across clients."""
    import json

    template = json.loads(
        (Path(__file__).parent / "rules" / "SF305" / "positive-public.har").read_text(encoding="utf-8")
    )
    paths = []
    for n in range(clients):
        har = json.loads(json.dumps(template))
        entry = har["log"]["entries"][0]
        entry["startedDateTime"] = f"2024-05-01T{10 + n // 60:02d}:{n % 60:02d}:00.000Z"
        entry["request"]["url"] = f"http://app.example/page{n}"
        headers = entry["response"]["headers"]
        for header in headers:  # each user's own session (one value for all would be a replay: SF304)
            if header["name"] == "Set-Cookie":
                header["value"] = header["value"].replace("JSESSIONID=", f"JSESSIONID={n:04d}", 1)
        headers.append({"name": "Expires", "value": "Wed, 01 May 2024 11:00:00 GMT"})
        path = folder / f"client{n}.har"
        path.write_text(json.dumps(har), encoding="utf-8")
        paths.append(path)
    return paths
