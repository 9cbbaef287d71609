"""glibc malloc settings for processes that stream large buffers (the ``--jobs`` partitioning pass).

The pass reads, pipes and writes the capture in chunks of 1-4 MB. With glibc's defaults each freed
chunk is given back to the system (heap trimming; mmap for large blocks) and the next one is
page-faulted and zeroed afresh: on the 1M-packet bench capture that was 2.4 s of system time in a
5 s pass. Keeping up to 64 MB of freed memory in the process (and serving blocks up to 32 MB from
the heap) lets the chunks reuse the same pages: 0.9 s of system time, a 3.5 s pass
(bench/README.md). The process is short-lived, so the memory kept is bounded by its own peak.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 64 << 20
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems


def keep_freed_buffers() -> bool:
    """Apply the settings to this process (and the ones it forks later); False where malloc is not glibc's."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is not None:
            mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            mallopt.restype = ctypes.c_int
            return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return False
