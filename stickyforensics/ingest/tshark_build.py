"""Exchanges -> model ``Transaction``s, filled the way every engine fills them.

- ``Request.url`` is rebuilt from the authority (HTTP/2 ``:authority``, else the ``Host`` header, else the
  server address) and the request-target; the host is lower-cased and a default port (80 for http, 443
  for https) is dropped. An absolute-form target (a proxy request) is the URL itself.
- ``scheme`` is ``https`` when the TCP connection carried TLS, ``http`` otherwise.
- Frames are Wireshark's 1-based frame numbers, sorted; times are the capture times of the first and last
  frame of each message.
- Ids are ``<input#>.<tcp.stream>.<depth>``; depth is the exchange's position on its connection in
  request order (for HTTP/2: the order of the streams' request heads).
"""

from __future__ import annotations

from array import array
from urllib.parse import urlsplit

from stickyforensics.ingest.tshark_message import Addr, Exchange, Message
from stickyforensics.model import Endpoint, Headers, Provenance, Request, Response, Timing, Transaction

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def split_authority(authority: str) -> tuple[str, str | None]:
    """``host[:port]`` (``[v6]:port`` too; userinfo dropped) -> (lower-case host without brackets, port)."""
    auth = authority.strip().rpartition("@")[2]
    if auth.startswith("["):
        host, _, rest = auth[1:].partition("]")
        port = rest[1:] if rest.startswith(":") and rest[1:].isdigit() else None
        return host.lower(), port
    if auth.count(":") == 1:
        host, _, port = auth.partition(":")
        return host.lower(), port if port.isdigit() else None
    return auth.lower(), None


def _authority(host: str, port: str | None, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return shown
    return f"{shown}:{port}"


def _origin(msg: Message, scheme: str, authority: str | None) -> tuple[str, str]:
    """(authority as it goes into the URL, host) from the given authority or the server address."""
    if authority and authority.strip():
        host, port = split_authority(authority)
        if host:
            return _authority(host, port, scheme), host
    ip, port_n = msg.dst
    return _authority(ip, str(port_n), scheme), ip


def _absolute(target: str) -> tuple[str, str, str] | None:
    """(scheme, host, path) of an absolute-form target, None for any other form."""
    head, sep, _ = target.partition("://")
    if not sep or not head.isalpha() or len(head) > 10:
        return None
    try:
        parts = urlsplit(target)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.path
    except ValueError:
        return None


def build_request(msg: Message, tls: bool) -> Request:
    scheme = "https" if tls else "http"
    if msg.version == "HTTP/2":
        authority = next((v for k, v in msg.headers if k == ":authority"), None) or msg.header("host")
    else:
        authority = msg.header("host")
    target = msg.target
    absolute = _absolute(target)
    if absolute is not None:  # absolute-form (RFC 9112 §3.2.2): a request to a proxy
        scheme, host, path = absolute
        url = target
    elif msg.method == "CONNECT" or target == "*":  # authority-form / asterisk-form
        auth, host = _origin(msg, scheme, target if msg.method == "CONNECT" else authority)
        url, path = f"{scheme}://{auth}", "" if msg.method == "CONNECT" else "*"
    else:
        auth, host = _origin(msg, scheme, authority)
        origin_target = target if target.startswith("/") else "/" + target
        url = f"{scheme}://{auth}{origin_target}"
        path = origin_target.split("?", 1)[0].split("#", 1)[0]
    return Request(
        method=msg.method,
        target=target,
        url=url,
        scheme=scheme,
        host=host,
        path=path,
        version=msg.version or "HTTP/1.1",
        headers=Headers(tuple(msg.headers)),
        body=msg.body.info(),
    )


def build_response(msg: Message) -> Response:
    return Response(
        status=msg.status,
        reason=msg.reason,
        version=msg.version or "HTTP/1.1",
        headers=Headers(tuple(msg.headers)),
        body=msg.body.info(),
    )


def _endpoint(addr: Addr) -> Endpoint:
    return Endpoint(addr[0], addr[1])


def build_transaction(
    ex: Exchange,
    *,
    depth: int,
    tls: bool,
    source: str,
    kind: str,
    input_index: int,
    times: array[float],
) -> Transaction:
    req_frames = tuple(sorted(set(ex.request.frames)))
    resp_frames = tuple(sorted(set(ex.response.frames))) if ex.response is not None else ()

    def at(frame: int) -> float:
        return times[frame - 1] if 0 < frame <= len(times) else 0.0

    timing = Timing(
        started=at(req_frames[0]),
        request_done=at(req_frames[-1]),
        response_started=at(resp_frames[0]) if resp_frames else None,
        finished=at(resp_frames[-1]) if resp_frames else None,
    )
    return Transaction(
        id=f"{input_index}.{ex.tcp_stream}.{depth}",
        input=source,
        request=build_request(ex.request, tls),
        response=build_response(ex.response) if ex.response is not None else None,
        timing=timing,
        provenance=Provenance(
            source=source,
            kind=kind,
            request_frames=req_frames,
            response_frames=resp_frames,
            tcp_stream=ex.tcp_stream,
            http2_stream=ex.http2_stream,
        ),
        client=_endpoint(ex.request.src),
        server=_endpoint(ex.request.dst),
        connection=str(ex.tcp_stream),
        depth=depth,
        error=ex.error,
        notes=tuple(ex.notes),
    )
