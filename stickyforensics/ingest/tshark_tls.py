"""Which TLS connections of a capture carried data the engine could not read, and the diagnostic saying so.

A connection counts as "TLS not decrypted" when it carried TLS application data (record type 23, or
the TLS 1.3 outer ``opaque_type`` 23) and no HTTP/1 or HTTP/2 message was read from it. tshark gives no
direct "decrypted" flag: ``tls.app_data_proto`` names the protocol it *would* hand the data to (from
the port) even without keys, so only what was dissected counts. A handshake that never reached
application data is not counted: there was nothing to decrypt.

The message names the servers (``ip:port`` and SNI, up to five) so the user knows which key log is needed,
and says why nothing could be read: no key log given, or a key log that did not match.
"""

from __future__ import annotations

from dataclasses import dataclass

from stickyforensics.ingest.tshark_message import Addr
from stickyforensics.model import DiagLevel, Diagnostic

SERVERS_SHOWN = 5


@dataclass(slots=True)
class TlsState:
    """TLS facts about one TCP connection."""

    seen: bool = False
    server: Addr | None = None
    """The ClientHello's destination, else the ServerHello's sender."""
    sni: str | None = None
    app_data: bool = False

    def observe(self, src: Addr, dst: Addr, content_types: list[str], handshakes: list[int], sni: list[str]) -> None:
        self.seen = True
        if "23" in content_types:
            self.app_data = True
        if 1 in handshakes:
            self.server = dst
            if sni and self.sni is None:
                self.sni = sni[0]
        elif 2 in handshakes and self.server is None:
            self.server = src


def _addr(addr: Addr) -> str:
    ip, port = addr
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def not_decrypted_diagnostic(
    source: str,
    keylog: str | None,
    undecrypted: list[tuple[int, TlsState, Addr]],
    level: DiagLevel = DiagLevel.WARNING,
) -> Diagnostic | None:
    """One ``tls.not_decrypted`` diagnostic for every TLS connection left unread, or None if there is none.

    ``undecrypted`` holds (tcp.stream, its TLS state, the server address seen at the TCP level) in
    stream order; the TCP-level address is the fallback when no hello was captured. ``level`` is a
    warning when cookie data is missing because of it, info when other HTTP was read and these
    connections went to other servers (the native engine's choice for unrelated TLS).
    """
    if not undecrypted:
        return None
    servers: dict[tuple[str, str], int] = {}
    for _stream, tls, fallback in undecrypted:
        key = (_addr(tls.server or fallback), f"SNI {tls.sni}" if tls.sni else "no SNI")
        servers[key] = servers.get(key, 0) + 1
    shown = [
        f"{addr} ({sni}, {count} connections)" if count > 1 else f"{addr} ({sni})"
        for (addr, sni), count in list(servers.items())[:SERVERS_SHOWN]
    ]
    more = len(servers) - SERVERS_SHOWN
    if more > 0:
        shown.append(f"and {more} more server{'s' if more > 1 else ''}")
    n = len(undecrypted)
    head = f"{n} TLS connection{'s' if n > 1 else ''} not decrypted, to {', '.join(shown)}: no HTTP could be read"
    if keylog is None:
        why = "pass --tls-keylog FILE (SSLKEYLOGFILE format)"
    else:
        why = f"the key log did not decrypt these connections ({keylog})"
    streams = [str(stream) for stream, _tls, _addr_ in undecrypted[:10]]
    position = "tcp.stream " + ", ".join(streams) + (", ..." if n > 10 else "")
    return Diagnostic(
        code="tls.not_decrypted",
        message=f"{head}; {why}",
        source=source,
        position=position,
        level=level,
        count=n,
    )
