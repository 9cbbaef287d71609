"""Fuzz every load-balancer cookie decoder, the classifier and ``describe`` (track/lb).

Input: byte 0 picks a decoder; the rest is ``name`` NUL ``value`` (UTF-8, lone surrogates kept).
Each decoder is called directly (the classifier's error boundary would hide its bugs), then the
classifier and the ``decode`` command's text splitter. Results must be well-formed PersistenceInfo.
"""

from __future__ import annotations

from _harness import Target, main

STATUSES = {"decoded", "opaque", "encrypted", "unknown"}


def make_target() -> Target:
    from stickyforensics.model import PersistenceInfo
    from stickyforensics.track.lb import DECODERS, CookieClassifier, describe

    names = sorted(DECODERS)
    classifier = CookieClassifier(declared={"re:^decl": "routing", "declared_session": "session"})

    def check(info: PersistenceInfo) -> None:
        assert isinstance(info, PersistenceInfo), info
        assert info.status in STATUSES, info
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.decoded), info

    def target(data: bytes) -> None:
        pick = data[0] if data else 0
        text = data[1:].decode("utf-8", "surrogateescape")
        name, _, value = text.partition("\x00")
        check(DECODERS[names[pick % len(names)]](name, value))
        info = classifier.identify(name, value)
        if info is not None:
            check(info)
        for _name, _value, found in describe(text.replace("\x00", "="), classifier):
            if found is not None:
                check(found)

    return target


if __name__ == "__main__":
    main(make_target)
