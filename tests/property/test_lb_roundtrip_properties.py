"""Hypothesis properties of the load-balancer cookie decoders: encode with the vendor's layout, decode with
ours, get the same backend back; and no text a HAR can carry (lone surrogates, control characters, very
long values) makes a decoder or the classifier raise.

``tests/unit/track/lb/test_lb_properties.py`` covers IPv4 BIG-IP and NetScaler round trips and ordinary text.
"""

from __future__ import annotations

import base64
import ipaddress
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.model import PersistenceInfo
from stickyforensics.track.lb import DECODERS, CookieClassifier, describe

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLASSIFIER = CookieClassifier()

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(ipaddress.IPv6Address)
ports = st.integers(0, 65535)
epochs = st.integers(946_684_800, 4_102_444_800)  # what the decoders accept as an LB date (2000..2100)
labels = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True)
_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"


def _swap16(port: int) -> int:
    return ((port & 0xFF) << 8) | (port >> 8)


def _hostport(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _haproxy_date(epoch: int) -> str:
    """HAProxy's 5-character date: seconds / 4 in 30 bits, base64 digits, most significant first."""
    value = epoch >> 2
    return "".join(_B64[(value >> shift) & 63] for shift in (24, 18, 12, 6, 0))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


@SETTINGS
@given(addr=ipv6, port=ports, domain=st.integers(0, 65535))
def test_bigip_ipv6_and_route_domain_round_trip(addr: ipaddress.IPv6Address, port: int, domain: int) -> None:
    info = DECODERS["f5_bigip"]("BIGipServerpool", f"vi{addr.packed.hex()}.{_swap16(port)}")
    assert info.backend == _hostport(str(addr), port)
    info = DECODERS["f5_bigip"]("BIGipServerpool", f"rd{domain}o{addr.packed.hex()}o{port}")
    shown = str(addr.ipv4_mapped) if addr.ipv4_mapped is not None else str(addr)
    assert info.backend == _hostport(shown, port) and ("route_domain", str(domain)) in info.decoded


@SETTINGS
@given(ip=ipv4, port=ports, vport=ports)
def test_a10_round_trip(ip: str, port: int, vport: int) -> None:
    raw = bytes(reversed(ipaddress.IPv4Address(ip).packed)) + port.to_bytes(2, "little")
    value = "".join("ABCDEFGHIJKLMNOP"[b >> 4] + "ABCDEFGHIJKLMNOP"[b & 15] for b in raw)
    info = DECODERS["a10"](f"sto-id-{_swap16(vport)}-pool", value)
    assert info.backend == f"{ip}:{port}"
    assert ("vport", str(vport)) in info.decoded and ("service_group", "pool") in info.decoded


@SETTINGS
@given(ip=ipv4, port=ports, upper=st.booleans())
def test_barracuda_legacy_round_trip(ip: str, port: int, upper: bool) -> None:
    value = (
        "0" * 24 + bytes(reversed(ipaddress.IPv4Address(ip).packed)).hex() + "0000" + port.to_bytes(2, "little").hex()
    )
    assert DECODERS["barracuda"]("BNI_persistence", value.upper() if upper else value).backend == f"{ip}:{port}"


@SETTINGS
@given(ip=ipv4, rest=st.binary(min_size=12, max_size=12), padding=st.sampled_from(["$$", "==", ""]))
def test_radware_round_trip(ip: str, rest: bytes, padding: str) -> None:
    raw = rest[:4] + bytes(reversed(ipaddress.IPv4Address(ip).packed)) + rest[4:]
    value = base64.b64encode(raw).decode()[:22] + padding
    assert DECODERS["radware_alteon"]("AlteonP", value).backend == ip


@SETTINGS
@given(ip=st.one_of(ipv4, ipv6.map(str)), port=ports, expires=st.none() | st.integers(0, 2**63), legacy=st.booleans())
def test_envoy_round_trip(ip: str, port: int, expires: int | None, legacy: bool) -> None:
    address = _hostport(ip, port).encode()
    if legacy:
        raw = address
    else:
        raw = b"\x0a" + _varint(len(address)) + address + (b"\x10" + _varint(expires) if expires is not None else b"")
    info = DECODERS["envoy"]("session-route", base64.b64encode(raw).decode())
    assert info.backend == _hostport(ip, port)
    if not legacy and expires is not None:
        assert ("expires_monotonic_s", str(expires)) in info.decoded


@SETTINGS
@given(label=labels, last=epochs, first=st.none() | epochs)
def test_haproxy_dated_round_trip(label: str, last: int, first: int | None) -> None:
    value = f"{label}|{_haproxy_date(last)}" + (f"|{_haproxy_date(first)}" if first is not None else "")
    info = DECODERS["haproxy"]("SERVERID", value)
    assert info.backend == label
    assert ("last_seen_epoch", str(last - last % 4)) in info.decoded
    if first is not None:
        assert ("first_seen_epoch", str(first - first % 4)) in info.decoded


@SETTINGS
@given(sid=labels, last=epochs, first=epochs)
def test_tengine_round_trip(sid: str, last: int, first: int) -> None:
    info = DECODERS["tengine"]("route", f"{sid}|{last}|{first}")
    assert info.backend == sid
    assert ("last_seen_epoch", str(last)) in info.decoded and ("first_seen_epoch", str(first)) in info.decoded


# -- never raise on what a HAR can carry ---------------------------------------------------------------

hostile_text = st.one_of(
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udc80", "\x00", "\n"])), max_size=80),
    st.builds(  # longer than any LB writes (the classifier's 8192 cut-off), made cheaply by repetition
        lambda piece, n: piece * n,
        st.text(alphabet="0123456789abcdefABCDEF|~!.:=+/-_$\udc80\x00\n", min_size=1, max_size=9),
        st.integers(1000, 9000),
    ),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),
)


def _well_formed(info: PersistenceInfo) -> None:
    assert info.status in {"decoded", "opaque", "encrypted", "unknown"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.decoded)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile_text, value=hostile_text, decoder=st.sampled_from(sorted(DECODERS)))
def test_decoders_and_classifier_never_raise_on_hostile_text(name: str, value: str, decoder: str) -> None:
    _well_formed(DECODERS[decoder](name, value))
    for cookie in ("SERVERID", "BIGipServerp", "NSC_x", name):
        info = CLASSIFIER.identify(cookie, value)
        if info is not None:
            _well_formed(info)
    for _, _, found in describe(f"Set-Cookie: {name}={value}; Path=/", CLASSIFIER):
        if found is not None:
            _well_formed(found)
