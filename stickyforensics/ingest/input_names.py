"""The name each input's client goes by when the input itself is the client (a browser's HAR file).

A HAR file is one user, named by its base name in every report. Two users' files often share one
(``node-a/session.har`` and ``node-b/session.har``, every export called ``localhost.har``): named alike,
they were one client, their cookies merged into one jar. ``distinct_names`` keeps the base name where
it is unique and adds the parent folders that tell the others apart.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence


def _components(path: str) -> list[str]:
    norm = os.path.normpath(path)
    if os.altsep:  # Windows: either slash; elsewhere a backslash is part of a name
        norm = norm.replace(os.altsep, os.sep)
    parts = [p for p in norm.split(os.sep) if p]
    return parts or [path]


def distinct_names(paths: Sequence[str]) -> list[str]:
    """One name per path: its base name, or as many trailing components as tell it from the other paths
    with that base name (``a/x.har``, ``b/x.har``); a path given twice is ``x.har #2`` the second time."""
    components = [_components(p) for p in paths]
    depth = [1] * len(paths)
    names = ["/".join(c[-1:]) for c in components]
    while True:
        groups: defaultdict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(names):
            groups[name].append(i)
        grown = False
        for members in groups.values():
            if len(members) < 2:
                continue
            for i in members:
                if depth[i] < len(components[i]):
                    depth[i] += 1
                    names[i] = "/".join(components[i][-depth[i] :])
                    grown = True
        if not grown:
            break
    seen: defaultdict[str, int] = defaultdict(int)
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out
