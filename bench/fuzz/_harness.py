"""What every fuzz harness shares: the contract, crash records and the atheris entry point.

The contract fuzzed: a target may end only normally or with one of the project's documented
exceptions (``StickyError`` and its subclasses, which the CLI turns into a one-line error and exit 2).
Any other exception, a failed invariant (``AssertionError``) included, is a crash.

A crash does not stop the run: it is recorded once per *signature* (exception type and the innermost
stickyforensics frame) as ``crash-<sig>.bin`` (the input) and ``crash-<sig>.txt`` (the traceback) in
the harness's artifact folder, and fuzzing goes on, so one run reports every distinct crash site.
Hangs and memory blow-ups are libFuzzer's to catch (``-timeout``, ``-rss_limit_mb``): it kills the
process and writes ``timeout-*`` / ``oom-*``; ``run_fuzz.py`` counts them and restarts the harness.

Run a harness on files to reproduce (plain Python, traceback printed)::

    python bench/fuzz/fuzz_http1.py bench/fuzz/work/http1/artifacts/crash-<sig>.bin
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ARTIFACTS_ENV = "STICKYFORENSICS_FUZZ_ARTIFACTS"
"""Folder for crash records, set by run_fuzz.py (default: the current folder)."""

Target = Callable[[bytes], None]


def allowed_exceptions() -> tuple[type[BaseException], ...]:
    """The documented exceptions: everything the CLI maps to a one-line error and exit code 2."""
    from stickyforensics.errors import StickyError

    return (StickyError,)


def signature(exc: BaseException) -> str:
    """Exception type plus the innermost frame inside the package (else the innermost frame at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}stickyforensics{os.sep}" in f.filename]
    where = (ours or frames or [None])[-1]
    place = f"{Path(where.filename).name}:{where.lineno}:{where.name}" if where is not None else "?"
    return f"{type(exc).__name__}@{place}"


class CrashLog:
    """Records each distinct crash once (input + traceback) and counts every occurrence."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: dict[str, int] = {}

    def record(self, data: bytes, exc: BaseException) -> None:
        sig = signature(exc)
        count = self.seen.get(sig, 0)
        self.seen[sig] = count + 1
        if count:
            return
        key = hashlib.sha1(sig.encode()).hexdigest()[:12]
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"crash-{key}.bin").write_bytes(data)
        text = "".join(traceback.format_exception(exc))
        (self.folder / f"crash-{key}.txt").write_text(f"signature: {sig}\ninput bytes: {len(data)}\n\n{text}")
        print(f"\n=== new crash {sig} -> crash-{key}.bin", file=sys.stderr, flush=True)


def guarded(target: Target, log: CrashLog) -> Target:
    """``target`` under the contract: allowed exceptions pass, anything else is recorded."""
    allowed = allowed_exceptions()

    def one_input(data: bytes) -> None:
        try:
            target(data)
        except allowed:
            pass
        except Exception as exc:
            log.record(data, exc)

    return one_input


_SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None


@contextmanager
def scratch_file(data: bytes, suffix: str) -> Iterator[str]:
    """``data`` as a file for readers that take a path (in memory where /dev/shm exists)."""
    fd, path = tempfile.mkstemp(suffix=suffix, dir=_SCRATCH)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield path
    finally:
        os.unlink(path)


def main(make_target: Callable[[], Target]) -> None:
    """Reproduce on files (no flags, every argument a file), else hand over to atheris/libFuzzer.

    ``make_target`` imports the package modules it exercises: under atheris that import happens
    inside ``instrument_imports`` so that coverage of stickyforensics guides the mutations.
    """
    args = sys.argv[1:]
    if args and all(not a.startswith("-") and Path(a).is_file() for a in args):
        _reproduce(make_target(), args)
        return
    import atheris

    with atheris.instrument_imports(include=["stickyforensics"]):
        target = make_target()
    log = CrashLog(Path(os.environ.get(ARTIFACTS_ENV, ".")))
    atheris.Setup(sys.argv, guarded(target, log))
    atheris.Fuzz()


def _reproduce(target: Target, files: list[str]) -> None:
    allowed = allowed_exceptions()
    failed = 0
    for name in files:
        data = Path(name).read_bytes()
        try:
            target(data)
        except allowed as exc:
            print(f"{name}: ok (documented error: {exc})")
        except Exception:
            failed += 1
            print(f"{name}: CRASH")
            traceback.print_exc()
        else:
            print(f"{name}: ok")
    sys.exit(1 if failed else 0)
