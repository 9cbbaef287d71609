"""stickyforensics: find out why users of load-balanced web applications are randomly logged out.

The supported Python API::

    from stickyforensics import analyze, Config
    report = analyze(["capture.pcap", "browser.har"], Config())
    for finding in report.findings:
        print(finding.rule, finding.kind, finding.client, finding.message)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from stickyforensics.config import Config
    from stickyforensics.model import AnalysisReport, Finding
    from stickyforensics.pipeline import EngineOptions

__all__ = ["AnalysisReport", "Config", "EngineOptions", "Finding", "__version__", "analyze", "load_config"]


def __getattr__(name: str) -> Any:
    # Lazy: `import stickyforensics` stays cheap (no scapy, no rule loading) for the CLI's --help.
    if name in ("analyze", "EngineOptions"):
        from stickyforensics import pipeline

        return getattr(pipeline, name)
    if name in ("Config", "load_config"):
        from stickyforensics import config

        return getattr(config, name)
    if name in ("AnalysisReport", "Finding"):
        from stickyforensics import model

        return getattr(model, name)
    raise AttributeError(name)
