"""HTTP/2 streams from tshark rows: HEADERS/CONTINUATION/PUSH_PROMISE heads, DATA bodies, per TCP connection.

Theory of operation:

- One row is one TCP frame and may carry many HTTP/2 frames of many streams. ``http2.type``,
  ``http2.streamid``, ``http2.flags`` and ``http2.length`` have one occurrence per HTTP/2 frame, so they
  line up. Decoded header fields (``http2.header.name``/``value``) come as one flat list for the whole
  row; ``http2.header.count`` (one per header-bearing frame: HEADERS, PUSH_PROMISE, CONTINUATION) cuts
  it back into blocks. When the counts do not add up (a block tshark could not decompress) and the row
  has more than one header-bearing frame, those blocks are left out and a
  ``tshark.http2_headers_unattributed`` diagnostic says so.
- ``http2.data.data`` has one occurrence per DATA frame with payload, lined up the same way.
- Header fields are kept as sent, pseudo-headers included, one item per field: several ``cookie`` fields
  (RFC 9113 §8.2.3 crumbs) stay separate items; the cookie parser joins them.
- A stream's request is the first head that carries ``:method`` (or comes from the side that sent one);
  a 1xx response head is interim; a later head in the same direction is a trailer block (not headers).
- The request and response of a stream are paired by (tcp.stream, stream id): the protocol makes that
  exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.ingest.tshark_fields import AGGREGATOR, C, ints, occurrences
from stickyforensics.ingest.tshark_message import Addr, Body, Diags, Exchange, Message

DATA, HEADERS, RST_STREAM, PUSH_PROMISE, CONTINUATION = 0, 1, 3, 5, 9
END_HEADERS = 0x4
_HEAD_TYPES = (HEADERS, PUSH_PROMISE, CONTINUATION)

Block = list[tuple[str, str]]


@dataclass(slots=True)
class _Stream:
    sid: int
    request: Message | None = None
    response: Message | None = None
    client: Addr | None = None
    open_block: Message | None = None
    """The head a CONTINUATION frame extends (None: nothing open, or a trailer/interim block)."""
    interim_frames: list[int] = field(default_factory=list)
    reset: bool = False


def _pseudo(block: Block, name: str) -> str | None:
    for key, value in block:
        if key == name:
            return value
    return None


def _blocks(cells: list[str], types: list[int], frame: int, diags: Diags) -> dict[int, Block | None]:
    """Header block of each header-bearing HTTP/2 frame of the row (by index), None when not attributable."""
    heads = [i for i, t in enumerate(types) if t in _HEAD_TYPES]
    if not heads:
        return {}
    names = occurrences(cells[C.H2_HEADER_NAME])
    values = cells[C.H2_HEADER_VALUE].split(AGGREGATOR) if names else []
    counts = ints(cells[C.H2_HEADER_COUNT])
    if len(names) == len(values):
        pairs = list(zip(names, values, strict=True))
        if len(counts) == len(heads) and sum(counts) == len(pairs):
            out: dict[int, Block | None] = {}
            start = 0
            for i, count in zip(heads, counts, strict=True):
                out[i] = pairs[start : start + count]
                start += count
            return out
        if len(heads) == 1:
            return {heads[0]: pairs}
    diags.add(
        "tshark.http2_headers_unattributed",
        f"HTTP/2 header blocks in frame {frame} could not be told apart (tshark printed "
        f"{len(names)} names, {len(values)} values, counts {counts}); those heads are left out",
        f"frame {frame}",
    )
    return dict.fromkeys(heads)


def _data(cells: list[str], types: list[int], lengths: list[int]) -> dict[int, bytes | None]:
    """Payload of each DATA frame with a non-zero length (by index), None when not attributable."""
    frames = [i for i, t in enumerate(types) if t == DATA and lengths[i] > 0]
    if not frames:
        return {}
    items = occurrences(cells[C.H2_DATA])
    try:
        blobs = [bytes.fromhex(item) for item in items]
    except ValueError:
        return dict.fromkeys(frames)
    if len(blobs) == len(frames):
        return dict(zip(frames, blobs, strict=True))
    if len(frames) == 1:
        return {frames[0]: b"".join(blobs)}
    return dict.fromkeys(frames)


class Http2Conn:
    """HTTP/2 streams of one TCP connection (over TLS, or h2c)."""

    __slots__ = ("streams", "tcp_stream")

    def __init__(self, tcp_stream: int) -> None:
        self.tcp_stream = tcp_stream
        self.streams: dict[int, _Stream] = {}

    def _stream(self, sid: int) -> _Stream:
        st = self.streams.get(sid)
        if st is None:
            st = self.streams[sid] = _Stream(sid)
        return st

    def on_row(self, cells: list[str], frame: int, src: Addr, dst: Addr, frames: list[int], diags: Diags) -> None:
        types = ints(cells[C.H2_TYPE])
        sids = ints(cells[C.H2_STREAMID])
        flags = ints(cells[C.H2_FLAGS])
        lengths = ints(cells[C.H2_LENGTH])
        if not len(types) == len(sids) == len(flags) == len(lengths):
            why = f"HTTP/2 frame fields of frame {frame} do not line up"
            diags.add("tshark.http2_frames_unaligned", why, f"frame {frame}")
            return
        blocks = _blocks(cells, types, frame, diags)
        payloads = _data(cells, types, lengths)
        promised = iter(ints(cells[C.H2_PROMISED]))
        touched: list[Message] = []
        for i, ftype in enumerate(types):
            sid = sids[i]
            if sid == 0:
                continue  # connection-level frame (SETTINGS, PING, GOAWAY, WINDOW_UPDATE)
            st = self._stream(sid)
            msg: Message | None = None
            if ftype == HEADERS:
                msg = self._head(st, blocks.get(i), flags[i], frame, src, dst)
            elif ftype == CONTINUATION:
                msg = st.open_block
                block = blocks.get(i)
                if msg is not None and block:
                    msg.headers.extend(block)
                if flags[i] & END_HEADERS:
                    st.open_block = None
            elif ftype == PUSH_PROMISE:
                msg = self._promise(next(promised, None), blocks.get(i), frame, src, dst)
            elif ftype == DATA:
                msg = self._body(st, src, payloads.get(i, b""), frame)
            elif ftype == RST_STREAM:
                st.reset = True
            if msg is not None and frame not in msg.frames:
                msg.frames.append(frame)
            if msg is not None and msg not in touched:
                touched.append(msg)
        for msg in touched:  # earlier segments of what this frame completed
            msg.frames.extend(f for f in frames if f not in msg.frames)
            msg.done_frame = frame

    def _head(self, st: _Stream, block: Block | None, flags: int, frame: int, src: Addr, dst: Addr) -> Message | None:
        status_text = _pseudo(block, ":status") if block else None
        if block and _pseudo(block, ":method") is not None:
            is_request = True
        elif status_text is not None:
            is_request = False
        elif st.client is not None:
            is_request = src == st.client
        else:
            is_request = st.request is None
        open_ = not flags & END_HEADERS
        if is_request:
            st.client = src
            if st.request is not None:  # trailers
                st.open_block = None
                return st.request
            st.request = _message(src, dst, frame, block)
            st.open_block = st.request if open_ else None
            return st.request
        if st.client is None:
            st.client = dst
        try:
            status = int(status_text or "0")
        except ValueError:
            status = 0
        if 100 <= status < 200 and st.response is None:  # interim head: its frame goes with the response
            st.open_block = None
            st.interim_frames.append(frame)
            return None
        if st.response is not None:  # trailers
            st.open_block = None
            return st.response
        st.response = _message(src, dst, frame, block)
        st.response.status = status
        st.open_block = st.response if open_ else None
        return st.response

    def _promise(self, promised: int | None, block: Block | None, frame: int, src: Addr, dst: Addr) -> Message | None:
        """A server push: the promised stream's request head, sent by the server on the client's behalf."""
        if promised is None:
            return None
        pst = self._stream(promised)
        if pst.request is None:
            pst.request = _message(dst, src, frame, block)
            pst.client = dst
        return pst.request

    def _body(self, st: _Stream, src: Addr, payload: bytes | None, frame: int) -> Message | None:
        if st.client is None:
            return None
        msg = st.request if src == st.client else st.response
        if msg is None:
            return None
        if payload is None:
            msg.body.complete = False
        else:
            msg.body.feed_raw(payload)
        return msg

    def finish(self, upgrade: Exchange | None, diags: Diags) -> tuple[list[Exchange], bool]:
        """Exchanges by stream id, and whether stream 1 took the h2c upgrade request."""
        out: list[Exchange] = []
        used_upgrade = False
        for sid in sorted(self.streams):
            st = self.streams[sid]
            request = st.request
            if request is None and sid == 1 and upgrade is not None:
                request, used_upgrade = upgrade.request, True
            if request is None:
                if st.response is not None:
                    diags.add(
                        "http.response_without_request",
                        f"tcp.stream {self.tcp_stream}: HTTP/2 response {st.response.status} on stream {sid} has "
                        "no request head in the capture; it is not reported as a transaction",
                        f"frame {st.response.frames[0]}",
                    )
                continue
            ex = Exchange(self.tcp_stream, request, st.response, http2_stream=sid, stream_reset=st.reset)
            ex.interim_frames = st.interim_frames
            if st.interim_frames:
                ex.notes.append("http.interim_response")
            if not request.method:
                ex.error = "request head not decoded"
            out.append(ex)
        return out, used_upgrade


def _message(src: Addr, dst: Addr, frame: int, block: Block | None) -> Message:
    headers = list(block or [])
    msg = Message(src, dst, [frame], headers, version="HTTP/2", head_frame=frame, done_frame=frame)
    method = _pseudo(headers, ":method")
    if method is not None:
        msg.method = method
        msg.target = _pseudo(headers, ":path") or (_pseudo(headers, ":authority") if method == "CONNECT" else "") or ""
    msg.body = Body(msg.header("content-encoding"))
    return msg
