"""Check a scenario's outputs against its ``expected.json`` by reading them back independently.

Captures are read with tshark (HTTP/1.x, and HTTP/2 inside TLS with the scenario's ``keys.log``), HAR
files as JSON; the exchanges found there go through the same oracle (``lab.truth``) as the clients' own
logs, and the result must equal the findings and healthy clients ``expected.json`` claims. The lab runs
this after every scenario; the e2e tests run it on ``samples/``. It is an oracle for the lab's own
traffic (it is told the cookie names), not a second analyzer.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict, deque
from datetime import datetime
from pathlib import Path
from typing import Any

from lab.exchange import Exchange, parse_cookie_header, parse_set_cookie
from lab.procs import LabError
from lab.truth import Rules, derive, healthy

_TSHARK_TIMEOUT = 120


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _header_map(lines: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in lines:
        name, sep, value = line.rstrip("\r\n").partition(":")
        if sep:
            out.append((name.strip().lower(), value.strip()))
    return out


def _first_line(pdu: dict[str, Any], key: str) -> dict[str, Any]:
    """The request/status-line subtree (its key is the line itself, e.g. ``GET / HTTP/1.1\\r\\n``)."""
    for value in pdu.values():
        if isinstance(value, dict) and key in value:
            return value
    return {}


def _tshark_json(pcap: Path, keylog: Path | None, display_filter: str, protocols: str) -> list[dict[str, Any]]:
    argv = ["tshark", "-n", "-r", str(pcap), "-Y", display_filter, "-T", "json", "--no-duplicate-keys", "-J", protocols]
    if keylog is not None:
        argv[1:1] = ["-o", f"tls.keylog_file:{keylog}"]
    # TLS (or HTTP) on the lab's servers' ports whatever the client's port: an ephemeral port that is some
    # protocol's registered one (34980 is EtherCAT's) otherwise wins and the connection goes unread.
    for port in _server_ports(pcap):
        argv[1:1] = ["-d", f"tcp.port=={port},{'tls' if keylog is not None else 'http'}"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=_TSHARK_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"tshark cannot read {pcap}: {exc}") from exc
    if done.returncode != 0:
        raise LabError(f"tshark failed on {pcap}: {done.stderr.decode(errors='replace')[-500:]}")
    text = done.stdout.decode("utf-8", errors="replace").strip()
    return json.loads(text) if text else []


def _server_ports(pcap: Path) -> list[int]:
    """The ports the connections of ``pcap`` were opened to (their SYNs' destination ports)."""
    argv = ["tshark", "-n", "-r", str(pcap), "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
            "-e", "tcp.dstport"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, timeout=_TSHARK_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"tshark cannot read {pcap}: {exc}") from exc
    return sorted({int(line) for line in done.stdout.decode().split() if line.isdigit()})


def _http1(packets: list[dict[str, Any]]) -> list[Exchange]:
    pending: dict[str, deque[Exchange]] = defaultdict(deque)
    out: list[Exchange] = []
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        t = float(_as_list(layers["frame"]["frame.time_epoch"])[0])
        stream = str(_as_list(layers["tcp"]["tcp.stream"])[0])
        src = str(_as_list(layers["ip"]["ip.src"])[0])
        for pdu in _as_list(layers.get("http")):
            if not isinstance(pdu, dict):
                continue
            if "http.request" in pdu:
                line = _first_line(pdu, "http.request.method")
                headers = _header_map(_as_list(pdu.get("http.request.line")))
                cookies: dict[str, str] = {}
                for name, value in headers:
                    if name == "cookie":
                        cookies.update(parse_cookie_header(value))
                ex = Exchange(
                    client=src,
                    time=t,
                    method=str(line.get("http.request.method", "?")),
                    target=str(line.get("http.request.uri", "?")),
                    cookies=cookies,
                )
                pending[stream].append(ex)
                out.append(ex)
            elif "http.response" in pdu and pending[stream]:
                ex = pending[stream].popleft()
                _fill_response(
                    ex,
                    str(_first_line(pdu, "http.response.code").get("http.response.code", "0")),
                    _header_map(_as_list(pdu.get("http.response.line"))),
                    str(pdu.get("http.file_data", "")),
                    t,
                )
    return out


def _fill_response(ex: Exchange, status: str, headers: list[tuple[str, str]], body: str, t: float) -> None:
    ex.status = int(status) if status.isdigit() else None
    ex.backend = next((v for n, v in headers if n == "x-backend"), None)
    ex.cache = next((v for n, v in headers if n == "x-cache-status"), None)
    ex.set_cookies = [c for n, v in headers if n == "set-cookie" and (c := parse_set_cookie(v, t)) is not None]
    ex.body = body[:200]


def _http2(packets: list[dict[str, Any]]) -> list[Exchange]:
    """HTTP/2 requests and responses per (TCP stream, HTTP/2 stream id) from decrypted HEADERS frames."""
    streams: dict[tuple[str, str], Exchange] = {}
    out: list[Exchange] = []
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        t = float(_as_list(layers["frame"]["frame.time_epoch"])[0])
        tcp_stream = str(_as_list(layers["tcp"]["tcp.stream"])[0])
        src = str(_as_list(layers["ip"]["ip.src"])[0])
        for layer in _as_list(layers.get("http2")):
            for frame in _as_list(layer.get("http2.stream") if isinstance(layer, dict) else None):
                if not isinstance(frame, dict) or "http2.header" not in frame:
                    continue
                sid = str(frame.get("http2.streamid", "?"))
                headers = []
                for h in _as_list(frame.get("http2.header")):
                    if isinstance(h, dict):
                        headers.append(
                            (str(h.get("http2.header.name", "")).lower(), str(h.get("http2.header.value", "")))
                        )
                pseudo = dict(h for h in headers if h[0].startswith(":"))
                key = (tcp_stream, sid)
                if ":method" in pseudo:
                    cookies: dict[str, str] = {}
                    for name, value in headers:
                        if name == "cookie":
                            cookies.update(parse_cookie_header(value))
                    ex = Exchange(
                        client=src,
                        time=t,
                        method=pseudo[":method"],
                        target=pseudo.get(":path", "?"),
                        cookies=cookies,
                        protocol="HTTP/2",
                    )
                    streams[key] = ex
                    out.append(ex)
                elif ":status" in pseudo and key in streams:
                    _fill_response(streams.pop(key), pseudo[":status"], headers, "", t)
    return out


def pcap_exchanges(pcap: Path, keylog: Path | None = None) -> list[Exchange]:
    """Every HTTP exchange tshark finds in ``pcap`` (HTTP/2 too when ``keylog`` decrypts it)."""
    out = _http1(_tshark_json(pcap, keylog, "http", "frame ip tcp http"))
    if keylog is not None:
        out += _http2(_tshark_json(pcap, keylog, "http2.header", "frame ip tcp http2"))
    return sorted(out, key=lambda e: e.time)


def har_exchanges(har: Path) -> list[Exchange]:
    """Every entry of a HAR file as an exchange whose client is the file's name."""
    try:
        data = json.loads(har.read_text(encoding="utf-8"))
        entries = data["log"]["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabError(f"{har}: not a readable HAR file: {exc}") from exc
    out: list[Exchange] = []
    for entry in entries:
        req, resp = entry["request"], entry["response"]
        t = datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00")).timestamp()
        cookies: dict[str, str] = {}
        for h in req.get("headers", []):
            if h["name"].lower() == "cookie":
                cookies.update(parse_cookie_header(h["value"]))
        url = req["url"]
        target = "/" + url.split("://", 1)[-1].split("/", 1)[1] if url.count("/") >= 3 else "/"
        ex = Exchange(
            client=har.name,
            time=t,
            method=req["method"],
            target=target,
            cookies=cookies,
            protocol=req.get("httpVersion", ""),
        )
        headers = [(h["name"].lower(), h["value"]) for h in resp.get("headers", [])]
        # a HAR may fold several Set-Cookie headers into one value separated by newlines
        headers = [(n, part) for n, v in headers for part in (v.split("\n") if n == "set-cookie" else [v])]
        body = (resp.get("content") or {}).get("text") or ""
        _fill_response(ex, str(resp.get("status", 0)), headers, body, t)
        out.append(ex)
    return out


def rules_of(doc: dict[str, Any]) -> Rules:
    o = doc["oracle"]
    return Rules(
        persistence=tuple(o["persistence"]),
        session=o["session"],
        static_prefix=o.get("static_prefix", "/static/"),
        maxidle=o.get("maxidle"),
        maxlife=o.get("maxlife"),
    )


def wire_exchanges(outdir: Path, doc: dict[str, Any]) -> list[Exchange]:
    keylog = outdir / doc["tls_keylog"] if doc.get("tls_keylog") else None
    out: list[Exchange] = []
    for name in doc["inputs"]:
        path = outdir / name
        out += har_exchanges(path) if name.endswith(".har") else pcap_exchanges(path, keylog)
    return out


def check_exchanges(name: str, doc: dict[str, Any], exchanges: list[Exchange]) -> None:
    """Raise ``LabError`` unless these exchanges show exactly the findings and healthy clients ``doc`` claims."""
    if not exchanges:
        raise LabError(f"{name}: no HTTP exchange found in {doc['inputs']}")
    facts = derive(exchanges, rules_of(doc))
    claimed = sorted((f["kind"], f["client"], f.get("cookie")) for f in doc["findings"])
    seen = sorted(f.key() for f in facts)
    if claimed != seen:
        raise LabError(f"{name}: expected.json claims {claimed} but the inputs show {seen}")
    on_wire = healthy({ex.client for ex in exchanges}, facts)
    if on_wire != sorted(doc["healthy_clients"]):
        raise LabError(
            f"{name}: expected.json lists healthy clients {sorted(doc['healthy_clients'])}, the inputs show {on_wire}"
        )


def verify_scenario(outdir: Path, doc: dict[str, Any]) -> list[Exchange]:
    """Read the scenario's inputs back (tshark / JSON) and check them against ``doc``; returns the exchanges."""
    exchanges = wire_exchanges(outdir, doc)
    check_exchanges(outdir.name, doc, exchanges)
    return exchanges
