"""Bodies: form and JSON values replaced, other bodies removed, markers and banners kept."""

from __future__ import annotations

import base64
import json

from stickyforensics.config import Config
from tests.unit.sanitize.helpers import sanitizer

PASSWORD = "Hunter2-Pa55word%21"


def _post(post: dict[str, object], body_size: object) -> tuple[dict[str, object], object]:
    request = {"method": "POST", "url": "http://h/x", "bodySize": body_size, "postData": post}
    out = sanitizer().entry({"request": request})["request"]
    return out["postData"], out.get("bodySize")


def test_form_text_and_params_get_the_same_pseudonyms() -> None:
    text = f"__RequestVerificationToken=Z-4ET7RU0ug&OldPassword=&NewPassword={PASSWORD}"
    params = [{"name": "OldPassword", "value": ""}, {"name": "NewPassword", "value": PASSWORD}]
    post, size = _post({"mimeType": "application/x-www-form-urlencoded", "text": text, "params": params}, len(text))
    assert PASSWORD not in json.dumps(post) and "Z-4ET7RU0ug" not in post["text"]
    assert post["text"].endswith("&NewPassword=" + post["params"][1]["value"])  # type: ignore[index]
    assert "&OldPassword=&" in post["text"] and size == len(text)  # type: ignore[operator]


def test_json_body_keeps_keys_and_structure() -> None:
    text = json.dumps({"user": "alice", "password": "s3cret!", "id": 1234567, "remember": True})
    post, _ = _post({"mimeType": "application/json", "text": text}, len(text))
    doc = json.loads(str(post["text"]))
    assert list(doc) == ["user", "password", "id", "remember"] and doc["remember"] is True
    assert doc["password"] != "s3cret!" and doc["id"] != 1234567 and len(doc["password"]) == 7


def test_other_bodies_are_removed_with_their_size_kept() -> None:
    multipart = "--x\r\nsecret\r\n--x--"
    post, size = _post({"mimeType": "multipart/form-data; boundary=x", "text": multipart}, -1)
    assert "text" not in post and "removed" in str(post["comment"]) and size == len(multipart)
    binary = base64.b64encode(b"\x00\x01secret").decode()
    post, size = _post({"mimeType": "application/octet-stream", "text": binary, "encoding": "base64"}, 8)
    assert "text" not in post and "encoding" not in post and size == 8


def _content(text: str, config: Config | None = None, hide: bool = False) -> dict[str, object]:
    entry = {"response": {"status": 200, "content": {"size": 999, "mimeType": "text/html", "text": text}}}
    content = sanitizer(config=config, hide_backends=hide).entry(entry)["response"]["content"]
    assert isinstance(content, dict)
    return content


def test_response_bodies_removed_keeping_size_and_mime() -> None:
    content = _content("<p>welcome alice, your token is abc123</p>")
    assert "text" not in content and content["size"] == 999 and content["mimeType"] == "text/html"


def test_markers_and_banners_survive_alone() -> None:
    content = _content("<h1>Oops</h1> BAD SESSION for alice. <i>Served by node2</i> secret=abc123")
    assert content["text"] == "BAD SESSION\nServed by node2" and content["size"] == 999
    custom = Config(body_markers=("Sitzung abgelaufen",))
    assert _content("Ihre Sitzung abgelaufen, alice", custom)["text"] == "Sitzung abgelaufen"
    hidden = _content("Served by node2", hide=True)["text"]
    assert isinstance(hidden, str) and hidden.startswith("Served by ") and hidden != "Served by node2"


def test_markers_beyond_the_analysed_prefix_are_not_kept() -> None:
    assert "text" not in _content("x" * 3000 + "BAD SESSION")
