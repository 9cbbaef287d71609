"""Lenient readers for HAR scalar fields, as real producers write them.

HAR 1.2 says numbers are numbers and dates are ISO 8601, but exports carry
``"time": "12.5"``, ``"status": "200"``, seven-digit fractions from Fiddler,
``-0700`` offsets without a colon, dates without a zone, and epoch numbers.
Every helper here returns None for what it cannot read; callers decide whether
that makes the entry invalid or only earns a diagnostic.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import Any


def as_int(value: Any) -> int | None:
    """An integer from a JSON number or numeric string (``"200"``, ``200.0``)."""
    if type(value) is int:  # the usual case first (a bool is not of type int)
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        finite = as_float(value)
        return int(finite) if finite is not None else None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            return None  # no HAR number is that long; int() of 4300+ digits raises
        try:
            return int(text)
        except ValueError:
            parsed = as_float(text)
            return int(parsed) if parsed is not None else None
    return None


def as_float(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string."""
    if type(value) is float:  # the usual cases first (HAR timings are floats and -1 / 0)
        return value if math.isfinite(value) else None
    if type(value) is int:
        try:
            return float(value)  # finite, or OverflowError
        except OverflowError:
            return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_text(value: Any) -> str | None:
    """A string field, with numbers turned into text (``"connection": 443``); None otherwise."""
    if type(value) is str or isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value) if abs(value) < 10**40 else None
    if isinstance(value, float | Decimal):
        number = float(value)
        if not math.isfinite(number):
            return None
        return str(int(number)) if number.is_integer() else str(value)
    return None


def parse_time(value: Any) -> tuple[float | None, bool]:
    """Epoch seconds from an ISO-8601 date (or epoch number), and whether it had a zone.

    Naive dates are taken as UTC (never the analyst's local zone), and the caller
    is told so it can say the times may be shifted.
    """
    if type(value) is str:  # the usual case first
        return _parse_text_time(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = as_float(value)
        if number is None or number <= 0:
            return None, True
        # Milli- or microseconds since the epoch are 1000x larger than any plausible seconds value.
        while number > 1e11:
            number /= 1000.0
        return number, True
    if not isinstance(value, str):
        return None, True
    return _parse_text_time(value)


def _parse_text_time(value: str) -> tuple[float | None, bool]:
    text = value.strip()
    if not text:
        return None, True
    if text.endswith("z"):
        text = text[:-1] + "Z"
    try:
        # Python 3.11 reads Z, +hh:mm, +hhmm, any fraction length and a space separator.
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, True
    zoned = moment.tzinfo is not None
    try:
        return (moment if zoned else moment.replace(tzinfo=UTC)).timestamp(), zoned
    except (OverflowError, OSError, ValueError):
        return None, True


def http_date(epoch: float) -> str | None:
    """RFC 7231 IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``) for a rebuilt ``Expires``."""
    try:
        moment = datetime.fromtimestamp(epoch, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    # email.utils spells day and month names in English whatever the locale.
    return format_datetime(moment, usegmt=True)


_VERSIONS = {
    "HTTP/0.9": "HTTP/0.9",
    "0.9": "HTTP/0.9",
    "HTTP/1.0": "HTTP/1.0",
    "1.0": "HTTP/1.0",
    "HTTP/1.1": "HTTP/1.1",
    "1.1": "HTTP/1.1",
    "HTTP/2": "HTTP/2",
    "HTTP/2.0": "HTTP/2",
    "H2": "HTTP/2",
    "H2C": "HTTP/2",
    "2": "HTTP/2",
    "2.0": "HTTP/2",
    "HTTP/3": "HTTP/3",
    "HTTP/3.0": "HTTP/3",
    "H3": "HTTP/3",
    "3": "HTTP/3",
    "QUIC": "HTTP/3",
}


def http_version(value: Any, *, has_pseudo_headers: bool) -> tuple[str, bool]:
    """A normalized ``HTTP/x`` version and whether the producer's value was understood.

    HTTP Toolkit and WebPageTest write garbage (``ori``), Firefox writes ``""``
    for some entries; those fall back to what the headers show (pseudo-headers
    mean HTTP/2 or later), else HTTP/1.1.
    """
    if type(value) is str:
        known = _KNOWN_VERSIONS.get(value)
        if known is not None:
            return known
    fallback = "HTTP/2" if has_pseudo_headers else "HTTP/1.1"
    if not isinstance(value, str):
        return fallback, False
    key = value.strip().upper()
    if key in _VERSIONS:
        return _known_version(value, _VERSIONS[key])
    if key.startswith(("H3-", "H3Q", "HTTP/3")):
        return _known_version(value, "HTTP/3")
    if key.startswith("SPDY"):
        return _known_version(value, "HTTP/2")
    return fallback, False


_KNOWN_VERSIONS: dict[str, tuple[str, bool]] = {}
"""Raw ``httpVersion`` text that was understood -> its result (the headers do not matter then)."""
_KNOWN_VERSIONS_LIMIT = 1024


def _known_version(value: str, version: str) -> tuple[str, bool]:
    result = (version, True)
    if len(_KNOWN_VERSIONS) < _KNOWN_VERSIONS_LIMIT:
        _KNOWN_VERSIONS[value] = result
    return result


def encodable(text: str) -> str:
    """``text`` with lone surrogates (JSON ``"\\ud800"``) replaced by U+FFFD.

    JSON may escape half a surrogate pair; such a str cannot be encoded to UTF-8,
    which would crash a report writer much later, far from the cause.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
