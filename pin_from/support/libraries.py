"""Official-images ``library/<name>`` files for a run: each fetched and parsed once, for both hooks."""
from __future__ import annotations

import _thread  # a lock without importing threading on every run
from typing import Union

from pin_from.errors import PinFromError
from pin_from.support.library import Library
from pin_from.support.library import parse_library
from pin_from.support.sources import Fetcher

Found = Union[Library, None, PinFromError]  # None: no such file (not an official image)


class Libraries:
    def __init__(self, fetcher: Fetcher, url: str) -> None:
        self.fetcher = fetcher
        self.url = url
        self._lock = _thread.allocate_lock()
        self._locks: dict[str, _thread.LockType] = {}  # one per name: names are read concurrently
        self._found: dict[str, Found] = {}

    def get(self, name: str) -> Library | None:
        """``library/<name>``, parsed; None when there is no such file. Raises PinFromError
        (the same one for every caller of the run) when it cannot be read or parsed."""
        with self._lock:
            lock = self._locks.setdefault(name, _thread.allocate_lock())
        with lock:
            if name not in self._found:
                self._found[name] = self._read(name)
            found = self._found[name]
        if isinstance(found, PinFromError):
            raise found
        return found

    def _read(self, name: str) -> Found:
        try:
            text = self.fetcher.get(self.url, name)
            return None if text is None else parse_library(name, text)
        except PinFromError as e:
            return e
