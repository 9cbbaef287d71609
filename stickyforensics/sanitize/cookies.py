"""Cookie values in ``Cookie`` / ``Set-Cookie`` headers and HAR cookie arrays.

Names, attributes, order and spacing are kept; values get pseudonyms, except:

* load-balancer persistence cookies (the catalog's ``routing`` role: NetScaler ``NSC_``, BIG-IP
  ``BIGipServer``, HAProxy ``SERVERID``...): kept unless ``hide_backends``, because decoding them
  is how the analysis tells backends apart;
* empty values and values another sanitizer already replaced (``REDACTED``, ``***``): kept, so
  a HAR that was sanitized before still reads as one (rule SF001).

A pseudonym must be read the same way as the value it replaces: it keeps the value's shape
(``pseudonym``), and among the candidates the first one the cookie classifier puts in the same
family, role and decoding status (and that is no placeholder) is taken. So a ``JSESSIONID`` with
a ``.route`` suffix stays a routed Java session id and an ordinary cookie never turns into a
recognised one by chance.
"""

from __future__ import annotations

from stickyforensics.ingest.har_cookie_data import is_placeholder
from stickyforensics.model import CookieRole, PersistenceInfo
from stickyforensics.sanitize.values import ValueRewriter
from stickyforensics.track.lb import CookieClassifier

_WSP = " \t"

Signature = tuple[str, CookieRole, str, bool, bool] | None

_REPLACED, _PLACEHOLDER, _ROUTING = range(3)


def _signature(info: PersistenceInfo | None) -> Signature:
    """What the analysis reads of a classification: family, role, status, backend known, internal."""
    if info is None:
        return None
    return (info.family, info.role, info.status, info.backend is None, info.discloses_internal_address)


class CookieRewriter:
    """Rewrites cookie values; the same (name, value) always gets the same answer."""

    def __init__(self, values: ValueRewriter, classifier: CookieClassifier, *, hide_backends: bool) -> None:
        self._values = values
        self._identify = classifier.identify
        self._hide_backends = hide_backends
        self._seen: dict[tuple[str, str], tuple[int, str]] = {}
        """(name, value) -> what ``value`` decided for it and its answer."""

    def value(self, name: str, value: str) -> str:
        """The value to write for cookie ``name`` (``value`` without surrounding blanks)."""
        stats = self._values.stats
        if not value:
            return value
        key = (name, value)
        seen = self._seen.get(key)
        if seen is not None:
            # A session sends the same cookies on every request: the answer (and what it counts) repeats.
            outcome, found = seen
            if outcome == _REPLACED:
                stats.count("cookie")
                self._values.sweep.add(value, found)
            elif outcome == _PLACEHOLDER:
                stats.placeholders_kept += 1
            else:
                stats.routing_cookies_kept.add(name)
            return found
        if is_placeholder(value):
            stats.placeholders_kept += 1
            self._remember(key, _PLACEHOLDER, value)
            return value
        info = self._identify(name, value)
        if info is not None and info.role is CookieRole.ROUTING and not self._hide_backends:
            stats.routing_cookies_kept.add(name)
            self._remember(key, _ROUTING, value)
            return value
        wanted = _signature(info)

        def same_reading(candidate: str) -> bool:
            return _signature(self._identify(name, candidate)) == wanted and not is_placeholder(candidate)

        found = self._values.replace(value, "cookie", accept=same_reading, secret=True)
        self._remember(key, _REPLACED, found)
        return found

    def _remember(self, key: tuple[str, str], outcome: int, answer: str) -> None:
        # Not bounded, as the answers must not be: a value asked again must get the same pseudonym.
        self._seen[key] = (outcome, answer)

    def _padded(self, name: str, raw: str) -> str:
        """``raw`` with its value rewritten and its surrounding blanks kept."""
        core = raw.strip(_WSP)
        if not core:
            return raw
        lead = raw[: len(raw) - len(raw.lstrip(_WSP))]
        trail = raw[len(raw.rstrip(_WSP)) :]
        return lead + self.value(name, core) + trail

    def pair(self, text: str) -> str:
        """One ``name=value`` item (a nameless ``value`` item is a value, as browsers read it)."""
        name, eq, value = text.partition("=")
        if eq:
            return name + eq + self._padded(name.strip(_WSP), value)
        return self._padded("", text)

    def cookie_header(self, header: str) -> str:
        """A ``Cookie`` header value with every value rewritten."""
        return ";".join(self.pair(item) for item in header.split(";"))

    def set_cookie_header(self, header: str) -> str:
        """A ``Set-Cookie`` header value (several when joined by newlines) with its value rewritten."""
        if "\n" in header:
            return "\n".join(self.set_cookie_header(line) for line in header.split("\n"))
        first, sep, attributes = header.partition(";")
        return self.pair(first) + sep + attributes

    def array(self, cookies: object) -> object:
        """A HAR ``cookies`` array (or IE11's single object) with each ``value`` rewritten."""
        if isinstance(cookies, dict):
            return self._array_item(cookies)
        if not isinstance(cookies, list):
            return cookies
        return [self._array_item(item) for item in cookies]

    def _array_item(self, item: object) -> object:
        if not isinstance(item, dict):
            return item
        value = item.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # the HAR reader reads a number as its text: it is a value like any other
        if not isinstance(value, str):
            return item
        name = item.get("name")
        out = dict(item)
        out["value"] = self._padded(name.strip(_WSP) if isinstance(name, str) else "", value)
        return out
