"""Analysis configuration: defaults, ``stickyforensics.toml`` / ``[tool.stickyforensics]``, and CLI overrides.

The result is a frozen ``Config`` passed down the pipeline (no global state).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from stickyforensics.errors import ConfigError
from stickyforensics.model.findings import Severity

DEFAULT_STATIC_PATTERN = (
    r"(?i)(^/(static|assets|public|images|img|css|js|fonts|media)/)"
    r"|\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|eot|otf|mp4|webm|txt)$"
)
DEFAULT_BACKEND_HEADERS = (
    "X-Backend",
    "X-Backend-Server",
    "X-Backend-Host",
    "X-Served-By",
    "X-Server",
    "X-Server-Name",
    "X-Upstream",
    "X-Upstream-Addr",
    "X-Node",
    "X-Host",
    "X-Instance",
    "X-Pod",
    "X-Zeus-Backend",
)
DEFAULT_DATACENTER_HEADERS = ("X-Datacenter", "X-DC", "X-Region", "X-Amz-Cf-Pop", "X-Edge-Location")
DEFAULT_LOGIN_PATHS = (r"(?i)/(login|logon|signin|sign-in|auth|sso|account/login|owa/auth)",)
DEFAULT_BODY_MARKERS = ("BAD SESSION", "session expired", "session has expired", "please log in", "Session timed out")


CLIENT_IDENTITIES = frozenset({"auto", "ip", "xff", "lineage"})


@dataclass(frozen=True, slots=True)
class Expectations:
    """What a team declares its traffic must satisfy (CI checks)."""

    persistence_cookie: str | None = None
    allowed_backends: tuple[str, ...] = ()
    single_backend_per_client: bool = False
    min_first_backend_share: float | None = None
    no_shared_session_tokens: bool = False
    no_set_cookie_on_cacheable: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the analysis can be told."""

    persistence_cookies: tuple[str, ...] = ()
    """Cookie names (or ``re:`` regexes) to treat as LB routing cookies."""
    session_cookies: tuple[str, ...] = ()
    """Cookie names (or ``re:`` regexes) to treat as application session cookies."""
    login_paths: tuple[str, ...] = DEFAULT_LOGIN_PATHS
    session_lost_statuses: tuple[int, ...] = (401, 440)
    body_markers: tuple[str, ...] = DEFAULT_BODY_MARKERS
    static_pattern: str = DEFAULT_STATIC_PATTERN
    """Requests matching this may be balanced freely (seed 001): never a flip."""
    backend_headers: tuple[str, ...] = DEFAULT_BACKEND_HEADERS
    datacenter_headers: tuple[str, ...] = DEFAULT_DATACENTER_HEADERS
    backend_body_patterns: tuple[str, ...] = (r"Served by (?P<backend>[\w.:-]+)",)
    """Regexes over the start of response bodies naming the backend (group ``backend``), e.g. a
    TrafficScript-injected 'Served by node2' banner (seed 001)."""
    idle_timeout: float | None = None
    """Known idle timeout (seconds); inferred from traffic when None."""
    forced_timeout: float | None = None
    """Known forced / maximum session lifetime (seconds)."""
    min_idle_gap: float = 3.0
    """Shortest idle gap (s) that can count as an idle timeout cause."""
    polling_min_requests: int = 4
    client_identity: str = "auto"
    """``auto`` (IP, or HAR file; X-Forwarded-For or cookie lineage where one address holds several
    users), ``ip``, ``xff`` (X-Forwarded-For first hop), ``lineage`` (IP split by cookie lineage)."""
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    disabled_rules: tuple[str, ...] = ()
    fail_on: Severity = Severity.HIGH
    expectations: Expectations = field(default_factory=Expectations)

    def severity_for(self, code: str, default: Severity) -> Severity:
        for rule, sev in self.severity_overrides:
            if rule == code:
                return sev
        return default

    def declared_cookies(self) -> dict[str, str]:
        """User declarations for the cookie classifier: name or ``re:``regex -> role."""
        out = dict.fromkeys(self.persistence_cookies, "routing")
        out.update(dict.fromkeys(self.session_cookies, "session"))
        return out

    def is_static(self, path: str, method: str = "GET") -> bool:
        """Content that may be balanced freely: a GET/HEAD of an asset. An upload is never static."""
        return method in ("GET", "HEAD") and re.search(self.static_pattern, path) is not None


_KEYS = {f.name for f in fields(Config)}


def _as_tuple(value: Any, key: str) -> tuple[Any, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")


def config_from_mapping(data: Mapping[str, Any], *, origin: str) -> Config:
    """Build a Config from a parsed TOML table; unknown keys are errors (typos must not pass silently)."""
    cfg = Config()
    updates: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key == "expectations":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: [expectations] must be a table")
            updates["expectations"] = _expectations(value, origin)
        elif key == "severity":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: [severity] must map rule codes to severities")
            try:
                updates["severity_overrides"] = tuple((str(k), Severity.parse(str(v))) for k, v in value.items())
            except ValueError as exc:
                raise ConfigError(f"{origin}: {exc}") from None
        elif key == "fail_on":
            try:
                updates["fail_on"] = Severity.parse(str(value))
            except ValueError as exc:
                raise ConfigError(f"{origin}: fail_on: {exc}") from None
        elif key not in _KEYS:
            raise ConfigError(f"{origin}: unknown setting {raw_key!r}")
        elif key in {"idle_timeout", "forced_timeout", "min_idle_gap"}:
            updates[key] = float(value)
        elif key == "polling_min_requests":
            updates[key] = int(value)
        elif key == "client_identity":
            if str(value) not in CLIENT_IDENTITIES:
                raise ConfigError(
                    f"{origin}: client_identity: {value!r} is not one of {', '.join(sorted(CLIENT_IDENTITIES))}"
                )
            updates[key] = str(value)
        elif key == "static_pattern":
            updates[key] = str(value)
        elif key == "session_lost_statuses":
            updates[key] = tuple(int(v) for v in _as_tuple(value, key))
        else:
            updates[key] = tuple(str(v) for v in _as_tuple(value, key))
    try:
        re.compile(updates.get("static_pattern", cfg.static_pattern))
        for pattern in updates.get("login_paths", ()) + updates.get("backend_body_patterns", ()):
            re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{origin}: invalid regular expression: {exc}") from None
    return replace(cfg, **updates)


def _expectations(data: Mapping[str, Any], origin: str) -> Expectations:
    known = {f.name for f in fields(Expectations)}
    kwargs: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise ConfigError(f"{origin}: unknown expectation {raw_key!r}")
        if key == "allowed_backends":
            kwargs[key] = tuple(str(v) for v in _as_tuple(value, key))
        elif key == "min_first_backend_share":
            kwargs[key] = float(value)
        elif key == "persistence_cookie":
            kwargs[key] = str(value)
        else:
            kwargs[key] = bool(value)
    return Expectations(**kwargs)


def load_config(explicit: str | None = None, *, start: Path | None = None) -> tuple[Config, str | None]:
    """Find and read the configuration: an explicit file, else ``stickyforensics.toml`` or
    ``pyproject.toml`` ``[tool.stickyforensics]`` in the current folder. Returns the config and its origin."""
    candidates: list[Path]
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        candidates = [path]
    else:
        base = start or Path.cwd()
        candidates = [p for p in (base / "stickyforensics.toml", base / "pyproject.toml") if p.is_file()]
    for path in candidates:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
        if path.name == "pyproject.toml" and not explicit:
            section = data.get("tool", {}).get("stickyforensics")
            if section is None:
                continue
            return config_from_mapping(section, origin=f"{path} [tool.stickyforensics]"), str(path)
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("stickyforensics", {})
        return config_from_mapping(data, origin=str(path)), str(path)
    return Config(), None
