"""Sanitized HAR files that can be shared and still analysed with the same findings.

``sanitize_har`` rewrites a HAR; ``export_capture`` turns a capture's HTTP exchanges into HAR,
sanitized by default. Secrets become keyed pseudonyms that keep equality (the same value gets
the same pseudonym across the file and across runs with the same key) and the value's shape, so
cookie sizes, cookie classification, value changes and request targets read as before.

Modules, one concern each:

* ``shape`` / ``pseudonym``: shape-keeping keyed pseudonyms (HMAC-SHA256; short values permuted);
* ``values``: every replacement, counted (``stats``) and remembered for the ``sweep``;
* ``cookies``, ``urls``, ``headers``, ``bodies``: the field rules;
* ``entry``: one HAR entry through the rules; ``har_io``: streamed reading, atomic writing;
* ``harfile``: a HAR file; ``export`` / ``capture``: a capture as HAR entries / files;
* ``options``: the key, the analysis configuration, whether backends are hidden.

docs/sanitize.md says what is replaced, what is kept and why.
"""

from stickyforensics.sanitize.capture import ExportResult, export_capture
from stickyforensics.sanitize.harfile import sanitize_har
from stickyforensics.sanitize.options import SanitizeOptions
from stickyforensics.sanitize.stats import SanitizeStats

__all__ = ["ExportResult", "SanitizeOptions", "SanitizeStats", "export_capture", "sanitize_har"]
