"""``Cookie`` / ``Set-Cookie`` parsing the way browsers do it (RFC 6265 §5.2, rfc6265bis §5.6).

Theory of operation
-------------------
Servers and load balancers write ``Set-Cookie`` loosely (NetScaler's
``;path=/;secure;httponly`` with no spaces, upper-case ``PATH=/;MAX-AGE=``
from AWS Classic ELB, two-digit years...). A forensic tool must read them as
the client did, not as the grammar of RFC 6265 §4 wishes, so this module
follows the *user-agent* algorithms:

* the name/value pair ends at the first ``;`` and splits on its first ``=``; a
  pair without ``=`` is a nameless cookie whose value is the whole pair
  (rfc6265bis §5.6 step 3, what Chrome and Firefox do);
* attributes are ``;``-separated, names case-insensitive, the last valid one of
  each kind wins (RFC 6265 §5.3 "the last attribute in the cookie-attribute-list");
* an attribute that does not parse (``Expires`` that is no date, ``Max-Age``
  that is no integer, ``Path`` not starting with ``/``) is ignored, exactly as
  a browser ignores it, and the oddity is recorded in ``SetCookie.problems``.

Nothing here decides whether a cookie is *stored*: that is the jar's job
(``stickyforensics.track.jar``). Nothing here raises: every input string gives
a result. The functions run on every message of large captures, so they use
``str.split`` / ``str.partition`` and at most one regex search per header.
"""

from __future__ import annotations

import calendar
import datetime
import re
from functools import lru_cache

from stickyforensics.model import CookiePair, Headers, SetCookie
from stickyforensics.model.frozen_build import builder
from stickyforensics.track.header_names import HeaderNameIs
from stickyforensics.track.memo import Memo

ATTRIBUTE_VALUE_LIMIT = 1024
"""rfc6265bis §5.6: "If the attribute-value is longer than 1024 octets, ignore the cookie-av"."""

NAME_VALUE_LIMIT = 4096
"""rfc6265bis §5.6: a name plus value longer than 4096 octets makes the UA ignore the cookie."""

_WSP = " \t"
# rfc6265bis §5.6: CTL characters other than HTAB make the UA ignore the whole cookie.
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

# RFC 6265 §5.1.1: delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
_DATE_DELIMITERS = str.maketrans(
    dict.fromkeys([0x09, *range(0x20, 0x30), *range(0x3B, 0x41), *range(0x5B, 0x61), *range(0x7B, 0x7F)], " ")
)


def octets(text: str) -> int:
    """Length in UTF-8 octets, the unit of the RFC limits (cheap for the usual ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- dates


# "Www, DD Mmm YYYY HH:MM:SS GMT" (RFC 1123) and "Www, DD-Mmm-YYYY HH:MM:SS GMT" (Netscape, NetScaler).
_COMMON_DATE = re.compile(
    r"[A-Za-z]{3,9}, ([0-9]{2})[ -]([A-Za-z]{3})[ -]([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)


def _digits(token: str, start: int, lo: int, hi: int) -> tuple[int, int] | None:
    """``lo*hi DIGIT`` at ``start`` (greedy): (value, end index), or None."""
    end = start
    limit = min(len(token), start + hi)
    while end < limit and "0" <= token[end] <= "9":
        end += 1
    if end - start < lo:
        return None
    return int(token[start:end]), end


def _ends_ok(token: str, end: int) -> bool:
    """RFC 6265 §5.1.1 productions end with ``[ non-digit *OCTET ]``: nothing, or a non-digit."""
    return end == len(token) or not ("0" <= token[end] <= "9")


def _time_token(token: str) -> tuple[int, int, int] | None:
    """``time = hms-time [ non-digit *OCTET ]``, ``hms-time = time-field ":" time-field ":" time-field``."""
    fields: list[int] = []
    pos = 0
    for i in range(3):
        got = _digits(token, pos, 1, 2)
        if got is None:
            return None
        fields.append(got[0])
        pos = got[1]
        if i < 2:
            if pos >= len(token) or token[pos] != ":":
                return None
            pos += 1
    if not _ends_ok(token, pos):
        return None
    return fields[0], fields[1], fields[2]


def _number_token(token: str, lo: int, hi: int) -> int | None:
    got = _digits(token, 0, lo, hi)
    if got is None or not _ends_ok(token, got[1]):
        return None
    return got[0]


@lru_cache(maxsize=4096)
def parse_http_date(text: str) -> float | None:
    """Epoch seconds for a cookie date (RFC 6265 §5.1.1), or None when it is no date.

    The algorithm is deliberately loose: it picks the first time, day, month
    and year tokens in any order, so it reads RFC 1123 (``Wed, 21 Oct 2015
    07:28:00 GMT``), RFC 850 (``Sat, 21-May-16 15:39:03 GMT``), asctime and the
    many broken variants found in the wild. It also serves for the ``Date``
    header. The zone is always taken as UTC, as browsers do.
    """
    if not text or len(text) > ATTRIBUTE_VALUE_LIMIT:
        return None
    fast = _COMMON_DATE.fullmatch(text)
    if fast is not None:
        # The shapes nearly every server writes; the same result as the token loop below, faster.
        fast_month = _MONTHS.get(fast[2].lower())
        if fast_month is not None:
            return _date_value(int(fast[3]), fast_month, int(fast[1]), (int(fast[4]), int(fast[5]), int(fast[6])))
    time_: tuple[int, int, int] | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for token in text.translate(_DATE_DELIMITERS).split(" "):
        if not token:
            continue
        if time_ is None:
            time_ = _time_token(token)
            if time_ is not None:
                continue
        if day is None:
            day = _number_token(token, 1, 2)
            if day is not None:
                continue
        if month is None:
            month = _MONTHS.get(token[:3].lower())
            if month is not None:
                continue
        if year is None:
            year = _number_token(token, 2, 4)
    if time_ is None or day is None or month is None or year is None:
        return None
    return _date_value(year, month, day, time_)


def _date_value(year: int, month: int, day: int, time_: tuple[int, int, int]) -> float | None:
    """RFC 6265 §5.1.1 steps 3-7: two-digit years, range checks, then the UTC epoch."""
    # "If the year-value is greater than or equal to 70 and less than or equal to 99,
    #  increment the year-value by 1900. [...] 0 and [...] 69, increment [...] by 2000."
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time_
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    first, days = _month(year, month)
    if day > days:
        return None
    # ``calendar.timegm``'s arithmetic, with the month's part remembered
    return float((((first + day - 1) * 24 + hour) * 60 + minute) * 60 + second)


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1024)
def _month(year: int, month: int) -> tuple[int, int]:
    """(days from the epoch to the month's first day, days in the month): a capture's dates fall in a few."""
    return datetime.date(year, month, 1).toordinal() - _EPOCH_ORDINAL, calendar.monthrange(year, month)[1]


# --------------------------------------------------------------------------- Set-Cookie


def _add(problems: list[str], code: str) -> None:
    if code not in problems:
        problems.append(code)


_Attributes = tuple[
    tuple[tuple[str, str | None], ...],
    str | None,
    str | None,
    float | None,
    int | None,
    bool,
    bool,
    str | None,
    bool,
    tuple[str, ...],
]
"""What the attributes after a Set-Cookie's first ``;`` say: attributes, domain, path, expires, max_age,
secure, httponly, samesite, partitioned and their problems (``SetCookie``'s fields in its order)."""

_NO_ATTRIBUTES: _Attributes = ((), None, None, None, None, False, False, None, False, ())

_ATTRIBUTES: Memo[str, _Attributes] = Memo(2048)
"""``_parse_attributes`` per attribute text: a server sends the same attributes with every value of a
cookie (a rotating token), so the value changes far more often than what follows it."""

_new_set_cookie = builder(SetCookie)
"""``SetCookie`` from every field, positionally (about half the cost of its ``__init__``)."""


@lru_cache(maxsize=2048)
def parse_set_cookie(value: str) -> SetCookie:
    """One ``Set-Cookie`` header value, read as a browser reads it. Never raises.

    Cached per value (the result is immutable): load balancers repeat the same line to many responses.
    """
    problems: list[str] = []
    pair, semi, rest = value.partition(";")
    name, eq, cvalue = pair.partition("=")
    if eq:
        name = name.strip(_WSP)
        cvalue = cvalue.strip(_WSP)
    else:
        # rfc6265bis §5.6 step 3: no "=" -> empty name, the whole pair is the value.
        name, cvalue = "", name.strip(_WSP)
    if not name:
        _add(problems, "empty_name" if cvalue else "empty_cookie")
    if octets(name) + octets(cvalue) > NAME_VALUE_LIMIT:
        _add(problems, "too_large")
    # the name and value lie within the pair: without a CTL there, there is none in them
    if _CTL.search(pair) is not None and (_CTL.search(name) or _CTL.search(cvalue)):
        _add(problems, "control_characters")
    if semi:
        attrs = _ATTRIBUTES.get(rest)
        if attrs is None:
            attrs = _ATTRIBUTES.remember(rest, _parse_attributes(rest))
    else:
        attrs = _NO_ATTRIBUTES
    attributes, domain, path, expires, max_age, secure, httponly, samesite, partitioned, attr_problems = attrs
    # the pair's problem codes and the attributes' are distinct: joining them repeats none
    all_problems = (*problems, *attr_problems) if problems else attr_problems
    return _new_set_cookie(
        name, cvalue, value, attributes, domain, path, expires, max_age, secure, httponly, samesite, partitioned,
        all_problems,
    )  # fmt: skip


def _parse_attributes(rest: str) -> _Attributes:
    """The attributes of a Set-Cookie value after its first ``;`` (RFC 6265 §5.2 steps 2-3)."""
    problems: list[str] = []
    has_ctl = _CTL.search(rest) is not None
    attributes: list[tuple[str, str | None]] = []
    domain: str | None = None
    path: str | None = None
    expires: float | None = None
    max_age: int | None = None
    secure = httponly = partitioned = False
    samesite: str | None = None
    for item in rest.split(";"):
        aname, aeq, avalue = item.partition("=")
        aname = aname.strip(_WSP)
        if not aname and not aeq:
            continue  # ";;" or a trailing ";"
        avalue = avalue.strip(_WSP)
        attributes.append((aname, avalue if aeq else None))
        if has_ctl and _CTL.search(item):
            _add(problems, "attribute_control_characters")
        if len(avalue) > ATTRIBUTE_VALUE_LIMIT // 4 and octets(avalue) > ATTRIBUTE_VALUE_LIMIT:
            _add(problems, "attribute_too_long")
            continue
        key = aname.lower()
        if key == "expires":
            when = parse_http_date(avalue)
            if when is None:
                _add(problems, "bad_expires")
            else:
                expires = when
        elif key == "max-age":
            # RFC 6265 §5.2.2: first char DIGIT or "-", the rest DIGITs, else ignore.
            body = avalue[1:] if avalue[:1] == "-" else avalue
            if body and body.isascii() and body.isdigit():
                max_age = int(avalue)
            else:
                _add(problems, "bad_max_age")
        elif key == "domain":
            # RFC 6265 §5.2.3: empty -> ignore the attribute; drop one leading "."; lower-case.
            dom = avalue[1:] if avalue.startswith(".") else avalue
            if dom:
                domain = dom.lower()
            else:
                _add(problems, "empty_domain")
        elif key == "path":
            # RFC 6265 §5.2.4: empty or not starting with "/" -> the default-path applies.
            if avalue.startswith("/"):
                path = avalue
            else:
                path = None
                _add(problems, "bad_path")
        elif key == "secure":
            secure = True
        elif key == "httponly":
            httponly = True
        elif key == "samesite":
            canonical = _SAMESITE.get(avalue.lower())
            if canonical is None:
                _add(problems, "unknown_samesite")
            samesite = canonical if canonical is not None else avalue
        elif key == "partitioned":
            partitioned = True
    return (tuple(attributes), domain, path, expires, max_age, secure, httponly, samesite, partitioned, tuple(problems))


# --------------------------------------------------------------------------- Cookie


_new_pair = builder(CookiePair)

_SKIP = CookiePair("", "")
"""``_ITEMS``' answer for an empty item, told from parsed pairs by identity."""

_ITEMS: Memo[str, CookiePair] = Memo(4096)
"""The pair of one ``;``-separated item of a Cookie header: a client's headers differ from one request to
the next by a value or two, the other items repeat. These caches are sized for what repeats soon: four
times larger, a --jobs worker held ~9 MB more of unique values, for the same CPU (bench/README.md)."""


@lru_cache(maxsize=4096)
def parse_cookie_header(value: str) -> tuple[CookiePair, ...]:
    """The pairs of one ``Cookie`` header, in order, duplicates kept.

    Cached per header value (the result is immutable): a client sends the same header until a
    ``Set-Cookie`` changes it, so most requests of a capture hit the cache.

    Values keep any ``=`` they contain (base64 padding, ``s%3A...`` signatures).
    An item without ``=`` is a nameless cookie (name ``""``): that is how a
    browser serialises a cookie stored from ``Set-Cookie: v``, so the jar and
    the request agree on it. Empty items (``a=1;;b=2``) are skipped.
    """
    out: list[CookiePair] = []
    items = _ITEMS
    for item in value.split(";"):
        pair = items.get(item)
        if pair is None:
            pair = items.remember(item, _item_pair(item))
        if pair is not _SKIP:
            out.append(pair)
    return tuple(out)


def _item_pair(item: str) -> CookiePair:
    """One item of a Cookie header as a pair, or ``_SKIP``."""
    name, eq, cvalue = item.partition("=")
    if eq:
        return _new_pair(name.strip(_WSP), cvalue.strip(_WSP))
    bare = name.strip(_WSP)
    return _new_pair("", bare) if bare else _SKIP


IS_COOKIE = HeaderNameIs("Cookie")
IS_SET_COOKIE = HeaderNameIs("Set-Cookie")


def cookie_header_values(headers: Headers) -> tuple[str, ...]:
    """The values of a request's ``Cookie`` headers, in order."""
    is_cookie = IS_COOKIE
    return tuple([value for key, value in headers.items if is_cookie[key]])


def request_cookies(headers: Headers) -> tuple[CookiePair, ...]:
    """Every ``Cookie`` header of a request, joined in order.

    HTTP/2 and HTTP/3 may split the header into several ``cookie`` fields
    (RFC 9113 §8.2.3: "these MUST be concatenated into a single octet string
    using the two-octet delimiter of 0x3b, 0x20"); reading only the first would
    invent missing cookies.
    """
    out: tuple[CookiePair, ...] | None = None
    is_cookie = IS_COOKIE
    for key, value in headers.items:
        if is_cookie[key]:
            pairs = parse_cookie_header(value)
            out = pairs if out is None else out + pairs
    return out if out is not None else ()


def response_set_cookies(headers: Headers) -> tuple[SetCookie, ...]:
    """One ``SetCookie`` per ``Set-Cookie`` line of a response.

    Some producers (chrome-har, a few proxies' logs) join several lines into one
    value with newlines: those are split again. Commas are never split on,
    because ``Expires`` dates contain them.
    """
    out: list[SetCookie] = []
    is_set_cookie = IS_SET_COOKIE
    for key, value in headers.items:
        if not is_set_cookie[key]:
            continue
        if "\n" in value:
            for line in value.split("\n"):
                line = line.strip("\r" + _WSP)
                if line:
                    out.append(parse_set_cookie(line))
        elif value.strip(_WSP):
            out.append(parse_set_cookie(value))
    return tuple(out)
