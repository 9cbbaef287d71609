"""Is there cookie data in this HAR to judge stickiness with?

Since the 2023 Okta support-case breach, HARs are sanitized by default (Chrome
DevTools, Microsoft Dev Proxy, Cloudflare's and Google's sanitizers). A
sanitized HAR looks like a site that sets no cookies at all, and would make every
stickiness rule silently pass. ``CookieSurvey`` watches every entry (in O(1)
memory, since the HAR is streamed) and ends with a verdict:

* ``absent``: no entry anywhere has a Cookie / Set-Cookie header or cookie array.
* ``partial``: most cookie values are placeholders (``REDACTED``, ``[cookie
  redacted]``, ``***``, ``<redacted>``, ``xxxx``, ``sanitized``...), or a browser
  export where servers set cookies on a host yet no request anywhere carries a
  cookie (the request side was stripped). The second test is restricted to
  browser producers: a scripted client that never echoes cookies is exactly the
  bug this tool must report, not a sanitized input.
* ``present`` otherwise (a few placeholder values earn an info diagnostic).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from stickyforensics.model import DiagLevel, Headers

ABSENT_MESSAGE = "cookie data absent: stickiness cannot be judged"

_PLACEHOLDER = re.compile(
    r"""^\s*[\[<({"']?\s*
        (?:[\w.-]+[\s_-]+)*?
        (?:redacted|sanitized|sanitised|removed|hidden|filtered|scrubbed|obfuscated|masked|censored|
           omitted|stripped|elided|anonymi[sz]ed|placeholder)
        (?:[\s_-]+[\w.-]+)*
        \s*[\]>)}"']?\s*$
    |^\s*\*{3,}\s*$
    |^\s*[xX]{4,}\s*$
    |^\s*(?:\.\.\.|…)\s*$
    |^\s*\{\{.*\}\}\s*$
    |^\s*<(?:value|secret|token|cookie)>\s*$""",
    re.IGNORECASE | re.VERBOSE,
)

EXPORTER = "stickyforensics"
"""``log.creator.name`` of the HARs ``stickyforensics export`` writes from captures (``sanitize`` keeps the
input's creator, so a HAR stripped by its browser stays ``absent`` after it)."""

REDACTED_MAJORITY = 0.5
"""Above this share of placeholder values the cookie data counts as ``partial``."""

STRIPPED_REQUESTS_MIN = 2
"""Same-host requests after a Set-Cookie, all without cookies, before the request side counts as stripped."""

_NAME_LIMIT = 20

# (creator pattern, advice) for the absent/partial message.
_PRODUCER_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"chrome|webinspector|edge|chromium|brave|opera", re.I),
        "Chrome and Edge DevTools export sanitized HAR by default: use 'Export HAR (with sensitive data)'",
    ),
    (
        re.compile(r"dev ?proxy", re.I),
        "Dev Proxy redacts by default: set includeSensitiveInformation to true",
    ),
    (
        re.compile(r"sanitiz|scrub|redact", re.I),
        "the producer is a sanitizer: analyze the original recording instead",
    ),
)

_BROWSERS = re.compile(r"chrome|webinspector|edge|chromium|firefox|safari|webkit|playwright|puppeteer|opera", re.I)


_MEMO_LIMIT = 50_000

_SPLIT_NAMES = 10_000
"""Placeholder names a ``later_part`` counts before it gives up being ``mergeable``."""
"""Distinct values remembered per file by the survey's memos."""

_BLANK = ("", False)
"""``CookieSurvey._crumbs`` entry of a crumb that is only blanks (not counted)."""

PLACEHOLDER_MAX_LEN = 48
"""Placeholders are short words; longer values are real tokens and skip the regex."""


_WORDS = frozenset(
    {
        "redacted", "sanitized", "sanitised", "removed", "hidden", "filtered", "scrubbed", "obfuscated",
        "masked", "censored", "omitted", "stripped", "elided", "anonymized", "anonymised", "placeholder",
    }
)  # fmt: skip


_NEEDLES = (
    "redacted", "saniti", "removed", "hidden", "filtered", "scrubbed", "obfuscated", "masked", "censored",
    "omitted", "stripped", "elided", "anonymi", "placeholder", "***", "xxxx", "...", "{{", "<",
)  # fmt: skip
"""Text one of ``_PLACEHOLDER``'s branches needs (lower case): an ASCII value without any cannot match."""


def is_placeholder(value: str) -> bool:
    """True for values a sanitizer wrote in place of the real one."""
    if not 0 < len(value) <= PLACEHOLDER_MAX_LEN:
        return False
    if value.isalnum():
        # Most real tokens; only a bare placeholder word or "xxxx" can match.
        lowered = value.lower()
        return lowered in _WORDS or (len(value) >= 4 and lowered.count("x") == len(value))
    if value.isascii():
        # Substring tests cost a fraction of the regex (which backtracks on dotted tokens). Only for
        # ASCII: IGNORECASE also folds non-ASCII letters (U+017F matches "s"), lower() does not.
        lowered = value.lower()
        for needle in _NEEDLES:  # a loop, not any(): no generator per value
            if needle in lowered:
                break
        else:
            return False
    return _PLACEHOLDER.match(value) is not None


@dataclass(frozen=True, slots=True)
class CookieVerdict:
    cookie_data: str
    """``present``, ``absent`` or ``partial``."""
    diagnostics: tuple[tuple[str, str, DiagLevel], ...]
    """(code, message, level) to report for the whole file."""


@dataclass(slots=True)
class CookieSurvey:
    """Running counts over the entries of one HAR (order of the file)."""

    entries: int = 0
    requests_with_cookies: int = 0
    responses_with_set_cookie: int = 0
    values: int = 0
    placeholders: int = 0
    placeholder_names: Counter[str] = field(default_factory=Counter)
    set_hosts: dict[str, int] = field(default_factory=dict)
    """Host -> entry index of its first persistent Set-Cookie."""
    after_set_without: Counter[str] = field(default_factory=Counter)
    """Host -> requests without any cookie seen after that host set one."""
    unset_without: Counter[str] = field(default_factory=Counter)
    """Host -> requests without any cookie seen before this survey saw that host set one: they count in
    ``after_set_without`` when the survey is the later part of a file and the earlier part set it."""
    name_limit: int = _NAME_LIMIT
    """How many placeholder cookie names are counted (the later part of a split counts up to ``_SPLIT_NAMES``,
    so that the merge can keep the first ``_NAME_LIMIT`` as one survey would)."""
    _cookies: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    """Cookie header value -> (its crumbs, the names of those whose value is a placeholder, in order):
    a session sends the same header many times."""
    _crumbs: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """One raw ``;``-separated crumb -> (name, placeholder?), or ``_BLANK``: a header seen for the first
    time is mostly crumbs seen before (one token changed)."""
    _placeholder: dict[str, bool] = field(default_factory=dict)
    """Memo of ``is_placeholder`` (cookie values repeat on most requests)."""

    def observe(self, index: int, host: str, request: Headers, response: Headers | None) -> None:
        """Count one entry's (already reconciled) cookie headers."""
        cookies = [v for n, v in request.items if n.lower() == "cookie"]
        lines = None if response is None else [v for n, v in response.items if n.lower() == "set-cookie"]
        self.observe_values(index, host, cookies, lines)

    def observe_values(self, index: int, host: str, cookies: list[str], set_cookies: list[str] | None) -> None:
        """``observe`` given the ``Cookie`` values and the ``Set-Cookie`` values (None: no response)."""
        self.entries += 1
        crumbs = [v for v in cookies if v.strip()]
        if crumbs:
            self.requests_with_cookies += 1
            for value in crumbs:
                found = self._cookies.get(value)
                if found is None:
                    found = self._cookie_facts(value)
                    if len(self._cookies) < _MEMO_LIMIT:
                        self._cookies[value] = found
                count, names = found
                self.values += count
                for name in names:
                    self._placeholder_of(name)
        elif host in self.set_hosts:
            self.after_set_without[host] += 1
        else:
            self.unset_without[host] += 1
        if set_cookies is None:
            return
        lines = [v for v in set_cookies if v.strip()]
        if lines:
            self.responses_with_set_cookie += 1
        for line in lines:
            first, _, attrs = line.partition(";")
            name, eq, val = first.strip().partition("=")
            self._value(name.strip() if eq else "", val if eq else first)
            # Only the first persistent Set-Cookie of a host counts: once it is known, skip the tests.
            if host in self.set_hosts or not (eq and val.strip()):
                continue
            if not _deletes(attrs) and not self._is_placeholder(val):
                self.set_hosts[host] = index

    def _cookie_facts(self, value: str) -> tuple[int, tuple[str, ...]]:
        """(non-empty crumbs, names of those whose value is a placeholder) of a ``Cookie`` header value.

        As ``_value`` would count each crumb: a crumb without ``=`` is a nameless value.
        """
        count = 0
        names: list[str] = []
        memo = self._crumbs
        for crumb in value.split(";"):
            found = memo.get(crumb)
            if found is None:
                text = crumb.strip()
                if text:
                    name, eq, val = text.partition("=")
                    found = (name.strip() if eq else "", self._is_placeholder(val if eq else name))
                else:
                    found = _BLANK
                if len(memo) < _MEMO_LIMIT:
                    memo[crumb] = found
            if found is not _BLANK:
                count += 1
                if found[1]:
                    names.append(found[0])
        return count, tuple(names)

    def _is_placeholder(self, value: str) -> bool:
        found = self._placeholder.get(value)
        if found is None:
            found = is_placeholder(value)
            if len(self._placeholder) < _MEMO_LIMIT:
                self._placeholder[value] = found
        return found

    def _value(self, name: str, value: str) -> None:
        self.values += 1
        if self._is_placeholder(value):
            self._placeholder_of(name)

    def _placeholder_of(self, name: str) -> None:
        """Count one placeholder value, of the cookie ``name``."""
        self.placeholders += 1
        key = name or "(nameless)"
        if key in self.placeholder_names or len(self.placeholder_names) < self.name_limit:
            self.placeholder_names[key] += 1

    @classmethod
    def later_part(cls) -> CookieSurvey:
        """The survey of the entries after a split point (``har_split``'s child), to ``merge_after`` another."""
        return cls(name_limit=_SPLIT_NAMES)

    def shed_memos(self) -> None:
        """Drop the memos, which only speed up counting: a later part sent to be merged leaves them behind
        (on a HAR whose cookie values change often they reach tens of MB, to pickle, send and load)."""
        self._cookies = {}
        self._crumbs = {}
        self._placeholder = {}

    @property
    def mergeable(self) -> bool:
        """A later part whose placeholder names all fit: the merge gives exactly one survey's counts."""
        return len(self.placeholder_names) < self.name_limit

    def merge_after(self, later: CookieSurvey) -> None:
        """Fold in the survey of the entries that follow these (a ``later_part``, ``mergeable``): the result is
        the survey of all of them in order."""
        self.entries += later.entries
        self.requests_with_cookies += later.requests_with_cookies
        self.responses_with_set_cookie += later.responses_with_set_cookie
        self.values += later.values
        self.placeholders += later.placeholders
        for name, count in later.placeholder_names.items():
            if name in self.placeholder_names or len(self.placeholder_names) < self.name_limit:
                self.placeholder_names[name] += count
        for host, count in later.unset_without.items():
            if host in self.set_hosts:
                self.after_set_without[host] += count
            else:
                self.unset_without[host] += count
        self.after_set_without.update(later.after_set_without)
        for host, index in later.set_hosts.items():
            self.set_hosts.setdefault(host, index)

    def verdict(self, producer: str | None) -> CookieVerdict:
        """The file's cookie_data and the diagnostics that explain it."""
        who = f"producer: {producer}" if producer else "producer unknown"
        hint = _hint(producer)
        suffix = f" ({who}; {hint})" if hint else f" ({who})"
        if self.entries == 0:
            return CookieVerdict("absent", (("har.no_entries", "the HAR has no usable entries", DiagLevel.WARNING),))
        if self.requests_with_cookies == 0 and self.responses_with_set_cookie == 0:
            if producer is not None and producer.split()[0] == EXPORTER:
                # ``stickyforensics export`` copies every cookie of a capture: none here means none were sent.
                return CookieVerdict("present", ())
            message = f"{ABSENT_MESSAGE}: no entry has a Cookie or Set-Cookie header or cookie array{suffix}"
            return CookieVerdict("absent", (("har.cookie_data_absent", message, DiagLevel.WARNING),))
        if self.placeholders:
            share = self.placeholders / self.values
            names = ", ".join(name for name, _ in self.placeholder_names.most_common(8))
            counted = f"{self.placeholders} of {self.values} cookie values are placeholders ({names})"
            if share > REDACTED_MAJORITY:
                message = f"cookie values redacted: stickiness cannot be judged: {counted}{suffix}"
                return CookieVerdict("partial", (("har.cookie_values_redacted", message, DiagLevel.WARNING),))
            note = (
                "har.cookie_values_redacted",
                f"some cookie values redacted: {counted}; findings about them are unreliable",
                DiagLevel.INFO,
            )
            return CookieVerdict("present", (note,))
        stripped = self._stripped_hosts()
        if stripped and producer is not None and _BROWSERS.search(producer):
            hosts = ", ".join(stripped[:5])
            message = (
                f"cookie data partial: servers set cookies on {hosts} but no request carries a cookie: "
                f"the request side looks stripped; stickiness cannot be judged{suffix}"
            )
            return CookieVerdict("partial", (("har.cookie_data_partial", message, DiagLevel.WARNING),))
        return CookieVerdict("present", ())

    def _stripped_hosts(self) -> list[str]:
        if self.requests_with_cookies:
            return []
        return sorted(h for h, n in self.after_set_without.items() if n >= STRIPPED_REQUESTS_MIN)


_MAX_AGE = re.compile(r"max-age\s*=\s*(-?\d+)", re.IGNORECASE)
_EXPIRES_1970 = re.compile(r"expires\s*=[^;]*\b19[67]\d\b", re.IGNORECASE)


def _deletes(attrs: str) -> bool:
    """A Set-Cookie that removes the cookie (Max-Age<=0, or an Expires in 1960-1979 as servers write it)."""
    found = _MAX_AGE.search(attrs)
    if found is not None:
        return int(found.group(1)[:12]) <= 0
    return _EXPIRES_1970.search(attrs) is not None


def _hint(producer: str | None) -> str | None:
    if not producer:
        return None
    for pattern, advice in _PRODUCER_HINTS:
        if pattern.search(producer):
            return advice
    return None
