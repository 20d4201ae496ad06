"""Memoised scans: a commit of unchanged, pinned Dockerfiles costs no lexing.

Keyed by the sha256 of a file's bytes and of the lexer's own source (so a new
pin-from never trusts an old lexer's answers), ``scans.json`` in the cache
holds the references of that content that still need pinning, usually none.
Only plain ``pin-from`` runs use it: ``-v`` needs the skips and ``--update``
the pinned references, so those scan every file.
"""
from __future__ import annotations

import hashlib
from typing import Any
from typing import Sequence

from pin_from import cli
from pin_from import dockerfile
from pin_from import reference
from pin_from.cache import Cache
from pin_from.errors import DockerfileError
from pin_from.errors import PinFromError
from pin_from.sites import Scan
from pin_from.sites import Site

_FORMAT = 1


def _scanner_id() -> str:
    h = hashlib.sha256(str(_FORMAT).encode())
    for module in (dockerfile, reference):
        with open(module.__file__ or '', 'rb') as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def key(scanner: str, data: bytes) -> str:
    return f'{scanner}:{hashlib.sha256(data).hexdigest()}'


def _from_memo(path: str, data: bytes, rows: list[Any]) -> cli.Loaded | None:
    """The memoised scan, or None when the entry does not fit the text exactly."""
    text = dockerfile.decode(data)
    try:
        sites = tuple(
            Site(line, start, end, tok, kind, reference.parse(tok))
            for line, start, end, tok, kind in rows
        )
    except (ValueError, TypeError, PinFromError):
        return None
    if not all(isinstance(s.start, int) and text[s.start:s.end] == s.text for s in sites):
        return None  # never splice at offsets that do not hold the token
    return cli.Loaded(path, data, text, Scan(sites, (), ()))


class Memo:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.scanner = _scanner_id()
        self.new: dict[str, list[Any]] = {}

    def load_pending(self, paths: Sequence[str]) -> tuple[list[cli.Loaded], int]:
        """The files that need pinning; problems printed; clean files dropped."""
        from pin_from import rewrite
        retv = 0
        pending = []
        for path in paths:
            try:
                data = rewrite.read(path)
                k = key(self.scanner, data)
                rows = self.cache.scan(k)
                memoised = None if rows is None else _from_memo(path, data, rows)
                if memoised is not None:
                    loaded = memoised
                else:
                    loaded = cli.load(path, data)
                    if cli.print_scan(loaded, verbose=False):
                        retv = 1
                        continue
                    self.new[k] = self.rows(loaded.scan)
            except DockerfileError as e:
                print(cli.file_error(path, e))
                retv = 1
                continue
            if loaded.scan.sites:
                pending.append(loaded)
        return pending, retv

    @staticmethod
    def rows(scan: Scan) -> list[Any]:
        return [
            [s.line, s.start, s.end, s.text, s.kind] for s in scan.sites if s.ref.digest is None
        ]

    def written(self, data: bytes) -> None:
        """Content pin-from just wrote with every reference pinned: clean."""
        self.new[key(self.scanner, data)] = []

    def save(self) -> None:
        self.cache.store_scans(self.new)
