"""The scan memo: unchanged, pinned files are not lexed again, and it never misleads."""
from __future__ import annotations

import json
import time

import pytest

from pin_from.kinds import dockerfile
from pin_from.files import memo
from pin_from import reference
from pin_from.registry.cache import Cache
from pin_from.registry.cache import SCANS_FILE
from pin_from.pin import main
from pin_from.registry.resolve import tag_key

D = 'sha256:' + 'c' * 64
SOURCE = 'FROM python:3.12 AS a\nRUN true\nFROM a\n'


@pytest.fixture
def cache_dir(tmp_path):
    directory = tmp_path / 'cache'
    Cache(str(directory)).store_tags({tag_key(reference.parse('python:3.12')): D})
    return directory


def pin(cache_dir, *args):
    return main(['--offline', '--cache-dir', str(cache_dir), *map(str, args)])


def no_lexing(monkeypatch):
    def boom(text):
        raise AssertionError('lexed')
    monkeypatch.setattr(dockerfile, 'scan', boom)


def test_pinned_file_is_not_lexed_again(cache_dir, tmp_path, monkeypatch):
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    assert pin(cache_dir, path) == 1
    assert path.read_text() == SOURCE.replace('python:3.12', f'python:3.12@{D}')
    no_lexing(monkeypatch)
    assert pin(cache_dir, path) == 0  # the content just written is known clean


def test_unpinned_file_is_pinned_from_the_memo(cache_dir, tmp_path, monkeypatch):
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    assert pin(cache_dir, '--check', path) == 1  # scans once, memoises the site
    no_lexing(monkeypatch)
    assert pin(cache_dir, path) == 1
    assert path.read_text() == SOURCE.replace('python:3.12', f'python:3.12@{D}')


@pytest.mark.parametrize(
    'rows',
    (
        [[1, 0, 10, 'python:3.12', 'from']],  # offsets that do not hold the token
        [[1, 5, 15, 'Python:3.12', 'from']],  # not a reference
        [[1, 5]],  # wrong shape
        'nonsense',
    ),
)
def test_a_memo_that_does_not_fit_is_ignored(cache_dir, tmp_path, rows):
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    key = memo.Memo(Cache(str(cache_dir))).key('dockerfile', SOURCE.encode())
    (cache_dir / SCANS_FILE).write_text(json.dumps({'version': 1, 'entries': {key: [rows, time.time()]}}))
    assert pin(cache_dir, path) == 1
    assert path.read_text() == SOURCE.replace('python:3.12', f'python:3.12@{D}')


def test_a_new_lexer_does_not_trust_old_entries(cache_dir, tmp_path, monkeypatch):
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    key = memo.Memo(Cache(str(cache_dir))).key('dockerfile', SOURCE.encode())
    (cache_dir / SCANS_FILE).write_text(json.dumps({'version': 1, 'entries': {key: [[], time.time()]}}))
    assert pin(cache_dir, path) == 0  # the memo says clean (a lie, for this test)
    monkeypatch.setattr(memo, '_scanner_id', lambda kind: 'another-lexer')
    assert pin(cache_dir, path) == 1  # another lexer version scans again
    assert f'python:3.12@{D}' in path.read_text()


def test_verbose_and_update_scan_every_file(cache_dir, tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text(SOURCE)
    assert pin(cache_dir, path) == 1
    capsys.readouterr()
    assert pin(cache_dir, '-v', path) == 0
    assert f'{path}:3: skipped a: an earlier build stage' in capsys.readouterr().out


def test_problems_are_reported_every_time(cache_dir, tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM Python:3\n')
    for _ in range(2):
        assert pin(cache_dir, path) == 3
        assert 'must be lowercase' in capsys.readouterr().out
