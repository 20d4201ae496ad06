"""A poisoned cache never runs code: nothing read from it is unpickled (issue 18, item 1).

The cache directory is input (CI restores it across branches). Each test warms
a real cache with a real run, then rewrites its rows as an attacker would (a
pickle whose ``__reduce__`` creates a marker, a file row naming a file outside,
hostile settings and triggers), and runs the hook again: the marker must never
appear, nothing outside the cache is touched, and the run still gives the
right answer.
"""
from __future__ import annotations

import os
import pickle
import sqlite3
import time
from pathlib import Path

import diskcache  # type: ignore[import-untyped]
import pytest

from pin_from.registry import store
from pin_from.registry.cache import Cache
from pin_from.check_deprecated_tags import main as check_main
from pin_from.pin import main
from tests.check_deprecated_tags_test import http_data  # noqa: F401 -- the fixture
from tests.registry_server import push_image

AMD64 = ('linux', 'amd64')
MODE_PICKLE = diskcache.core.MODE_PICKLE
MODE_BINARY = diskcache.core.MODE_BINARY


class Evil:
    """Unpickling this creates ``marker`` (a directory): proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return os.mkdir, (str(self.marker),)


def cache_dir() -> Path:
    return Path(os.environ['PIN_FROM_CACHE_DIR'])


def poison_every_row(directory: Path, marker: Path) -> int:
    """Every value row becomes a pickle that creates ``marker`` when loaded."""
    con = sqlite3.connect(directory / diskcache.core.DBNAME)
    n = con.execute(
        'UPDATE Cache SET mode = ?, filename = NULL, value = ?', (MODE_PICKLE, pickle.dumps(Evil(marker))),
    ).rowcount
    con.commit()
    con.close()
    return n


def test_a_poisoned_update_cache_runs_nothing_and_the_update_still_works(hub, tmp_path, capsys):
    marker = tmp_path / 'pwned'
    old = hub.push('python', '3.12-slim', env={'PYTHON_VERSION': '3.12.6'}, seed='a')
    new = hub.push('python', '3.12-slim', env={'PYTHON_VERSION': '3.12.7'}, seed='b')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM python:3.12-slim@{old}\n')
    assert hub.main('--update', '--check', path) == 1  # warms the manifests and configs of both
    assert poison_every_row(cache_dir(), marker) > 0
    capsys.readouterr()

    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, path) == 1
    assert not marker.exists()
    assert path.read_text() == f'FROM python:3.12-slim@{new}\n'
    assert '`PYTHON_VERSION` `3.12.6` → `3.12.7`' in report.read_text()  # asked again, not lost
    assert 'is invalid; ignored (asked again)' in capsys.readouterr().err


def test_a_poisoned_verify_cache_runs_nothing(registry, unique_repo, tmp_path, capsys):
    marker = tmp_path / 'pwned'
    digest = push_image(registry.url, unique_repo, 'v1', platforms=(AMD64,))
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{unique_repo}:v1@{digest}\n')
    assert main(['--verify', '--check', str(path)]) == 0  # caches "exists"
    assert poison_every_row(cache_dir(), marker) > 0
    assert main(['--verify', '--check', '-v', str(path)]) == 0
    assert not marker.exists()
    assert 'exists, and is what' in capsys.readouterr().out


def test_a_poisoned_library_cache_runs_nothing_on_a_commit(http_data, tmp_path, capsys):  # noqa: F811
    marker = tmp_path / 'pwned'
    url = f'{http_data.url}/current/library/'
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.7\n')
    args = ['--library-url', url, '--docs-url', f'{http_data.url}/extras/docs/', str(path)]
    assert check_main(args) == 1
    assert poison_every_row(cache_dir(), marker) > 0
    capsys.readouterr()
    assert check_main(args) == 1  # every commit reads the cache
    assert not marker.exists()
    assert "python:3.7 is no longer supported by the official image 'python'" in capsys.readouterr().out


def test_a_pickle_written_by_plain_diskcache_at_our_key_is_a_miss(tmp_path):
    """Whatever Disk wrote the row, the Disk that reads refuses the pickle mode."""
    marker = tmp_path / 'pwned'
    directory = tmp_path / 'cache'
    ours = Cache(str(directory))
    ours.set('exists:r/x@sha256:1', True)
    ours.close()
    plain = diskcache.Cache(str(directory))  # the default Disk: pickles
    plain.set('pin-from/2 exists:r/x@sha256:1', Evil(marker))
    plain.set(('pin-from/2', 'exists:r/x@sha256:1'), Evil(marker))  # a pickled key too
    plain.close()
    notes: list[str] = []
    again = Cache(str(directory), notes.append)
    assert again.get('exists:r/x@sha256:1', lambda v: v is True) is None
    again.set('exists:r/x@sha256:1', True)  # replaces the row
    assert again.get('exists:r/x@sha256:1', lambda v: v is True).value is True
    again.close()
    assert not marker.exists()
    assert len(notes) == 1 and 'is invalid; ignored' in notes[0]


def test_a_cache_of_the_old_format_is_a_miss_not_a_crash(tmp_path):
    """Version 1 stored pickled (1, key) tuples -> (value, time) tuples."""
    directory = tmp_path / 'cache'
    old = diskcache.Cache(str(directory))
    old.set((1, 'blob:sha256:ab'), (b'{}', time.time()))
    old.set((1, 'url:http://x/library/python'), (('text', None, None), time.time()))
    old.close()
    notes: list[str] = []
    cache = Cache(str(directory), notes.append)
    assert cache.get('blob:sha256:ab', lambda v: True) is None
    cache.set('blob:sha256:ab', b'{"a": 1}')
    assert cache.get('blob:sha256:ab', lambda v: isinstance(v, bytes)).value == b'{"a": 1}'
    assert notes == []


def test_a_row_naming_a_file_outside_is_neither_read_nor_deleted(tmp_path):
    outside = tmp_path / 'precious'
    outside.write_bytes(b'secret text')
    directory = tmp_path / 'cache'
    cache = Cache(str(directory))
    cache.set('blob:sha256:ab', b'x')
    cache.close()
    con = sqlite3.connect(directory / diskcache.core.DBNAME)
    assert con.execute(
        'UPDATE Cache SET mode = ?, filename = ?, value = NULL', (MODE_BINARY, str(outside)),
    ).rowcount == 1
    con.commit()
    con.close()
    cache = Cache(str(directory))
    assert cache.get('blob:sha256:ab', lambda v: True) is None  # not read
    cache.set('blob:sha256:ab', b'y')  # diskcache deletes the file of a replaced row
    assert cache.get('blob:sha256:ab', lambda v: True).value == b'y'
    cache.close()
    assert outside.read_bytes() == b'secret text'


@pytest.mark.parametrize('attack', (
    "INSERT INTO Settings VALUES ('sqlite_cache_size = 1; --', 'x y')",  # a PRAGMA diskcache would retry 60 s
    "UPDATE Settings SET value = 'x y' WHERE key = 'sqlite_cache_size'",
    "CREATE TRIGGER evil AFTER INSERT ON Cache BEGIN DELETE FROM Cache; END",
    "CREATE VIEW evil AS SELECT 1",
))
def test_a_database_with_foreign_settings_or_schema_is_bypassed_quickly(tmp_path, attack):
    directory = tmp_path / 'cache'
    cache = Cache(str(directory))
    cache.set('blob:sha256:ab', b'x')
    cache.close()
    con = sqlite3.connect(directory / diskcache.core.DBNAME)
    con.execute(attack)
    con.commit()
    con.close()
    notes: list[str] = []
    cache = Cache(str(directory), notes.append)
    started = time.monotonic()
    found = cache.get('blob:sha256:ab', lambda v: True)
    cache.set('blob:sha256:cd', b'y')
    assert time.monotonic() - started < 5
    cache.close()
    if 'UPDATE Settings' in attack:  # a known setting: pin-from's own value overrides it
        assert found is not None and notes == []
    else:
        assert found is None and len(notes) == 1 and 'continuing without it' in notes[0], notes


def test_the_allowed_schema_is_what_diskcache_creates(tmp_path):
    """An upgrade of diskcache that changes its schema fails here, not silently in every user's cache."""
    cache = Cache(str(tmp_path / 'c'))
    cache.set('k', b'v')
    cache.close()
    con = sqlite3.connect(tmp_path / 'c' / diskcache.core.DBNAME)
    made = {sql for sql, in con.execute('SELECT sql FROM sqlite_master WHERE sql IS NOT NULL')}
    assert made == store._SCHEMA
    assert {k for k, in con.execute('SELECT key FROM Settings')} <= store._KNOWN_SETTINGS


def test_the_disk_refuses_keys_and_values_that_are_not_plain(tmp_path):
    disk = store.BytesDisk(str(tmp_path))
    with pytest.raises(TypeError):
        disk.put(('a', 1))
    with pytest.raises(TypeError):
        disk.store({'a': 1}, False)
    assert disk.get(pickle.dumps(Evil(tmp_path / 'm')), False) is store.REFUSED
    for mode in (diskcache.core.MODE_PICKLE, diskcache.core.MODE_TEXT, diskcache.core.MODE_BINARY):
        assert disk.fetch(mode, None, pickle.dumps(Evil(tmp_path / 'm')), False) is store.REFUSED
    assert disk.fetch(diskcache.core.MODE_RAW, None, 'text', False) is store.REFUSED
    assert not (tmp_path / 'm').exists()
