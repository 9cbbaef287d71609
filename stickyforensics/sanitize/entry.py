"""One HAR entry (or any other part of a HAR) -> its sanitized copy.

The field rules (``headers``, ``cookies``, ``urls``, ``bodies``) apply where HAR puts secrets;
every other string, in the entry or in the rest of the file (``pages``, producers' ``_custom``
fields, ``comment``), has its URLs rewritten and known secrets swept (``sweep``). Nothing is
dropped except body texts and WebSocket message payloads; keys, order, numbers and timings are
kept as they are.
"""

from __future__ import annotations

from typing import Any

from stickyforensics.sanitize.bodies import REMOVED, BodyRewriter
from stickyforensics.sanitize.cookies import CookieRewriter
from stickyforensics.sanitize.headers import HeaderRule, HeaderRules
from stickyforensics.sanitize.options import SanitizeOptions
from stickyforensics.sanitize.pseudonym import Pseudonyms
from stickyforensics.sanitize.stats import SanitizeStats
from stickyforensics.sanitize.sweep import SecretSweep
from stickyforensics.sanitize.urls import UrlRewriter
from stickyforensics.sanitize.values import ValueRewriter
from stickyforensics.track.lb import CookieClassifier


class EntrySanitizer:
    """Sanitizes HAR entries and the rest of a HAR with one key, counting what it replaced."""

    def __init__(
        self,
        options: SanitizeOptions,
        *,
        pseudonyms: Pseudonyms,
        sweep: SecretSweep,
        stats: SanitizeStats,
        classifier: CookieClassifier | None = None,
        learning: bool = False,
    ) -> None:
        config = options.config
        self.stats = stats
        self._sweep = sweep
        self._learning = learning
        """A first pass only fills the sweep list: sweeping with a partial list would be wasted work."""
        self._values = ValueRewriter(pseudonyms, stats, sweep)
        self._urls = UrlRewriter(lambda value: self._values.replace(value, "query", secret=False))
        self._form_urls = UrlRewriter(lambda value: self._values.replace(value, "form", secret=False))
        self._cookies = CookieRewriter(
            self._values,
            classifier or CookieClassifier(declared=config.declared_cookies()),
            hide_backends=options.hide_backends,
        )
        self._bodies = BodyRewriter(
            self._values,
            self._form_urls,
            markers=config.body_markers,
            backend_patterns=config.backend_body_patterns,
            hide_backends=options.hide_backends,
        )
        self._rules = HeaderRules((*config.backend_headers, *config.datacenter_headers))
        self._hide_backends = options.hide_backends

    # ------------------------------------------------------------------ whole parts

    def entry(self, entry: Any) -> Any:
        """The sanitized copy of one ``log.entries`` item (anything else is swept as free data)."""
        if not isinstance(entry, dict):
            return self.free(entry)
        self.stats.entries += 1
        out: dict[str, Any] = {}
        for key, value in entry.items():
            if key == "request" and isinstance(value, dict):
                out[key] = self._request(value)
            elif key == "response" and isinstance(value, dict):
                out[key] = self._response(value)
            elif key == "_webSocketMessages" and isinstance(value, list):
                out[key] = [self._websocket_message(m) for m in value]
            else:
                out[key] = self.free(value)
        return out

    def free(self, node: Any) -> Any:
        """Data no field rule owns: URLs in its strings rewritten, known secrets swept."""
        if isinstance(node, str):
            return self.free_text(node)
        if isinstance(node, dict):
            return {key: self.free(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.free(value) for value in node]
        return node

    def free_text(self, text: str) -> str:
        rewritten = self._urls.urls_in_text(text)
        return rewritten if self._learning else self._sweep.scrub(rewritten)

    # ------------------------------------------------------------------ messages

    def _request(self, req: dict[str, Any]) -> dict[str, Any]:
        post = req.get("postData")
        body_size = req.get("bodySize")
        rewritten_post: dict[str, Any] | None = None
        if isinstance(post, dict):
            rewritten_post, body_size = self._bodies.post_data(post, body_size)
        out: dict[str, Any] = {}
        for key, value in req.items():
            if key == "url" and isinstance(value, str):
                out[key] = self._sweep.scrub(self._urls.url(value))
            elif key == "headers":
                out[key] = self._headers(value)
            elif key == "cookies":
                out[key] = self._cookies.array(value)
            elif key == "queryString" and isinstance(value, list):
                out[key] = [self._named_value(item) for item in value]
            elif key == "postData" and rewritten_post is not None:
                out[key] = rewritten_post
            elif key == "bodySize":
                out[key] = body_size
            else:
                out[key] = self.free(value)
        if "bodySize" not in out and body_size is not None:
            out["bodySize"] = body_size
        return out

    def _response(self, resp: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in resp.items():
            if key == "headers":
                out[key] = self._headers(value)
            elif key == "cookies":
                out[key] = self._cookies.array(value)
            elif key == "content" and isinstance(value, dict):
                out[key] = self._bodies.content(value)
            elif key == "redirectURL" and isinstance(value, str):
                out[key] = self._sweep.scrub(self._urls.url(value))
            else:
                out[key] = self.free(value)
        return out

    def _named_value(self, item: Any) -> Any:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            return self.free(item)
        out = dict(item)
        out["value"] = self._urls.component(item["value"])
        return out

    def _websocket_message(self, message: Any) -> Any:
        if not isinstance(message, dict) or not isinstance(message.get("data"), str):
            return self.free(message)
        out = {key: self.free(value) for key, value in message.items() if key != "data"}
        out["data"] = ""
        out["comment"] = f"{REMOVED} ({len(message['data'])} characters)"
        self.stats.bodies_removed += 1
        return out

    # ------------------------------------------------------------------ headers

    def _headers(self, headers: Any) -> Any:
        """A HAR headers array (also ``[[name, value]]`` and ``{name: value}``) with values rewritten."""
        if isinstance(headers, dict):
            return {name: self._header_values(name, value) for name, value in headers.items()}
        if not isinstance(headers, list):
            return self.free(headers)
        out: list[Any] = []
        for item in headers:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str):
                rewritten = dict(item)
                rewritten["value"] = self.header(item["name"], item["value"])
                out.append(rewritten)
            elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], str):
                out.append([item[0], self.header(item[0], item[1])])
            else:
                out.append(self.free(item))
        return out

    def _header_values(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            return self.header(name, value)
        if isinstance(value, list):
            return [self.header(name, v) if isinstance(v, str) else self.free(v) for v in value]
        return self.free(value)

    def header(self, name: str, value: str) -> str:
        """One header value, rewritten by the rule its name falls under."""
        rule = self._rules.rule(name)
        if rule is HeaderRule.COOKIE:
            return self._cookies.cookie_header(value)
        if rule is HeaderRule.SET_COOKIE:
            return self._cookies.set_cookie_header(value)
        if rule is HeaderRule.CREDENTIALS:
            scheme, space, credentials = value.partition(" ")
            if not space:
                return self._values.replace(value, "credential", secret=True)
            return scheme + space + self._values.replace(credentials, "credential", secret=True)
        if rule is HeaderRule.SECRET:
            return self._values.replace(value, "header", secret=True)
        if rule is HeaderRule.URL:
            return self._sweep.scrub(self._urls.url(value))
        if rule is HeaderRule.BACKEND and self._hide_backends:
            return self._values.replace(value, "backend", secret=False)
        return self.free_text(value)
