"""One request/response exchange, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from stickyforensics.model.http import Request, Response


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a connection."""

    ip: str
    port: int

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where evidence came from, so an engineer can jump to it."""

    source: str
    """The input file's path as the user gave it."""
    kind: str
    """``pcap``, ``pcapng`` or ``har``."""
    request_frames: tuple[int, ...] = ()
    """1-based frame numbers (as Wireshark counts them) carrying the request."""
    response_frames: tuple[int, ...] = ()
    """1-based frame numbers carrying the response."""
    tcp_stream: int | None = None
    """The ``tcp.stream`` index Wireshark would give the connection."""
    har_entry: int | None = None
    """0-based index in ``log.entries`` for HAR input."""
    http2_stream: int | None = None
    """HTTP/2 stream id, for the tshark engine."""

    @property
    def first_frame(self) -> int | None:
        frames = self.request_frames or self.response_frames
        return frames[0] if frames else None

    @property
    def wireshark_filter(self) -> str | None:
        """A ready display filter for this exchange, or None for HAR input."""
        if self.tcp_stream is None:
            if self.request_frames:
                frames = sorted(set(self.request_frames + self.response_frames))
                return "frame.number in {" + " ".join(str(f) for f in frames) + "}"
            return None
        if self.http2_stream is not None:
            return f"tcp.stream eq {self.tcp_stream} && http2.streamid eq {self.http2_stream}"
        return f"tcp.stream eq {self.tcp_stream} && http"

    def locator(self) -> str:
        """Short human locator: ``frame 12`` / ``frames 12-15`` / ``entry 3``."""
        if self.har_entry is not None:
            return f"entry {self.har_entry}"
        frames = self.request_frames + self.response_frames
        if not frames:
            return "?"
        lo, hi = min(frames), max(frames)
        return f"frame {lo}" if lo == hi else f"frames {lo}-{hi}"


@dataclass(frozen=True, slots=True)
class Timing:
    """Capture-time facts only (epoch seconds from the capture or HAR)."""

    started: float
    """Time of the first request byte (or HAR ``startedDateTime``)."""
    request_done: float | None = None
    response_started: float | None = None
    finished: float | None = None


HEADERS_UNATTRIBUTED = "tshark.headers_unattributed"
"""Note on a request whose headers the engine could not attribute (tshark, pipelined requests in one packet)."""
REQUEST_HEAD_CUT = "http.request_head_cut"
"""Note on a request whose header block was cut (a short snaplen, a capture gap): the headers after the cut,
the Cookie header often among them, are unknown."""
RESPONSE_HEAD_CUT = "http.response_head_cut"
"""Note on a response whose header block was cut: ``Set-Cookie`` lines after the cut are unknown."""
COOKIES_UNKNOWN = frozenset({HEADERS_UNATTRIBUTED, REQUEST_HEAD_CUT})
"""Notes that make a request say nothing about which cookies it carried: only its response is judged."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """One request and (if seen) its response."""

    id: str
    """Deterministic id from capture order: ``<input#>.<stream>.<depth>`` or ``<input#>.e<entry>``."""
    input: str
    """Input path as given by the user."""
    request: Request
    response: Response | None
    timing: Timing
    provenance: Provenance
    client: Endpoint | None = None
    """Client side of the connection (pcap); None for HAR."""
    server: Endpoint | None = None
    """Server side of the connection (pcap), or HAR ``serverIPAddress`` with port 0/443/80."""
    client_label: str | None = None
    """Who the client is when the input says so (the HAR file name; a pcap leaves it None)."""
    connection: str | None = None
    """Connection identity (``tcp.stream`` index for pcap, HAR ``connection`` field)."""
    depth: int = 0
    """Position of this exchange on its connection (0-based), for pipelining."""
    error: str | None = None
    """Set when the exchange was only partly reconstructed (gap, no response, malformed)."""
    notes: tuple[str, ...] = field(default=())
    """Diagnostic codes that apply to this exchange."""
