"""Which process owns a client when inputs are analysed on several processes (``--jobs``).

Captures are split by client address (``ingest.partition`` routes each TCP connection to the shard
of its client), so a client's traffic is never split and its whole session is judged in one
process. The owner is a stable function of the address (CRC-32, not ``hash``, which is salted per
process). Inputs that are one client group each (HAR files, tshark-engine captures) go whole to
one shard.
"""

from __future__ import annotations

from dataclasses import dataclass
from zlib import crc32


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}")

    def owns_input(self, input_index: int) -> bool:
        """Whether this shard reads a whole input that is not split by client."""
        return input_index % self.count == self.index


def owner_of(client_ip: str, count: int) -> int:
    # surrogatepass: a client named by a header of a HAR file may hold any code point
    return crc32(client_ip.encode("utf-8", "surrogatepass")) % count
