"""Fuzz the native capture reader: bytes as a file -> sniff -> open_capture -> every segment.

Beyond "no undocumented exception", the reader's own bookkeeping must add up once it is exhausted.
"""

from __future__ import annotations

import contextlib

from _harness import Target, main, scratch_file


def make_target() -> Target:
    from stickyforensics.errors import InputError
    from stickyforensics.ingest.pcapread import open_capture
    from stickyforensics.ingest.sniff import sniff

    def target(data: bytes) -> None:
        with scratch_file(data, ".pcap") as path:
            with contextlib.suppress(InputError):
                sniff(path)
            _info, reader = open_capture(path)
            with reader:
                segments = sum(1 for _ in reader)
            assert segments == reader.tcp_segments, (segments, reader.tcp_segments)
            parts = reader.tcp_segments + reader.non_tcp + reader.non_ip + reader.ip_fragments + reader.malformed
            assert reader.frames == parts, (reader.frames, parts)

    return target


if __name__ == "__main__":
    main(make_target)
