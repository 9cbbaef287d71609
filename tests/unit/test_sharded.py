"""``--jobs N`` gives the same report as one process (issue 9): every format, every kind of input."""

from __future__ import annotations

import glob
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import cacheable_set_cookie_hars

from stickyforensics.config import Config, load_config
from stickyforensics.detect.catalog import load_rules
from stickyforensics.model import ClientSession
from stickyforensics.pipeline import analyze
from stickyforensics.report.html import render_html
from stickyforensics.report.json import render_json
from stickyforensics.report.junit import render_junit
from stickyforensics.report.markdown import render_markdown
from stickyforensics.report.redact import Redactor
from stickyforensics.report.sarif import render_sarif
from stickyforensics.report.wanted import sessions_wanted

ROOT = Path(__file__).resolve().parents[2]
REDACTOR = Redactor(b"k" * 32)
FIXTURES = sorted(p for p in glob.glob(str(ROOT / "tests/rules/SF*/*")) if p.endswith((".har", ".pcap", ".pcapng")))


RENDERERS = {
    "json": render_json,
    "sarif": render_sarif,
    "html": render_html,
    "markdown": render_markdown,
    "junit": render_junit,
}


def _views(paths: list[str], config: Config, jobs: int, shard_bytes: int | None = None) -> dict[str, str]:
    """Every format that reads more than the summaries, each from its own analysis as the CLI runs it
    (``report.wanted``): one analysis asking for everything would hide what a format forgot to ask for."""
    out = {}
    for fmt, render in RENDERERS.items():
        detail, cited = sessions_wanted(fmt)
        report = analyze(paths, config, jobs=jobs, detail=detail, cited=cited, shard_bytes=shard_bytes)
        out[fmt] = render(report, redactor=REDACTOR)
    return out


@pytest.mark.parametrize("jobs", [2, 3])
def test_samples_same_report_on_several_processes(jobs: int) -> None:
    paths = [str(ROOT / "samples")]
    assert _views(paths, Config(), jobs) == _views(paths, Config(), 1)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: "/".join(Path(p).parts[-2:]))
def test_rule_fixtures_same_findings_on_two_processes(fixture: str) -> None:
    config, _ = load_config(None, start=Path(fixture).parent)
    one = analyze([fixture], config)
    two = analyze([fixture], config, jobs=2)
    assert render_json(two, redactor=REDACTOR) == render_json(one, redactor=REDACTOR)


@pytest.mark.parametrize("jobs", [1, 2])
def test_many_small_shards_same_report(jobs: int) -> None:
    """Shards of 60 kB of capture: a dozen passes, HAR files spread over them, some decisions re-run."""
    paths = [str(ROOT / "samples")]
    assert _views(paths, Config(), jobs, shard_bytes=60_000) == _views(paths, Config(), 1, shard_bytes=0)


def test_all_fixtures_together_same_report() -> None:
    """Many inputs at once: HAR files are shared out by index, captures split by client."""
    plain = [p for p in FIXTURES if "SF601" not in p]
    assert _views(plain, Config(), 2) == _views(plain, Config(), 1)


def test_every_rule_fixture_twice_same_report(tmp_path: Path) -> None:
    """Each HAR fixture under two names is two clients that behave alike, and files are shared out among the
    shards: a rule that groups clients but ran per worker would report a group twice or split it (SF305 did)."""
    for fixture in FIXTURES:
        if fixture.endswith(".har") and "SF601" not in fixture:
            for copy in ("a", "b"):
                shutil.copy(fixture, tmp_path / f"{Path(fixture).parent.name}-{Path(fixture).stem}-{copy}.har")
    paths = [str(tmp_path)]
    assert _views(paths, Config(), 2) == _views(paths, Config(), 1)
    assert _views(paths, Config(), 3, shard_bytes=1) == _views(paths, Config(), 1)


def test_a_cacheable_set_cookie_seen_in_several_shards_is_one_finding(tmp_path: Path) -> None:
    """SF305 groups the responses of every client: each HAR is a shard of its own, and the finding is still one,
    with every client and the first five responses (it was one finding per shard)."""
    cacheable_set_cookie_hars(tmp_path, 7)
    paths = [str(tmp_path)]
    assert _views(paths, Config(), 2) == _views(paths, Config(), 1)
    report = analyze(paths, Config(), jobs=2)
    (finding,) = [f for f in report.findings if f.rule == "SF305"]
    assert finding.clients == tuple(f"client{n}.har" for n in range(7))
    assert ("responses", "7") in finding.details
    assert [e.input for e in finding.evidence] == [str(tmp_path / f"client{n}.har") for n in range(5)]
    assert all(any(line.startswith("Expires:") for line in e.excerpts) for e in finding.evidence)


def test_evidence_rows_of_a_finding_naming_more_clients_than_rows_keep_their_transactions(tmp_path: Path) -> None:
    """Regression: the HTML report asked for the sessions of a finding's clients only when they were no more than
    its evidence rows; SF305 naming 110 clients quotes the first five, whose rows lost request, cookies and
    backend with ``--jobs`` (busier clients without findings take the lanes, whose sessions are whole)."""
    import json

    from stickyforensics.report.html import EVIDENCE_FOLDED, EVIDENCE_SHOWN, LANES_LIMIT, clients_shown

    hars = cacheable_set_cookie_hars(tmp_path, EVIDENCE_SHOWN + EVIDENCE_FOLDED + 2)
    busy = json.loads(hars[0].read_text(encoding="utf-8"))
    entry = busy["log"]["entries"][0]
    entry["request"]["headers"].append({"name": "Cookie", "value": "lang=en"})
    entry["response"]["headers"] = [{"name": "Cache-Control", "value": "no-store"}]
    busy["log"]["entries"] = [entry, entry]
    for n in range(LANES_LIMIT):
        (tmp_path / f"busy{n}.har").write_text(json.dumps(busy), encoding="utf-8")
    paths = [str(tmp_path)]
    one = analyze(paths, Config())
    (finding,) = one.findings  # the busy clients do nothing wrong
    assert finding.rule == "SF305" and len(finding.clients) > EVIDENCE_SHOWN + EVIDENCE_FOLDED
    quoted = {Path(e.input).name for e in finding.evidence}
    assert len(quoted - clients_shown(one)) == len(quoted) - 1  # only the finding's own client has a lane
    assert _views(paths, Config(), 2) == _views(paths, Config(), 1)


def test_cited_sessions_open_a_finding_s_clients_in_order_until_its_transactions_are_found() -> None:
    """A finding naming every client (SF401) must not load every session: its own first, then the others named,
    until its evidence's transactions are all found; each kept with only the cited transactions."""
    from stickyforensics.model import ClientKey
    from stickyforensics.sharded import cited_sessions

    full = analyze([str(ROOT / "samples")], Config())
    sessions = {s.key: s for s in full.sessions if len(s.transactions) >= 2}
    keys = list(sessions)[:4]
    wanted = sessions[keys[1]].transactions[1].id
    opened: list[ClientKey] = []

    def load(key: ClientKey) -> ClientSession:
        opened.append(key)
        return sessions[key]

    by_name = {k.value: [k] for k in keys}
    got = cited_sessions([([k.value for k in keys], [wanted])], by_name, {}, load)
    assert opened == keys[:2]
    assert [tx.id for tx in got[keys[1]].transactions] == [wanted] and not got[keys[0]].transactions
    assert got[keys[1]].transaction_count == sessions[keys[1]].transaction_count
    assert all(obs.transaction_id == wanted for obs in got[keys[1]].backends)
    opened.clear()  # already in a whole session loaded: nothing opened
    assert cited_sessions([([keys[0].value], [wanted])], by_name, {keys[1]: sessions[keys[1]]}, load) == {}
    assert opened == []


def test_har_files_of_one_base_name_are_two_clients_on_any_number_of_processes() -> None:
    """Regression: a HAR file's client was its base name, so ``positive-cache-replay/alice.har`` and
    ``negative-own-sessions/alice.har`` were one client (one jar) in one process and two with ``--jobs``,
    with another verdict; they are two users, named by the folders that tell them apart."""
    paths = [str(ROOT / "tests/rules/SF304")]
    one = analyze(paths, Config())
    assert sorted(s.key.value for s in one.sessions) == [
        "negative-own-sessions/alice.har",
        "negative-own-sessions/bob.har",
        "positive-cache-replay/alice.har",
        "positive-cache-replay/bob.har",
    ]
    assert _views(paths, Config(), 3) == _views(paths, Config(), 1)


def test_a_rule_that_crashes_for_one_client_gives_no_finding_on_any_number_of_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: a rule that crashed in one worker kept the other workers' findings while its run said
    ``errored`` with none; one process drops a crashing rule's whole output."""
    from stickyforensics.detect import detectors, engine

    paths = [str(ROOT / "samples")]
    clean = analyze(paths, Config())
    per_client = {r.code: r.detector for r in load_rules() if detectors.detector_runs_in(r.detector, "session")}
    rule = next(
        f.rule for f in clean.findings if f.rule in per_client and sum(g.rule == f.rule for g in clean.findings) > 1
    )
    detector = per_client[rule]
    victim = [f.client for f in clean.findings if f.rule == rule][-1]
    real = detectors.DETECTORS[detector]

    def crashes_for_the_victim(ctx: Any, r: Any) -> Any:
        if r.code == rule and any(s.key.value == victim for s in ctx.sessions):
            raise RuntimeError("boom")
        return real(ctx, r)

    monkeypatch.setitem(engine.DETECTORS, detector, crashes_for_the_victim)  # the workers are forked after this
    one = analyze(paths, Config(), shard_bytes=0)
    assert not [f for f in one.findings if f.rule == rule]
    assert [(r.status, r.findings) for r in one.rule_runs if r.code == rule] == [("errored", 0)]
    for jobs in (2, 3):
        split = analyze(paths, Config(), jobs=jobs, shard_bytes=60_000)
        assert render_json(split, redactor=REDACTOR) == render_json(one, redactor=REDACTOR)


def test_sessions_are_summaries_unless_asked_for() -> None:
    report = analyze([str(ROOT / "samples")], Config(), jobs=2)
    assert report.sessions and all(not s.transactions and s.transaction_count > 0 for s in report.sessions)
    full = analyze([str(ROOT / "samples")], Config())
    assert [(s.key, s.transaction_count, s.first_seen, s.backends_seen) for s in report.sessions] == [
        (s.key, s.transaction_count, s.first_seen, s.backends_seen) for s in full.sessions
    ]


def test_a_format_that_draws_no_lanes_loads_sessions_cut_to_what_evidence_may_cite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SARIF, Markdown and JUnit join evidence with the transactions it cites: the workers keep those (and
    what the cross-client rules may quote) of each session, not whole sessions, and the report is the same."""
    import stickyforensics.sharded as sharded

    loaded: list[ClientSession] = []
    real = sharded._load_session

    def spying(result: Any, key: Any) -> ClientSession:
        session = real(result, key)
        loaded.append(session)
        return session

    monkeypatch.setattr(sharded, "_load_session", spying)
    paths = [str(ROOT / "samples")]
    detail, cited = sessions_wanted("sarif")
    assert detail is None and cited is not None
    split = analyze(paths, Config(), jobs=2, cited=cited)
    assert loaded and sum(len(s.transactions) for s in loaded) < sum(s.transaction_count for s in loaded) / 2
    whole = analyze(paths, Config(), cited=cited)
    assert render_sarif(split, redactor=REDACTOR) == render_sarif(whole, redactor=REDACTOR)


def test_a_broken_input_is_an_input_error_on_several_processes(tmp_path: Path) -> None:
    from stickyforensics.errors import StickyError

    bad = tmp_path / "broken.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 10)
    with pytest.raises(StickyError) as one:
        analyze([str(bad)], Config())
    with pytest.raises(StickyError) as two:
        analyze([str(bad)], Config(), jobs=2)
    assert str(two.value) == str(one.value)


def _crafted_module():  # type: ignore[no-untyped-def]
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("make_crafted", ROOT / "tests/data/pcap/make_crafted.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_crafted"] = module
    spec.loader.exec_module(module)
    return module


def test_a_shard_that_decided_otherwise_is_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind the load balancer: each half of the clients reached one backend address. Each shard alone
    sees one address per host; the whole capture sees two, so the address names the backend
    (``track.capture_facts``): both shards are tracked again with the whole capture's decision."""
    import stickyforensics.sharded as sharded
    from stickyforensics.reconstruct.shard import owner_of

    mc = _crafted_module()
    candidates = [f"192.168.7.{i}" for i in range(1, 60)]
    first = [ip for ip in candidates if owner_of(ip, 2) == 0][:2]
    second = [ip for ip in candidates if owner_of(ip, 2) == 1][:2]
    flows = [
        mc.conversation(f"c{n}", client=ip, server=server, cport=51000 + n)
        for n, (ip, server) in enumerate([(ip, "10.0.0.1") for ip in first] + [(ip, "10.0.0.2") for ip in second])
    ]
    cap = mc.Pcap(1)
    for pkt in mc.interleave(*flows):
        cap.add(mc.ether(pkt))
    path = tmp_path / "backends.pcap"
    path.write_bytes(cap.data())

    reruns: list[int] = []
    decided = sharded._decided_otherwise

    def spy(result: sharded.ShardResult, facts: sharded.TrackFacts) -> bool:
        differs = decided(result, facts)
        reruns.extend([result.shard] if differs else [])
        return differs

    monkeypatch.setattr(sharded, "_decided_otherwise", spy)
    one = analyze([str(path)], Config())
    two = analyze([str(path)], Config(), jobs=2)
    assert sorted(reruns) == [0, 1]
    assert render_json(two, redactor=REDACTOR) == render_json(one, redactor=REDACTOR)


def test_split_progress_is_relayed_and_spill_files_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    seen: list[tuple[str, int, int]] = []
    capture = str(ROOT / "samples/noise/capture.pcap")
    analyze([capture], Config(), jobs=2, progress=lambda *a: seen.append(a))
    splits = [s for s in seen if s[0].startswith("splitting capture.pcap")]
    assert splits[0][1] == 0 and splits[-1][1] == splits[-1][2] > 0  # from the child that split it
    assert any("group(s) of clients on 2 process(es)" in s[0] for s in seen)
    assert list(tmp_path.iterdir()) == []  # spill files and views gone


def test_unreadable_capture_fails_from_the_splitting_child(tmp_path: Path) -> None:
    from stickyforensics.errors import StickyError

    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 10)  # a pcap magic and a cut header
    with pytest.raises(StickyError, match=r"bad\.pcap"):
        analyze([str(bad), str(ROOT / "samples/noise/capture.pcap")], Config(), jobs=2)


def test_shards_stay_within_the_open_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from stickyforensics import sharded

    capture = str(ROOT / "samples/noise/capture.pcap")
    assert sharded.shard_count([capture], ["pcap"], 2, shard_bytes=1) > 10  # a shard per few bytes, uncapped
    monkeypatch.setattr(sharded, "spill_file_budget", lambda: 11)
    assert sharded.shard_count([capture], ["pcap"], 2, shard_bytes=1) == 10  # a multiple of the jobs


def test_a_compressed_capture_is_split_by_what_it_holds(tmp_path: Path) -> None:
    """Shards hold about ``shard_bytes`` of decompressed capture: counted by the compressed size, a gzip
    capture of 668 MB (52 MB compressed) went in 4 shards of 167 MB and its workers held twice the memory."""
    import gzip

    from stickyforensics import sharded

    capture = ROOT / "samples/noise/capture.pcap"
    gz = tmp_path / "capture.pcap.gz"
    gz.write_bytes(gzip.compress(capture.read_bytes()))
    size = capture.stat().st_size
    assert gz.stat().st_size * 2 < size
    per_shard = size // 8 + 1
    assert sharded.shard_count([str(gz)], ["pcap"], 2, shard_bytes=per_shard) == 8
    assert sharded.shard_count([str(capture)], ["pcap"], 2, shard_bytes=per_shard) == 8
    assert _views([str(gz)], Config(), 2, shard_bytes=per_shard) == _views([str(gz)], Config(), 1, shard_bytes=0)


def test_the_open_file_limit_is_raised_to_the_hard_limit() -> None:
    resource = pytest.importorskip("resource")
    from stickyforensics.sharded import FILES_KEPT_FREE, spill_file_budget

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"hard open-file limit {hard}: nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        budget = spill_file_budget()
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raised > 256 and budget == min(raised, 1 << 16) - FILES_KEPT_FREE
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _fake_shard(job: object, index: int, facts: object, joined: object = ()) -> tuple[object, tuple[object, ...]]:
    """A shard whose result is far larger than a pipe holds."""
    from types import SimpleNamespace

    return SimpleNamespace(shard=index, pad="x" * 200_000), ()


def test_requests_and_answers_larger_than_a_pipe_do_not_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the parent sent every request before reading any answer; with both larger than a pipe
    holds (then: whole sessions for the HTML report of a capture with thousands of clients with findings;
    now: re-runs, whose facts can name thousands of hosts) the parent and the workers each waited for the
    other to read. ``ask`` keeps one request per worker in flight."""
    import signal
    from types import SimpleNamespace

    from stickyforensics import sharded

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("the requests hung")

    monkeypatch.setattr(sharded, "analyze_shard", _fake_shard)
    workers = sharded._Workers(2, SimpleNamespace(shards=8))  # type: ignore[arg-type]
    previous = signal.signal(signal.SIGALRM, hung)
    try:
        assert sorted(r.shard for r in workers.gather("result", 8)) == list(range(8))
        facts = {f"padding-{n:07d}" for n in range(20_000)}  # a request of ~300 KB
        signal.alarm(60)
        answers = workers.ask([("run", shard, facts, ()) for shard in range(8)], "result")
        signal.alarm(0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        workers.close()
    assert sorted(r.shard for r in answers) == list(range(8))


def test_shared_token_expectation_same_html_on_two_processes() -> None:
    """The expectation names the clients that shared a token (so that with --jobs the HTML report asks for the
    sessions its evidence rows join, even beyond the lanes), and gives the same report on two processes."""
    from dataclasses import replace

    folder = ROOT / "tests/rules/SF304/positive-cache-replay"  # two users given one session by a cache
    config, _ = load_config(None, start=folder)
    config = replace(config, expectations=replace(config.expectations, no_shared_session_tokens=True))
    paths = [str(folder)]
    one = analyze(paths, config)
    shared = [f for f in one.findings if ("expectation", "no_shared_session_tokens") in f.details]
    assert shared and all(len(f.clients) > 1 for f in shared)
    assert _views(paths, config, 2, shard_bytes=1) == _views(paths, config, 1)


def test_a_har_exported_from_captures_is_split_by_client_with_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A HAR holding many clients (a capture's export) is split by client over the shards, not read whole by
    one worker: alone (which would otherwise be read by two processes as one client) and beside captures."""
    from stickyforensics.ingest import har_partition
    from tests.unit.ingest.test_har_partition import exported

    hars = [exported(ROOT / "samples" / name / "capture.pcap", tmp_path) for name in ("noise", "cached_set_cookie")]
    capture = str(ROOT / "samples/datacenter_flip/capture.pcap")
    marks = tmp_path / "split"
    marks.mkdir()
    real = har_partition.partition_har

    def marked(path: str, *args: object, **kwargs: object) -> har_partition.HarPartition:
        (marks / Path(path).name).touch()  # the partitioning runs in a child process: a file says it ran
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(har_partition, "partition_har", marked)
    monkeypatch.setattr(har_partition, "SPLIT_BYTES", 0)
    for paths in ([hars[0]], [*hars, capture]):
        one = _views(paths, Config(), 1, shard_bytes=0)
        assert _views(paths, Config(), 2, shard_bytes=3_000) == one
    assert sorted(p.name for p in marks.iterdir()) == sorted(Path(p).name for p in hars)


def behind_two_proxies(path: Path) -> list[str]:
    """Five users behind two proxy addresses that the partitioning sends to two shards; each user's requests
    alternate between the proxies, some users starting at one, some at the other (``X-Forwarded-For`` names
    the user), and the first user's last request
    is served by another backend. Returns the proxies' addresses."""
    from stickyforensics.reconstruct.shard import owner_of

    mc = _crafted_module()
    candidates = [f"10.9.0.{i}" for i in range(1, 60)]
    proxies = [next(ip for ip in candidates if owner_of(ip, 2) == k) for k in (0, 1)]
    cap = mc.Pcap(1)
    port = 40000
    for i in range(4):  # the users' requests interleaved
        for u in range(1, 6):
            user = f"203.0.113.{u}"
            cookie = "" if i == 0 else f"Cookie: SERVERID=s1; JSESSIONID={user}-S\r\n"
            sets = f"Set-Cookie: SERVERID=s1; Path=/\r\nSet-Cookie: JSESSIONID={user}-S; Path=/\r\n" if i == 0 else ""
            backend = "s2" if (u, i) == (1, 3) else "s1"
            request = f"GET /{u}/{i} HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: {user}\r\n{cookie}\r\n"
            response = f"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Served-By: {backend}\r\n{sets}\r\nok"
            port += 1
            conn = mc.Conn(proxies[(u + i) % 2], port, "10.0.0.5", isn_c=1000 + port, isn_s=7_000_000 + port)
            for pkt in conn.handshake().exchange([(request.encode(), response.encode())]).close().packets:
                cap.add(mc.ether(pkt))
    path.write_bytes(cap.data())
    return proxies


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_user_behind_two_proxy_addresses_is_one_client_on_several_processes(tmp_path: Path, jobs: int) -> None:
    """Regression: shards are by client address, so a user told apart by X-Forwarded-For but reached through
    two proxies was judged as two clients, each with half the requests. The shards such users link are now
    judged as one."""
    path = tmp_path / "proxies.pcap"
    behind_two_proxies(path)
    one = analyze([str(path)], Config())
    assert [(s.key.strategy, s.transaction_count) for s in one.sessions] == [("xff", 4)] * 5
    shard_bytes = path.stat().st_size // 4 + 1  # four shards: the proxies in two of them
    assert _views([str(path)], Config(), jobs, shard_bytes=shard_bytes) == _views(
        [str(path)], Config(), 1, shard_bytes=0
    )


def a_direct_client_named_like_a_forwarded_user(path: Path) -> None:
    """``behind_two_proxies``, and a browser at 203.0.113.1 reaching the server directly: the same name as the
    first user behind the proxies, under another identity (``ip`` and ``xff``), starting at the same moment."""
    behind_two_proxies(path)
    mc = _crafted_module()
    extra = mc.Pcap(1)
    for i in range(3):
        cookie = "" if i == 0 else "Cookie: SERVERID=s3\r\n"
        sets = "Set-Cookie: SERVERID=s3; Path=/\r\n" if i == 0 else ""
        request = f"GET /direct/{i} HTTP/1.1\r\nHost: shop.example\r\n{cookie}\r\n"
        response = f"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Served-By: s3\r\n{sets}\r\nok"
        conn = mc.Conn("203.0.113.1", 50000 + i, "10.0.0.5", isn_c=5000 + i, isn_s=9_000_000 + i)
        for pkt in conn.handshake().exchange([(request.encode(), response.encode())]).close().packets:
            extra.add(mc.ether(pkt))
    header = 24  # the global header of the second capture: its records follow the first's
    path.write_bytes(path.read_bytes() + extra.data()[header:])


@pytest.mark.parametrize("jobs", [1, 2])
def test_one_name_under_two_identities_is_two_clients_on_several_processes(tmp_path: Path, jobs: int) -> None:
    """Regression: with ``--jobs`` the whole sessions were found by client name, so ``ip 203.0.113.1`` and
    ``xff 203.0.113.1`` were one: the HTML lanes and ``cookies`` drew one client's transactions twice."""
    from stickyforensics.model import AnalysisReport

    path = tmp_path / "mixed.pcap"
    a_direct_client_named_like_a_forwarded_user(path)
    one = analyze([str(path)], Config())
    named = [(s.key.strategy, s.transaction_count) for s in one.sessions if s.key.value == "203.0.113.1"]
    assert sorted(named) == [("ip", 3), ("xff", 4)]
    shard_bytes = path.stat().st_size // 4 + 1
    assert _views([str(path)], Config(), jobs, shard_bytes=shard_bytes) == _views(
        [str(path)], Config(), 1, shard_bytes=0
    )
    visited: list[tuple[str, int]] = []

    def visit(report: AnalysisReport, sessions: Iterator[ClientSession]) -> None:
        visited.extend((s.key.strategy, len(s.transactions)) for s in sessions if s.key.value == "203.0.113.1")

    analyze([str(path)], Config(), jobs=jobs, shard_bytes=shard_bytes, visit=visit)
    assert visited == named


def _linked(hops_by_shard: dict[int, dict[str, set[str]]], xff_inputs: set[str], identity: str) -> list[list[int]]:
    from types import SimpleNamespace

    from stickyforensics.sharded import linked_shards
    from stickyforensics.track.capture_facts import FactCounts, TrackFacts

    results = [SimpleNamespace(shard=k, counts=FactCounts(xff_hops=v), local=None) for k, v in hops_by_shard.items()]
    return linked_shards(results, TrackFacts(frozenset(xff_inputs), frozenset()), identity)  # type: ignore[arg-type]


def test_shards_are_linked_by_hops_of_inputs_whose_clients_are_told_apart_by_them() -> None:
    hops = {
        0: {"a.pcap": {"u1"}},
        1: {"a.pcap": {"u2"}},
        2: {"a.pcap": {"u2", "u3"}, "b.pcap": {"u9"}},
        3: {"b.pcap": {"u3", "u9"}},
    }
    assert _linked(hops, {"a.pcap"}, "auto") == [[1, 2]]
    assert _linked(hops, {"a.pcap", "b.pcap"}, "auto") == [[1, 2, 3]]  # one hop is one client in every input
    assert _linked(hops, set(), "xff") == [[1, 2, 3]]
    assert _linked(hops, {"a.pcap", "b.pcap"}, "ip") == []
    assert _linked(hops, set(), "auto") == []
    chain = {0: {"a": {"x"}}, 1: {"a": {"y"}}, 2: {"a": {"y", "z"}}, 3: {"a": {"x", "z"}}, 4: {"a": {"w"}}}
    assert _linked(chain, {"a"}, "auto") == [[0, 1, 2, 3]]


def test_shards_are_linked_by_client_addresses_in_any_input() -> None:
    from types import SimpleNamespace

    from stickyforensics.sharded import linked_shards
    from stickyforensics.track.capture_facts import FactCounts, TrackFacts

    ips = {0: {"a.pcap": {"10.0.0.1"}}, 1: {"small.har": {"10.0.0.1", "10.0.0.7"}}, 2: {"a.pcap": {"10.0.0.2"}}}
    hops = {2: {"a.pcap": {"10.0.0.7"}}}  # a hop and an address are different clients
    results = [
        SimpleNamespace(shard=k, counts=FactCounts(client_ips=v, xff_hops=hops.get(k, {})), local=None)
        for k, v in ips.items()
    ]
    facts = TrackFacts(frozenset({"a.pcap"}), frozenset())
    assert linked_shards(results, facts, "auto") == [[0, 1]]  # type: ignore[arg-type]


def test_a_capture_beside_a_small_har_exported_from_it_same_report(tmp_path: Path) -> None:
    """A HAR below the size that is split by client goes whole to one shard; its clients' addresses are the
    capture's, which are in other shards: those are judged with it, as one process judges them."""
    from tests.unit.ingest.test_har_partition import exported

    capture = ROOT / "samples/noise/capture.pcap"
    paths = [exported(capture, tmp_path), str(capture)]
    shard_bytes = capture.stat().st_size // 6 + 1  # six shards, the HAR whole in one of them
    assert _views(paths, Config(), 2, shard_bytes=shard_bytes) == _views(paths, Config(), 1, shard_bytes=0)


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_whole_session_is_visited_in_order_one_at_a_time(jobs: int) -> None:
    """``stickyforensics cookies`` without ``--client``: every client's timeline from the shards' spill files,
    the same text as one process's."""
    from stickyforensics.model import AnalysisReport
    from stickyforensics.report.timeline_text import client_timeline, render_timelines

    paths = [str(ROOT / "samples")]
    one = analyze(paths, Config(), shard_bytes=0)
    texts: list[str] = []
    counts: list[int] = []

    def visit(report: AnalysisReport, sessions: Iterator[ClientSession]) -> None:
        assert all(not s.transactions for s in report.sessions)  # summaries: the whole ones come one by one
        for session in sessions:
            assert session.complete
            texts.append(client_timeline(session, redactor=REDACTOR))
            counts.append(len(session.transactions))

    split = analyze(paths, Config(), jobs=jobs, shard_bytes=60_000, visit=visit)
    assert len(split.sessions) == len(one.sessions) == len(texts) > 5
    assert "".join(texts) == render_timelines(one, redactor=REDACTOR)
    assert counts == [s.transaction_count for s in one.sessions]


@pytest.mark.parametrize("jobs", [1, 2])
def test_clients_named_before_the_analysis_are_the_only_whole_sessions_kept(
    jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stickyforensics cookies --client``: the clients are named before the analysis, so the workers pickle
    only theirs, and no rule runs; their sessions are one process's whole ones."""
    from stickyforensics import sharded

    kept_log = tmp_path / "kept"
    real = sharded._kept

    def spy(job: Any, sessions: Any, *rest: Any) -> Any:
        kept = real(job, sessions, *rest)
        with open(kept_log, "a") as fh:  # the workers are forked: they report through a file
            fh.write(f"{len(sessions)} {len(kept)}\n")
        return kept

    monkeypatch.setattr(sharded, "_kept", spy)
    paths = [str(ROOT / "samples")]
    one = analyze(paths, Config(), shard_bytes=0)
    wanted = frozenset(s.key.value for s in one.sessions[1:3])
    split = analyze(paths, Config(), jobs=jobs, shard_bytes=60_000, detail=wanted, rules=())
    assert not split.findings and not split.rule_runs
    whole = {s.key: s for s in split.sessions if s.transactions}
    assert set(whole) == {s.key for s in one.sessions if s.key.value in wanted}
    assert all(whole[key] == s for s in one.sessions for key in [s.key] if key in whole)
    shards = [tuple(map(int, line.split())) for line in kept_log.read_text().splitlines()]
    assert sum(total for total, _ in shards) >= len(one.sessions) and sum(k for _, k in shards) == len(whole)


@pytest.mark.parametrize("jobs", [1, 2])
def test_addresses_spread_by_connection_are_grouped_again_by_client(jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its first connection, every address's connections are spread over the shards (as a proxy's are past
    ``SPREAD_AFTER``): their transactions are grouped again by client (by address, lineage split included) and
    judged as one process judges them."""
    from stickyforensics import sharded
    from stickyforensics.ingest import partition

    monkeypatch.setattr(partition, "SPREAD_AFTER", 1)
    linked: list[list[int]] = []
    real = sharded.linked_shards

    def spy(*args: object) -> list[list[int]]:
        groups = real(*args)  # type: ignore[arg-type]
        linked.extend(groups)
        return groups

    monkeypatch.setattr(sharded, "linked_shards", spy)
    paths = [str(ROOT / "samples")]
    assert _views(paths, Config(), jobs, shard_bytes=60_000) == _views(paths, Config(), 1, shard_bytes=0)
    plain = [p for p in FIXTURES if "SF601" not in p]
    assert _views(plain, Config(), 2, shard_bytes=20_000) == _views(plain, Config(), 1, shard_bytes=0)
    assert linked == []  # grouped again by routing, not by judging the shards they span as one


def test_users_behind_spread_proxies_are_grouped_by_forwarded_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server-side capture behind a load balancer: each proxy address is spread, its requests go to the
    group of the user ``X-Forwarded-For`` names; the proxies' own shards judge none of them."""
    from stickyforensics import sharded
    from stickyforensics.ingest import partition

    monkeypatch.setattr(partition, "SPREAD_AFTER", 2)
    path = tmp_path / "proxies.pcap"
    behind_two_proxies(path)
    marks = tmp_path / "routed"
    marks.mkdir()
    real = sharded.analyze_routed

    def spy(job: sharded.ShardJob, target: int, *args: object) -> object:
        (marks / str(target)).touch()  # the workers are other processes: a file says it ran
        return real(job, target, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sharded, "analyze_routed", spy)
    shard_bytes = path.stat().st_size // 4 + 1
    split = analyze([str(path)], Config(), jobs=1, shard_bytes=shard_bytes)
    assert len(list(marks.iterdir())) > 1  # the users' transactions were judged in groups of their own
    one = analyze([str(path)], Config())
    assert render_json(split, redactor=REDACTOR) == render_json(one, redactor=REDACTOR)


def test_a_heavy_address_is_spread_by_connection(tmp_path: Path) -> None:
    from stickyforensics.ingest.partition import partition_capture, read_spill

    capture = str(ROOT / "samples/noise/capture.pcap")
    whole = partition_capture(capture, 4, str(tmp_path), input_index=0)
    assert whole.spread == frozenset()
    spread = partition_capture(capture, 4, str(tmp_path), input_index=1, spread_after=1)
    assert spread.spread

    def shards_of(split: object) -> dict[str, set[int]]:
        held: dict[str, set[int]] = {}
        for shard, spill in enumerate(split.spill_files):  # type: ignore[attr-defined]
            for seg in read_spill(spill, lambda _ts: None, lambda _ts: None):
                for ip in (seg.src_ip, seg.dst_ip):
                    held.setdefault(ip, set()).add(shard)
        return held

    before, after = shards_of(whole), shards_of(spread)
    assert all(len(before[ip]) == 1 for ip in spread.spread)  # an address is one shard's...
    assert any(len(after[ip]) > 1 for ip in spread.spread)  # ...until its connections are spread


def two_browsers_behind_one_address(path: Path) -> None:
    """Two browsers behind one NAT address, on connections of their own, alternating in time with their own
    session tokens: ``auto`` tells them apart (``ip+lineage``)."""
    mc = _crafted_module()
    cap = mc.Pcap(1)
    port = 41000
    for i in range(12):
        browser = "AB"[i % 2]
        server = f"s{i % 2 + 1}"
        cookie = "" if i < 2 else f"Cookie: SERVERID={server}; JSESSIONID=TOKEN{browser}0123456789\r\n"
        sets = (
            f"Set-Cookie: SERVERID={server}; path=/\r\nSet-Cookie: JSESSIONID=TOKEN{browser}0123456789; Path=/\r\n"
            if i < 2
            else ""
        )
        request = f"GET /app/{browser}{i} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: ua-{browser}\r\n{cookie}\r\n"
        response = f"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n{sets}\r\nok"
        port += 1
        conn = mc.Conn("192.168.50.7", port, "10.0.0.5", isn_c=1000 + port, isn_s=7_000_000 + port)
        for pkt in conn.handshake().exchange([(request.encode(), response.encode())]).close().packets:
            cap.add(mc.ether(pkt))
    path.write_bytes(cap.data())


@pytest.mark.parametrize("jobs", [1, 2])
def test_browsers_behind_a_spread_address_are_told_apart_as_one_process_does(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stickyforensics.ingest import partition

    path = tmp_path / "nat.pcap"
    two_browsers_behind_one_address(path)
    one = analyze([str(path)], Config())
    assert sorted(s.key.value for s in one.sessions) == ["192.168.50.7#1", "192.168.50.7#2"]
    monkeypatch.setattr(partition, "SPREAD_AFTER", 1)
    shard_bytes = path.stat().st_size // 4 + 1
    assert _views([str(path)], Config(), jobs, shard_bytes=shard_bytes) == _views(
        [str(path)], Config(), 1, shard_bytes=0
    )


def test_a_parent_loads_the_naming_views_and_those_with_a_shared_token() -> None:
    from stickyforensics.sharded import ViewIndex

    index = ViewIndex.build(
        [0, 10, 25, 40], [frozenset({1, 2}), frozenset({3}), frozenset(), frozenset({2, 4})], frozenset({1})
    )
    assert index.wanted(set()) == [10]  # the naming view only
    assert index.wanted({2}) == [0, 10, 40]
    assert index.wanted({4, 9}) == [10, 40]
    assert index.wanted({-1}) == [10]
    tokens = [-(2**63), 2**63 - 1]  # hashes are signed 64-bit
    assert ViewIndex.build([7], [frozenset(tokens)], frozenset()).wanted({2**63 - 1}) == [7]


def test_a_full_disk_for_the_spill_files_is_one_line_saying_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while the workers or the splitting pass write spill files was "a worker failed with OSError":
    it now says where, why and what to do (the CLI prints it and exits 2)."""
    import errno

    from stickyforensics import spill_records
    from stickyforensics.errors import StickyError
    from stickyforensics.ingest import partition

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spill_records, "write_record", full)  # the workers' views and sessions
    monkeypatch.setattr("stickyforensics.sharded.write_record", full)
    with pytest.raises(StickyError, match=r"no space left in .* for the spill files .* TMPDIR"):
        analyze([str(ROOT / "samples")], Config(), jobs=2)
    monkeypatch.undo()
    monkeypatch.setattr(partition.SpillWriter, "_flush", full)  # the splitting pass, in its own process
    with pytest.raises(StickyError, match=r"no space left in .* for the spill files"):
        analyze([str(ROOT / "samples")], Config(), jobs=2, shard_bytes=60_000)
