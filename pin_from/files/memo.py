"""Memoised scans: a commit of unchanged, pinned files costs no lexing.

Keyed by the sha256 of a file's bytes, its kind, and the source of the
scanner and the reference grammar (so a new pin-from never trusts an old
scanner's answers), ``scans.json`` in the cache holds the references of that
content that still need pinning, usually none. Only plain ``pin-from`` runs
use it: ``-v`` needs the skips and ``--update`` the pinned references, so
those scan every file. A memoised entry is input like any cached value: it is
used only if every row parses and its offsets hold exactly its token.
"""
from __future__ import annotations

import os
from typing import Union

from pin_from import kinds
from pin_from import steady
from pin_from.registry.cache import Cache
from pin_from.errors import PinFromError
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site

_FORMAT = 2


_sha256 = steady.sha256_hex  # CPython's own sha256 (3.12+: _sha2), never OpenSSL's on a steady run
Row = list[Union[int, str]]  # [line, start, end, text, kind]


def _scanner_id(kind: str) -> str:
    parts = [f'{_FORMAT}:{kind}'.encode()]
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # pin_from/
    for name in (kinds.KINDS[kind].module, *kinds.KINDS[kind].also, 'pin_from.reference', 'pin_from.kinds.sites'):
        # the scanner's source, found in the package without importing it (PyYAML)
        with open(os.path.join(package, *name.split('.')[1:]) + '.py', 'rb') as f:
            parts.append(f.read())
    return _sha256(b'\0'.join(parts))[:16]


def _site(row: object, text: str) -> Site | None:
    if not (isinstance(row, list) and len(row) == 5):
        return None
    line, start, end, token, kind = row
    if not (isinstance(line, int) and isinstance(start, int) and isinstance(end, int)
            and isinstance(token, str) and isinstance(kind, str)):
        return None
    if start < 0 or text[start:end] != token:
        return None  # never splice at offsets that do not hold the token
    from pin_from import reference  # only for files that still need pinning
    try:
        ref = reference.parse(token)
    except PinFromError:
        return None
    return Site(line, start, end, token, kind, ref)


def from_rows(rows: object, text: str) -> Scan | None:
    """The memoised scan, or None when the entry does not fit the text exactly."""
    if not isinstance(rows, list):
        return None
    sites = [_site(row, text) for row in rows]
    if any(s is None for s in sites):
        return None
    return Scan(tuple(s for s in sites if s is not None), (), ())


def rows(scan: Scan) -> list[Row]:
    return [[s.line, s.start, s.end, s.text, s.kind] for s in scan.sites if s.ref.digest is None]


class Memo:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._ids: dict[str, str] = {}
        self.new: dict[str, list[Row]] = {}

    def key(self, kind: str, data: bytes) -> str:
        if kind not in self._ids:
            self._ids[kind] = _scanner_id(kind)
        return f'{self._ids[kind]}:{_sha256(data)}'

    def recall(self, kind: str, data: bytes) -> object:
        """What is stored for this content: ``[]`` (known clean), rows (for :func:`from_rows`), or None."""
        return self.cache.scan(self.key(kind, data))

    def remember(self, kind: str, data: bytes, scan: Scan) -> None:
        """A fresh scan of this content (never one with problems)."""
        if not scan.problems and not any(s.form for s in scan.sites if s.ref.digest is None):
            self.new[self.key(kind, data)] = rows(scan)  # a reference in parts is not memoised until it is pinned

    def written(self, kind: str, data: bytes) -> None:
        """Content pin-from just wrote with every reference pinned: clean."""
        self.new[self.key(kind, data)] = []

    def save(self) -> None:
        self.cache.store_scans(self.new)
