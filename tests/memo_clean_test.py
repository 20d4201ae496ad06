"""clean.json: the steady state's memo stays small and is read without scans.json."""
from __future__ import annotations

import json
import time

from pin_from.registry import cache as cache_mod
from pin_from.kinds import dockerfile
from pin_from.files import memo
from pin_from import reference
from pin_from.registry.cache import Cache
from pin_from.registry.cache import CLEAN_FILE
from pin_from.registry.cache import DAY
from pin_from.registry.cache import KEEP_SCANS
from pin_from.registry.cache import SCANS_FILE
from pin_from.pin import main
from pin_from.registry.resolve import tag_key

D = 'sha256:' + 'c' * 64
SOURCE = 'FROM python:3.12 AS a\nRUN true\nFROM a\n'
PINNED = SOURCE.replace('python:3.12', f'python:3.12@{D}')


def _cache(tmp_path):
    directory = tmp_path / 'cache'
    Cache(str(directory)).store_tags({tag_key(reference.parse('python:3.12')): D})
    return directory


def pin(cache_dir, *args):
    return main(['--offline', '--cache-dir', str(cache_dir), *map(str, args)])


def _key(cache_dir, text):
    return memo.Memo(Cache(str(cache_dir))).key('dockerfile', text.encode())


def test_written_content_is_listed_clean_by_day(tmp_path):
    cache_dir = _cache(tmp_path)
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    assert pin(cache_dir, path) == 1
    raw = json.loads((cache_dir / CLEAN_FILE).read_text())
    assert raw == {'version': 1, 'days': {str(int(time.time() // DAY)): _key(cache_dir, PINNED)}}
    scans = json.loads((cache_dir / SCANS_FILE).read_text())['entries']
    assert _key(cache_dir, SOURCE) in scans  # the unpinned content, with its site
    assert _key(cache_dir, PINNED) not in scans


def test_a_steady_run_reads_neither_scans_json_nor_lexes(tmp_path, monkeypatch):
    cache_dir = _cache(tmp_path)
    path = tmp_path / 'Dockerfile'
    path.write_text(PINNED)
    assert pin(cache_dir, path) == 0  # lexed once, listed clean
    read = []
    real = Cache._read_map

    def read_map(self, name):
        read.append(name)
        return real(self, name)
    monkeypatch.setattr(Cache, '_read_map', read_map)
    monkeypatch.setattr(dockerfile, 'scan', lambda text: (_ for _ in ()).throw(AssertionError('lexed')))
    assert pin(cache_dir, path) == 0
    assert SCANS_FILE not in read


def test_expired_and_unbelievable_days_are_dropped(tmp_path):
    cache_dir = _cache(tmp_path)
    path = tmp_path / 'Dockerfile'
    path.write_text(PINNED)
    today = int(time.time() // DAY)
    old = today - KEEP_SCANS // DAY - 1
    days = {str(old): 'stale-key', str(today + 100): _key(cache_dir, PINNED), '\u00b2': 'x'}
    (cache_dir / CLEAN_FILE).write_text(json.dumps({'version': 1, 'days': days}))
    c = Cache(str(cache_dir))
    assert c.scan(_key(cache_dir, PINNED)) is None  # a day in the future is not believed
    c.store_scans({'new-key': []})
    assert json.loads((cache_dir / CLEAN_FILE).read_text())['days'] == {str(today): 'new-key'}


def test_a_broken_clean_json_is_a_miss_not_a_failure(tmp_path, capsys):
    cache_dir = _cache(tmp_path)
    (cache_dir / CLEAN_FILE).write_text('{"version": 1, "days": ')
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    assert pin(cache_dir, path) == 1
    assert path.read_text() == PINNED
    assert 'corrupt or unreadable' in capsys.readouterr().err


def test_clean_keys_cost_one_string_per_day(tmp_path):
    c = Cache(str(tmp_path))
    keys = [f'{i:016x}:{i:064x}' for i in range(2000)]
    c.store_scans(dict.fromkeys(keys, []))
    raw = json.loads((tmp_path / CLEAN_FILE).read_text())
    assert len(raw['days']) == 1 and len(next(iter(raw['days'].values())).split()) == 2000
    fresh = Cache(str(tmp_path))
    assert all(fresh.scan(k) == [] for k in keys[:50])
    assert fresh.scan('0' * 16 + ':' + 'f' * 64) is None
    assert cache_mod.CLEAN_FILE == 'clean.json'


def test_a_hostile_clean_json_is_a_miss_not_a_crash(tmp_path):
    """A day of 5,000 digits (Python refuses to convert it) or a list where a string belongs."""
    import json
    from pin_from.registry.cache import CLEAN_FILE, Cache
    directory = tmp_path / 'cache'
    directory.mkdir()
    (directory / CLEAN_FILE).write_text(json.dumps({'version': 1, 'days': {'9' * 5000: 'k1', '1': ['k2']}}))
    notes: list[str] = []
    cache = Cache(str(directory), notes.append)
    assert cache.scan('k1') is None and cache.scan('k2') is None
    assert len(notes) == 1 and 'is invalid; ignored' in notes[0]
