"""Exchanges -> model ``Transaction``s, filled the way every engine fills them.

- ``Request.url`` is rebuilt from the authority (HTTP/2 ``:authority``, else the ``Host`` header, else the
  server address) and the request-target by the native engine's own ``request_url``; an absolute-form
  target (a proxy request) is the URL itself.
- ``scheme`` is ``https`` when the TCP connection carried TLS, ``http`` otherwise.
- Interim (1xx) responses count as part of the response: their frames come first in
  ``response_frames`` and ``response_started`` is the first of them, as in the native engine.
- Frames are Wireshark's 1-based frame numbers, sorted; a message starts at its first frame and is done at
  the frame that completed it (a retransmission seen later does not move it), as in the native engine.
- Ids are ``<input#>.<tcp.stream>.<depth>``; depth is the exchange's position on its connection in
  request order (for HTTP/2: the order of the streams' request heads).
"""

from __future__ import annotations

from array import array

from stickyforensics.ingest.tshark_message import Addr, Exchange, Message
from stickyforensics.model import Endpoint, Headers, Provenance, Request, Response, Timing, Transaction
from stickyforensics.reconstruct.pairing import request_url

_UNUSABLE_HOST = (" ", "\t", "/", "\\", "@")
"""A Host value holding one of these is not an authority; the native engine then uses the server address."""


def _server_authority(addr: Addr, tls: bool) -> str:
    ip, port = addr
    name = f"[{ip}]" if ":" in ip else ip
    return name if port == (443 if tls else 80) else f"{name}:{port}"


def build_request(msg: Message, tls: bool) -> Request:
    """The model ``Request``; the URL comes from the native engine's ``request_url`` so both engines agree,
    with ``https`` for a TLS connection and the server address (without :443) when no authority was sent."""
    if msg.version == "HTTP/2":
        authority = next((v for k, v in msg.headers if k == ":authority"), None) or msg.header("host")
    else:
        authority = msg.header("host")
    authority = (authority or "").strip()
    if not authority or any(c in authority for c in _UNUSABLE_HOST):
        authority = _server_authority(msg.dst, tls)
    url, scheme, host, path = request_url(msg.method, msg.target, authority, msg.dst)
    if tls and scheme == "http" and not msg.target[:8].lower().startswith("http://"):
        url, scheme = "https" + url[4:], "https"
    return Request(
        method=msg.method,
        target=msg.target,
        url=url,
        scheme=scheme,
        host=host,
        path=path,
        version=msg.version,
        headers=Headers(tuple(msg.headers)),
        body=msg.body.info(),
    )


def build_response(msg: Message) -> Response:
    return Response(
        status=msg.status,
        reason=msg.reason,
        version=msg.version,
        headers=Headers(tuple(msg.headers)),
        body=msg.body.info(),
    )


def _endpoint(addr: Addr, endpoints: dict[Addr, Endpoint]) -> Endpoint:
    """One shared (immutable) ``Endpoint`` per address: building frozen dataclasses is not free."""
    endpoint = endpoints.get(addr)
    if endpoint is None:
        endpoint = endpoints[addr] = Endpoint(addr[0], addr[1])
    return endpoint


def build_transaction(
    ex: Exchange,
    *,
    depth: int,
    tls: bool,
    source: str,
    kind: str,
    input_index: int,
    times: array[float],
    endpoints: dict[Addr, Endpoint],
) -> Transaction:
    req_frames = tuple(sorted(set(ex.request.frames)))
    interim = sorted(set(ex.interim_frames))
    final = sorted(set(ex.response.frames) - set(interim)) if ex.response is not None else []
    resp_frames = tuple(interim + final)

    def at(frame: int) -> float:
        return times[frame - 1] if 0 < frame <= len(times) else 0.0

    resp = ex.response
    timing = Timing(
        started=at(req_frames[0]),
        request_done=at(ex.request.done_frame or req_frames[-1]),
        response_started=at(resp_frames[0]) if resp_frames else None,
        finished=at(resp.done_frame or final[-1]) if resp is not None and final else None,
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
        client=_endpoint(ex.request.src, endpoints),
        server=_endpoint(ex.request.dst, endpoints),
        connection=str(ex.tcp_stream),
        depth=depth,
        error=ex.error,
        notes=tuple(ex.notes),
    )
