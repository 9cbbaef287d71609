"""IP fragment reassembly (IPv4 and IPv6), bounded and first-wins.

Theory of operation
-------------------
The reader hands every fragment of a TCP datagram to ``FragmentReassembler.add``
with a key that identifies the datagram (IPv4: source, destination, id and
protocol, RFC 791; IPv6: source, destination and the Fragment header's id,
RFC 8200 §4.5). Once the fragments cover ``[0, total)`` without a hole, where
``total`` comes from the fragment with "more fragments" clear, ``add`` returns
the reassembled upper-layer bytes and forgets the datagram.

Invariants:

* **First wins.** Where fragments overlap, bytes received first are kept, so a
  late conflicting fragment cannot rewrite what an earlier one said (the choice
  of most IDS reassembly policies, and Wireshark's for identical overlaps).
  Overlaps and conflicting overlaps are counted for diagnostics.
* **Bounded.** At most ``max_datagrams`` datagrams and ``max_bytes`` buffered
  bytes are pending, ``max_pieces`` fragments per datagram, and a datagram may
  not exceed 65,535 bytes of payload. Past a bound the oldest datagram is
  dropped and counted. Datagrams older than ``timeout`` seconds of *capture*
  time (never wall-clock time, so results do not depend on the machine) are
  dropped as incomplete.
* **Snaplen-cut fragments.** A fragment whose captured bytes are shorter than
  its declared length still counts towards coverage; the result is then the
  captured prefix only, flagged truncated, with the declared total length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_DATAGRAM = 65535
"""Largest fragmentable payload: IPv4 total length and IPv6 payload length are 16-bit."""


@dataclass(slots=True)
class _Pending:
    first_ts: float
    pieces: list[tuple[int, bytes, int]] = field(default_factory=list)
    """(offset, captured bytes, declared length) in arrival order."""
    total: int | None = None
    size: int = 0


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A whole datagram payload (the bytes after the IP header / Fragment header)."""

    payload: bytes
    truncated: bool
    """True when a fragment was cut by the snaplen: ``payload`` is the captured prefix only."""
    wire_len: int
    """Declared length of the reassembled payload."""


class FragmentReassembler:
    """Collects fragments per datagram key and returns each datagram once complete."""

    def __init__(
        self,
        timeout: float = 60.0,
        max_datagrams: int = 4096,
        max_bytes: int = 64 << 20,
        max_pieces: int = 512,
    ) -> None:
        self.timeout = timeout
        self.max_datagrams = max_datagrams
        self.max_bytes = max_bytes
        self.max_pieces = max_pieces
        self._pending: dict[bytes, _Pending] = {}
        self._bytes = 0
        self.completed = 0
        self.overlaps = 0
        """Fragments that overlapped bytes already held (duplicates included)."""
        self.conflicts = 0
        """Overlaps whose bytes differed from what was held (the first bytes were kept)."""
        self.expired = 0
        """Datagrams dropped incomplete after ``timeout`` seconds of capture time."""
        self.evicted = 0
        """Datagrams dropped incomplete to respect the memory bounds."""
        self.malformed = 0
        """Fragments past 65,535 bytes or past the declared end of their datagram."""

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, key: bytes, ts: float, offset: int, data: bytes, declared: int, more: bool) -> Reassembled | None:
        """Add one fragment; return the datagram when this fragment completes it.

        ``offset`` is the fragment's byte offset, ``data`` its captured bytes and
        ``declared`` its length according to the IP header (>= ``len(data)``).
        """
        self._expire(ts)
        end = offset + declared
        if end > MAX_DATAGRAM or declared < 0:
            self.malformed += 1
            self._drop(key)
            return None
        entry = self._pending.get(key)
        if entry is None:
            entry = _Pending(first_ts=ts)
            self._pending[key] = entry
            self._make_room(key)
        elif len(entry.pieces) >= self.max_pieces:
            self.evicted += 1
            self._drop(key)
            return None
        for p_off, p_data, p_decl in entry.pieces:
            if offset < p_off + p_decl and p_off < end:
                self.overlaps += 1
                lo, hi = max(offset, p_off), min(end, p_off + p_decl)
                mine = data[lo - offset : hi - offset]
                theirs = p_data[lo - p_off : hi - p_off]
                n = min(len(mine), len(theirs))
                if mine[:n] != theirs[:n]:
                    self.conflicts += 1
        entry.pieces.append((offset, data, declared))
        entry.size += len(data)
        self._bytes += len(data)
        if not more:
            if entry.total is None:
                entry.total = end
            elif entry.total != end:
                self.conflicts += 1
        if entry.total is None or not _covers(entry.pieces, entry.total):
            if self._bytes > self.max_bytes:
                self._make_room(key)
            return None
        self._drop(key)
        self.completed += 1
        return _assemble(entry.pieces, entry.total)

    def flush(self) -> int:
        """Forget every pending datagram; return how many were incomplete."""
        n = len(self._pending)
        self._pending.clear()
        self._bytes = 0
        return n

    def _drop(self, key: bytes) -> None:
        entry = self._pending.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def _expire(self, ts: float) -> None:
        # Insertion order is arrival order of each datagram's first fragment.
        while self._pending:
            key, oldest = next(iter(self._pending.items()))
            if ts - oldest.first_ts <= self.timeout:
                return
            self._drop(key)
            self.expired += 1

    def _make_room(self, keep: bytes) -> None:
        while self._pending and (len(self._pending) > self.max_datagrams or self._bytes > self.max_bytes):
            key = next(iter(self._pending))
            if key == keep:
                if len(self._pending) == 1:
                    return
                # Move the current datagram to the end and evict the next oldest.
                self._pending[key] = self._pending.pop(key)
                continue
            self._drop(key)
            self.evicted += 1


def _covers(pieces: list[tuple[int, bytes, int]], total: int) -> bool:
    """True when the declared intervals cover [0, total) with no hole."""
    reach = 0
    for off, _, decl in sorted(pieces, key=lambda p: p[0]):
        if off > reach:
            return False
        reach = max(reach, off + decl)
        if reach >= total:
            return True
    return reach >= total


def _assemble(pieces: list[tuple[int, bytes, int]], total: int) -> Reassembled:
    out = bytearray(total)
    truncated = False
    # Reverse arrival order: earlier fragments are written last and win overlaps.
    for off, data, decl in reversed(pieces):
        chunk = data[: max(0, total - off)]
        out[off : off + len(chunk)] = chunk
        if len(data) < decl:
            truncated = True
    if not truncated:
        return Reassembled(bytes(out), False, total)
    # Keep only the prefix every byte of which was captured.
    reach = 0
    for off, data, _ in sorted(pieces, key=lambda p: p[0]):
        if off > reach:
            break
        reach = max(reach, off + len(data))
    return Reassembled(bytes(out[: min(reach, total)]), True, total)
