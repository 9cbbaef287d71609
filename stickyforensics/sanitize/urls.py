"""URLs, query strings and form bodies: names and paths kept, values replaced.

Kept: scheme, host, port, path (the analysis reads paths: static assets, login pages, dot-files),
parameter names and separators. Replaced: query and form values, ``;name=value`` path parameters
(``;jsessionid=``), ``user:password@`` and ``name=value`` fragments (OAuth ``#access_token=``).
A value that is itself a URL or a path (``?next=/owa/auth%3Fx%3D1``) is rewritten as a URL, so a
redirect to a login page is still one.

Values are rewritten decoded and encoded back character by character the way they were written
(``%2F`` stays an escape, ``+`` stays ``+``, a literal stays literal). Pseudonyms keep the shape
of the decoded value, so the result has exactly the length and layout of the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_HEX = "0123456789abcdefABCDEF"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_ABSOLUTE = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://")
_URLS_IN_TEXT = re.compile(r"(?i)\b(?:https?|wss?)://[^\s<>\"'\\]+|(?<=url=)[^;,\s\"'<>]+|(?<=<)[^<>\s]+(?=>)")

Replace = Callable[[str], str]
"""A value -> its pseudonym."""


@dataclass(frozen=True, slots=True)
class _Unit:
    """One decoded character and how it was written: literally, as ``+``, or percent-encoded."""

    char: str
    form: str
    """``literal``, ``plus`` or ``escape``."""
    upper: bool = True
    """Hex case of an escape."""


def _units(raw: str, plus_is_space: bool) -> list[_Unit] | None:
    """The decoded characters of ``raw``; None when its escapes are not UTF-8."""
    out: list[_Unit] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "%" and i + 2 < len(raw) and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            run = bytearray()
            upper = any(c.isupper() for c in raw[i + 1 : i + 3])
            while i + 2 < len(raw) and raw[i] == "%" and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
                run.append(int(raw[i + 1 : i + 3], 16))
                i += 3
            try:
                text = run.decode("utf-8")
            except UnicodeDecodeError:
                return None
            out.extend(_Unit(c, "escape", upper) for c in text)
            continue
        if ch == "+" and plus_is_space:
            out.append(_Unit(" ", "plus"))
        else:
            out.append(_Unit(ch, "literal"))
        i += 1
    return out


def _encode_like(text: str, units: list[_Unit]) -> str:
    """``text`` (as long as ``units``) written the way the original characters were."""
    out: list[str] = []
    for ch, unit in zip(text, units, strict=True):
        if unit.form == "escape":
            hex_format = "%{:02X}" if unit.upper else "%{:02x}"
            out.append("".join(hex_format.format(b) for b in ch.encode("utf-8", "surrogatepass")))
        elif unit.form == "plus" and ch == " ":
            out.append("+")
        else:
            out.append(ch)
    return "".join(out)


class UrlRewriter:
    """Rewrites URL-borne values with ``replace`` (a pseudonym function that also counts)."""

    def __init__(self, replace: Replace) -> None:
        self._replace = replace

    def url(self, url: str) -> str:
        """An absolute or relative URL with its secrets replaced and everything else kept."""
        base, hash_, fragment = url.partition("#")
        base, question, query = base.partition("?")
        out = self._before_query(base)
        if question:
            out += "?" + self.query(query)
        if hash_:
            out += "#" + (self.query(fragment) if "=" in fragment else fragment)
        return out

    def urls_in_text(self, text: str) -> str:
        """Free text (``Link``, ``Refresh``, a producer's custom field) with the URLs in it rewritten."""
        if "://" not in text and "url=" not in text.lower() and "<" not in text:
            return text
        return _URLS_IN_TEXT.sub(lambda m: self.url(m.group(0)), text)

    def query(self, query: str) -> str:
        """``a=1&b=2`` (a query string or an urlencoded form body): names kept, values replaced."""
        parts = []
        for part in query.split("&"):
            name, eq, value = part.partition("=")
            if eq:
                parts.append(name + eq + self.component(value))
            else:
                parts.append(self.component(part))
        return "&".join(parts)

    def component(self, raw: str, *, plus_is_space: bool = True) -> str:
        """One encoded value, rewritten decoded and encoded back the same way."""
        if not raw:
            return raw
        if "%" not in raw and not (plus_is_space and "+" in raw):
            # Nothing encoded (the usual case): the value is its own decoded text.
            return self.url(raw) if raw.startswith("/") or _ABSOLUTE.match(raw) else self._replace(raw)
        units = _units(raw, plus_is_space)
        if units is None:
            return self._replace(raw)  # escapes that are not UTF-8: the raw text keeps its shape too
        decoded = "".join(u.char for u in units)
        rewritten = self.url(decoded) if decoded.startswith("/") or _ABSOLUTE.match(decoded) else self._replace(decoded)
        return _encode_like(rewritten, units)

    def _before_query(self, base: str) -> str:
        scheme, sep, rest = base.partition("://")
        if not sep or not _SCHEME.fullmatch(scheme):
            return self._path(base)
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            userinfo, _, hostport = authority.rpartition("@")
            user, colon, password = userinfo.partition(":")
            authority = (
                self.component(user, plus_is_space=False)
                + colon
                + self.component(password, plus_is_space=False)
                + "@"
                + hostport
            )
        return scheme + sep + authority + slash + self._path(path)

    def _path(self, path: str) -> str:
        """Path segments kept; the values of ``;name=value`` parameters replaced."""
        if ";" not in path:
            return path
        segments = []
        for segment in path.split("/"):
            head, *params = segment.split(";")
            rewritten = [head]
            for param in params:
                name, eq, value = param.partition("=")
                rewritten.append(name + eq + self.component(value, plus_is_space=False) if eq else param)
            segments.append(";".join(rewritten))
        return "/".join(segments)
