"""Official-images ``library/<name>`` files for a run: each fetched and parsed once, for both hooks."""
from __future__ import annotations

import _thread  # a lock without importing threading on every run
from typing import Union

from typing import Callable

from pin_from.errors import CacheMiss
from pin_from.errors import LibraryError
from pin_from.errors import PinFromError
from pin_from.errors import Unavailable
from pin_from.support import snapshot
from pin_from.support.library import Library
from pin_from.support.library import parse_library
from pin_from.support.sources import Fetcher
from pin_from.support.sources import is_url

Found = Union[Library, None, PinFromError]  # None: no such file (not an official image)


class NotInSnapshot(LibraryError):
    """The shipped snapshot has no file for the image: newer than the snapshot, or no longer
    official; either way not a verdict."""


class Libraries:
    """With ``fallback``, when the source (a URL) cannot be reached and nothing is cached, the shipped snapshot
    stands in (:mod:`pin_from.support.snapshot`), said once per run through ``note``, and the
    source is not asked again in this run."""

    def __init__(
            self, fetcher: Fetcher, url: str, note: Callable[[str], None] | None = None,
            shipped: Callable[[], snapshot.Snapshot | None] | None = None,  # default: snapshot.load
            fallback: bool = True,
    ) -> None:
        self._fallback = fallback
        self.fetcher = fetcher
        self.url = url
        self._note = note
        self._shipped = shipped
        self._lock = _thread.allocate_lock()
        self._locks: dict[str, _thread.LockType] = {}  # one per name: names are read concurrently
        self._found: dict[str, Found] = {}
        self.snapshot: snapshot.Snapshot | None = None  # set once the snapshot stands in
        self.from_snapshot: set[str] = set()

    def stale(self, name: str) -> bool:
        """Whether ``name``'s file came from a snapshot past its age: its findings are warnings."""
        return name in self.from_snapshot and self.snapshot is not None and self.snapshot.old()

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
            if self.snapshot is None:
                text = self.fetcher.get(self.url, name)
                return None if text is None else parse_library(name, text)
        except (Unavailable, CacheMiss) as e:
            if not self._fall_back(e):
                return e
        except PinFromError as e:
            return e
        return self._from_snapshot(name)

    def _fall_back(self, error: PinFromError) -> bool:
        """Whether the shipped snapshot stands in for the unreachable source (said once)."""
        if not self._fallback or not is_url(self.url):
            return False
        with self._lock:
            if self.snapshot is None:
                shipped = (self._shipped or snapshot.load)()
                if shipped is None:
                    return False
                self.snapshot = shipped
                if self._note is not None:
                    self._note(f'cannot read the official-images library ({error}); using {shipped.describe()}')
        return True

    def _from_snapshot(self, name: str) -> Found:
        assert self.snapshot is not None
        with self._lock:
            self.from_snapshot.add(name)
        text = self.snapshot.library(name)
        if text is None:
            return NotInSnapshot(
                f'library/{name} is not in the official-images snapshot of {self.snapshot.date}: not judged '
                '(an image newer than the snapshot, or one no longer official)')
        try:
            return parse_library(name, text)
        except PinFromError as e:
            return e
