"""Faster pickling for the model's frozen dataclasses (``--jobs`` sends sessions and findings between processes).

A frozen dataclass with slots pickles through the generic ``__getstate__``/``__setstate__`` that
dataclasses add, which call ``dataclasses.fields()`` and ``object.__setattr__`` per field for every
object: about half of what a worker's results cost the parent to load (measured on the 200k-packet
capture). Reducing to the class and its ``__init__`` arguments halves both ways.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable
from typing import Any


def pickle_by_fields(classes: Iterable[type]) -> None:
    """Give each dataclass whose fields are all ``__init__`` arguments a ``__reduce__`` by those arguments."""
    for cls in classes:
        if not dataclasses.is_dataclass(cls):
            continue
        fields = dataclasses.fields(cls)
        if not fields or not all(f.init for f in fields):
            continue
        cls.__reduce__ = _reducer(cls, tuple(f.name for f in fields))  # type: ignore[method-assign, assignment]


def _reducer(cls: type, names: tuple[str, ...]) -> Callable[[Any], tuple[type, tuple[Any, ...]]]:
    if len(names) == 1:
        name = names[0]

        def reduce_one(self: Any) -> tuple[type, tuple[Any, ...]]:
            return (cls, (getattr(self, name),))

        return reduce_one
    values = operator.attrgetter(*names)

    def reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
        return (cls, values(self))

    return reduce
