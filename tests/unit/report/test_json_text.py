"""The fast indented JSON writer gives exactly ``json.dump(indent=2, ensure_ascii=False)``'s text."""

from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stickyforensics.report import json_text
from stickyforensics.report.json_text import LazyList, dump_indented

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text() | st.integers() | st.booleans() | st.none() | st.floats(), inner, max_size=5)
    ),
    max_leaves=40,
)


def stdlib(obj: object) -> str:
    fh = io.StringIO()
    json.dump(obj, fh, indent=2, ensure_ascii=False)
    return fh.getvalue()


def ours(obj: object) -> str:
    fh = io.StringIO()
    dump_indented(obj, fh)
    return fh.getvalue()


@settings(max_examples=300, deadline=None)
@given(values)
def test_same_text_as_the_standard_library(obj: object) -> None:
    assert ours(obj) == stdlib(obj)


def test_hostile_strings_and_special_floats() -> None:
    obj = {"a\u2028b": ["\x1b[31m", '"\\', "\ud800", math.inf, -math.inf, math.nan, 1e16, -0.0], "": {}, "x": []}
    assert ours(obj) == stdlib(obj)


def test_batches_keep_the_text_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_text, "FLUSH_PIECES", 3)
    obj = {"sessions": [{"client": f"10.0.0.{i}", "n": i, "tags": ["a", "b"]} for i in range(50)]}
    assert ours(obj) == stdlib(obj)


def test_unserialisable_values_raise_like_json() -> None:
    with pytest.raises(TypeError):
        ours({"x": object()})
    with pytest.raises(TypeError):
        ours({(1, 2): 1})


@settings(max_examples=100, deadline=None)
@given(st.lists(values, max_size=6))
def test_a_lazy_list_is_written_as_the_list_it_makes(items: list[object]) -> None:
    made: list[object] = []

    def make(item: object) -> object:
        made.append(item)
        return {"item": item}

    lazy = LazyList(items, make)
    assert ours({"x": lazy, "y": LazyList((), make)}) == stdlib({"x": [{"item": i} for i in items], "y": []})
    assert len(lazy) == len(items) and made == items  # each item made once, as written
