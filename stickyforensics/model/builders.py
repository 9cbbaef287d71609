"""The transaction's model objects built by ``frozen_build.builder``, once for every module that makes them.

Each takes every field positionally, in declaration order (the class's own field list): the HAR reader,
the HTTP/1 reconstructor and the ``--jobs`` views make one set per transaction.
"""

from __future__ import annotations

from stickyforensics.model.frozen_build import builder
from stickyforensics.model.http import BodyInfo, Headers, Request, Response
from stickyforensics.model.transaction import Provenance, Timing, Transaction

new_headers = builder(Headers)
new_body_info = builder(BodyInfo)
new_request = builder(Request)
new_response = builder(Response)
new_timing = builder(Timing)
new_provenance = builder(Provenance)
new_transaction = builder(Transaction)
