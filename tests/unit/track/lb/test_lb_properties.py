"""Property tests: no cookie name or value, however hostile, makes a decoder or identify() raise."""

from __future__ import annotations

import base64
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb import DECODERS, CookieClassifier, describe

CLASSIFIER = CookieClassifier(declared={"re:^decl": "routing", "declared_session": "session"})
STATUSES = {"decoded", "opaque", "encrypted", "unknown"}
CONFIDENCES = {"high", "medium", "low"}

NAMES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "NSC_W.TJUFEFGFOEFS.OBTEBR.443",
            "BIGipServerpool",
            "sto-id-20480-x",
            "AlteonP",
            "BNI_persistence",
            "SERVERID",
            "JSESSIONID",
            "ROUTEID",
            "akaalb_x",
            "akacd_x",
            "akavpau_x",
            "route",
            "INGRESSCOOKIE",
            "_TRAEFIK_BACKEND",
            "_633ff",
            "GCLB",
            "srv_id",
            "X-Mapping-abcdefgh",
            "X-Zeus-Backend",
            "AWSALB",
            "AWSALBAPP-0",
            "amlbcookie",
            "lbs",
            "ARRAffinity",
            "PHPSESSID",
            "decl_x",
            "declared_session",
            "session_id",
            "lb",
            "_ga",
        ]
    ),
)
# Values near the real layouts reach deeper into the decoders than arbitrary text does.
# (Built from parts: much faster to generate than st.from_regex.)
B64 = string.ascii_letters + string.digits + "+/"
LAYOUTISH = st.text(alphabet=string.hexdigits + "|~!.:=+/-_ABCDEFGHIJKLMNOPrdvio$", max_size=90)
U32 = st.integers(0, 2**32 - 1)
VALUES = st.one_of(
    st.text(max_size=120),
    LAYOUTISH,
    st.builds(lambda ip, port: f"ffffffff{ip:08x}45525d5f4f58455e445a4a42{port:04x}", U32, st.integers(0, 0xFFFF)),
    st.builds(lambda ip, port: f"{ip}.{port}.0000", st.integers(0, 10**11), st.integers(0, 999999)),
    st.builds(
        lambda head, addr, sep, port: f"{head}{addr:032x}{sep}{port}",
        st.sampled_from(["vi", "rd0o", "rd12o", "rd99999o"]),
        st.integers(0, 2**128 - 1),
        st.sampled_from([".", "o"]),
        st.integers(0, 999999),
    ),
    st.builds(
        lambda label, dates: label + "".join("|" + d for d in dates),
        st.text(alphabet=B64 + "-_.", min_size=1, max_size=8),
        st.lists(st.text(alphabet=B64, min_size=5, max_size=5), max_size=2),
    ),
    st.builds(
        lambda epoch, items: f"{epoch}" + "".join(f"~{k}={v}" for k, v in items),
        st.one_of(st.just(""), st.integers(0, 2**32)),
        st.lists(
            st.tuples(st.sampled_from(["op", "m", "rv", "os", "id", "x"]), st.text(B64 + ":|-_", max_size=20)),
            max_size=6,
        ),
    ),
    st.binary(max_size=48).map(lambda b: base64.b64encode(b).decode()),
    st.binary(max_size=24).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
)


def _valid(info: PersistenceInfo) -> None:
    assert isinstance(info, PersistenceInfo)
    assert info.status in STATUSES
    assert info.confidence in CONFIDENCES
    assert isinstance(info.role, CookieRole) and isinstance(info.change_meaning, ChangeMeaning)
    if info.status == "unknown":
        assert info.backend is None
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.decoded)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, value=VALUES)
def test_identify_never_raises(name: str, value: str) -> None:
    info = CLASSIFIER.identify(name, value)
    if info is not None:
        _valid(info)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, value=VALUES, decoder=st.sampled_from(sorted(DECODERS)))
def test_decoders_never_raise(name: str, value: str, decoder: str) -> None:
    _valid(DECODERS[decoder](name, value))


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_describe_never_raises(text: str) -> None:
    for name, value, info in describe(text, CLASSIFIER):
        assert isinstance(name, str) and isinstance(value, str)
        if info is not None:
            _valid(info)


@settings(max_examples=100, deadline=None)
@given(
    octets=st.tuples(*[st.integers(0, 255)] * 4),
    port=st.integers(0, 65535),
)
def test_f5_and_netscaler_round_trip(octets: tuple[int, int, int, int], port: int) -> None:
    """Encode with the published algorithms, decode with ours: same address back."""
    ip = ".".join(map(str, octets))
    le = octets[0] | octets[1] << 8 | octets[2] << 16 | octets[3] << 24
    swapped = ((port & 0xFF) << 8) | (port >> 8)
    assert DECODERS["f5_bigip"]("BIGipServerp", f"{le}.{swapped}.0000").backend == f"{ip}:{port}"
    be = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
    value = f"ffffffff{be ^ 0x03081E11:08x}45525d5f4f58455e445a4a42{port ^ 0x3630:04x}"
    assert DECODERS["netscaler"]("NSC_x", value).backend == f"{ip}:{port}"
