"""Which family a cookie belongs to and what its value reveals: the hot path of cookie tracking.

``identify`` runs for every cookie of every request of million-packet captures,
so regexes are compiled once (in ``CookieFamily``), the per-name part (which
families may apply, user declarations, the ordinary-cookie list) is cached per
name, and whole answers are cached per ``(name, value)`` in bounded LRU caches.

Order of decisions for one cookie:

0. names on the catalog's ordinary list (analytics...) are not classified at all;
1. the catalog, by name: the first family whose name patterns match and whose
   value patterns (when it has any) match too; names shared by several families
   (``route``, ``JSESSIONID``) are told apart by the value;
2. for unknown names, name-independent value signatures (a custom-named
   NetScaler or BIG-IP cookie, an Envoy address...);
3. the user's declarations (``routing`` / ``session``), which also override the
   role found in 1 or 2;
4. heuristics on the name and value (``low`` confidence);
5. otherwise None: an ordinary cookie.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import lru_cache

from stickyforensics.errors import ConfigError
from stickyforensics.model import ChangeMeaning, CookieRole, PersistenceInfo
from stickyforensics.track.lb import heuristics
from stickyforensics.track.lb.catalog import CONFIDENCES, CookieFamily
from stickyforensics.track.memo import IdentityMemo, Memo

DecodeFn = Callable[[str, str], PersistenceInfo]
"""A decoder: ``(cookie name, value) -> PersistenceInfo``; must not raise on any input."""

VALUE_CACHE_SIZE = 65536
NAME_CACHE_SIZE = 8192
SHARED_ANSWERS = 4096
"""How many distinct answers are shared at most (bounded: emptied when full)."""
_MAX_VALUE = 8192
"""Longer values are not decoded (no LB writes them); they are reported as ``unknown``."""
_RECOGNISED = frozenset({"decoded", "encrypted", "opaque"})
_PRINTABLE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_DECLARED_ROLES = {"routing": CookieRole.ROUTING, "session": CookieRole.SESSION}


def _cap(confidence: str, cap: str) -> str:
    """The lower of two confidence levels."""
    a = CONFIDENCES.index(confidence) if confidence in CONFIDENCES else 0
    return CONFIDENCES[min(a, CONFIDENCES.index(cap))]


def _join(note: str | None, extra: str) -> str:
    return f"{note}; {extra}" if note else extra


_OPAQUE_NOTES = {
    ChangeMeaning.BACKEND_CHANGE: "opaque value, stable per backend: tracked by equality",
    ChangeMeaning.ROTATES: "the value changes on every response: a change is not a backend change",
}


def _stamp(
    family: CookieFamily,
    status: str,
    got: PersistenceInfo | None = None,
    *,
    confidence: str = "low",
    note: str | None = None,
) -> PersistenceInfo:
    """A result carrying the catalog's id/vendor/role/change meaning and, if given, a decoder's findings."""
    if got is None:
        return _plain(family.id, family.vendor, family.role, family.change_meaning, status, confidence, note)
    if (
        note is None
        and got.confidence == confidence
        and got.family == family.id
        and got.vendor == family.vendor
        and got.role is family.role
        and got.change_meaning is family.change_meaning
    ):
        return got  # the decoder already said what the catalog says: skip a second construction
    return PersistenceInfo(
        family=family.id,
        vendor=family.vendor,
        role=family.role,
        status=status,
        backend=got.backend,
        datacenter=got.datacenter,
        change_meaning=family.change_meaning,
        decoded=got.decoded,
        discloses_internal_address=got.discloses_internal_address,
        confidence=confidence,
        note=note if note is not None else got.note,
    )


@lru_cache(maxsize=1024)
def _plain(
    family: str,
    vendor: str,
    role: CookieRole,
    change: ChangeMeaning,
    status: str,
    confidence: str,
    note: str | None,
) -> PersistenceInfo:
    """A result with no backend or decoded content: shared, since it is immutable."""
    return PersistenceInfo(
        family=family,
        vendor=vendor,
        role=role,
        status=status,
        change_meaning=change,
        confidence=confidence,
        note=note,
    )


class Classifier:
    """The classification engine; the public ``CookieClassifier`` supplies catalog and decoders."""

    def __init__(
        self,
        families: Iterable[CookieFamily],
        declared: Mapping[str, str] | None,
        decoders: Mapping[str, DecodeFn],
        *,
        cache_size: int = VALUE_CACHE_SIZE,
    ) -> None:
        self.families = tuple(families)
        self._decoders = dict(decoders)
        for family in self.families:
            if family.decoder is not None and family.decoder not in self._decoders:
                raise ConfigError(f"cookie family {family.id!r} names unknown decoder {family.decoder!r}")
        self._matchable = tuple(f for f in self.families if not f.reference_only)
        self._signature_families = tuple(
            f for f in self._matchable if f.signature_re is not None and f.decoder is not None and not f.ordinary
        )
        self._any_signature = re.compile(
            "|".join(f"(?:{p})" for f in self._signature_families for p in f.value_signatures) or "(?!)"
        )
        """One pass that rejects values no signature can match (most values of unknown cookies)."""
        self._declared_exact: dict[str, CookieRole] = {}
        self._declared_res: list[tuple[re.Pattern[str], CookieRole]] = []
        for key, role_text in (declared or {}).items():
            role = _DECLARED_ROLES.get(str(role_text).strip().lower())
            if role is None:
                raise ConfigError(f"cookie {key!r}: declared role must be 'routing' or 'session', not {role_text!r}")
            if key.startswith("re:"):
                try:
                    self._declared_res.append((re.compile(key[3:]), role))
                except re.error as exc:
                    raise ConfigError(f"cookie declaration {key!r}: invalid regex: {exc}") from None
            else:
                self._declared_exact[key] = role
        self._by_name = lru_cache(maxsize=NAME_CACHE_SIZE)(self._name_facts)
        self._cached = lru_cache(maxsize=cache_size)(self._classify_shared)
        self._shared: Memo[PersistenceInfo, PersistenceInfo] = Memo(SHARED_ANSWERS)
        """One object per distinct answer (a capture's many session cookie values have a handful)."""
        self._opaque: IdentityMemo[CookieFamily, PersistenceInfo] = IdentityMemo(SHARED_ANSWERS)
        """``_for_family``'s answer for a printable value of a family without decoder whose value
        changes do not mean a backend change (it does not depend on the value)."""
        self._canonical: IdentityMemo[PersistenceInfo, PersistenceInfo] = IdentityMemo(SHARED_ANSWERS)
        """``_shared``'s object per answer object already looked up: the catalog's value-independent
        answers come back as the same object (``_plain``), and hashing every field costs more."""

    # -- public -------------------------------------------------------------------------------

    def identify(self, name: str, value: str) -> PersistenceInfo | None:
        """What this cookie is, or None for an ordinary cookie. Never raises on any text."""
        if not isinstance(name, str) or not isinstance(value, str):
            return None
        return self._cached(name, value)

    def cache_clear(self) -> None:
        self._by_name.cache_clear()
        self._cached.cache_clear()
        self._shared.clear()
        self._canonical.cache_clear()
        self._opaque.cache_clear()

    # -- per name ---------------------------------------------------------------------------

    def _name_facts(self, name: str) -> tuple[tuple[CookieFamily, ...], bool, CookieRole | None]:
        """(families whose name patterns match, ordinary?, declared role)."""
        matching = tuple(f for f in self._matchable if f.matches_name(name))
        ordinary = any(f.ordinary for f in matching)
        candidates = tuple(f for f in matching if not f.ordinary)
        declared = self._declared_exact.get(name)
        if declared is None:
            for pattern, role in self._declared_res:
                if pattern.search(name):
                    declared = role
                    break
        return candidates, ordinary, declared

    # -- per (name, value) ------------------------------------------------------------------------

    def _classify_shared(self, name: str, raw_value: str) -> PersistenceInfo | None:
        """``_classify``, its equal answers shared: every event and session of a client holds them,
        and ``--jobs`` pickles each distinct object once (a worker's views: ~1400 -> 5 objects)."""
        info = self._classify(name, raw_value)
        if info is None:
            return None
        known = self._canonical.entry(info)
        if known is not None:
            return known[1]
        return self._canonical.remember(info, self._shared.one(info))

    def _classify(self, name: str, raw_value: str) -> PersistenceInfo | None:
        value = raw_value.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        candidates, ordinary, declared = self._by_name(name)
        if ordinary and declared is None:
            return None
        info: PersistenceInfo | None = None
        for candidate in candidates:
            if candidate.accepts_value(value):
                info = self._for_family(candidate, name, value)
                break
        else:
            info = self._by_signature(name, value)
        if declared is not None:
            return self._declare(info, declared, value)
        if info is not None:
            return info
        if not value or len(value) > _MAX_VALUE:
            return None
        return heuristics.classify(name, value)

    def _decode(self, decoder: str, name: str, value: str) -> PersistenceInfo:
        """Run one decoder inside an error boundary (decoders are total; this is the safety net)."""
        try:
            return self._decoders[decoder](name, value)
        except Exception as exc:  # a decoder bug must not stop a capture analysis
            return PersistenceInfo(
                family="unknown",
                vendor="unknown",
                role=CookieRole.OTHER,
                status="unknown",
                confidence="low",
                note=f"decoder {decoder!r} failed: {type(exc).__name__}",
            )

    def _for_family(self, family: CookieFamily, name: str, value: str) -> PersistenceInfo:
        """Decode ``value`` as ``family`` and stamp the catalog's facts on the result.

        Results are built with direct constructor calls (no ``dataclasses.replace``):
        this runs once per distinct cookie value of a capture.
        """
        if not value:
            return _stamp(family, "unknown", note="empty value (the cookie is being cleared)")
        if len(value) > _MAX_VALUE or _PRINTABLE.fullmatch(value) is None:
            return _stamp(family, "unknown", note="value is too long or has control characters")
        if family.decoder is not None:
            got = self._decode(family.decoder, name, value)
            return _stamp(family, got.status, got, confidence=_cap(got.confidence, family.confidence))
        if family.role is CookieRole.ROUTING and family.change_meaning is ChangeMeaning.BACKEND_CHANGE:
            found = self._sniff(name, value)
            if found is not None:
                got = found[1]
                return _stamp(
                    family,
                    got.status,
                    got,
                    confidence=_cap(got.confidence, family.confidence),
                    note=_join(got.note, f"value has the {got.vendor} layout"),
                )
        if family.change_meaning is not ChangeMeaning.BACKEND_CHANGE:
            # the same answer for every value (a CSRF token, a rotating id): built once per family
            known = self._opaque.entry(family)
            if known is not None:
                return known[1]
            note = _OPAQUE_NOTES.get(family.change_meaning)
            return self._opaque.remember(family, _stamp(family, "opaque", confidence=family.confidence, note=note))
        note = _OPAQUE_NOTES.get(family.change_meaning)
        return PersistenceInfo(
            family=family.id,
            vendor=family.vendor,
            role=family.role,
            status="opaque",
            backend=value,
            change_meaning=family.change_meaning,
            confidence=family.confidence,
            note=note,
        )

    def _sniff(self, name: str, value: str) -> tuple[CookieFamily, PersistenceInfo] | None:
        """The first signature family whose layout this value has and whose decoder accepts it."""
        if len(value) < 8 or len(value) > _MAX_VALUE or self._any_signature.fullmatch(value) is None:
            return None
        for family in self._signature_families:
            if family.has_signature(value):
                info = self._for_family(family, name, value)
                if info.status in _RECOGNISED:
                    return family, info
        return None

    def _by_signature(self, name: str, value: str) -> PersistenceInfo | None:
        """Recognise a known value layout under an unknown name (custom ``-cookieName``...)."""
        found = self._sniff(name, value)
        if found is None:
            return None
        family, info = found
        return replace(
            info,
            confidence=_cap(info.confidence, "medium"),
            note=_join(info.note, f"custom cookie name, recognised as {family.id} by its value layout"),
        )

    def _declare(self, info: PersistenceInfo | None, role: CookieRole, value: str) -> PersistenceInfo:
        """Apply a user declaration: the role is the user's, decoding is kept where there was one."""
        note = f"declared {role.value} cookie (configuration)"
        if role is CookieRole.SESSION:
            if info is None:
                return PersistenceInfo(
                    family="declared-session",
                    vendor="user declaration",
                    role=role,
                    status="opaque" if value else "unknown",
                    change_meaning=ChangeMeaning.SESSION_RENEWED,
                    note=note,
                )
            return replace(info, role=role, change_meaning=ChangeMeaning.SESSION_RENEWED, note=_join(info.note, note))
        if info is None:
            return PersistenceInfo(
                family="declared-routing",
                vendor="user declaration",
                role=role,
                status="opaque" if value else "unknown",
                backend=value or None,
                change_meaning=ChangeMeaning.BACKEND_CHANGE,
                note=_join(note, "opaque value tracked by equality") if value else note,
            )
        if info.change_meaning is ChangeMeaning.ROTATES:
            return replace(info, role=role, note=_join(info.note, note))
        backend = info.backend
        if backend is None and info.status in _RECOGNISED:
            backend = value
        return replace(
            info, role=role, backend=backend, change_meaning=ChangeMeaning.BACKEND_CHANGE, note=_join(info.note, note)
        )
