"""``malloc_tuning``: applied where malloc is glibc's, a quiet no-op elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from stickyforensics import malloc_tuning


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_applies_on_glibc() -> None:
    # in a child: the settings stay for the life of the process that applies them
    out = subprocess.run(
        [sys.executable, "-c", "from stickyforensics.malloc_tuning import keep_freed_buffers as k; print(k())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "True"


def test_without_a_c_library_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc_tuning.ctypes.util, "find_library", lambda name: None)
    assert malloc_tuning.keep_freed_buffers() is False
