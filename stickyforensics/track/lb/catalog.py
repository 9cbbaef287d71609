"""The cookie-family catalog: ``rules/cookies/families.yaml`` parsed and validated.

The catalog is data (reviewed like code): which cookie names belong to which
load balancer or framework, what a change of value means, which decoder reads
the value, and how to fix stickiness problems. This module only parses and
validates it; matching lives in ``classifier``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stickyforensics.errors import RuleLoadError
from stickyforensics.model import ChangeMeaning, CookieRole

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it: 10x faster on the catalogs."""

CONFIDENCES = ("low", "medium", "high")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_REQUIRED = ("id", "vendor", "role", "name_patterns", "change_meaning", "decoder", "remediation", "reference")
_OPTIONAL = (
    "value_patterns",
    "value_signatures",
    "exclude_names",
    "default_attributes",
    "notes",
    "confidence",
    "reference_only",
    "ordinary",
)


def _combine(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """``(?:a)|(?:b)``: ``fullmatch`` of the whole is true exactly when one of them fullmatches."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True, slots=True)
class CookieFamily:
    """One cookie family of the catalog; regexes are compiled once, at construction."""

    id: str
    """Stable id (``citrix-netscaler``, ``f5-bigip``...), used as ``PersistenceInfo.family``."""
    vendor: str
    role: CookieRole
    name_patterns: tuple[str, ...]
    """Anchored regexes (``^...$``) matched against the whole cookie name."""
    change_meaning: ChangeMeaning
    remediation: str
    """Short, per vendor: how to fix stickiness problems with this cookie."""
    reference: str
    """Section of ``persistence-cookies.md`` (or the seed) this entry comes from."""
    decoder: str | None = None
    """Name of a decoder in ``stickyforensics.track.lb.DECODERS``; None = opaque value."""
    value_patterns: tuple[str, ...] = ()
    """When set, the family applies only to values matching one of these (disambiguates shared names)."""
    value_signatures: tuple[str, ...] = ()
    """Value layouts strict enough to recognise the family under any (custom) cookie name."""
    exclude_names: tuple[str, ...] = ()
    """Names that match ``name_patterns`` but are not this family (``NSC_TMAA``...)."""
    default_attributes: tuple[tuple[str, str], ...] = ()
    notes: str = ""
    confidence: str = "high"
    """Cap on the confidence of anything this family reports (``medium`` for hypotheses)."""
    reference_only: bool = False
    """Documented for completeness (no recognisable name or value): never matched."""
    ordinary: bool = False
    """Known non-persistence cookies (analytics...): ``identify`` returns None for them."""
    name_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    value_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    signature_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    exclude_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One alternation per list: a single fullmatch per check on the hot path.
        object.__setattr__(self, "name_re", _combine(self.name_patterns))
        object.__setattr__(self, "value_re", _combine(self.value_patterns))
        object.__setattr__(self, "signature_re", _combine(self.value_signatures))
        object.__setattr__(self, "exclude_re", _combine(self.exclude_names))

    def matches_name(self, name: str) -> bool:
        """The whole name matches a name pattern and no exclusion."""
        if self.reference_only or self.name_re is None or self.name_re.fullmatch(name) is None:
            return False
        return self.exclude_re is None or self.exclude_re.fullmatch(name) is None

    def accepts_value(self, value: str) -> bool:
        """True when the family has no value restriction or the value matches one."""
        return self.value_re is None or self.value_re.fullmatch(value) is not None

    def has_signature(self, value: str) -> bool:
        """True when the value has one of the family's name-independent layouts."""
        return self.signature_re is not None and self.signature_re.fullmatch(value) is not None


class _EntryError(Exception):
    """One problem in one catalog entry (turned into ``RuleLoadError`` with file and entry)."""


def _str(entry: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _EntryError(f"'{key}' must be a non-empty string")
    return value.strip()


def _regexes(entry: Mapping[str, Any], key: str, *, anchored: bool) -> tuple[str, ...]:
    value = entry.get(key, [])
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _EntryError(f"'{key}' must be a list of regex strings")
    for pattern in value:
        if anchored and not (pattern.startswith("^") and pattern.endswith("$")):
            raise _EntryError(f"'{key}' pattern {pattern!r} must be anchored with ^ and $")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _EntryError(f"'{key}' pattern {pattern!r} does not compile: {exc}") from None
    return tuple(value)


def _attributes(entry: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = entry.get("default_attributes") or {}
    if not isinstance(value, dict):
        raise _EntryError("'default_attributes' must be a mapping")
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str | int | bool):
            raise _EntryError("'default_attributes' must map names to strings, numbers or booleans")
        pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return tuple(pairs)


def _flag(entry: Mapping[str, Any], key: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise _EntryError(f"'{key}' must be true or false")
    return value


def _family(entry: Any, decoders: Collection[str]) -> CookieFamily:
    if not isinstance(entry, dict):
        raise _EntryError("entry must be a mapping")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise _EntryError(f"missing key(s): {', '.join(missing)}")
    unknown_keys = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown_keys:
        raise _EntryError(f"unknown key(s): {', '.join(map(str, unknown_keys))}")
    family_id = _str(entry, "id")
    if _ID.fullmatch(family_id) is None:
        raise _EntryError(f"id {family_id!r} must be lower-case letters, digits and '-'")
    try:
        role = CookieRole(entry["role"])
    except ValueError:
        raise _EntryError(f"role must be one of {', '.join(r.value for r in CookieRole)}") from None
    try:
        change = ChangeMeaning(entry["change_meaning"])
    except ValueError:
        raise _EntryError(f"change_meaning must be one of {', '.join(c.value for c in ChangeMeaning)}") from None
    decoder = entry["decoder"]
    if decoder is not None and (not isinstance(decoder, str) or decoder not in decoders):
        raise _EntryError(f"decoder {decoder!r} is not in the decoder registry")
    confidence = entry.get("confidence", "high")
    if confidence not in CONFIDENCES:
        raise _EntryError(f"confidence must be one of {', '.join(CONFIDENCES)}")
    name_patterns = _regexes(entry, "name_patterns", anchored=True)
    signatures = _regexes(entry, "value_signatures", anchored=False)
    reference_only = _flag(entry, "reference_only")
    if signatures and decoder is None:
        raise _EntryError("value_signatures need a decoder (the decoder confirms the layout)")
    if not name_patterns and not signatures and not reference_only:
        raise _EntryError("needs name_patterns or value_signatures (or reference_only: true)")
    return CookieFamily(
        id=family_id,
        vendor=_str(entry, "vendor"),
        role=role,
        name_patterns=name_patterns,
        change_meaning=change,
        remediation=_str(entry, "remediation"),
        reference=_str(entry, "reference"),
        decoder=decoder,
        value_patterns=_regexes(entry, "value_patterns", anchored=False),
        value_signatures=signatures,
        exclude_names=_regexes(entry, "exclude_names", anchored=True),
        default_attributes=_attributes(entry),
        notes=_str(entry, "notes", required=False),
        confidence=confidence,
        reference_only=reference_only,
        ordinary=_flag(entry, "ordinary"),
    )


def parse_families(data: Any, source: str, decoders: Collection[str]) -> tuple[CookieFamily, ...]:
    """Validate parsed YAML (a list of entries) into families; ``RuleLoadError`` names file and entry."""
    if not isinstance(data, list) or not data:
        raise RuleLoadError(f"{source}: the family catalog must be a non-empty list of entries")
    families: list[CookieFamily] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        label = f"entry {index}"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label += f" ({entry['id']})"
        try:
            family = _family(entry, decoders)
        except _EntryError as exc:
            raise RuleLoadError(f"{source}: {label}: {exc}") from None
        if family.id in seen:
            raise RuleLoadError(f"{source}: {label}: duplicate id {family.id!r}")
        seen.add(family.id)
        families.append(family)
    return tuple(families)


def read_families(path: Path, decoders: Collection[str]) -> tuple[CookieFamily, ...]:
    """Read and validate one catalog file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleLoadError(f"{path}: cannot read the cookie family catalog: {exc}") from None
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise RuleLoadError(f"{path}: invalid YAML: {exc}") from None
    return parse_families(data, str(path), decoders)
