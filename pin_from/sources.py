"""Text files from a base URL or a local directory, cached with revalidation.

Used for docker-library's ``library/<name>`` files and ``<name>/deprecated.md``
notices. Policy (see :mod:`pin_from.cache`): a copy younger than the TTL is used
without a request; an older one is revalidated with ``If-None-Match`` /
``If-Modified-Since`` (a 304 costs no body); if the server cannot be reached,
the stale copy is used with a one-line note; ``--offline`` uses only the cache.
A 404 is an answer ("absent") and is cached like a file.
"""
from __future__ import annotations

import os
import sys
from typing import NamedTuple

from pin_from.cache import Cache
from pin_from.errors import CacheMiss
from pin_from.errors import LibraryError

DEFAULT_LIBRARY_URL = 'https://raw.githubusercontent.com/docker-library/official-images/HEAD/library/'
DEFAULT_DOCS_URL = 'https://raw.githubusercontent.com/docker-library/docs/HEAD/'
DEFAULT_TTL = 24 * 60 * 60
MAX_SIZE = 8 * 1024 * 1024


class Policy(NamedTuple):
    ttl: float
    offline: bool
    timeout: float


class _Cached(NamedTuple):
    text: str | None  # None: the server said 404
    etag: str | None
    last_modified: str | None


def is_url(base: str) -> bool:
    return base.startswith(('http://', 'https://'))


def _join(base: str, relpath: str) -> str:
    return base.rstrip('/') + '/' + relpath


class Fetcher:
    """Thread-safe enough: one HTTP session, created on first network use."""

    def __init__(self, cache: Cache, policy: Policy) -> None:
        self.cache = cache
        self.policy = policy
        self._session: object | None = None

    def get(self, base: str, relpath: str) -> str | None:
        """The file's text, or None when it does not exist."""
        if not is_url(base):
            return _read_local(os.path.join(base, *relpath.split('/')))
        url = _join(base, relpath)
        key = f'url:{url}'
        found = self.cache.get(key)
        cached, age = (_Cached(*found[0]), found[1]) if found is not None else (None, 0.0)
        if cached is not None and (self.policy.offline or age <= self.policy.ttl):
            return cached.text
        if self.policy.offline:
            raise CacheMiss(f'{url} is not in the cache and --offline was given')
        try:
            fresh = self._download(url, cached)
        except LibraryError as e:
            if cached is None:
                raise
            print(f'check-deprecated-tags: {e}; using the cached copy', file=sys.stderr)
            return cached.text
        self.cache.set(key, tuple(fresh))
        return fresh.text

    def _download(self, url: str, cached: _Cached | None) -> _Cached:
        import requests
        if self._session is None:
            self._session = requests.Session()
        session: requests.Session = self._session  # type: ignore[assignment]
        headers = {}
        if cached is not None and cached.etag:
            headers['If-None-Match'] = cached.etag
        if cached is not None and cached.last_modified:
            headers['If-Modified-Since'] = cached.last_modified
        try:
            resp = session.get(url, headers=headers, timeout=self.policy.timeout)
        except requests.exceptions.RequestException:
            raise LibraryError(f'cannot fetch {url}') from None
        if resp.status_code == 304 and cached is not None:
            return cached
        if resp.status_code == 404:
            return _Cached(None, None, None)
        if resp.status_code != 200:
            raise LibraryError(f'{url} answered HTTP {resp.status_code}')
        if len(resp.content) > MAX_SIZE:
            raise LibraryError(f'{url} is too large')
        try:
            text = resp.content.decode('utf-8')
        except UnicodeDecodeError:
            raise LibraryError(f'{url} is not UTF-8') from None
        return _Cached(text, resp.headers.get('ETag'), resp.headers.get('Last-Modified'))


def _read_local(path: str) -> str | None:
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise LibraryError(f'cannot read {path}: {e.strerror}') from None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise LibraryError(f'{path} is not UTF-8') from None
