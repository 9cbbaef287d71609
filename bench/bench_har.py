"""haralyzer vs stickyforensics' streaming HAR reader: time, peak RSS, Set-Cookie kept.

    python bench/bench_har.py                       # 100k entries, 3 paired runs
    python bench/bench_har.py --entries 20000 --repeat 1
    python bench/bench_har.py --har my.har          # an existing HAR instead

It writes a synthetic HAR (deterministic for ``--seed``): one page, ``--entries``
entries, each request with a ``Cookie`` header (NetScaler ``NSC_web``,
``JSESSIONID``, ``_ga``) and its ``cookies`` array, each response with **two**
``Set-Cookie`` headers (``NSC_web`` and ``JSESSIONID``) and the matching array,
about 12 other headers per message and, with ``--bodies``, a base64 body.

Each method runs in its own child process (so peak RSS is that method's alone),
paired A B A B so machine drift cancels out, and reports:

* wall seconds of the work (imports excluded) and of the whole process;
* peak RSS (``ru_maxrss``) and the RSS before the work (imports only);
* how many ``Set-Cookie`` values the method's API hands back, against the
  number in the file (2 per entry): haralyzer's ``get_header_value`` returns the
  first matching header only.

Results feed docs/decisions/0001-har-reader.md.

``--child METHOD PATH`` runs one method alone; besides the two above, ``run_bench.py
--mode har`` uses it for its yardsticks: ``haralyzer-headers`` (haralyzer's load plus
every entry's request and response headers), ``json-headers`` (``json.load`` plus the
same walk) and ``read`` (the file's bytes, nothing else).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36"


def _nsc(rng: random.Random) -> str:
    return "ffffffff09" + "".join(rng.choice("0123456789abcdef") for _ in range(32))


def _entry(i: int, rng: random.Random, bodies: bool) -> dict[str, Any]:
    client = i % 500
    nsc = f"ffffffff09{client:04x}" + "45525d5f4f58455e445a4a423660"
    jsid = f"{client:08X}{rng.getrandbits(64):016X}"
    new_nsc = _nsc(rng)
    started = 1_709_287_200 + i * 0.05
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)) + f".{int(started * 1000) % 1000:03d}Z"
    url = f"https://shop.example.com/api/item/{i}?ref={client}"
    req_headers = [
        ("Host", "shop.example.com"),
        ("User-Agent", _UA),
        ("Accept", "application/json, text/plain, */*"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Referer", "https://shop.example.com/"),
        ("Connection", "keep-alive"),
        ("Cookie", f"NSC_web={nsc}; JSESSIONID={jsid}; _ga=GA1.2.{client}.1709287200"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Site", "same-origin"),
    ]
    resp_headers = [
        ("Date", "Fri, 01 Mar 2024 10:00:00 GMT"),
        ("Content-Type", "application/json"),
        ("Content-Length", "812"),
        ("Connection", "keep-alive"),
        ("Cache-Control", "no-store"),
        ("Set-Cookie", f"NSC_web={new_nsc};expires=Fri, 01-Mar-2024 10:30:00 GMT;path=/;secure;httponly"),
        ("Set-Cookie", f"JSESSIONID={jsid}; Path=/; Secure; HttpOnly; SameSite=Lax"),
        ("Server", "nginx"),
        ("X-Request-Id", f"{rng.getrandbits(96):024x}"),
        ("Strict-Transport-Security", "max-age=31536000"),
    ]
    content: dict[str, Any] = {"size": 812, "mimeType": "application/json"}
    if bodies:
        raw = rng.randbytes(2048)
        content = {
            "size": len(raw),
            "mimeType": "application/octet-stream",
            "encoding": "base64",
            "text": base64.b64encode(raw).decode(),
        }
    return {
        "pageref": "page_1",
        "startedDateTime": stamp,
        "time": 42.0,
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": n, "value": v} for n, v in req_headers],
            "cookies": [
                {"name": "NSC_web", "value": nsc},
                {"name": "JSESSIONID", "value": jsid},
                {"name": "_ga", "value": f"GA1.2.{client}.1709287200"},
            ],
            "queryString": [{"name": "ref", "value": str(client)}],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": n, "value": v} for n, v in resp_headers],
            "cookies": [
                {"name": "NSC_web", "value": new_nsc, "path": "/", "secure": True, "httpOnly": True},
                {"name": "JSESSIONID", "value": jsid, "path": "/", "secure": True, "httpOnly": True},
            ],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 812,
        },
        "cache": {},
        "timings": {"blocked": 0.5, "dns": -1, "connect": -1, "send": 0.1, "wait": 40.0, "receive": 1.4},
        "serverIPAddress": "203.0.113.10",
        "connection": str(client),
    }


def generate(path: str, entries: int, seed: int, bodies: bool) -> None:
    """Write the synthetic HAR entry by entry (flat memory)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"log": {"version": "1.2", "creator": {"name": "bench_har", "version": "1"},\n')
        fh.write(' "pages": [{"startedDateTime": "2024-03-01T10:00:00.000Z", "id": "page_1", "title": "bench",')
        fh.write(' "pageTimings": {}}],\n "entries": [\n')
        for i in range(entries):
            if i:
                fh.write(",\n")
            fh.write(json.dumps(_entry(i, rng, bodies)))
        fh.write("\n]}}\n")


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _run_haralyzer(path: str) -> tuple[int, int]:
    from haralyzer import HarParser

    parser = HarParser.from_file(path)
    entries = set_cookies = 0
    for page in parser.pages:
        for entry in page.entries:
            entries += 1
            # haralyzer's only header accessor: the first matching header.
            if entry.response.get_header_value("Set-Cookie") is not None:
                set_cookies += 1
    return entries, set_cookies


def _run_reader(path: str) -> tuple[int, int]:
    from stickyforensics.ingest.har import read_har

    result = read_har(path)
    set_cookies = sum(
        len(tx.response.headers.get_all("set-cookie")) for tx in result.transactions if tx.response is not None
    )
    return len(result.transactions), set_cookies


def _run_haralyzer_headers(path: str) -> tuple[int, int]:
    """run_bench's yardstick: haralyzer's load, then every entry's request and response headers."""
    from haralyzer import HarParser

    parser = HarParser.from_file(path)
    entries = chars = 0
    for page in parser.pages:
        for entry in page.entries:
            entries += 1
            for header in entry.request.headers:
                chars += len(header["name"]) + len(header["value"])
            for header in entry.response.headers:
                chars += len(header["name"]) + len(header["value"])
    return entries, chars


def _run_json_headers(path: str) -> tuple[int, int]:
    """The plain-JSON yardstick: ``json.load`` of the whole file, then the same header walk."""
    with open(path, "rb") as fh:
        log = json.load(fh)["log"]
    entries = chars = 0
    for entry in log["entries"]:
        entries += 1
        for header in entry["request"]["headers"]:
            chars += len(header["name"]) + len(header["value"])
        for header in entry["response"].get("headers", ()):
            chars += len(header["name"]) + len(header["value"])
    return entries, chars


def _run_read(path: str) -> tuple[int, int]:
    """The floor: read the file's bytes, 1 MiB at a time, and nothing else."""
    total = 0
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
    return 0, total


_METHODS = {"haralyzer": _run_haralyzer, "stickyforensics": _run_reader}
_YARDSTICKS = {"haralyzer-headers": _run_haralyzer_headers, "json-headers": _run_json_headers, "read": _run_read}
"""Children that ``run_bench.py --mode har`` times against ``stickyforensics analyze`` (not run here)."""


def child(method: str, path: str) -> None:
    """Run one method in this process and print its figures as JSON."""
    if method == "stickyforensics":
        import ijson  # noqa: F401 - counted in the baseline RSS like haralyzer's imports

        from stickyforensics.ingest import har  # noqa: F401
    elif method.startswith("haralyzer"):
        import haralyzer  # noqa: F401
    base = _rss_kib()
    t0 = time.perf_counter()
    entries, set_cookies = {**_METHODS, **_YARDSTICKS}[method](path)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    extra = {}
    if method == "stickyforensics":
        from stickyforensics.ingest.har_stream import ijson_backend

        extra["ijson_backend"] = ijson_backend()
    print(
        json.dumps(
            {
                "method": method,
                "wall": wall,
                "base_kib": base,
                "peak_kib": peak,
                "entries": entries,
                "set_cookies": set_cookies,
                **extra,
            }
        )
    )


def _spawn(method: str, path: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", method, path],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process_wall"] = time.perf_counter() - t0
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bodies", action="store_true", help="add a 2 KB base64 body to every response")
    ap.add_argument("--repeat", type=int, default=3, help="paired runs per method")
    ap.add_argument("--har", help="benchmark this HAR instead of generating one")
    ap.add_argument("--keep", action="store_true", help="keep the generated HAR")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    tmpdir = tempfile.mkdtemp(prefix="bench_har_")
    path = args.har or os.path.join(tmpdir, f"synthetic-{args.entries}.har")
    try:
        if not args.har:
            t0 = time.perf_counter()
            generate(path, args.entries, args.seed, args.bodies)
            print(
                f"generated {path}: {args.entries} entries, {os.path.getsize(path) / 1e6:.1f} MB "
                f"in {time.perf_counter() - t0:.1f} s"
            )
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in _METHODS}
        for _ in range(args.repeat):
            for method in _METHODS:
                runs[method].append(_spawn(method, path))
        expected = 2 * args.entries if not args.har else None
        print(
            f"\n{'method':<16} {'work s':>8} {'process s':>10} {'peak RSS MiB':>13} {'base MiB':>9} "
            f"{'entries':>8} {'Set-Cookie kept':>16}"
        )
        for method, figures in runs.items():
            wall = statistics.median(f["wall"] for f in figures)
            proc = statistics.median(f["process_wall"] for f in figures)
            peak = max(f["peak_kib"] for f in figures) / 1024
            base = statistics.median(f["base_kib"] for f in figures) / 1024
            kept = figures[0]["set_cookies"]
            shown = f"{kept}/{expected}" if expected else str(kept)
            print(
                f"{method:<16} {wall:>8.2f} {proc:>10.2f} {peak:>13.0f} {base:>9.0f} {figures[0]['entries']:>8} "
                f"{shown:>16}"
            )
        ratios = [s["wall"] / h["wall"] for s, h in zip(runs["stickyforensics"], runs["haralyzer"], strict=True)]
        print(
            f"\nwork-time ratio stickyforensics/haralyzer, paired median: {statistics.median(ratios):.3f} "
            f"[{min(ratios):.3f}-{max(ratios):.3f}]; ijson backend {runs['stickyforensics'][0].get('ijson_backend')}"
        )
    finally:
        if not args.keep and not args.har and os.path.exists(path):
            os.remove(path)
        if os.path.isdir(tmpdir) and not os.listdir(tmpdir):
            os.rmdir(tmpdir)


if __name__ == "__main__":
    main()
