"""What of the sessions each format renders beyond their summaries (``analyze(detail=..., cited=...)``).

With ``--jobs`` the report's sessions are summaries; a format that draws whole sessions (the HTML lanes) or
joins evidence with its transactions (``common.TxIndex``: HTML, Markdown, JUnit, SARIF) says what it reads,
and ``analyze`` loads that much. The CLI and the identity tests ask here, so both render the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stickyforensics.model.report import CitedWanted, DetailAsked


def sessions_wanted(fmt: str) -> tuple[DetailAsked | None, CitedWanted | None]:
    """(whole sessions, cited transactions) that the format ``fmt`` (``html``, ``sarif``...) renders."""
    if fmt == "html":
        from stickyforensics.report import html

        return html.clients_shown, html.cited
    if fmt == "markdown":
        from stickyforensics.report import markdown

        return None, markdown.cited
    if fmt == "junit":
        from stickyforensics.report import junit

        return None, junit.cited
    if fmt == "sarif":
        from stickyforensics.report import sarif

        return None, sarif.cited
    return None, None
