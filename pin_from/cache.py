"""The on-disk cache, with an explicit policy.

Policy:
- tag -> digest answers are stored with the time they were fetched and are
  *fresh* for ``--cache-ttl`` seconds (default :data:`DEFAULT_TTL`); a fresh
  answer means no request at all. Stale answers are kept so that a failing
  network can fall back to them (stale-if-error), with a note.
- Content addressed by digest (manifests, config blobs) never expires.
- Library files and notices are stored with their validators (ETag,
  Last-Modified) so a stale copy is revalidated cheaply.
- No credential or token is ever written here.

A cache that cannot be opened or read (corrupt, unwritable) is reported once
and bypassed: the run goes on as if the cache were empty.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any

DEFAULT_TTL = 6 * 60 * 60
_VERSION = 1


def default_dir() -> str:
    """``$PIN_FROM_CACHE_DIR``, else ``$XDG_CACHE_HOME/pin-from``, else ``~/.cache/pin-from``."""
    explicit = os.environ.get('PIN_FROM_CACHE_DIR')
    if explicit:
        return explicit
    xdg = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
    return os.path.join(xdg, 'pin-from')


class Cache:
    """A small facade over :mod:`diskcache`, opened lazily."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self._store: Any = None
        self._broken = directory is None

    def _open(self) -> Any:
        if self._store is None and not self._broken:
            try:
                import diskcache  # type: ignore[import-untyped]
                self._store = diskcache.Cache(self.directory, timeout=10)
            except Exception as e:  # noqa: BLE001 -- any failure: bypass
                self._disable(e)
        return self._store

    def _disable(self, e: BaseException) -> None:
        if not self._broken:
            print(
                f'pin-from: cache at {self.directory} is unusable '
                f'({type(e).__name__}); continuing without it',
                file=sys.stderr,
            )
        self._broken = True
        self._store = None

    def get(self, key: str) -> tuple[Any, float] | None:
        """(value, age in seconds) or None."""
        store = self._open()
        if store is None:
            return None
        try:
            found = store.get((_VERSION, key))
        except Exception as e:  # noqa: BLE001
            self._disable(e)
            return None
        if not isinstance(found, tuple) or len(found) != 2:
            return None
        value, stored_at = found
        return value, max(0.0, time.time() - stored_at)

    def set(self, key: str, value: Any) -> None:
        store = self._open()
        if store is None:
            return
        try:
            store.set((_VERSION, key), (value, time.time()))
        except Exception as e:  # noqa: BLE001
            self._disable(e)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
