"""File kinds and their scanners: adding a kind is one entry here.

A scanner takes a file's decoded text and returns a :class:`~pin_from.kinds.sites.Scan`.
The hooks never ask which kind a file is: they work only with what a scan
returns. The kind is chosen from the file's name, without reading it:

| kind | recognised by |
|---|---|
| ``compose`` | ``compose*.y(a)ml``, ``docker-compose*.y(a)ml`` |
| ``workflow`` | ``.github/workflows/*.y(a)ml`` |
| ``action`` | ``action.y(a)ml`` |
| ``gitlab-ci`` | ``.gitlab-ci.y(a)ml``, ``*.gitlab-ci.y(a)ml`` |
| ``kubernetes`` | any other ``*.y(a)ml`` (its documents with ``apiVersion`` and ``kind``) |
| ``dockerfile`` | anything else (pre-commit's ``dockerfile`` type chooses those) |

Scanner modules are imported only to scan: a run whose files are all
memoised never imports PyYAML.
"""
from __future__ import annotations

import re
from typing import Callable
from typing import NamedTuple

from pin_from.kinds.sites import Scan

DOCKERFILE = 'dockerfile'
_YAML_SUFFIXES = ('.yml', '.yaml')
_COMPOSE_RE = re.compile(r'(?:docker-)?compose(?:[._-][^/]*)?\.ya?ml')  # not composer.yaml


class Kind(NamedTuple):
    name: str
    module: str  # the scanner's module: its source is part of the memo key
    scan: Callable[[str], Scan]


def _dockerfile(text: str) -> Scan:
    from pin_from.kinds import dockerfile
    return dockerfile.scan(text)


def _yaml(kind: str) -> Callable[[str], Scan]:
    def scan(text: str) -> Scan:
        from pin_from.kinds import yaml_kinds
        return yaml_kinds.scan(text, kind)
    return scan


KINDS: dict[str, Kind] = {
    DOCKERFILE: Kind(DOCKERFILE, 'pin_from.kinds.dockerfile', _dockerfile),
    'compose': Kind('compose', 'pin_from.kinds.yaml_kinds', _yaml('compose')),
    'kubernetes': Kind('kubernetes', 'pin_from.kinds.yaml_kinds', _yaml('yaml')),
    'workflow': Kind('workflow', 'pin_from.kinds.yaml_kinds', _yaml('workflow')),
    'action': Kind('action', 'pin_from.kinds.yaml_kinds', _yaml('action')),
    'gitlab-ci': Kind('gitlab-ci', 'pin_from.kinds.yaml_kinds', _yaml('gitlab-ci')),
}


def yaml_kind(path: str) -> str | None:
    """The YAML scanner's kind for a file's name (``yaml``: Kubernetes by
    content), or None for a file that is not YAML."""
    parts = [part for part in path.replace('\\', '/').split('/') if part not in ('', '.')]
    name = parts[-1].lower() if parts else ''
    if not name.endswith(_YAML_SUFFIXES):
        return None
    if parts[-3:-1] == ['.github', 'workflows']:
        return 'workflow'
    if name.endswith(('.gitlab-ci.yml', '.gitlab-ci.yaml')):
        return 'gitlab-ci'
    if name in ('action.yml', 'action.yaml'):
        return 'action'
    if _COMPOSE_RE.fullmatch(name):
        return 'compose'
    return 'yaml'


def kind_for(path: str) -> str:
    """The kind of ``path`` by its name (a Dockerfile unless it says otherwise)."""
    found = yaml_kind(path)
    if found is None:
        return DOCKERFILE
    return 'kubernetes' if found == 'yaml' else found


def parse(text: str) -> frozenset[str]:
    """``--kinds dockerfile,compose``: a set of known kind names (ValueError otherwise)."""
    names = frozenset(n.strip() for n in text.split(',') if n.strip())
    unknown = sorted(names - KINDS.keys())
    if unknown or not names:
        raise ValueError(f'{text!r}: expected a comma-separated list of {", ".join(KINDS)}')
    return names
