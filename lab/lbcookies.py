"""Persistence-cookie values that look exactly like real load balancers' ones.

HAProxy's ``server ... cookie <label>`` accepts any string as the value it inserts, so the lab can make
HAProxy hand out byte-for-byte NetScaler and BIG-IP cookies that encode the backend's real
127.0.x.y address and port (algorithms: /work/shared/reference/persistence-cookies.md §2.1, §2.2).
It also decodes HAProxy's own ``maxidle``/``maxlife`` dates (§2.17), which the ground truth of the
timeout scenario uses to say which limit fired.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import string

_NSC_IP_KEY = 0x03081E11
_NSC_PORT_KEY = 0x3630
_NSC_MIDDLE = "45525d5f4f58455e445a4a42"
_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"


def _shift(text: str, step: int) -> str:
    out = []
    for ch in text:
        if ch in string.ascii_lowercase:
            out.append(chr((ord(ch) - 97 + step) % 26 + 97))
        elif ch in string.ascii_uppercase:
            out.append(chr((ord(ch) - 65 + step) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


def netscaler_cookie_name(vserver: str) -> str:
    """``NSC_`` + the vserver name with every letter shifted forward by one (a->b, z->a)."""
    return "NSC_" + _shift(vserver, 1)


def netscaler_vserver(cookie_name: str) -> str:
    """Inverse of ``netscaler_cookie_name``."""
    return _shift(cookie_name.removeprefix("NSC_"), -1)


def netscaler_cookie_value(ip: str, port: int) -> str:
    """Classic COOKIEINSERT value: ffffffff + (ip XOR key) + constant + (port XOR key), lowercase hex."""
    ip_int = int(ipaddress.IPv4Address(ip)) ^ _NSC_IP_KEY
    return f"ffffffff{ip_int:08x}{_NSC_MIDDLE}{port ^ _NSC_PORT_KEY:04x}"


def netscaler_decode(value: str) -> tuple[str, int]:
    return str(ipaddress.IPv4Address(int(value[8:16], 16) ^ _NSC_IP_KEY)), int(value[40:44], 16) ^ _NSC_PORT_KEY


def bigip_cookie_name(pool: str) -> str:
    """``BIGipServer`` + pool name, partition slashes written as ``~``."""
    return "BIGipServer" + pool.replace("/", "~")


def bigip_cookie_value(ip: str, port: int) -> str:
    """IPv4 default route domain: <address as a little-endian int>.<port byte-swapped>.0000."""
    ip_le = int.from_bytes(ipaddress.IPv4Address(ip).packed, "little")
    port_swapped = int.from_bytes(port.to_bytes(2, "big"), "little")
    return f"{ip_le}.{port_swapped}.0000"


def bigip_decode(value: str) -> tuple[str, int]:
    ip_s, port_s, _ = value.split(".", 2)
    ip = ipaddress.IPv4Address(int(ip_s).to_bytes(4, "little"))
    port = int.from_bytes(int(port_s).to_bytes(2, "little"), "big")
    return str(ip), port


def opaque_dc_cookie_value() -> str:
    """An F5-encrypted-looking opaque value (``!`` + base64 of random bytes), one per datacenter."""
    return "!" + base64.b64encode(secrets.token_bytes(60)).decode()


def haproxy_dates(value: str) -> tuple[str, float | None, float | None]:
    """``label|last|first`` -> (label, last-seen epoch, first-seen epoch); 4-second resolution."""
    label, *dates = value.split("|")

    def decode(chunk: str) -> float | None:
        if len(chunk) != 5 or any(c not in _B64 for c in chunk):
            return None
        n = 0
        for c in chunk:
            n = (n << 6) | _B64.index(c)
        return float(n << 2)

    last = decode(dates[0]) if dates else None
    first = decode(dates[1]) if len(dates) > 1 else None
    return label, last, first
