"""Load-balancer and session cookie families: the catalog, the value decoders and the classifier.

Public API:

* ``load_families(path=None)`` reads ``rules/cookies/families.yaml`` (validated);
* ``CookieClassifier(families=None, declared=None).identify(name, value)`` says what a
  cookie is (``PersistenceInfo``) or None for ordinary cookies;
* ``describe(text)`` splits pasted ``NAME=VALUE`` / ``Cookie:`` / ``Set-Cookie:`` text
  and identifies each cookie (the ``stickyforensics decode`` command);
* ``DECODERS``: the explicit decoder registry the catalog's ``decoder`` names refer to.

Decoders are plain functions listed here by hand: importing a module never
registers anything, so what runs is exactly what this file shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from stickyforensics.model import PersistenceInfo
from stickyforensics.resources import rules_dir
from stickyforensics.track.lb import (
    a10,
    akamai,
    apache,
    aws,
    barracuda,
    envoy,
    f5,
    gclb,
    generic,
    haproxy,
    ingress_nginx,
    java,
    netscaler,
    nginx_sticky,
    radware,
    tengine,
    traefik,
    vtm,
)
from stickyforensics.track.lb.catalog import CookieFamily, read_families
from stickyforensics.track.lb.classifier import Classifier, DecodeFn
from stickyforensics.track.lb.describe import split_cookie_text

DECODERS: Mapping[str, DecodeFn] = MappingProxyType(
    {
        "netscaler": netscaler.decode,
        "f5_bigip": f5.decode,
        "a10": a10.decode,
        "radware_alteon": radware.decode,
        "barracuda": barracuda.decode,
        "haproxy": haproxy.decode,
        "java_session": java.decode,
        "apache_balancer": apache.decode,
        "akamai": akamai.decode,
        "envoy": envoy.decode,
        "ingress_nginx": ingress_nginx.decode,
        "traefik": traefik.decode,
        "tengine": tengine.decode,
        "gclb": gclb.decode,
        "nginx_sticky": nginx_sticky.decode,
        "vtm": vtm.decode,
        "aws_alb": aws.decode,
        "label": generic.decode,
    }
)
"""Decoder name (as written in the catalog) -> ``decode(name, value) -> PersistenceInfo``."""


def default_catalog_path() -> Path:
    """``rules/cookies/families.yaml`` of the installed catalog."""
    return rules_dir() / "cookies" / "families.yaml"


def load_families(path: Path | None = None) -> tuple[CookieFamily, ...]:
    """Read and validate a family catalog (default: the shipped one).

    Raises ``RuleLoadError`` naming the file and the entry when the data is invalid.
    """
    return read_families(path if path is not None else default_catalog_path(), DECODERS.keys())


class CookieClassifier(Classifier):
    """Identify persistence and session cookies from the catalog plus user declarations.

    ``declared`` maps a cookie name (or ``re:<regex>``) to ``routing`` or ``session``,
    from user configuration; a bad declaration raises ``ConfigError``.
    """

    def __init__(
        self,
        families: tuple[CookieFamily, ...] | None = None,
        declared: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(families if families is not None else _shipped_families(), declared, DECODERS)


@lru_cache(maxsize=1)
def _shipped_families() -> tuple[CookieFamily, ...]:
    return load_families()


@lru_cache(maxsize=1)
def _default_classifier() -> CookieClassifier:
    return CookieClassifier()


def describe(text: str, classifier: CookieClassifier | None = None) -> list[tuple[str, str, PersistenceInfo | None]]:
    """``(name, value, info)`` for every cookie in ``NAME=VALUE``, ``Cookie:`` or ``Set-Cookie:`` text."""
    engine = classifier if classifier is not None else _default_classifier()
    return [(name, value, engine.identify(name, value)) for name, value in split_cookie_text(text)]


__all__ = [
    "DECODERS",
    "CookieClassifier",
    "CookieFamily",
    "DecodeFn",
    "default_catalog_path",
    "describe",
    "load_families",
]
