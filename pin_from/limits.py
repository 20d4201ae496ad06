"""Defaults shared by the options and the HTTP session (kept light: read on every run)."""
from __future__ import annotations

DEFAULT_TIMEOUT = 10.0  # seconds: the deadline of one attempt of a request (--timeout)
RUN_CEILING_FACTOR = 12  # a run makes no request after 12 x --timeout (120 s by default)


def size_text(n: int) -> str:
    """A cap in the unit it was set in, as the README says it: 4 MiB, 32 MB, 64 KiB."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f'{n // (1024 * 1024)} MiB'
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f'{n // 1_000_000} MB'
    if n >= 1024 and n % 1024 == 0:
        return f'{n // 1024} KiB'
    return f'{n:,} bytes'
