"""Fuzz the HAR reader: bytes as a file -> read_har (streamed JSON, entries, cookies, diagnostics)."""

from __future__ import annotations

from _harness import Target, main, scratch_file


def make_target() -> Target:
    from stickyforensics.ingest.har import read_har

    def target(data: bytes) -> None:
        with scratch_file(data, ".har") as path:
            result = read_har(path)
        assert result.format == "har"
        assert all(tx.request.method for tx in result.transactions)

    return target


if __name__ == "__main__":
    main(make_target)
