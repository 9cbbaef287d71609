"""The plain data model: frozen dataclasses, standard library only, no I/O."""

from stickyforensics.model.cookies import (
    ChangeMeaning,
    CookieEvent,
    CookieEventKind,
    CookiePair,
    CookieRole,
    MissingReason,
    PersistenceInfo,
    SetCookie,
)
from stickyforensics.model.diagnostics import DiagLevel, Diagnostic
from stickyforensics.model.findings import (
    Confidence,
    Evidence,
    Finding,
    FindingKind,
    Severity,
    finding_sort_key,
)
from stickyforensics.model.http import BODY_PREFIX_LIMIT, BodyInfo, Headers, Request, Response
from stickyforensics.model.pickling import pickle_by_fields
from stickyforensics.model.report import SCHEMA_VERSION, AnalysisReport, InputSummary, RuleRun
from stickyforensics.model.session import BackendObservation, ClientKey, ClientSession
from stickyforensics.model.transaction import Endpoint, Provenance, Timing, Transaction

__all__ = [
    "BODY_PREFIX_LIMIT",
    "SCHEMA_VERSION",
    "AnalysisReport",
    "BackendObservation",
    "BodyInfo",
    "ChangeMeaning",
    "ClientKey",
    "ClientSession",
    "Confidence",
    "CookieEvent",
    "CookieEventKind",
    "CookiePair",
    "CookieRole",
    "DiagLevel",
    "Diagnostic",
    "Endpoint",
    "Evidence",
    "Finding",
    "FindingKind",
    "Headers",
    "InputSummary",
    "MissingReason",
    "PersistenceInfo",
    "Provenance",
    "Request",
    "Response",
    "RuleRun",
    "SetCookie",
    "Severity",
    "Timing",
    "Transaction",
    "finding_sort_key",
]

pickle_by_fields(globals()[name] for name in __all__)
