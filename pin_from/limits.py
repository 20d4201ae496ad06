"""Defaults shared by the options and the HTTP session (kept light: read on every run)."""
from __future__ import annotations

DEFAULT_TIMEOUT = 10.0  # seconds: the deadline of one attempt of a request (--timeout)
RUN_CEILING_FACTOR = 12  # a run makes no request after 12 x --timeout (120 s by default)
