"""Text files from a base URL or a local directory, cached with revalidation.

Used for docker-library's ``library/<name>`` files and ``<name>/deprecated.md``
notices, and for endoflife.date's API answer (``--eol URL``), under the one
cache policy (:mod:`pin_from.registry.policy`): a copy younger
than the TTL is used without a request; an older one is revalidated with
``If-None-Match`` / ``If-Modified-Since`` (a 304 costs no body); if the server
cannot answer (unreachable, timeout, 429, 5xx) the stale copy stands in with a
note; ``--offline`` uses only the cache. A 404 is an answer ("absent") and is
cached like a file; a 401 or 403 is an error, never a reason to use a stale copy.
A local directory is checked once, before it is trusted to say "absent".
"""
from __future__ import annotations

import os
import re
from typing import Callable
from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from.registry import policy
from pin_from.registry.cache import Cache
from pin_from.errors import CacheMiss
from pin_from.errors import FileError
from pin_from.errors import LibraryError
from pin_from.errors import LibraryUnavailable
from pin_from.errors import UsageError
from pin_from.files.load import Missing
from pin_from.files.load import read_regular
from pin_from.registry.policy import Policy

if TYPE_CHECKING:
    from pin_from.registry.http import Http

DEFAULT_TTL = 24 * 60 * 60
MAX_SIZE = 8 * 1024 * 1024  # a library file (the largest today is about 60 KB)
_NAME_RE = re.compile(r'[a-z0-9][a-z0-9._-]*')
_HEADER_RE = re.compile(rb'^(Maintainers|GitRepo|Tags):', re.M)


class _Copy(NamedTuple):
    text: str | None  # None: the server said 404
    etag: str | None
    last_modified: str | None


def _valid_copy(value: object, cap: int = MAX_SIZE) -> bool:
    return (
        isinstance(value, list) and len(value) == 3
        and all(v is None or isinstance(v, str) for v in value)
        and (value[0] is None or len(value[0]) <= cap)
    )


def is_url(base: str) -> bool:
    return base.startswith(('http://', 'https://'))


def check_library_dir(base: str, option: str) -> None:
    """A local ``library/`` directory, or a usage error that says what it should be."""
    expect = 'the library/ folder of a clone of docker-library/official-images'
    if not os.path.isdir(base):
        raise UsageError(f'{option} {base}: no such directory (expected {expect})')
    if os.path.isdir(os.path.join(base, 'library')):
        raise UsageError(f'{option} {base}: this looks like the repository root; pass {os.path.join(base, "library")}')
    for name in sorted(os.listdir(base))[:400]:
        path = os.path.join(base, name)
        if _NAME_RE.fullmatch(name) and os.path.isfile(path) and _looks_like_library(path):
            return
    raise UsageError(f'{option} {base}: holds no official-images library files (expected {expect})')


def _looks_like_library(path: str) -> bool:
    try:
        return bool(_HEADER_RE.search(read_regular(path, MAX_SIZE)[:8192]))
    except FileError:
        return False


def check_docs_dir(base: str, option: str) -> None:
    expect = 'a clone of docker-library/docs, with <image>/deprecated.md files'
    if not os.path.isdir(base):  # an empty one is fine: no image has a notice
        raise UsageError(f'{option} {base}: no such directory (expected {expect})')


def _join(base: str, relpath: str) -> str:
    return base.rstrip('/') + '/' + relpath


class Fetcher:
    """Thread-safe enough: the HTTP session is the run's one, made on first use."""

    def __init__(self, cache: Cache, rules: Policy, http: Callable[[], Http], note: Callable[[str], None]) -> None:
        self.cache = cache
        self.rules = rules
        self._http = http
        self._note = note

    def get(self, base: str, relpath: str) -> str | None:
        """The file's text, or None when it does not exist."""
        if not is_url(base):
            return _read_local(os.path.join(base, *relpath.split('/')))
        return self.fetch(_join(base, relpath))

    def fetch(self, url: str, cap: int = MAX_SIZE) -> str | None:
        """The text at ``url`` (at most ``cap`` bytes) under the cache policy, or None on a 404."""
        key = f'url:{url}'
        found = self.cache.get(key, lambda value: _valid_copy(value, cap))
        cached = None if found is None else policy.Cached(_Copy(*found.value), found.age)
        fetched: list[_Copy] = []

        def fetch(stale: _Copy | None) -> _Copy:
            fetched.append(self._download(url, stale, cap))
            return fetched[-1]
        try:
            copy = policy.get(self.rules, cached, fetch, url, self._note)
        except CacheMiss as e:
            raise CacheMiss(f'{url}: {e}') from None
        if fetched:  # a new copy, or a stale one revalidated (304)
            self.cache.set(key, list(copy))
        return copy.text

    def _download(self, url: str, stale: _Copy | None, cap: int) -> _Copy:
        from pin_from.registry.http import BodyError
        from pin_from.registry.http import TransportError
        headers = {}
        if stale is not None and stale.etag:
            headers['If-None-Match'] = stale.etag
        if stale is not None and stale.last_modified:
            headers['If-Modified-Since'] = stale.last_modified
        try:
            resp = self._http().request('GET', url, headers=headers, cap=cap, follow=True)
        except TransportError as e:
            raise LibraryUnavailable(f'{url}: {e}') from None
        except BodyError as e:
            raise LibraryError(f'{url} answered {e}') from None
        if resp.status == 304 and stale is not None:
            return stale
        if resp.status == 404:
            return _Copy(None, None, None)
        if resp.status == 429 or resp.status >= 500:
            raise LibraryUnavailable(f'{url} answered HTTP {resp.status}')
        if resp.status != 200:
            raise LibraryError(f'{url} answered HTTP {resp.status}')
        try:
            text = resp.body.decode('utf-8')
        except UnicodeDecodeError:
            raise LibraryError(f'{url} is not UTF-8') from None
        return _Copy(text, _header(resp.header('ETag')), _header(resp.header('Last-Modified')))


def _header(value: str | None) -> str | None:
    """A validator worth sending back: short, printable."""
    if value is None or len(value) > 200 or not value.isprintable():
        return None
    return value


def _read_local(path: str) -> str | None:
    try:
        data = read_regular(path, MAX_SIZE)
    except Missing:
        return None
    except FileError as e:
        raise LibraryError(f'{path}: {e}') from None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise LibraryError(f'{path} is not UTF-8') from None
