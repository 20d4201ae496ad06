"""One library fetch per run, for both hooks: each library/<name> is read and parsed once."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pin_from.errors import LibraryUnavailable
from pin_from.registry.cache import Cache
from pin_from.registry.policy import Policy
from pin_from.support.libraries import Libraries
from pin_from.support.sources import Fetcher
from tests.data import OFFICIAL_IMAGES

LIBRARY = str(OFFICIAL_IMAGES / 'current' / 'library')


class Counting(Fetcher):
    def __init__(self, cache: Cache) -> None:
        super().__init__(cache, Policy(0), self._no_http, lambda note: None)
        self.asked: list[str] = []

    @staticmethod
    def _no_http():
        raise AssertionError('a directory source makes no request')

    def get(self, base, name):
        self.asked.append(name)
        time.sleep(0.05)  # a slow source: concurrent callers overlap
        if name == 'down':
            raise LibraryUnavailable('mirror.example: did not answer in time')
        return super().get(base, name)


def test_each_library_file_is_read_once_however_many_ask(tmp_path):
    fetcher = Counting(Cache(str(tmp_path / 'cache')))
    libraries = Libraries(fetcher, LIBRARY)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(libraries.get, ['python', 'alpine', 'python', 'nosuchimage'] * 8))
    assert sorted(set(fetcher.asked)) == ['alpine', 'nosuchimage', 'python']
    assert sorted(fetcher.asked) == ['alpine', 'nosuchimage', 'python']  # once each
    assert found[0] is found[2] and found[0] is not None and found[0].name == 'python'
    assert found[3] is None  # no such file: not an official image


def test_a_failure_is_read_once_and_raised_to_every_caller(tmp_path):
    fetcher = Counting(Cache(str(tmp_path / 'cache')))
    libraries = Libraries(fetcher, LIBRARY)
    for _ in range(3):
        with pytest.raises(LibraryUnavailable, match='did not answer'):
            libraries.get('down')
    assert fetcher.asked == ['down']
