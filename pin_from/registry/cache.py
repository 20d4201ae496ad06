"""The on-disk cache: what is stored, for how long, and how it is checked.

When a stored answer is used is decided in one place, :mod:`pin_from.registry.policy`
(fresh, stale-if-unavailable, offline, refresh). What is stored:

- tag -> digest answers, with the time they were fetched, in one small JSON
  file, ``tags.json``, read with a single ``open``: a commit whose answers are
  all fresh never imports diskcache (sqlite), which alone costs more than
  starting Python. Kept :data:`KEEP_TAGS` seconds so that an unavailable
  registry can fall back to them. It is replaced atomically; concurrent
  writers merge what they read, and the worst a race can do is lose an answer,
  to be asked again.
- ``scans.json`` memoises, per file content (sha256), kind and scanner source,
  the references that still need pinning, so a commit of unchanged files
  reads and hashes them instead of scanning them. Content with nothing left
  to pin (the steady state) is listed apart, in ``clean.json``: one string of
  keys per day, so a run over 10,000 pinned files parses a few strings, not
  tens of thousands of JSON objects, and never reads scans.json. Entries are
  dropped after 30 days and recomputed on demand.
- In diskcache: content addressed by digest (manifests, configs, attestation
  statements), which never expires; library files and notices with their
  validators (ETag, Last-Modified) so a stale copy is revalidated cheaply;
  existence answers of ``--verify``; first sightings of digests (``--min-age``).
- No credential or token is ever written here.

Nothing read from the cache is unpickled, keys or values: the diskcache
store (:mod:`pin_from.registry.store`) holds str keys and bytes values only, each a
stored time and JSON or raw bytes that are parsed and validated here; a row
in any other form (a pickle, a file, an older pin-from's format) is a miss.

Everything read back is input (CI restores caches across branches): every
value is checked by its accessor (``valid``), every time must be finite and
not in the future, and a bad entry is a miss with one note. A cache that
cannot be opened or read (corrupt, unwritable) is reported once, in words,
and bypassed: the run goes on as if the cache were empty.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any
from typing import Callable

from pin_from import steady
from pin_from.registry.policy import Cached
from pin_from.reference import DIGEST_RE

DEFAULT_TTL = 6 * 60 * 60
KEEP_TAGS = 30 * 24 * 60 * 60
TAGS_FILE = steady.TAGS_FILE  # 'tags.json': the steady record keeps which version of it a --check used
SCANS_FILE = 'scans.json'
CLEAN_FILE = 'clean.json'
DAY = 24 * 60 * 60
KEEP_SCANS = 30 * 24 * 60 * 60
MAX_MAP = 64 * 1024 * 1024  # a larger tags.json, scans.json or clean.json is not believed
CLOCK_SKEW = 5 * 60  # an entry stored later than now + this is not believed
_VERSION = 1
_STORE_KEY = 'pin-from/2 '  # the diskcache keys' prefix (version 1 used pickled tuples)
MAX_STORED = 64 * 1024 * 1024  # a larger diskcache value is not believed


def _believable(stored_at: object, now: float) -> bool:
    return (
        isinstance(stored_at, (int, float)) and not isinstance(stored_at, bool)
        and math.isfinite(stored_at) and 0 <= stored_at <= now + CLOCK_SKEW
    )


def _is_time(value: object) -> bool:
    return _believable(value, time.time())


def _why(e: BaseException, directory: str | None) -> str:
    """An OS or database failure in words."""
    if isinstance(e, PermissionError):
        return f'cache directory {directory} is not writable or readable'
    if isinstance(e, OSError) and e.strerror:
        return f'cache directory {directory} cannot be used: {e.strerror.lower()}'
    return f'cache directory {directory} is corrupt or unreadable'


def _no_note(text: str) -> None:
    """The default: a cache made without a note sink stays silent."""


def _encode(value: Any, stored_at: float) -> bytes:
    """``b'<time> b\\n<bytes>'`` or ``b'<time> j\\n<JSON>'``: plain data only."""
    if isinstance(value, bytes):
        return b'%r b\n' % stored_at + value
    import json
    return b'%r j\n' % stored_at + json.dumps(value, allow_nan=False, separators=(',', ':')).encode()


def _decode(found: object) -> tuple[Any, float] | None:
    """``(value, stored_at)`` from what :func:`_encode` made; None if it is anything else."""
    if not isinstance(found, bytes) or len(found) > MAX_STORED:
        return None  # a refused row (pickle, file, older format) too
    head, sep, body = found.partition(b'\n')
    parts = head.split(b' ')
    if not sep or len(parts) != 2 or len(head) > 40 or not head.isascii():
        return None
    try:
        stored_at = float(parts[0])
    except ValueError:
        return None
    if parts[1] == b'b':
        return body, stored_at
    if parts[1] != b'j':
        return None
    from pin_from import untrusted_json
    try:
        return untrusted_json.loads(body, MAX_STORED), stored_at
    except untrusted_json.JSONInputError:
        return None


class Cache:
    """A small facade over :mod:`diskcache`, opened lazily.

    Every value read back is checked (``valid``) and every time must be a
    believable one: a cache is restored across CI branches and is input like
    any other. A bad entry is a miss, with one note per run.
    """

    def __init__(self, directory: str | None, note: Callable[[str], None] = _no_note) -> None:
        self.directory = directory
        self._note = note
        self._store: Any = None
        self._broken = directory is None
        self._tags: dict[str, tuple[Any, float]] | None = None
        self._scans: dict[str, tuple[Any, float]] | None = None
        self._clean: dict[str, int] | None = None
        self._maps_broken = False
        self._said_bad = False
        self.versions: dict[str, str] = {}  # file name -> which version of it was read or written last

    def _open(self) -> Any:
        if self._store is None and not self._broken:
            try:
                from pin_from.registry.store import open_store
                self._store = open_store(str(self.directory))
            except Exception as e:  # noqa: BLE001 -- any failure (an unsafe database too): bypass
                self._disable(e)
        return self._store

    def _report(self, e: BaseException) -> None:
        if not (self._broken or self._maps_broken):  # once per run
            self._note(f'{_why(e, self.directory)}; continuing without it')

    def _bad_entry(self, key: str) -> None:
        if not self._said_bad:
            self._said_bad = True
            self._note(f'cache entry {key[:80]!r} in {self.directory} is invalid; ignored (asked again)')

    def _disable(self, e: BaseException) -> None:
        self._report(e)
        self._broken = True
        self._store = None

    def get(self, key: str, valid: Callable[[Any], bool]) -> Cached[Any] | None:
        """The stored value and its age, if it passes ``valid``.

        A value is bytes or plain JSON data (see :meth:`set`); nothing is
        unpickled, whatever the row says.
        """
        store = self._open()
        if store is None:
            return None
        try:
            found = store.get(_STORE_KEY + key)
        except Exception as e:  # noqa: BLE001
            self._disable(e)
            return None
        if found is None:
            return None
        now = time.time()
        decoded = _decode(found)
        if decoded is None or not (_believable(decoded[1], now) and valid(decoded[0])):
            self._bad_entry(key)
            return None
        return Cached(decoded[0], max(0.0, now - decoded[1]))

    def first_seen(self, digest_key: str) -> float | None:
        """When pin-from first saw a digest (``registry/repo@digest``), as a time."""
        found = self.get(f'seen:{digest_key}', _is_time)
        return None if found is None else float(found.value)

    def saw(self, digest_keys: list[str], when: float | None = None) -> None:
        """Record the first sighting of each digest (kept if already recorded)."""
        now = time.time() if when is None else when
        for key in digest_keys:
            if self.first_seen(key) is None:
                self.set(f'seen:{key}', now)

    def set(self, key: str, value: Any) -> None:
        store = self._open()
        if store is None:
            return
        try:
            store.set(_STORE_KEY + key, _encode(value, time.time()))
        except Exception as e:  # noqa: BLE001
            self._disable(e)

    # small JSON maps, read whole with one open: the hot path

    def _load_json(self, name: str) -> Any:
        """``name`` parsed; None if absent, too large or broken (reported once)."""
        if self.directory is None:
            return None
        from pin_from import untrusted_json
        try:
            with open(os.path.join(self.directory, name), 'rb') as f:
                data = f.read(MAX_MAP + 1)
                self.versions[name] = steady.identity(os.fstat(f.fileno()))
            return untrusted_json.loads(data, MAX_MAP)
        except FileNotFoundError:
            return None
        except (OSError, untrusted_json.JSONInputError) as e:
            self._report(e)
            self._maps_broken = True
            return None

    def _write_json(self, name: str, value: dict[str, Any]) -> None:
        """Replace ``name`` atomically with ``value`` as JSON."""
        if self.directory is None:
            return
        import json
        import tempfile
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f'.{name}-', dir=self.directory)
            with os.fdopen(fd, 'w') as f:
                json.dump(value, f, separators=(',', ':'))
                f.flush()
                written = steady.identity(os.fstat(f.fileno()))
            os.replace(tmp, os.path.join(self.directory, name))
            self.versions[name] = written
        except OSError as e:
            self._report(e)
            self._maps_broken = True

    def _read_map(self, name: str) -> dict[str, tuple[Any, float]]:
        """``name``'s entries: key -> (value, stored_at); {} if absent or broken.

        Entries with an unbelievable time are dropped here; values are checked
        by the accessor that knows their kind.
        """
        raw = self._load_json(name)
        if raw is None or isinstance(raw, dict) and raw.get('version') != _VERSION:
            return {}  # absent, or another version's format: asked again
        if not isinstance(raw, dict) or not isinstance(raw.get('entries'), dict):
            self._report(ValueError(f'{name} has the wrong shape'))
            self._maps_broken = True
            return {}
        now = time.time()
        entries = {}
        for k, v in raw['entries'].items():
            if isinstance(v, list) and len(v) == 2 and _believable(v[1], now):
                entries[str(k)] = (v[0], float(v[1]))
            else:
                self._bad_entry(str(k))
        return entries

    def _merge_map(self, name: str, new: dict[str, Any], keep: float) -> dict[str, tuple[Any, float]]:
        """Merge ``new`` into ``name`` (dropping entries older than ``keep`` s)."""
        now = time.time()
        merged = self._read_map(name)
        merged.update((k, (v, now)) for k, v in new.items())
        merged = {k: v for k, v in merged.items() if now - v[1] < keep}
        if new:
            self._write_json(name, {'version': _VERSION, 'entries': {k: list(v) for k, v in merged.items()}})
        return merged

    def _read_clean(self) -> dict[str, int]:
        """``clean.json``: memo key -> the day it was stored; {} if absent or broken.

        Its format, ``{"version": 1, "days": {"<day>": "<key> <key> ..."}}``,
        makes one string per day, not objects per key: read whole on every
        run, it must stay small when a repository has 10,000 files.
        """
        raw = self._load_json(CLEAN_FILE)
        if not isinstance(raw, dict) or raw.get('version') != _VERSION or not isinstance(raw.get('days'), dict):
            return {}
        now = time.time()
        clean: dict[str, int] = {}
        for day, keys in raw['days'].items():
            usable = day.isascii() and day.isdigit() and len(day) <= 9 and isinstance(keys, str)
            if usable and _believable(int(day) * DAY, now):
                clean.update(dict.fromkeys(keys.split(), int(day)))
            else:
                self._bad_entry(str(day))
        return clean

    def _merge_clean(self, keys: list[str]) -> dict[str, int]:
        """Add ``keys`` to clean.json as of today (dropping days older than KEEP_SCANS)."""
        today = int(time.time() // DAY)
        merged = self._read_clean()
        merged.update(dict.fromkeys(keys, today))
        days: dict[int, list[str]] = {}
        for key, day in merged.items():
            if (today - day) * DAY < KEEP_SCANS:
                days.setdefault(day, []).append(key)
        self._write_json(CLEAN_FILE, {'version': _VERSION, 'days': {str(d): ' '.join(k) for d, k in days.items()}})
        return {k: d for d, ks in days.items() for k in ks}

    def tag(self, key: str) -> Cached[str] | None:
        """The digest a tag named, and its age; only a well-formed digest."""
        if self._tags is None:
            self._tags = self._read_map(TAGS_FILE)
        found = self._tags.get(key)
        if found is None:
            return None
        if not isinstance(found[0], str) or not DIGEST_RE.fullmatch(found[0]):
            self._bad_entry(key)
            return None
        return Cached(found[0], max(0.0, time.time() - found[1]))

    def store_tags(self, answers: dict[str, str]) -> None:
        """Merge fresh answers into tags.json (atomically replaced)."""
        self._tags = self._merge_map(TAGS_FILE, answers, KEEP_TAGS)

    def scan(self, key: str) -> list[Any] | None:
        """A memoised scan result (see pin_from.files.memo), or None.

        Clean content (nothing left to pin, the steady state) is looked up in
        clean.json first; scans.json, with the references still to pin, is
        read only when a file is not known clean.
        """
        if self._clean is None:
            self._clean = self._read_clean()
        if key in self._clean:
            return []
        if self._scans is None:
            self._scans = self._read_map(SCANS_FILE)
        found = self._scans.get(key)
        return found[0] if found is not None and isinstance(found[0], list) else None

    def store_scans(self, scans: dict[str, list[Any]]) -> None:
        clean = [k for k, rows in scans.items() if rows == []]
        if clean:
            self._clean = self._merge_clean(clean)
        dirty = {k: rows for k, rows in scans.items() if rows != []}
        if dirty:
            self._scans = self._merge_map(SCANS_FILE, dirty, KEEP_SCANS)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
