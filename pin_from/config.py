"""The configuration file: ``[tool.pin-from]`` in ``pyproject.toml``, or top-level tables in ``.pin-from.toml``.

Found upwards from the current directory (in each directory ``.pin-from.toml`` first, then a
``pyproject.toml`` that has a ``[tool.pin-from]`` table), or named by ``--config FILE``. Keys are
the long option names of the hooks; what they mean and how they are checked is
:mod:`pin_from.options`' business: this module reads the file and hands over its raw values.

- ``[tool.pin-from.kinds]`` (a table) maps globs to kinds; ``kinds = ["compose"]`` (a list or a
  string) is the ``--kinds`` filter.
- ``[[tool.pin-from.signatures]]`` rules are passed, as tables, to the signature policy's loader.

The file is input like any other: read with a size cap, decoded strictly, and any error names the
file (and the key).
"""
from __future__ import annotations

import os
from typing import Any
from typing import Mapping
from typing import NamedTuple

from pin_from.errors import UsageError

NAMES = ('.pin-from.toml', 'pyproject.toml')
SECTION = 'pin-from'  # [tool.pin-from] in pyproject.toml
MAX_CONFIG = 1 << 20


class Config(NamedTuple):
    path: str | None  # None: no configuration file
    values: Mapping[str, object]  # long option name -> its TOML value, unchecked
    kinds: Mapping[str, str]  # glob -> kind ([tool.pin-from.kinds])
    signatures: tuple[Mapping[str, object], ...]  # [[tool.pin-from.signatures]], unparsed

    @property
    def directory(self) -> str:
        """Where relative paths in the file start: the file's directory."""
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()


NONE = Config(None, {}, {}, ())


def find(start: str) -> str | None:
    """The nearest configuration file at or above ``start``."""
    here = os.path.abspath(start)
    while True:
        for name in NAMES:
            path = os.path.join(here, name)
            if os.path.isfile(path) and (name != 'pyproject.toml' or _mentions_us(path)):
                return path
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _mentions_us(path: str) -> bool:
    """Cheap: most pyproject.toml files say nothing of pin-from, and are not parsed."""
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_CONFIG + 1)
    except OSError:
        return False
    if b'pin-from' not in data:
        return False
    return _section(path, _parse(path, data)) is not None


def load(path: str | None) -> Config:
    """The configuration in ``path`` (``--config``), else the one found from the current directory."""
    if path is None:
        path = find(os.getcwd())
        if path is None:
            return NONE
    elif not os.path.isfile(path):
        raise UsageError(f'--config {path}: no such file')
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_CONFIG + 1)
    except OSError as e:
        raise UsageError(f'{path}: cannot read: {(e.strerror or str(e)).lower()}') from None
    table = _section(path, _parse(path, data))
    return _config(path, table or {})


def _parse(path: str, data: bytes) -> dict[str, Any]:
    if len(data) > MAX_CONFIG:
        raise UsageError(f'{path}: larger than {MAX_CONFIG >> 20} MiB')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise UsageError(f'{path}: not UTF-8') from None
    toml = _toml()
    try:
        parsed: dict[str, Any] = toml.loads(text)
    except toml.TOMLDecodeError as e:
        raise UsageError(f'{path}: not valid TOML: {e}') from None
    return parsed


def _toml() -> Any:
    import sys
    if sys.version_info >= (3, 11):
        import tomllib
        return tomllib
    else:  # the same parser, before it joined the standard library
        import tomli
        return tomli


def _section(path: str, parsed: dict[str, Any]) -> dict[str, Any] | None:
    """``[tool.pin-from]`` of a pyproject.toml; the whole file otherwise."""
    if os.path.basename(path) != 'pyproject.toml':
        return parsed
    tool = parsed.get('tool')
    section = tool.get(SECTION) if isinstance(tool, dict) else None
    if section is not None and not isinstance(section, dict):
        raise UsageError(f'{path}: tool.{SECTION} must be a table')
    return section


def _config(path: str, table: dict[str, Any]) -> Config:
    values = dict(table)
    kinds: dict[str, str] = {}
    if isinstance(values.get('kinds'), dict):
        for glob, kind in values.pop('kinds').items():
            if not isinstance(kind, str):
                raise UsageError(f'{path}: kinds: {glob!r} must name a kind (a string)')
            kinds[glob] = kind
        from pin_from import kinds as known
        try:
            known.check_overrides(kinds, f'{path}: kinds')
        except ValueError as e:
            raise UsageError(str(e)) from None
    signatures = values.pop('signatures', [])
    if not (isinstance(signatures, list) and all(isinstance(s, dict) for s in signatures)):
        raise UsageError(f'{path}: signatures: expected [[signatures]] tables')
    return Config(path, values, kinds, tuple(signatures))
