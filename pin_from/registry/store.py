"""The diskcache store under :mod:`pin_from.registry.cache`, made safe to read.

A cache directory is input: CI restores it across branches, and anyone who
can write it can write any row. diskcache's own :class:`diskcache.Disk`
unpickles every row whose stored mode says "pickle", whichever ``Disk`` wrote
it, and every key that is not a str, bytes, int or float; it opens files a
row names, deletes them when a row is replaced or culled, and feeds the
values of its ``Settings`` table into ``PRAGMA`` statements. So:

- :class:`BytesDisk` stores and returns bytes only, always inside the sqlite
  row (never a file). Keys must be str. A row in any other mode (pickle,
  file, text), or with a value that is not bytes, is read as :data:`REFUSED`;
  a pickled key is never unpickled; a file a row names is never opened or
  removed unless it is where diskcache itself would have put one.
- :func:`check_database` refuses a database whose schema or settings are
  not ones diskcache writes, and puts pin-from's values back into the known
  settings, before diskcache opens it.

What the bytes mean (a stored time and JSON or raw content) is
:mod:`pin_from.registry.cache`'s business; they are parsed and validated there.
"""
from __future__ import annotations

import os
import re
from typing import Any

import diskcache  # type: ignore[import-untyped]
from diskcache.core import MODE_RAW  # type: ignore[import-untyped]

REFUSED = object()  # what a row pin-from would not have written reads as

# Every setting diskcache keeps, with pin-from's values: passed on open, they
# override whatever a restored database says (diskcache feeds sqlite_* values
# into PRAGMA statements).
SETTINGS: dict[str, Any] = {
    'statistics': 0,
    'tag_index': 0,
    'eviction_policy': 'least-recently-stored',
    'size_limit': 2 ** 30,
    'cull_limit': 10,
    'sqlite_auto_vacuum': 1,
    'sqlite_cache_size': 2 ** 13,
    'sqlite_journal_mode': 'wal',
    'sqlite_mmap_size': 2 ** 26,
    'sqlite_synchronous': 1,
    'disk_min_file_size': 2 ** 62,  # never a file: every value lives in its row
    'disk_pickle_protocol': 0,  # unused: nothing is pickled
}
_KNOWN_SETTINGS = frozenset(SETTINGS) | frozenset(diskcache.core.METADATA)
# What diskcache creates (see store_test: a fresh database has exactly these)
_SCHEMA = frozenset({
    'CREATE TABLE Settings ( key TEXT NOT NULL UNIQUE, value)',
    'CREATE TABLE Cache ( rowid INTEGER PRIMARY KEY, key BLOB, raw INTEGER, store_time REAL, expire_time REAL, '
    'access_time REAL, access_count INTEGER DEFAULT 0, tag BLOB, size INTEGER DEFAULT 0, mode INTEGER DEFAULT 0, '
    'filename TEXT, value BLOB)',
    'CREATE UNIQUE INDEX Cache_key_raw ON Cache(key, raw)',
    'CREATE INDEX Cache_expire_time ON Cache (expire_time)',
    'CREATE INDEX Cache_store_time ON Cache (store_time)',
    'CREATE TRIGGER Settings_count_insert AFTER INSERT ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = '
    'value + 1 WHERE key = "count"; END',
    'CREATE TRIGGER Settings_count_delete AFTER DELETE ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = '
    'value - 1 WHERE key = "count"; END',
    'CREATE TRIGGER Settings_size_insert AFTER INSERT ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = '
    'value + NEW.size WHERE key = "size"; END',
    'CREATE TRIGGER Settings_size_update AFTER UPDATE ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = '
    'value + NEW.size - OLD.size WHERE key = "size"; END',
    'CREATE TRIGGER Settings_size_delete AFTER DELETE ON Cache FOR EACH ROW BEGIN UPDATE Settings SET value = '
    'value - OLD.size WHERE key = "size"; END',
})
_OWN_FILE = re.compile(r'[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{28}\.val')  # diskcache's own file names


class UnsafeDatabase(Exception):
    """The cache database holds a schema or a setting diskcache never writes."""


class BytesDisk(diskcache.Disk):  # type: ignore[misc, unused-ignore]  # diskcache is untyped
    """A :class:`diskcache.Disk` that stores and returns bytes, and unpickles nothing."""

    def put(self, key: object) -> tuple[str, bool]:
        if type(key) is not str:
            raise TypeError('cache keys are str')
        return key, True

    def get(self, key: object, raw: bool) -> object:
        if not raw or type(key) is not str:
            return REFUSED  # a pickled (or foreign) key: never unpickled
        return key

    def store(self, value: object, read: bool, key: object = None) -> tuple[int, int, None, bytes]:
        if read or type(value) is not bytes:
            raise TypeError('cache values are bytes')
        return len(value), MODE_RAW, None, value

    def fetch(self, mode: int, filename: object, value: object, read: bool) -> object:
        if read or mode != MODE_RAW or filename is not None or type(value) is not bytes:
            return REFUSED
        return value

    def remove(self, file_path: str) -> None:
        # a row's file name is input: delete only a file where diskcache puts its own
        if not (isinstance(file_path, str) and _OWN_FILE.fullmatch(file_path)):
            return
        root = os.path.realpath(self._directory)
        if os.path.realpath(os.path.join(root, file_path)).startswith(root + os.sep):
            super().remove(file_path)


def check_database(directory: str) -> None:
    """Raise :class:`UnsafeDatabase` unless the database in ``directory``
    (if any) holds only what diskcache writes; reset its settings to
    :data:`SETTINGS`. sqlite errors propagate."""
    import sqlite3
    path = os.path.join(directory, diskcache.core.DBNAME)
    if not os.path.exists(path):
        return
    con = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        for kind, name, sql in con.execute('SELECT type, name, sql FROM sqlite_master'):
            automatic = kind == 'index' and sql is None and str(name).startswith('sqlite_autoindex_')
            if not automatic and sql not in _SCHEMA:
                raise UnsafeDatabase(f'unexpected {kind} {str(name)[:40]!r}')
        try:
            stored = dict(con.execute('SELECT key, value FROM Settings').fetchall())
        except sqlite3.OperationalError:
            stored = {}  # no Settings table yet: diskcache creates it
        unknown = [k for k in stored if k not in _KNOWN_SETTINGS]
        if unknown:
            raise UnsafeDatabase(f'unexpected setting {str(unknown[0])[:40]!r}')
        for key, value in SETTINGS.items():  # diskcache runs the stored sqlite_* values as PRAGMAs
            if key in stored and stored[key] != value:
                con.execute('UPDATE Settings SET value = ? WHERE key = ?', (value, key))
    finally:
        con.close()


def open_store(directory: str) -> Any:
    """A :class:`diskcache.Cache` in ``directory`` that reads and writes bytes only."""
    check_database(directory)
    return diskcache.Cache(directory, timeout=10, disk=BytesDisk, **SETTINGS)
