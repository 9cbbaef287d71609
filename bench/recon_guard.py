"""Guard for reconstruction speed work: the native engine's results must stay byte-identical.

    python bench/recon_guard.py --record /tmp/guard     # before a change: store one sha256 per input
    python bench/recon_guard.py --check /tmp/guard      # after it: exit 1 listing the inputs that differ

Each input is read twice, with ``keep_body_prefix=body_prefix_filter(Config())`` and with None, and a
full deterministic dump of the result (``repr`` of every transaction and diagnostic, the extra
counters) is hashed. Inputs: bench/data/medium.pcap (unless ``--quick``), every capture under samples/
and tests/ (pcap, pcapng, .gz), ../shared/corpus/ captures when present, and the fuzz corpora of the
``http1`` and ``tcp`` harnesses (bench/fuzz/work/*/corpus, when present) fed straight to
``HttpReconstructor``: they hold the odd shapes (folding, bad chunks, gaps, pipelining) that real
captures rarely do; so do the seeded conversations of ``recon_shapes.py``, replayed the same way.
An input that raises records the exception's type and text instead.

``--check`` compares the inputs recorded that still exist; inputs added since are listed, not failed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "fuzz"))
sys.path.insert(0, str(ROOT / "bench"))

from digest_store import add_mode_arguments, record_or_check  # noqa: E402
from recon_shapes import shapes  # noqa: E402
from segcodec import decode_conversation, decode_segments  # noqa: E402  (bench/fuzz is not a package)

from stickyforensics.config import Config  # noqa: E402
from stickyforensics.errors import StickyError  # noqa: E402
from stickyforensics.ingest.native import read_capture  # noqa: E402
from stickyforensics.model import Diagnostic, Transaction  # noqa: E402
from stickyforensics.reconstruct.pairing import HttpReconstructor  # noqa: E402
from stickyforensics.reconstruct.segments import TcpSegment  # noqa: E402
from stickyforensics.track.body_prefix import body_prefix_filter  # noqa: E402

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")
SHAPES = 3000
"""Odd conversations from ``recon_shapes`` (seeded: the same every run)."""
Keep = Callable[[bytes], bool] | None


def captures(quick: bool) -> Iterator[Path]:
    if not quick:
        yield ROOT / "bench" / "data" / "medium.pcap"
    for top in (ROOT / "samples", ROOT / "tests", ROOT.parent / "shared" / "corpus"):
        if top.is_dir():
            yield from sorted(p for p in top.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


def fuzz_inputs() -> Iterator[tuple[str, Path, Callable[[bytes], list[TcpSegment]]]]:
    for harness, decode in (("http1", decode_conversation), ("tcp", decode_segments)):
        corpus = ROOT / "bench" / "fuzz" / "work" / harness / "corpus"
        if corpus.is_dir():
            for path in sorted(corpus.iterdir()):
                yield harness, path, decode


def dump(transactions: tuple[Transaction, ...], diagnostics: tuple[Diagnostic, ...], *extra: object) -> str:
    lines = [repr(tx) for tx in transactions]
    lines += [repr(d) for d in diagnostics]
    lines += [repr(e) for e in extra]
    return "\n".join(lines)


def capture_digest(path: Path, keep: Keep) -> str:
    try:
        result = read_capture(str(path), keep_body_prefix=keep)
        text = dump(result.transactions, result.diagnostics, result.extra, result.cookie_data, result.format)
    except StickyError as exc:
        text = f"error {type(exc).__name__}: {exc}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def segments_digest(segments: list[TcpSegment], keep: Keep) -> str:
    rec = HttpReconstructor("guard.pcap", keep_body_prefix=keep)
    try:
        rec.process(segments)
        result = rec.finish()
        text = dump(result.transactions, result.diagnostics, result.stats)
    except Exception as exc:  # a crash must stay the same crash, not hide a difference
        text = f"error {type(exc).__name__}: {exc}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digests(quick: bool) -> dict[str, str]:
    keeps: dict[str, Keep] = {"filter": body_prefix_filter(Config()), "all": None}
    out: dict[str, str] = {}
    os.chdir(ROOT)  # paths relative to the checkout (they appear in the results): a copy of it compares equal
    for path in captures(quick):
        label = Path(os.path.relpath(path, ROOT))
        for name, keep in keeps.items():
            out[f"{label} [{name}]"] = capture_digest(label, keep)
    for harness, path, decode in fuzz_inputs():
        data = path.read_bytes()
        for name, keep in keeps.items():
            out[f"fuzz/{harness}/{path.name} [{name}]"] = segments_digest(decode(data), keep)
    for label, data in shapes(SHAPES):
        for name, keep in keeps.items():
            out[f"shapes/{label} [{name}]"] = segments_digest(decode_conversation(data), keep)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_mode_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="skip bench/data/medium.pcap")
    args = parser.parse_args(argv)
    return record_or_check(args, digests(args.quick))


if __name__ == "__main__":
    sys.exit(main())
