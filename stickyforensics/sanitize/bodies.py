"""Request and response bodies.

* Request bodies: an urlencoded form keeps its field names and gets pseudonyms for its values
  (passwords, ``__RequestVerificationToken``, as in the Catchpoint incident), in ``text`` and in
  ``params``; a JSON body keeps its keys and gets pseudonyms for its strings and integers; any
  other body (multipart, XML, binary) is removed. Field values in ``params`` are replaced too.
* Response bodies are removed. The analysis reads two things in them, in the first
  ``BODY_PREFIX_LIMIT`` bytes: session-loss markers (``BAD SESSION``, ``session expired``) and
  backend banners (``Served by node2``). When those are present, the body is replaced by just
  the marker texts and banners found (one per line), so the same responses still read as a lost
  session or as served by the same backend; the HAR reader then says the body is truncated,
  which it is.

Sizes and MIME types are kept (``bodySize`` / ``content.size``), and a ``comment`` says what was
removed, so nobody mistakes a sanitized body for an empty one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any

from stickyforensics.model import BODY_PREFIX_LIMIT
from stickyforensics.sanitize.urls import UrlRewriter
from stickyforensics.sanitize.values import ValueRewriter

REMOVED = "body removed by stickyforensics sanitize"
REDUCED = "body reduced by stickyforensics sanitize to the session-loss markers and backend banners it contained"
_FORM_LIKE = re.compile(r"[\w.~%*+-]+=[^&\s]*(?:&[\w.~%*+-]+=[^&\s]*)*")
_MARKER_LIMIT = 20


def _body_bytes(text: str, encoding: Any) -> bytes:
    """The bytes of a HAR body text, decoded as the HAR reader decodes them."""
    if isinstance(encoding, str) and encoding.strip().lower() == "base64":
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            pass
    return text.encode("utf-8", "surrogatepass")


def _with_comment(holder: dict[str, Any], note: str) -> None:
    old = holder.get("comment")
    holder["comment"] = f"{old}; {note}" if isinstance(old, str) and old.strip() else note


class BodyRewriter:
    def __init__(
        self,
        values: ValueRewriter,
        urls: UrlRewriter,
        *,
        markers: Sequence[str],
        backend_patterns: Sequence[str],
        hide_backends: bool,
    ) -> None:
        self._values = values
        self._urls = urls
        self._markers = tuple(m for m in markers if m)
        self._patterns = tuple(re.compile(p) for p in backend_patterns)
        self._hide_backends = hide_backends

    # ------------------------------------------------------------------ requests

    def post_data(self, post: dict[str, Any], body_size: Any) -> tuple[dict[str, Any], Any]:
        """The rewritten ``postData`` and the ``bodySize`` to write with it."""
        out = dict(post)
        if isinstance(post.get("params"), list):
            out["params"] = [self._param(p) for p in post["params"]]
        text, encoding = post.get("text"), post.get("encoding")
        if not isinstance(text, str) and isinstance(post.get("_textBase64"), str):
            text, encoding = post["_textBase64"], "base64"
        if not isinstance(text, str) or not text:
            return out, body_size
        original = _body_bytes(text, encoding)
        rewritten = self._request_text(text, str(post.get("mimeType") or ""), encoding)
        if rewritten is None:
            for key in ("text", "_textBase64", "encoding"):
                out.pop(key, None)
            _with_comment(out, f"{REMOVED} ({len(original)} bytes)")
            self._values.stats.bodies_removed += 1
            known = body_size if isinstance(body_size, int) and not isinstance(body_size, bool) else -1
            # Without its text the reader takes the body's size from bodySize: it must say there was one.
            return out, max(known, len(original))
        out.pop("_textBase64", None)
        out.pop("encoding", None)
        out["text"] = rewritten
        if body_size == len(original):
            body_size = len(rewritten.encode("utf-8", "surrogatepass"))
        return out, body_size

    def _request_text(self, text: str, mime: str, encoding: Any) -> str | None:
        """The rewritten body text, or None when the body is to be removed."""
        if isinstance(encoding, str) and encoding.strip().lower() == "base64":
            return None
        lowered = mime.lower()
        if "x-www-form-urlencoded" in lowered or (not lowered and _FORM_LIKE.fullmatch(text)):
            return self._urls.query(text)
        if "json" in lowered:
            try:
                doc = json.loads(text)
            except ValueError:
                return None
            return json.dumps(self._json(doc), ensure_ascii=False, separators=(",", ":"))
        return None

    def _json(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {key: self._json(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._json(value) for value in node]
        if isinstance(node, str):
            return self._values.replace(node, "form", secret=False)
        if isinstance(node, int) and not isinstance(node, bool):
            digits = self._values.replace(str(abs(node)), "form", secret=False)
            return -int(digits) if node < 0 else int(digits)
        return node

    def _param(self, param: Any) -> Any:
        if not isinstance(param, dict) or not isinstance(param.get("value"), str):
            return param
        out = dict(param)
        out["value"] = self._urls.component(param["value"])
        return out

    # ------------------------------------------------------------------ responses

    def content(self, content: dict[str, Any]) -> dict[str, Any]:
        """A response ``content`` without its text (or reduced to the markers the analysis reads)."""
        text = content.get("text")
        if not isinstance(text, str) or not text:
            return content
        data = _body_bytes(text, content.get("encoding"))
        out = {key: value for key, value in content.items() if key not in ("text", "encoding")}
        size = out.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            out["size"] = len(data)
        kept = self._readable_facts(data[:BODY_PREFIX_LIMIT].decode("utf-8", "replace"))
        self._values.stats.bodies_removed += 1
        if kept:
            self._values.stats.bodies_with_markers += 1
            out["text"] = "\n".join(kept)
            _with_comment(out, f"{REDUCED} ({len(data)} bytes)")
        else:
            _with_comment(out, f"{REMOVED} ({len(data)} bytes)")
        return out

    def _readable_facts(self, prefix: str) -> list[str]:
        """The marker texts and backend banners the analysis would find in this body prefix."""
        lowered = prefix.lower()
        found: list[tuple[int, str]] = []
        for marker in self._markers:
            at = lowered.find(marker.lower())
            if at >= 0:
                found.append((at, marker))
        for pattern in self._patterns:
            match = pattern.search(prefix)
            if match is not None:
                found.append((match.start(), self._banner(match)))
        ordered = [text for _at, text in sorted(found, key=lambda item: item[0])]
        return list(dict.fromkeys(ordered))[:_MARKER_LIMIT]

    def _banner(self, match: re.Match[str]) -> str:
        text = match.group(0)
        if not self._hide_backends or "backend" not in match.re.groupindex:
            return text
        start, end = match.span("backend")
        base = match.start()
        name = self._values.replace(match.group("backend"), "backend", secret=False)
        return text[: start - base] + name + text[end - base :]
