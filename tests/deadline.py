"""A hard time limit for tests of linear-time parsing: a regression fails, it does not hang."""
from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from types import FrameType

import pytest


class _TooSlow(Exception):
    pass


def _expire(signum: int, frame: FrameType | None) -> None:
    raise _TooSlow


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail the test if the block runs longer than ``seconds`` (SIGALRM, main thread)."""
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.alarm(seconds)
    start = time.monotonic()
    try:
        yield
    except _TooSlow:
        pytest.fail(f'still running after {seconds}s: super-linear again?', pytrace=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < seconds
