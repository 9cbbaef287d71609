"""Which rule a header's value falls under, by the header's name.

* ``Cookie`` / ``Set-Cookie``: cookie values (``cookies``);
* ``Authorization`` / ``Proxy-Authorization``: the scheme is kept, the credentials replaced;
* names with a secret word (``X-API-Key``, ``X-Auth-Token``, ``X-CSRF-Token``,
  ``Ocp-Apim-Subscription-Key``, ``X-Amz-Security-Token``...): the whole value replaced;
* ``Referer``, ``Location``, ``Content-Location``: a URL (``urls``); ``Link``, ``Refresh``: text
  with URLs in it;
* the configured backend and datacenter headers (``X-Backend``, ``X-Served-By``...): kept, since
  they name the backend that served each request, unless backends are hidden;
* everything else is kept, searched for URLs and for known secrets. That includes
  ``X-Forwarded-For``, ``Via`` and ``Forwarded``: client identity comes from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum


class HeaderRule(Enum):
    COOKIE = "cookie"
    SET_COOKIE = "set-cookie"
    CREDENTIALS = "credentials"
    SECRET = "secret"
    URL = "url"
    URL_TEXT = "url-text"
    BACKEND = "backend"
    PLAIN = "plain"


_FIXED = {
    "cookie": HeaderRule.COOKIE,
    "set-cookie": HeaderRule.SET_COOKIE,
    "authorization": HeaderRule.CREDENTIALS,
    "proxy-authorization": HeaderRule.CREDENTIALS,
    "referer": HeaderRule.URL,
    "location": HeaderRule.URL,
    "content-location": HeaderRule.URL,
    ":path": HeaderRule.URL,
    "link": HeaderRule.URL_TEXT,
    "refresh": HeaderRule.URL_TEXT,
}
SECRET_WORDS = frozenset(
    {
        "auth", "apikey", "key", "token", "secret", "password", "passwd", "pwd", "credential", "credentials",
        "session", "sessionid", "sid", "csrf", "xsrf", "signature", "jwt", "ticket", "otp", "cookie",
    }
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


class HeaderRules:
    """The rule for each header name (any casing), cached: the same names repeat on every entry."""

    def __init__(self, backend_headers: Iterable[str] = ()) -> None:
        self._backend = frozenset(h.strip().lower() for h in backend_headers)
        self._known: dict[str, HeaderRule] = {}

    def rule(self, name: str) -> HeaderRule:
        found = self._known.get(name)
        if found is None:
            found = self._known[name] = self._decide(name.strip().lower())
        return found

    def _decide(self, lname: str) -> HeaderRule:
        fixed = _FIXED.get(lname)
        if fixed is not None:
            return fixed
        if lname in self._backend:
            return HeaderRule.BACKEND
        if SECRET_WORDS.intersection(_WORD.findall(lname)):
            return HeaderRule.SECRET
        return HeaderRule.PLAIN
