"""Fuzz the HTTP/1.x parser and pairing: bytes -> one well-formed TCP connection -> HttpReconstructor.

TCP stays sane (segcodec's conversation records) so the mutations spend themselves on HTTP.
Checked: every transaction has a request method, and responses carry a three-digit status (RFC 9112 §4).
"""

from __future__ import annotations

from _harness import Target, main
from segcodec import decode_conversation


def make_target() -> Target:
    from stickyforensics.reconstruct.pairing import HttpReconstructor

    def target(data: bytes) -> None:
        rec = HttpReconstructor("fuzz.pcap")
        rec.process(decode_conversation(data))
        result = rec.finish()
        for tx in result.transactions:
            assert tx.request.method, tx
            assert tx.response is None or 0 <= tx.response.status <= 999, tx.response  # 3DIGIT

    return target


if __name__ == "__main__":
    main(make_target)
