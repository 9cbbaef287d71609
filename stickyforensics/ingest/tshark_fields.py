"""The tshark command line and the rows it prints: one row per frame, one column per field.

Why ``-T fields`` and not JSON/EK or pyshark: see docs/decisions/0003-tshark-engine.md (measured: EK/JSON
cost 2.7-3.4x the tshark time and print 20-30x more bytes; pyshark is 25-50x slower and keeps one Set-Cookie).

What tshark 4.0 prints, measured byte by byte (the parsing below depends on it):

- columns are separated by TAB, rows end with LF, several occurrences of one field are joined by the
  aggregator (``-E occurrence=a``);
- inside a value tshark escapes exactly five characters, as two-character sequences: backspace ``\\b``,
  TAB ``\\t``, form feed ``\\f``, LF ``\\n`` and CR ``\\r``. Every other control character and the
  backslash itself are printed raw; non-ASCII header bytes arrive as U+FFFD.

So TAB, LF and form feed never appear raw inside a value: TAB splits columns, LF splits rows and form feed
(the aggregator) splits occurrences, whatever bytes a hostile capture carries. A header value holding
``\\x1f`` or ``\\x1e`` (raw in the output) cannot split a header in two.
"""

from __future__ import annotations

from collections.abc import Sequence

AGGREGATOR = "\f"
"""Joins occurrences of one field; tshark escapes a form feed inside values, so this one is ours."""

FIELDS: tuple[str, ...] = (
    "frame.number",
    "frame.time_epoch",
    "tcp.stream",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.segment",
    "tls.segment",
    "tls.record.content_type",
    "tls.record.opaque_type",
    "tls.handshake.type",
    "tls.handshake.extensions_server_name",
    "http.request.method",
    "http.request.uri",
    "http.request.version",
    "http.request.line",
    "http.response.version",
    "http.response.code",
    "http.response.phrase",
    "http.response.line",
    "http.request_in",
    "http.content_length",
    "http.chunk_size",
    "http.file_data",
    "http2.type",
    "http2.streamid",
    "http2.flags",
    "http2.length",
    "http2.header.count",
    "http2.header.name",
    "http2.header.value",
    "http2.data.data",
    "http2.push_promise.promised_stream_id",
)
"""Every field the engine reads, in column order (``C`` names the positions)."""


class C:
    """Column positions in a row (the index of each field in ``FIELDS``)."""

    FRAME = FIELDS.index("frame.number")
    TIME = FIELDS.index("frame.time_epoch")
    STREAM = FIELDS.index("tcp.stream")
    SRCPORT = FIELDS.index("tcp.srcport")
    DSTPORT = FIELDS.index("tcp.dstport")
    TCP_FLAGS = FIELDS.index("tcp.flags")
    """FIN and RST say how a connection ended (the wording of ``no response before ...``)."""
    TCP_LEN = FIELDS.index("tcp.len")
    """Payload bytes: who sent data last tells a response tshark did not dissect from no response."""
    IP_SRC = FIELDS.index("ip.src")
    IP_DST = FIELDS.index("ip.dst")
    IP6_SRC = FIELDS.index("ipv6.src")
    IP6_DST = FIELDS.index("ipv6.dst")
    TCP_SEGMENTS = FIELDS.index("tcp.segment")
    """Earlier frames of the PDU this frame completed."""
    TLS_SEGMENTS = FIELDS.index("tls.segment")
    TLS_CONTENT_TYPE = FIELDS.index("tls.record.content_type")
    TLS_OPAQUE_TYPE = FIELDS.index("tls.record.opaque_type")
    """TLS 1.3 records show their outer type here until decrypted."""
    TLS_HANDSHAKE = FIELDS.index("tls.handshake.type")
    TLS_SNI = FIELDS.index("tls.handshake.extensions_server_name")
    REQ_METHOD = FIELDS.index("http.request.method")
    REQ_URI = FIELDS.index("http.request.uri")
    REQ_VERSION = FIELDS.index("http.request.version")
    REQ_LINE = FIELDS.index("http.request.line")
    """Every request header line, raw casing, in order."""
    RESP_VERSION = FIELDS.index("http.response.version")
    RESP_CODE = FIELDS.index("http.response.code")
    RESP_PHRASE = FIELDS.index("http.response.phrase")
    RESP_LINE = FIELDS.index("http.response.line")
    REQUEST_IN = FIELDS.index("http.request_in")
    """Frame of the request a response answers (``http.response_in`` needs two passes)."""
    CONTENT_LENGTH = FIELDS.index("http.content_length")
    CHUNK_SIZE = FIELDS.index("http.chunk_size")
    """Sizes of a chunked body's chunks: their sum is the de-chunked size."""
    FILE_DATA = FIELDS.index("http.file_data")
    """The body as text, de-chunked and decompressed by tshark."""
    H2_TYPE = FIELDS.index("http2.type")
    H2_STREAMID = FIELDS.index("http2.streamid")
    H2_FLAGS = FIELDS.index("http2.flags")
    H2_LENGTH = FIELDS.index("http2.length")
    H2_HEADER_COUNT = FIELDS.index("http2.header.count")
    H2_HEADER_NAME = FIELDS.index("http2.header.name")
    H2_HEADER_VALUE = FIELDS.index("http2.header.value")
    H2_DATA = FIELDS.index("http2.data.data")
    H2_PROMISED = FIELDS.index("http2.push_promise.promised_stream_id")

    FIRST_TLS = TLS_CONTENT_TYPE
    """Columns from here on are empty on a frame that carries neither TLS nor HTTP (most frames)."""


def tshark_command(tshark: str, path: str, keylog: str | None, tls_ports: Sequence[int] = ()) -> list[str]:
    """The one tshark run per file: every frame (no display filter, so every frame's time is known).

    ``tcp.reassemble_out_of_order`` stays off (tshark's default), measured both ways: on, one segment
    missing from the capture stalls the rest of its connection (zeek gap-recovery.pcap: 9 of 10
    responses lost; zero-length-bodies-with-drops.pcap: 4 of 7 exchanges lost); off, only the messages
    with retransmitted or reordered segments are lost (samples/noise/lossy.pcap: 4 of 9 responses), and
    the engine says so (``tshark.response_not_dissected``).
    """
    cmd = [tshark, "-n", "-r", path]
    if keylog is not None:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    for port in tls_ports:  # ``tshark.tls_server_ports``: TLS there, whatever the client's port
        cmd += ["-d", f"tcp.port=={port},tls"]
    cmd += [
        "-T", "fields",
        "-E", "header=n",
        "-E", "occurrence=a",
        "-E", "separator=/t",
        "-E", f"aggregator={AGGREGATOR}",
        "-E", "quote=n",
    ]  # fmt: skip
    for name in FIELDS:
        cmd += ["-e", name]
    return cmd


def occurrences(cell: str) -> list[str]:
    """Every occurrence of a field, in order; an empty cell is no occurrence."""
    return cell.split(AGGREGATOR) if cell else []


def ints(cell: str) -> list[int]:
    """Occurrences of an integer field; anything unparsable is dropped (tshark prints decimal)."""
    out = []
    for item in occurrences(cell):
        try:
            out.append(int(item, 0) if item.startswith("0x") else int(item))
        except ValueError:
            continue
    return out


_ESCAPES = {"b": "\b", "t": "\t", "f": "\f", "n": "\n", "r": "\r"}


def unescape(text: str) -> str:
    """Undo tshark's five escapes. A literal backslash before b/t/f/n/r is indistinguishable and is read
    as an escape too: this is only used for body text, where it costs nothing that matters."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _strip_ows(value: str) -> str:
    """Strip spaces and escaped tabs (tshark prints a TAB as ``\\t``) at both ends of a header value."""
    while True:
        stripped = value.strip(" ")
        if stripped.startswith("\\t"):
            stripped = stripped[2:]
        if stripped.endswith("\\t"):
            stripped = stripped[:-2]
        if stripped == value:
            return value
        value = stripped


def header_line(line: str) -> tuple[str, str] | None:
    """``Name: value\\r\\n`` as tshark prints ``http.request.line`` -> (raw name, value); None if no colon.

    The value keeps everything tshark printed between the colon and the line end (minus optional
    whitespace): headers are evidence and are not rewritten.
    """
    if line.endswith("\\r\\n"):
        line = line[:-4]
    elif line.endswith("\\n"):
        line = line[:-2]
    name, colon, value = line.partition(":")
    if not colon or not name.strip():
        return None
    return name.rstrip(" "), _strip_ows(value)
