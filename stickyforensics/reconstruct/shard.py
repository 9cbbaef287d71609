"""Which client a process owns when a capture is analysed on several processes (``--jobs``).

A capture is split by client address: every process reads the whole file, numbers every TCP
connection (so ``tcp.stream`` and frame numbers stay Wireshark's), and reassembles only the
connections of the clients it owns. A client's traffic is never split, so its whole session is
judged in one process. The owner is a stable function of the address (CRC-32, not ``hash``,
which is salted per process).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zlib import crc32


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    count: int
    _owned: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}")

    def owns(self, client_ip: str) -> bool:
        known = self._owned.get(client_ip)
        if known is None:
            known = self._owned[client_ip] = owner_of(client_ip, self.count) == self.index
        return known

    def owns_input(self, input_index: int) -> bool:
        """Inputs that are one client each (HAR files) go whole to one process."""
        return input_index % self.count == self.index


def owner_of(client_ip: str, count: int) -> int:
    return crc32(client_ip.encode()) % count
