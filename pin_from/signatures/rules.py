"""The signature policy: which images must be signed, and by whom.

Each rule is one table of ``[[tool.pin-from.signatures]]`` (``pyproject.toml``)
or ``[[signatures]]`` (``.pin-from.toml``)::

    images = ["cgr.dev/chainguard/*"]
    identity = "https://github.com/chainguard-images/images/.github/workflows/release.yaml@refs/heads/main"
    issuer = "https://token.actions.githubusercontent.com"
    # or identity-regexp = "https://github.com/org/repo/.github/workflows/release.yaml@refs/tags/v.*"

    images = ["dhi.io/*"]
    key = "keys/dhi.pub"        # PEM public key, relative to the config file

A pattern matches an image name (no tag, no digest) as written and as
normalised (``alpine`` is ``docker.io/library/alpine``): ``*`` is any run of
characters but ``/``, ``**`` any run at all, ``?`` one character but ``/``. A
mirror does not change which rule applies (rules see the reference, not where
it is fetched from). The first rule that matches an image applies.

Nothing here imports a crypto library: the key file is read (it must be a PEM
public key) but parsed only when a signature is checked.
"""
from __future__ import annotations

import os
import re
from typing import Any
from typing import NamedTuple
from typing import Sequence

from pin_from.errors import UsageError
from pin_from.reference import Reference

MAX_RULES = 1000
MAX_PATTERNS = 1000
MAX_KEY_FILE = 64 * 1024
MAX_TEXT = 1024
_KEYS = frozenset(('images', 'identity', 'identity-regexp', 'issuer', 'key', 'trusted-root'))
_PEM_RE = re.compile(rb'-----BEGIN (?:[A-Z]+ )?PUBLIC KEY-----')
_PATTERN_RE = re.compile(r'[A-Za-z0-9._\-/:*?\[\]]{1,255}')


class PolicyError(UsageError):
    """A signature rule that cannot be used: names the file and the rule."""


class Rule(NamedTuple):
    """One rule. ``key`` (a PEM path) for keyed signatures, else ``identity`` and
    ``issuer`` (keyless, checked against ``trusted_root`` or the one pin-from ships)."""

    where: str  # 'pyproject.toml: signatures rule 2' (for messages)
    images: tuple[str, ...]
    identity: str | None
    issuer: str | None
    key: str | None  # absolute path of the PEM public key
    trusted_root: str | None  # absolute path of a trusted_root.json; None: pin-from's own
    identity_regexp: str | None = None  # keyless, instead of ``identity``: the whole identity must match

    @property
    def keyless(self) -> bool:
        return self.key is None

    @property
    def signer(self) -> str:
        """Who this rule wants, in words."""
        if self.key is not None:
            return f'the key {self.key}'
        if self.identity_regexp is not None:
            return f"an identity matching '{self.identity_regexp}' (issuer {self.issuer})"
        return f'{self.identity} (issuer {self.issuer})'

    def __str__(self) -> str:
        return f'{self.where} ({", ".join(self.images)})'

    def matches(self, names: Sequence[str]) -> bool:
        return any(_glob(p).fullmatch(n) for p in self.images for n in names)


_GLOBS: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    found = _GLOBS.get(pattern)
    if found is None:
        parts = re.split(r'(\*\*|\*|\?)', pattern)
        regex = ''.join(
            '.*' if p == '**' else '[^/]*' if p == '*' else '[^/]' if p == '?' else re.escape(p)
            for p in parts
        )
        found = _GLOBS[pattern] = re.compile(regex)
    return found


def written_name(text: str) -> str:
    """The image name of a reference as written: no ``@digest``, no ``:tag``."""
    name = text.partition('@')[0]
    head, slash, last = name.rpartition('/')
    return f'{head}{slash}{last.partition(":")[0]}'


def names(ref: Reference, written: str | None = None) -> tuple[str, ...]:
    """The names a pattern is matched against: as written, normalised, familiar."""
    found = [f'{ref.registry}/{ref.repository}', ref.familiar_name]
    if written is not None:
        found.insert(0, written_name(written))
    return tuple(dict.fromkeys(found))


def rule_for(rules: Sequence[Rule], ref: Reference, written: str | None = None) -> Rule | None:
    """The first rule whose patterns match ``ref`` (as written and normalised), or None."""
    if not rules:
        return None
    candidates = names(ref, written)
    return next((r for r in rules if r.matches(candidates)), None)


def _text(table: dict[str, Any], name: str, where: str) -> str | None:
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise PolicyError(f'{where}: {name} must be a non-empty string')
    return value


def _images(table: dict[str, Any], where: str) -> tuple[str, ...]:
    value = table.get('images')
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > MAX_PATTERNS:
        raise PolicyError(f'{where}: images must be a non-empty list of image patterns')
    for pattern in value:
        if not isinstance(pattern, str) or not _PATTERN_RE.fullmatch(pattern):
            raise PolicyError(f'{where}: images: {str(pattern)[:80]!r} is not an image pattern '
                              '(a name such as cgr.dev/chainguard/*)')
    return tuple(value)


def _file(value: str, directory: str, where: str, what: str) -> str:
    path = os.path.normpath(os.path.join(directory, os.path.expanduser(value)))
    if not os.path.isfile(path):
        raise PolicyError(f'{where}: {what} {value!r}: no such file ({path})')
    return path


def _key(value: str, directory: str, where: str) -> str:
    path = _file(value, directory, where, 'key')
    try:
        with open(path, 'rb') as f:
            head = f.read(MAX_KEY_FILE + 1)
    except OSError as e:
        raise PolicyError(f'{where}: key {value!r}: {(e.strerror or str(e)).lower()}') from None
    if len(head) > MAX_KEY_FILE or not _PEM_RE.search(head):
        raise PolicyError(f'{where}: key {value!r}: not a PEM public key (-----BEGIN PUBLIC KEY-----)')
    return path


def _rule(table: object, number: int, directory: str, source: str) -> Rule:
    where = f'{source}: signatures rule {number}'
    if not isinstance(table, dict):
        raise PolicyError(f'{where}: expected a table (images = [...], then key or identity and issuer)')
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise PolicyError(f'{where}: unknown key {unknown[0]!r} (expected {", ".join(sorted(_KEYS))})')
    images = _images(table, where)
    identity, issuer = _text(table, 'identity', where), _text(table, 'issuer', where)
    key, root = _text(table, 'key', where), _text(table, 'trusted-root', where)
    pattern = _text(table, 'identity-regexp', where)
    if pattern is not None:
        if identity is not None:
            raise PolicyError(f'{where}: identity and identity-regexp exclude each other')
        try:
            re.compile(pattern)
        except re.error as e:
            raise PolicyError(f'{where}: identity-regexp {pattern!r}: {e}') from None
        identity = pattern
    if key is not None and (identity is not None or issuer is not None):
        raise PolicyError(f'{where}: key and identity/issuer exclude each other (keyed or keyless, not both)')
    # (identity-regexp counts as the identity from here)
    if key is None and (identity is None or issuer is None):
        missing = 'issuer' if identity is not None else 'identity' if issuer is not None else 'key, or identity and issuer'
        raise PolicyError(f'{where}: needs {missing}')
    return Rule(
        where, images, None if pattern is not None else identity, issuer,
        None if key is None else _key(key, directory, where),
        None if root is None else _file(root, directory, where, 'trusted-root'), pattern,
    )


def load_rules(tables: object, directory: str, source: str) -> tuple[Rule, ...]:
    """The rules of the ``signatures`` list of tables of the config file ``source``,
    whose paths are relative to ``directory``. Raises :class:`PolicyError`."""
    if tables is None:
        return ()
    if not isinstance(tables, list):
        raise PolicyError(f'{source}: signatures must be a list of tables ([[tool.pin-from.signatures]])')
    if len(tables) > MAX_RULES:
        raise PolicyError(f'{source}: more than {MAX_RULES} signatures rules')
    return tuple(_rule(t, i, directory, source) for i, t in enumerate(tables, 1))
