"""Faster pickling for the model's frozen dataclasses (``--jobs`` sends sessions and findings between processes).

A frozen dataclass with slots pickles through the generic ``__getstate__``/``__setstate__`` that
dataclasses add, which call ``dataclasses.fields()`` and ``object.__setattr__`` per field for every
object: about half of what a worker's results cost the parent to load (measured on the 200k-packet
capture). Reducing to a constructor and the ``__init__`` arguments halves both ways; where
``frozen_build.builder`` reproduces the class exactly, that constructor is the builder (published
in this module under a name pickle can find), which halves the load again.
"""

from __future__ import annotations

import dataclasses
import operator
import sys
from collections.abc import Callable, Iterable
from typing import Any

from stickyforensics.model.frozen_build import builder


def pickle_by_fields(classes: Iterable[type]) -> None:
    """Give each dataclass whose fields are all ``__init__`` arguments a ``__reduce__`` by those arguments."""
    module = sys.modules[__name__]
    for cls in classes:
        if not dataclasses.is_dataclass(cls):
            continue
        fields = dataclasses.fields(cls)
        if not fields or not all(f.init for f in fields):
            continue
        make: Callable[..., Any] = builder(cls)
        if make is not cls:
            name = f"build_{cls.__name__}"
            assert getattr(module, name, make) is make, f"two model classes named {cls.__name__}"
            make.__module__, make.__qualname__, make.__name__ = __name__, name, name
            setattr(module, name, make)
        cls.__reduce__ = _reducer(make, tuple(f.name for f in fields))  # type: ignore[method-assign, assignment]


def _reducer(make: Callable[..., Any], names: tuple[str, ...]) -> Callable[[Any], tuple[Any, tuple[Any, ...]]]:
    if len(names) == 1:
        name = names[0]

        def reduce_one(self: Any) -> tuple[Any, tuple[Any, ...]]:
            return (make, (getattr(self, name),))

        return reduce_one
    values = operator.attrgetter(*names)

    def reduce(self: Any) -> tuple[Any, tuple[Any, ...]]:
        return (make, values(self))

    return reduce
