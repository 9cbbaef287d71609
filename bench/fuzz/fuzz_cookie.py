"""Fuzz the Cookie / Set-Cookie / cookie-date parsers (track/cookieparse).

Byte 0 picks how the rest becomes text: latin-1 (as the pcap engine decodes headers) or UTF-8 with
lone surrogates kept (a HAR string may hold ``\\udc80``). Checked: ``raw`` is kept, names carry no
surrounding blanks, dates are finite, and a header split into HTTP/2 crumbs gives the same pairs.
"""

from __future__ import annotations

import math

from _harness import Target, main


def make_target() -> Target:
    from stickyforensics.model import Headers
    from stickyforensics.track.cookieparse import (
        parse_cookie_header,
        parse_http_date,
        parse_set_cookie,
        request_cookies,
        response_set_cookies,
    )

    def target(data: bytes) -> None:
        mode = data[0] if data else 0
        text = data[1:].decode("latin-1") if mode & 1 else data[1:].decode("utf-8", "surrogateescape")
        sc = parse_set_cookie(text)
        assert sc.raw == text
        assert sc.name == sc.name.strip(" \t")
        pairs = parse_cookie_header(text)
        assert all(p.name == p.name.strip(" \t") for p in pairs)
        when = parse_http_date(text)
        assert when is None or math.isfinite(when)
        crumbs = Headers(tuple(("cookie", part) for part in text.split(";")))
        assert request_cookies(crumbs) == pairs
        response_set_cookies(Headers((("Set-Cookie", text), ("set-cookie", text + "\n" + text))))

    return target


if __name__ == "__main__":
    main(make_target)
