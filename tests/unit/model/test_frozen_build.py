"""``frozen_build.builder``: the same objects as the model's own constructors."""

from __future__ import annotations

import dataclasses

import pytest

from stickyforensics.model import (
    BodyInfo,
    Endpoint,
    Headers,
    Provenance,
    Request,
    Response,
    Timing,
    Transaction,
)
from stickyforensics.model.frozen_build import builder


def _samples() -> list[tuple[type, tuple[object, ...]]]:
    headers = Headers((("Host", "h"),))
    body = BodyInfo(3, b"abc", True)
    request = Request("GET", "/", "http://h/", "http", "h", "/", "HTTP/1.1", headers, body)
    response = Response(200, "OK", "HTTP/1.1", headers, body, None)
    timing = Timing(1.0, 1.5, 2.0, 2.5)
    provenance = Provenance("c.pcap", "pcap", (1, 2), (3,), 7, None, None)
    endpoint = Endpoint("10.0.0.1", 40000)
    return [
        (Headers, (headers.items,)),
        (BodyInfo, (3, b"abc", True)),
        (Request, ("GET", "/", "http://h/", "http", "h", "/", "HTTP/1.1", headers, body)),
        (Response, (200, "OK", "HTTP/1.1", headers, body, None)),
        (Timing, (1.0, 1.5, 2.0, 2.5)),
        (Provenance, ("c.pcap", "pcap", (1, 2), (3,), 7, None, None)),
        (
            Transaction,
            ("0.7.0", "c.pcap", request, response, timing, provenance, endpoint, endpoint, None, "7", 0, None, ()),
        ),
    ]


@pytest.mark.parametrize(("cls", "values"), _samples(), ids=lambda v: getattr(v, "__name__", ""))
def test_a_builder_makes_the_object_the_class_makes(cls: type, values: tuple[object, ...]) -> None:
    build = builder(cls)
    assert build is not cls
    made, expected = build(*values), cls(*values)
    assert type(made) is cls
    assert made == expected and repr(made) == repr(expected) and hash(made) == hash(expected)
    assert not hasattr(made, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, None)


def test_every_field_is_required() -> None:
    with pytest.raises(TypeError):
        builder(Timing)(1.0)


def test_classes_it_cannot_reproduce_keep_their_constructor() -> None:
    @dataclasses.dataclass(frozen=True)
    class NotSlotted:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    for cls in (NotSlotted, Checked, Derived):
        assert builder(cls) is cls
