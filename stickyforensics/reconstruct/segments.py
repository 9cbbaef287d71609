"""The record the capture readers hand to TCP reassembly: one TCP segment of one frame.

Readers (``stickyforensics.ingest``) decode containers, link layers and IP (with
fragment reassembly) and emit ``TcpSegment``s in frame order. Reassembly
(``stickyforensics.reconstruct.tcp``) never sees file formats.
"""

from __future__ import annotations

from dataclasses import dataclass

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10


@dataclass(slots=True)
class TcpSegment:
    frame: int
    """1-based frame number, as Wireshark counts frames (every record of the file counts)."""
    ts: float
    """Capture time, epoch seconds."""
    src_ip: str
    dst_ip: str
    src_port: int
    dst_port: int
    seq: int
    ack: int
    flags: int
    payload: bytes
    truncated: bool = False
    """True when the frame was cut by the snaplen, so ``payload`` is shorter than the segment."""
    wire_len: int = 0
    """TCP payload length as the IP header states it (>= len(payload) when truncated)."""
    stream: int = -1
    """The ``tcp.stream`` index when a numbering pass gave it (``ingest.partition``), else -1."""
