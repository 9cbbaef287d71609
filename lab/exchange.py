"""One request/response as a lab client saw it, and the tiny cookie jar the scripted clients share.

The same record is rebuilt from the captures and HARs by ``lab.verify``, so the ground truth derived
from the clients' own logs can be checked against what is really on the wire.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any


@dataclass
class SetCookie:
    name: str
    value: str
    deletes: bool = False
    """``Max-Age=0`` or an ``Expires`` in the past: the server removes the cookie."""


@dataclass
class Exchange:
    client: str
    """Client IP (scripted clients, captures) or HAR file name."""
    time: float
    method: str
    target: str
    cookies: dict[str, str] = field(default_factory=dict)
    """Cookies the request carried."""
    status: int | None = None
    backend: str | None = None
    """The ``X-Backend`` response header: which application node answered."""
    set_cookies: list[SetCookie] = field(default_factory=list)
    cache: str | None = None
    """``X-Cache-Status`` (nginx cache HIT/MISS), when present."""
    body: str = ""
    """The first bytes of the response body."""
    protocol: str = "HTTP/1.1"
    note: str = ""
    """What the lab did on purpose for this request (e.g. 'omitted NSC_ cookie')."""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        fields = dict(data)
        fields["set_cookies"] = [SetCookie(**c) for c in fields.get("set_cookies", [])]
        return cls(**fields)


def parse_set_cookie(header: str, now: float | None = None) -> SetCookie | None:
    """Name, value and whether it deletes, from one ``Set-Cookie`` header value."""
    first, *attrs = header.split(";")
    name, sep, value = first.strip().partition("=")
    if not sep or not name:
        return None
    deletes = False
    now = time.time() if now is None else now
    for attr in attrs:
        key, _, val = attr.strip().partition("=")
        key = key.strip().lower()
        if key == "max-age":
            with contextlib.suppress(ValueError):
                deletes = deletes or int(val.strip()) <= 0
        elif key == "expires":
            with contextlib.suppress(TypeError, ValueError, IndexError):
                deletes = deletes or parsedate_to_datetime(val.strip()).timestamp() < now
    return SetCookie(name.strip(), value.strip(), deletes)


def parse_cookie_header(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, val = part.strip().partition("=")
        if sep and name and name not in out:
            out[name] = val
    return out


class Jar:
    """Name -> value; every lab cookie has ``Path=/`` on one host, so no scoping is needed."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def apply(self, cookies: list[SetCookie]) -> None:
        for c in cookies:
            if c.deletes:
                self.values.pop(c.name, None)
            else:
                self.values[c.name] = c.value

    def header(self, omit: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
        sent = {k: v for k, v in self.values.items() if k not in omit}
        return "; ".join(f"{k}={v}" for k, v in sent.items()), sent
