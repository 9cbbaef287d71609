"""One HAR entry (a JSON object from ``log.entries``) -> one ``Transaction``.

Invariants:

* Headers keep order, raw casing and duplicates; HTTP/2 pseudo-headers
  (``:authority``, ``:path``) stay as headers; ``\\n``-joined ``Set-Cookie``
  values are split; cookie arrays are reconciled into the headers
  (``har_cookies``).
* Only what the request needs to be placed is mandatory: a ``request`` object,
  a non-empty ``method`` and an absolute http(s)/ws(s) ``url`` (or a path plus
  a Host / ``:authority`` header). Anything else that is broken is tolerated
  and reported: a bad date keeps the previous entry's time, a bad status or a
  missing ``response`` gives ``response=None`` with ``Transaction.error``.
* Bodies are never kept: only their size and first ``BODY_PREFIX_LIMIT`` bytes.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from stickyforensics.ingest.har_cookie_data import CookieSurvey
from stickyforensics.ingest.har_cookies import (
    CookieFix,
    HeaderList,
    cookie_array,
    reconcile_request,
    reconcile_response,
    split_set_cookie_lines,
)
from stickyforensics.ingest.har_diag import DiagnosticLog
from stickyforensics.ingest.har_fields import as_float, as_int, as_text, encodable, http_version, parse_time
from stickyforensics.model import (
    BODY_PREFIX_LIMIT,
    BodyInfo,
    DiagLevel,
    Endpoint,
    Response,
    Timing,
    Transaction,
)
from stickyforensics.model.builders import (
    new_body_info,
    new_headers,
    new_provenance,
    new_request,
    new_response,
    new_timing,
    new_transaction,
)

_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_STRING_CACHE_LIMIT = 50_000
"""Distinct strings shared; common values (UA, Accept) appear in the first entries, so they get in."""
_CACHED_STRING_MAX = 200
_PAIR_CACHE_LIMIT = 100_000
"""Distinct header lines shared (as in ``reconstruct.http1_head``); the cache starts over when full."""
_SMALL_CACHE_LIMIT = 4096
"""URLs, server endpoints and connection ids remembered per file (they repeat in a session)."""

_OTHER, _PSEUDO, _COOKIE, _SET_COOKIE = 0, 1, 2, 3
"""What a header name is, for the per-message scan (``_HeaderFacts``)."""
_NO_BODY = BodyInfo()
"""No body text and no declared size (most requests, every 204 / 304): one shared frozen object."""


class EntryInvalid(Exception):
    """The entry cannot become a transaction; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EntryNotHttp(EntryInvalid):
    """A valid entry that is not an HTTP exchange (``data:``, ``blob:``, extension URLs)."""


@dataclass(slots=True)
class EntryContext:
    """Per-file state shared by the entries of one HAR."""

    path: str
    input_index: int
    client_label: str
    log: DiagnosticLog
    survey: CookieSurvey
    keep_body_prefix: Callable[[bytes], bool] | None = None
    """Whether a body's prefix is worth keeping (``track.body_prefix``); all are kept when None."""
    last_started: float | None = None
    strings: dict[str, str] = field(default_factory=dict)
    """Equal header names / short values share one str object (UA, Accept... repeat on every entry)."""
    pairs: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """Raw ``(name, value)`` of a header item -> its shared, canonical pair (most lines repeat)."""
    kinds: dict[str, int] = field(default_factory=dict)
    """Header name -> ``_PSEUDO`` / ``_COOKIE`` / ``_SET_COOKIE`` / ``_OTHER``."""
    urls: dict[str, tuple[str, str, str, int | None, str, str]] = field(default_factory=dict)
    """Absolute ``request.url`` -> what ``_url`` makes of it."""
    servers: dict[tuple[str, int], Endpoint] = field(default_factory=dict)
    connections: dict[str, str | None] = field(default_factory=dict)

    def canon(self, text: str) -> str:
        """The shared, encodable copy of ``text``."""
        found = self.strings.get(text)
        if found is not None:
            return found
        clean = encodable(text)
        if len(text) <= _CACHED_STRING_MAX and len(self.strings) < _STRING_CACHE_LIMIT:
            self.strings[text] = clean
        return clean


@dataclass(slots=True)
class _Scope:
    """One entry being converted: where it is and which diagnostic codes it earned."""

    ctx: EntryContext
    position: str
    notes: list[str] = field(default_factory=list)
    odd_version: tuple[Any] | None = None
    """The first ``httpVersion`` value that could not be read (tallied once per entry)."""

    def note(self, code: str, detail: str, level: DiagLevel = DiagLevel.WARNING) -> None:
        """Record ``code`` on the transaction and log ``entry N: detail``."""
        self.notes.append(code)
        self.ctx.log.add(code, f"{self.position}: {detail}", self.position, level)

    def tally(self, code: str, message: str) -> None:
        self.ctx.log.tally(code, message, self.position)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def build_transaction(entry: Any, index: int, ctx: EntryContext) -> Transaction:
    """The transaction of ``log.entries[index]``; raises ``EntryInvalid`` when it has none."""
    if not isinstance(entry, dict):
        raise EntryInvalid(f"the entry is a JSON {_kind(entry)}, not an object")
    req = entry.get("request")
    if not isinstance(req, dict):
        raise EntryInvalid("no request object" if req is None else f"request is a JSON {_kind(req)}, not an object")
    scope = _Scope(ctx, f"entry {index}")

    method = req.get("method")
    if not isinstance(method, str):
        raise EntryInvalid("request.method is missing or not a string")
    if not method.strip():
        raise EntryInvalid("request.method is empty")
    req_headers = _headers(req.get("headers"), "request.headers", scope)
    url, scheme, host, port, path, target = _url(req.get("url"), req_headers, ctx)
    has_pseudo, cookie_values, _ = _facts(req_headers, ctx.kinds)
    req_version, ok = http_version(req.get("httpVersion"), has_pseudo_headers=has_pseudo)
    if not ok:
        scope.odd_version = (req.get("httpVersion"),)
    req_cookies = _cookies(req.get("cookies"), "request.cookies", scope)
    if req_cookies:
        req_headers, fix = reconcile_request(req_headers, req_cookies, cookie_values=cookie_values)
        if fix is not None:
            _note_fix(fix, "request", scope)
            cookie_values = _facts(req_headers, ctx.kinds)[1]
    # Request(method, target, url, scheme, host, path, version, headers, body)
    request = new_request(
        ctx.canon(method.strip()),
        target,
        url,
        scheme,
        ctx.canon(host),
        path,
        req_version,
        new_headers(tuple(req_headers)),
        _request_body(req, scope),
    )

    response, error, set_cookie_values = _response(entry, scope, has_pseudo)
    timing = _timing(entry, scope)
    if scope.odd_version is not None:
        _tally_version(scope, scope.odd_version[0])
    ctx.survey.observe_values(index, host, cookie_values, set_cookie_values)
    server = _server(entry, scheme, port, ctx)
    client = _client(entry)
    # Transaction(id, input, request, response, timing, provenance, client, server, client_label, connection,
    #             depth, error, notes); Provenance(source, kind, request_frames, response_frames, tcp_stream,
    #             har_entry, http2_stream)
    return new_transaction(
        f"{ctx.input_index}.e{index}",
        ctx.path,
        request,
        response,
        timing,
        new_provenance(ctx.path, "har", (), (), None, index, None),
        client,
        server,
        ctx.client_label,
        _connection(entry.get("connection"), ctx),
        0,
        error,
        tuple(dict.fromkeys(scope.notes)) if scope.notes else (),
    )


def _headers(value: Any, where: str, scope: _Scope) -> HeaderList:
    """``[{name, value}]`` (also ``[[name, value]]`` and ``{name: value}``) as ordered pairs.

    This runs for every message of files with 100k+ entries, so the common shape
    (a dict with two strings) takes a short path: most header lines repeat across a
    session, so a line seen before is one dict lookup that returns its shared pair.
    """
    if value is None:
        return []
    if isinstance(value, dict):
        items: list[Any] = []
        for key, val in value.items():
            items.extend([key, v] for v in (val if isinstance(val, list) else [val]))
    elif isinstance(value, list):
        items = value
    else:
        raise EntryInvalid(f"{where} is a JSON {_kind(value)}, not an array")
    out: HeaderList = []
    bad = 0
    ctx = scope.ctx
    pairs = ctx.pairs
    strings = ctx.strings
    canon = ctx.canon
    split = False
    for item in items:
        if type(item) is dict:
            try:  # subscripts cost less than .get() calls; both keys are there but in odd files
                name = item["name"]
                val = item["value"]
            except KeyError:
                name, val = item.get("name"), item.get("value")
            if type(name) is str and type(val) is str:
                pair = pairs.get((name, val))
                if pair is not None:
                    out.append(pair)
                    continue
        elif isinstance(item, list) and len(item) == 2:
            name, val = item
        else:
            bad += 1
            continue
        if type(val) is not str:
            val = "" if val is None else as_text(val)
            if val is None:
                bad += 1
                continue
        if type(name) is not str or not name.strip():
            bad += 1
            continue
        pair = (strings.get(name) or canon(name), strings.get(val) or canon(val))
        if "\n" in val and name.lower() == "set-cookie":
            # Joined Set-Cookie lines (chrome-har): split below on the response side, never shared.
            split = split or where == "response.headers"
        elif type(item) is dict:
            if len(pairs) >= _PAIR_CACHE_LIMIT:
                pairs.clear()
            # The pair itself is the key when canon() changed neither string (no second tuple to hold).
            pairs[pair if pair[0] == name and pair[1] == val else (name, val)] = pair
        out.append(pair)
    if bad:
        scope.note("har.header_invalid", f"{bad} unusable item(s) in {where} dropped")
    if split:
        out = split_set_cookie_lines(out)
    return out


def _facts(headers: HeaderList, kinds: dict[str, int]) -> tuple[bool, list[str], list[str]]:
    """(any pseudo-header, the ``Cookie`` values, the ``Set-Cookie`` values) of one message, in order."""
    pseudo = False
    cookies: list[str] = []
    set_cookies: list[str] = []
    for name, value in headers:
        try:
            kind = kinds[name]  # a subscript costs less than .get(); a name misses once per file
        except KeyError:
            lowered = name.lower()
            kind = (
                _PSEUDO
                if name.startswith(":")
                else _COOKIE
                if lowered == "cookie"
                else _SET_COOKIE
                if lowered == "set-cookie"
                else _OTHER
            )
            if len(kinds) < _STRING_CACHE_LIMIT:
                kinds[name] = kind
        if kind:
            if kind == _PSEUDO:
                pseudo = True
            elif kind == _COOKIE:
                cookies.append(value)
            else:
                set_cookies.append(value)
    return pseudo, cookies, set_cookies


def _url(value: Any, headers: HeaderList, ctx: EntryContext) -> tuple[str, str, str, int | None, str, str]:
    """(url, scheme, host, port, path, target) from ``request.url``; absolute URLs are remembered."""
    if type(value) is str:
        known = ctx.urls.get(value)
        if known is not None:
            return known
    if not isinstance(value, str) or not value.strip():
        raise EntryInvalid("request.url is missing or not a string" if not isinstance(value, str) else "empty url")
    url = encodable(value.strip())
    relative = url.startswith("/") and not url.startswith("//")
    if relative:
        url = _absolute_from_headers(url, headers)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EntryInvalid(f"request.url cannot be parsed ({exc})") from None
    raw_scheme = parts.scheme.lower()
    if raw_scheme not in _SCHEMES:
        if raw_scheme:
            raise EntryNotHttp(f"{raw_scheme}: URL, not an HTTP exchange")
        raise EntryInvalid("request.url is not absolute")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EntryInvalid("request.url has no host")
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    # Rebuilt as it went on the wire: no user:password@ (a secret), no #fragment (never sent).
    authority = parts.netloc.rpartition("@")[2]
    result = f"{raw_scheme}://{authority}{target}", _SCHEMES[raw_scheme], host, port, path, target
    if not relative and len(ctx.urls) < _SMALL_CACHE_LIMIT:
        ctx.urls[value] = result
    return result


def _absolute_from_headers(path: str, headers: HeaderList) -> str:
    """Some proxies log origin-form URLs: rebuild from ``:scheme`` and Host / ``:authority``."""
    found = {name.lower(): value for name, value in reversed(headers)}
    host = found.get(":authority") or found.get("host")
    if not host:
        raise EntryInvalid("request.url is a path and no Host header says which server")
    scheme = found.get(":scheme", "http").lower()
    return f"{scheme}://{host.strip()}{path}"


def _cookies(value: Any, where: str, scope: _Scope) -> list[dict[str, Any]]:
    items, bad = cookie_array(value)
    if bad:
        scope.note("har.cookie_array_invalid", f"{bad} unusable item(s) in {where} ignored")
    return items


def _note_fix(fix: CookieFix | None, side: str, scope: _Scope) -> None:
    if fix is None:
        return
    names = ", ".join(fix.names[:10]) + (f" and {len(fix.names) - 10} more" if len(fix.names) > 10 else "")
    header = "Cookie" if side == "request" else "Set-Cookie"
    if fix.code == "har.cookies_from_array":
        detail = f"{side} has no {header} header; {header} rebuilt from {side}.cookies ({names})"
        scope.note(fix.code, detail, DiagLevel.INFO)
    else:
        detail = f"{side}.cookies lists {names} that no {header} header carries; added from the array"
        scope.note(fix.code, detail + " (the headers stay authoritative)")


_NO_RESPONSE = "entries without a response (aborted, blocked or pending)"


def _response(
    entry: dict[str, Any], scope: _Scope, has_pseudo: bool
) -> tuple[Response | None, str | None, list[str] | None]:
    """The response, the error when there is none, and its ``Set-Cookie`` values (for the cookie survey)."""
    resp = entry.get("response")
    if resp is None:
        scope.tally("har.no_response", _NO_RESPONSE)
        return None, "no response recorded", None
    if not isinstance(resp, dict):
        raise EntryInvalid(f"response is a JSON {_kind(resp)}, not an object")
    status = as_int(resp.get("status"))
    reason = encodable(as_text(resp.get("statusText")) or "")
    if status is None or status <= 0 or status > 999:
        detail = encodable(as_text(resp.get("_error")) or reason)
        scope.tally("har.no_response", _NO_RESPONSE)
        shown = "no status" if status is None else f"status {status}"
        return None, f"no response ({shown}{': ' + detail if detail else ''})", None
    headers = _headers(resp.get("headers"), "response.headers", scope)
    cookies = _cookies(resp.get("cookies"), "response.cookies", scope)
    kinds = scope.ctx.kinds
    pseudo, _, set_cookies = _facts(headers, kinds)
    if cookies:
        headers, fix = reconcile_response(headers, cookies, set_cookie_values=set_cookies)
        if fix is not None:
            _note_fix(fix, "response", scope)
            pseudo, _, set_cookies = _facts(headers, kinds)
    pseudo = has_pseudo or pseudo
    version, ok = http_version(resp.get("httpVersion"), has_pseudo_headers=pseudo)
    if not ok and scope.odd_version is None:
        scope.odd_version = (resp.get("httpVersion"),)
    content = resp.get("content")
    content = content if isinstance(content, dict) else {}
    body = _body(content.get("text"), as_text(content.get("encoding")), as_int(content.get("size")), "response", scope)
    return (
        # Response(status, reason, version, headers, body, from_cache)
        new_response(status, reason, version, new_headers(tuple(headers)), body, _from_cache(entry, resp)),
        None,
        set_cookies,
    )


def _from_cache(entry: dict[str, Any], resp: dict[str, Any]) -> str | None:
    """Chrome's ``_fromCache`` (``memory`` / ``disk``), Safari's ``_fetchType`` and older flags."""
    for holder in (entry, resp):
        value = holder.get("_fromCache")
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is True:
            return "cache"
    fetch_type = as_text(entry.get("_fetchType"))
    if fetch_type and "cache" in fetch_type.lower():
        # Safari: "Memory Cache" / "Disk Cache" (vs "Network Load").
        return fetch_type.strip()
    if resp.get("_fromDiskCache") is True:
        return "disk"
    if resp.get("_fromServiceWorker") is True:
        return "service-worker"
    return None


def _tally_version(scope: _Scope, value: Any) -> None:
    shown = repr(value)[:40] if value not in (None, "") else "empty"
    scope.tally(
        "har.http_version_unknown",
        f"unreadable httpVersion values (e.g. {shown}); "
        "taken from the headers (HTTP/2 with pseudo-headers, else HTTP/1.1)",
    )


def _request_body(req: dict[str, Any], scope: _Scope) -> BodyInfo:
    # A postData with only ``params`` (no ``text``) counts as "no body text exported":
    # rebuilding the raw body from parsed form fields would invent bytes.
    size_hint = as_int(req.get("bodySize"))
    post = req.get("postData")
    if not isinstance(post, dict):
        if not size_hint or size_hint <= 0:
            return _NO_BODY
        return new_body_info(size_hint, b"", False)  # BodyInfo(size, prefix, complete)
    text = post.get("text")
    encoding = as_text(post.get("encoding"))
    if not isinstance(text, str) and isinstance(post.get("_textBase64"), str):
        text, encoding = post["_textBase64"], "base64"
    return _body(text, encoding, size_hint, "request", scope)


def _body(text: Any, encoding: str | None, size_hint: int | None, side: str, scope: _Scope) -> BodyInfo:
    """Size and prefix of a HAR body; a declared size larger than the text means truncation.

    The body's bytes are measured, not built, where their length can be told from the text: an ASCII
    text is its own length, a clean base64 text tells its length by its own, and only the prefix is
    decoded (decision 0005, session-10 addendum). The model keeps no digest of a body: it needed the whole
    body built (with the UTF-8 and base64 work, about 30% of reading a HAR with bodies), and nothing read it.
    """
    declared = size_hint if size_hint is not None and size_hint >= 0 else None
    if not isinstance(text, str) or text == "":
        # No body text exported (the usual case): only the declared size is known.
        return new_body_info(declared, b"", False) if declared else _NO_BODY
    prefix: bytes
    if encoding is not None and encoding.strip().lower() == "base64":
        measured = _clean_base64(text)
        if measured is not None:
            size, prefix = measured
        else:
            data = _base64_bytes(text, side, scope)
            size, prefix = len(data), data[:BODY_PREFIX_LIMIT]
    elif text.isascii():  # a flag of the str: no scan
        size, prefix = len(text), text[:BODY_PREFIX_LIMIT].encode("ascii")
    else:
        data = text.encode("utf-8", "surrogatepass")
        size, prefix = len(data), data[:BODY_PREFIX_LIMIT]
    complete = declared is None or declared <= size
    if not complete:
        detail = f"{side} body truncated by the producer: {size} of {declared} bytes exported"
        scope.note("har.body_truncated", detail)
    keep = scope.ctx.keep_body_prefix
    if keep is not None and prefix and not keep(prefix):
        prefix = b""  # no marker can match in it: ~2 KB less kept per body (images, scripts)
    return new_body_info(declared if declared is not None else size, prefix, complete)


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BASE64_PREFIX_CHARS = -(-BODY_PREFIX_LIMIT // 3) * 4
"""Base64 characters that decode to at least ``BODY_PREFIX_LIMIT`` bytes (whole groups of four)."""


def _clean_base64(text: str) -> tuple[int, bytes] | None:
    """``(length, prefix)`` of the bytes ``text`` decodes to, for base64 in its plain form: ASCII, whole
    groups of four, alphabet characters with at most two ``=`` at the very end. Strict decoding takes
    all of these and gives that many bytes (a property test checks it); None for anything else.

    The check is two C passes (an ASCII copy, a translate) against one decoding pass that is about
    six times slower; only the prefix is decoded.
    """
    if not text.isascii() or len(text) % 4:
        return None
    raw = text.encode("ascii")
    rest = raw.translate(None, _BASE64_ALPHABET)
    if rest and (rest not in (b"=", b"==") or not raw.endswith(rest)):
        return None
    return len(raw) // 4 * 3 - len(rest), binascii.a2b_base64(raw[:_BASE64_PREFIX_CHARS])[:BODY_PREFIX_LIMIT]


def _base64_bytes(text: str, side: str, scope: _Scope) -> bytes:
    """The bytes of a base64 body that is not in its plain form (line breaks, bad padding...)."""
    try:
        # Strict mode takes whatever base64 it can in one C pass; what it refuses (line breaks, bad
        # padding, non-ASCII) goes the lenient way, which gives the same bytes for everything strict
        # mode accepts.
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return _lenient_base64(text, side, scope)


def _lenient_base64(text: str, side: str, scope: _Scope) -> bytes:
    """Base64 with whitespace removed; text that is not base64 is kept as text (and noted)."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        detail = f"{side} body is marked base64 but is not valid base64; read as text"
        scope.note("har.bad_base64", detail, DiagLevel.INFO)
        return text.encode("utf-8", "surrogatepass")


def _timing(entry: dict[str, Any], scope: _Scope) -> Timing:
    """``startedDateTime`` + ``timings`` / ``time`` (milliseconds) as epoch seconds."""
    raw = entry.get("startedDateTime")
    started, zoned = parse_time(raw)
    ctx = scope.ctx
    if started is None:
        shown = repr(raw)[:60] if raw is not None else "missing"
        scope.note("har.bad_time", f"startedDateTime {shown} is not a date; the previous entry's time is used")
        started = ctx.last_started if ctx.last_started is not None else 0.0
    elif not zoned:
        scope.tally("har.time_no_zone", "startedDateTime without a time zone: read as UTC")
    ctx.last_started = started

    timings = entry.get("timings")
    if not isinstance(timings, dict):
        timings = {}
    phase = timings.get
    send = as_float(phase("send"))
    request_done = response_started = None
    if send is not None and send >= 0:
        spans = (as_float(phase("blocked")), as_float(phase("dns")), as_float(phase("connect")), send)
        before = sum([v for v in spans if v is not None and v > 0])
        request_done = started + before / 1000.0
        wait = as_float(phase("wait"))
        if wait is not None and wait >= 0:
            response_started = request_done + wait / 1000.0
    total = as_float(entry.get("time"))
    finished = None
    if total is not None and total >= 0:
        finished = started + total / 1000.0
    elif response_started is not None:
        receive = as_float(phase("receive"))
        if receive is not None and receive >= 0:
            finished = response_started + receive / 1000.0
    return new_timing(started, request_done, response_started, finished)


def _server(entry: dict[str, Any], scheme: str, port: int | None, ctx: EntryContext) -> Endpoint | None:
    """``serverIPAddress`` (the VIP as the client saw it) with the URL's port."""
    raw = as_text(entry.get("serverIPAddress"))
    if not raw:
        return None
    ip = _ip(raw)
    if ip is None:
        return None
    server_port = as_int(entry.get("_serverPort"))
    if server_port is None or not 0 < server_port < 65536:
        server_port = port if port is not None else _DEFAULT_PORTS[scheme]
    known = ctx.servers.get((ip, server_port))
    if known is None:
        known = Endpoint(ip, server_port)
        if len(ctx.servers) < _SMALL_CACHE_LIMIT:
            ctx.servers[(ip, server_port)] = known
    return known


def _client(entry: dict[str, Any]) -> Endpoint | None:
    """``_clientIPAddress``/``_clientPort`` (custom fields of HAR files exported from a capture, e.g. by
    ``stickyforensics export``): such a file holds several clients, told apart by address like the capture.
    Browser HARs have no such field: the file is the client."""
    raw = as_text(entry.get("_clientIPAddress"))
    if not raw:
        return None
    ip = _ip(raw)
    if ip is None:
        return None
    port = as_int(entry.get("_clientPort"))
    return _client_endpoint(ip, port if port is not None and 0 < port < 65536 else 0)


@lru_cache(maxsize=4096)
def _client_endpoint(ip: str, port: int) -> Endpoint:
    return Endpoint(ip, port)


@lru_cache(maxsize=1024)
def _ip(raw: str) -> str | None:
    """Canonical text of an address written as ``1.2.3.4``, ``::1`` or ``[::1]``; None if not one."""
    try:
        return str(ipaddress.ip_address(raw.strip().strip("[]")))
    except ValueError:
        return None


def _connection(value: Any, ctx: EntryContext) -> str | None:
    """Chrome's connection id or Firefox's port, as text (ids repeat: one shared str each)."""
    if type(value) is str:
        known = ctx.connections.get(value, "")
        if known != "":
            return known
    text = as_text(value)
    result = encodable(text.strip()) or None if text is not None else None
    if type(value) is str and len(ctx.connections) < _SMALL_CACHE_LIMIT:
        ctx.connections[value] = result
    return result
