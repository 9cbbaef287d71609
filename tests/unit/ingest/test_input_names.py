"""``distinct_names``: a HAR file's client is its base name unless another input shares it."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from stickyforensics.ingest.input_names import distinct_names


def test_unique_base_names_stay_base_names() -> None:
    assert distinct_names(["a/alice.har", "/tmp/b/bob.har", "carol.har.gz"]) == ["alice.har", "bob.har", "carol.har.gz"]


def test_a_shared_base_name_gets_the_folders_that_tell_the_files_apart() -> None:
    paths = ["case/node-a/session.har", "case/node-b/session.har", "x/y/alone.har"]
    assert distinct_names(paths) == ["node-a/session.har", "node-b/session.har", "alone.har"]
    assert distinct_names(["/p/q/a/s.har", "/p/r/a/s.har"]) == ["q/a/s.har", "r/a/s.har"]
    assert distinct_names(["s.har", "sub/s.har"]) == ["s.har", "sub/s.har"]
    assert distinct_names(["./a/s.har", "a/../b/s.har"]) == ["a/s.har", "b/s.har"]


def test_a_backslash_is_part_of_a_posix_file_name() -> None:
    if os.sep == "/":
        assert distinct_names(["x/a\\b.har", "y/c.har"]) == ["a\\b.har", "c.har"]


def test_one_path_given_twice_is_numbered() -> None:
    assert distinct_names(["a/s.har", "a/s.har", "b/s.har"]) == ["a/s.har", "a/s.har #2", "b/s.har"]


_part = st.sampled_from(["a", "b", "c", "s.har", "t.har"])


@given(st.lists(st.lists(_part, min_size=1, max_size=4).map("/".join), max_size=8))
def test_names_are_distinct_and_end_with_the_base_name(paths: list[str]) -> None:
    names = distinct_names(paths)
    assert len(names) == len(paths) == len(set(names))
    for path, name in zip(paths, names, strict=True):
        assert name.split(" #")[0].endswith(os.path.basename(path))
        if sum(os.path.basename(p) == os.path.basename(path) for p in paths) == 1:
            assert name == os.path.basename(path)
