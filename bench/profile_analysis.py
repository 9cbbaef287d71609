"""Profile and guard the analysis after ingest (track + detect), apart from reading the capture.

Ingest dominates a whole run, so tuning ``track`` and ``detect`` against ``stickyforensics analyze`` is slow
and noisy. This script ingests each input once, keeps the ``IngestResult`` in a pickle cache, and then times
``build_sessions``, ``run_rules`` and ``render_json`` on their own (optionally under cProfile).

It is also the correctness guard for performance work on those stages: ``--record`` writes, for every
guarded case (the benchmark capture and HAR, every folder of ``samples/``, every rule fixture of ``tests/rules/``
with its folder's configuration, and the shared corpus when present), a digest of everything the stages
produce: the JSON report, the ``stickyforensics cookies`` timeline text, and the full repr of every
session's cookie events, backend observations, findings and rule runs. ``--check`` recomputes them and
fails on any difference. The guard runs on the cached ingest results, so a concurrent change to the
reader or reconstruction does not disturb it (``--refresh`` re-ingests).

    python bench/profile_analysis.py bench/data/medium.pcap                 # time the stages
    python bench/profile_analysis.py bench/data/medium.pcap --cprofile track  # profile one stage
    python bench/profile_analysis.py --record /tmp/sf-guard                  # before a change
    python bench/profile_analysis.py --check /tmp/sf-guard                   # after: byte-identical?
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pickle
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from stickyforensics.config import Config, load_config
from stickyforensics.detect.catalog import load_rules
from stickyforensics.detect.engine import run_rules
from stickyforensics.ingest.base import IngestResult
from stickyforensics.ingest.sniff import expand_inputs
from stickyforensics.model import SCHEMA_VERSION, AnalysisReport, Transaction
from stickyforensics.pipeline import EngineOptions, _summaries, read_input
from stickyforensics.report.json import render_json
from stickyforensics.report.redact import Redactor
from stickyforensics.report.timeline_text import render_timelines
from stickyforensics.track.sessions import build_sessions

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path("/tmp/sf-ingest-cache")
REDACTION_KEY = hashlib.sha256(b"x").digest()  # what ``--redaction-key x`` gives


def _cache_name(files: Sequence[str]) -> Path:
    basis = "\x1f".join(f"{f}:{Path(f).stat().st_size}:{Path(f).stat().st_mtime_ns}" for f in files)
    return CACHE / (hashlib.sha256(basis.encode()).hexdigest()[:24] + ".pickle")


def ingest(paths: Sequence[str], *, refresh: bool = False) -> list[IngestResult]:
    """The inputs' ingest results, read once and cached by path, size and mtime."""
    files = expand_inputs(list(paths))
    cached = _cache_name(files)
    if cached.is_file() and not refresh:
        with cached.open("rb") as fh:
            results: list[IngestResult] = pickle.load(fh)
        return results
    results = [read_input(path, index, EngineOptions()) for index, path in enumerate(files)]
    CACHE.mkdir(parents=True, exist_ok=True)
    with cached.open("wb") as fh:
        pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return results


def _clear_caches() -> None:
    """Empty the per-process memo caches so every repeat starts as cold as a command-line run."""
    stages = ("stickyforensics.track", "stickyforensics.detect")
    for module in [m for name, m in list(sys.modules.items()) if name.startswith(stages)]:
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and not isinstance(value, type):  # lru_cache functions and track.memo.Memo
                clear()


def analyze_cached(
    results: Sequence[IngestResult], config: Config, timings: dict[str, float] | None = None, prof: str | None = None
) -> AnalysisReport:
    """``pipeline.analyze_results``, stage by stage, with wall times (and cProfile of one stage)."""
    from stickyforensics import __version__

    timings = timings if timings is not None else {}
    _clear_caches()
    rules = load_rules()
    transactions: list[Transaction] = [tx for res in results for tx in res.transactions]

    def stage(name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        profiler = cProfile.Profile() if prof == name else None
        t0 = time.process_time()
        if profiler is not None:
            profiler.enable()
        out = fn(*args, **kwargs)
        if profiler is not None:
            profiler.disable()
        timings[name] = time.process_time() - t0
        if profiler is not None:
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        return out

    sessions = stage(
        "track", build_sessions, transactions, config, cookie_data={r.path: r.cookie_data for r in results}
    )
    inputs = _summaries(results, sessions)
    findings, runs = stage("detect", run_rules, rules, sessions, inputs, config)
    stats = (
        ("inputs", len(inputs)),
        ("clients", len(sessions)),
        ("transactions", len(transactions)),
        ("findings", len(findings)),
    )
    return AnalysisReport(SCHEMA_VERSION, __version__, inputs, sessions, findings, runs, stats)


# --------------------------------------------------------------------------- the guard


def _cases() -> list[tuple[str, list[str], Config]]:
    """(label, inputs, config) of every guarded analysis."""
    cases: list[tuple[str, list[str], Config]] = []
    medium = ROOT / "bench" / "data" / "medium.pcap"
    if medium.is_file():
        cases.append(("bench/medium.pcap", [str(medium)], Config()))
    small_har = ROOT / "bench" / "data" / "small-30.har"
    if small_har.is_file():  # one long browser session: the HAR side of track and detect
        cases.append(("bench/small-30.har", [str(small_har)], Config()))
    for folder in sorted((ROOT / "samples").iterdir()):
        if folder.is_dir():
            cases.append((f"samples/{folder.name}", [str(folder)], Config()))
    for folder in sorted((ROOT / "tests" / "rules").iterdir()):
        if not folder.is_dir():
            continue
        toml = folder / "stickyforensics.toml"
        config = load_config(str(toml))[0] if toml.is_file() else Config()
        for path in sorted(folder.glob("*tive*")):
            cases.append((f"tests/rules/{folder.name}/{path.name}", [str(path)], config))
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        for path in sorted(corpus.iterdir()):
            if path.suffix in (".pcap", ".pcapng", ".har", ".gz") and "keys" not in path.name:
                cases.append((f"corpus/{path.name}", [str(path)], Config()))
    return cases


def _digests(report: AnalysisReport) -> dict[str, str]:
    redactor = Redactor(REDACTION_KEY, reveal=False)
    out = {
        "json": hashlib.sha256(render_json(report, redactor=redactor).encode()).hexdigest(),
        "cookies": hashlib.sha256(render_timelines(report, redactor=redactor).encode()).hexdigest(),
        "findings": hashlib.sha256(repr((report.findings, report.rule_runs)).encode()).hexdigest(),
    }
    events = hashlib.sha256()
    backends = hashlib.sha256()
    for session in report.sessions:
        events.update(repr((session.key, session.inputs, session.persistence_cookies, session.cookie_data)).encode())
        for ev in session.cookie_events:
            events.update(repr(ev).encode())
        for obs in session.backends:
            backends.update(repr(obs).encode())
    out["events"] = events.hexdigest()
    out["backends"] = backends.hexdigest()
    return out


def guard(folder: Path, *, record: bool, refresh: bool) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    failures = 0
    for label, paths, config in _cases():
        try:
            results = ingest(paths, refresh=refresh)
        except Exception as exc:  # an unreadable corpus file is not what is guarded here
            print(f"skip  {label}: {type(exc).__name__}: {exc}")
            continue
        got = _digests(analyze_cached(results, config))
        target = folder / (hashlib.sha256(label.encode()).hexdigest()[:16] + ".json")
        if record:
            target.write_text(json.dumps({"case": label, **got}, indent=1))
            print(f"rec   {label}")
            continue
        if not target.is_file():
            print(f"NEW   {label}: no recorded digest")
            failures += 1
            continue
        want = json.loads(target.read_text())
        diff = [k for k, v in got.items() if want.get(k) != v]
        if diff:
            failures += 1
            print(f"DIFF  {label}: {', '.join(diff)}")
        else:
            print(f"same  {label}")
    print("all identical" if not failures and not record else f"{failures} case(s) differ" if failures else "")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", help="inputs to time (default: bench/data/medium.pcap)")
    parser.add_argument("--cprofile", choices=("track", "detect"), help="print a cProfile of one stage")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--record", metavar="DIR", help="record the guard digests in DIR")
    parser.add_argument("--check", metavar="DIR", help="compare with the digests recorded in DIR")
    parser.add_argument("--refresh", action="store_true", help="re-ingest instead of using the pickle cache")
    args = parser.parse_args()
    if args.record or args.check:
        return guard(Path(args.record or args.check), record=bool(args.record), refresh=args.refresh)
    paths = args.inputs or [str(ROOT / "bench" / "data" / "medium.pcap")]
    t0 = time.perf_counter()
    results = ingest(paths, refresh=args.refresh)
    print(f"ingest (or cache load): {time.perf_counter() - t0:.2f} s, "
          f"{sum(len(r.transactions) for r in results)} transactions")  # fmt: skip
    best: dict[str, float] = {}
    for _ in range(max(1, args.repeat)):
        timings: dict[str, float] = {}
        report = analyze_cached(results, Config(), timings, prof=args.cprofile)
        t0 = time.process_time()
        render_json(report, redactor=Redactor(REDACTION_KEY, reveal=False))
        timings["render_json"] = time.process_time() - t0
        print("CPU  " + "  ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
        best = {k: min(v, best.get(k, v)) for k, v in timings.items()}
    if args.repeat > 1:
        print("best " + "  ".join(f"{k} {v:.2f} s" for k, v in best.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
