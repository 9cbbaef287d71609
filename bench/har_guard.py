"""Guard for HAR reader speed work: what ``read_har`` returns must stay byte-identical.

    python bench/har_guard.py --record /tmp/har-guard     # before a change: one sha256 per input
    python bench/har_guard.py --check /tmp/har-guard      # after it: exit 1 listing the inputs that differ

Each input is read twice, with ``keep_body_prefix=body_prefix_filter(Config())`` and with None, and a
full deterministic dump of the result (``repr`` of every transaction and diagnostic, the cookie-data
verdict, the extra facts) is hashed; an input that raises records the exception's type and text instead.
Inputs: bench/data/session-30.har and small-30.har (unless ``--quick``), every HAR under samples/ and
tests/, ../shared/corpus/ HARs when present, and the fuzz corpus of the ``har`` harness
(bench/fuzz/work/har/corpus, when present): it holds the broken, deep, odd-number and odd-encoding files
that real exports rarely do.

``--check`` compares the inputs recorded that still exist; inputs added since are listed, not failed.
``--processes 2`` reads every input with ``read_har(processes=2)``, whatever its size (``har_split``):
checked against digests recorded the ordinary way, it shows the two-process read gives the same.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from digest_store import add_mode_arguments, record_or_check  # noqa: E402

from stickyforensics.config import Config  # noqa: E402
from stickyforensics.errors import StickyError  # noqa: E402
from stickyforensics.ingest import har_split  # noqa: E402
from stickyforensics.ingest.har import read_har  # noqa: E402
from stickyforensics.track.body_prefix import body_prefix_filter  # noqa: E402

HAR_SUFFIXES = (".har", ".har.gz", ".har.xz", ".har.bz2")
Keep = Callable[[bytes], bool] | None


def hars(quick: bool) -> Iterator[Path]:
    if not quick:
        yield ROOT / "bench" / "data" / "session-30.har"
        yield ROOT / "bench" / "data" / "small-30.har"
    for top in (ROOT / "samples", ROOT / "tests", ROOT.parent / "shared" / "corpus"):
        if top.is_dir():
            yield from sorted(p for p in top.rglob("*") if p.is_file() and p.name.lower().endswith(HAR_SUFFIXES))


PROCESSES = 1


def har_digest(path: str, keep: Keep) -> str:
    try:
        result = read_har(path, keep_body_prefix=keep, processes=PROCESSES)
        lines = [repr(tx) for tx in result.transactions]
        lines += [repr(d) for d in result.diagnostics]
        lines += [repr(result.cookie_data), repr(result.extra)]
        text = "\n".join(lines)
    except (StickyError, OSError) as exc:
        text = f"error {type(exc).__name__}: {exc}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digests(quick: bool) -> dict[str, str]:
    keeps: dict[str, Keep] = {"filter": body_prefix_filter(Config()), "all": None}
    out: dict[str, str] = {}
    os.chdir(ROOT)  # paths relative to the checkout (they appear in the results): a copy of it compares equal
    for path in hars(quick):
        label = os.path.relpath(path, ROOT)
        for name, keep in keeps.items():
            out[f"{label} [{name}]"] = har_digest(label, keep)
    corpus = ROOT / "bench" / "fuzz" / "work" / "har" / "corpus"
    if corpus.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            # One fixed relative name: the path appears in the results.
            os.chdir(tmp)
            for path in sorted(corpus.iterdir()):
                Path("fuzz.har").write_bytes(path.read_bytes())
                for name, keep in keeps.items():
                    out[f"fuzz/har/{path.name} [{name}]"] = har_digest("fuzz.har", keep)
            os.chdir(ROOT)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_mode_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="skip the two 30 MB files of bench/data")
    parser.add_argument("--processes", type=int, default=1, help="read_har's processes (2: split every file)")
    args = parser.parse_args(argv)
    if args.processes > 1:
        global PROCESSES
        PROCESSES = args.processes
        har_split.SPLIT_MIN_BYTES = 0
    return record_or_check(args, digests(args.quick))


if __name__ == "__main__":
    sys.exit(main())
