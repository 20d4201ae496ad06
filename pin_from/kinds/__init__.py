"""File kinds and their scanners: adding a kind is one entry here.

A scanner takes a file's decoded text and returns a :class:`~pin_from.kinds.sites.Scan`.
The hooks never ask which kind a file is: they work only with what a scan
returns. The kind is chosen from the file's name, without reading it:

| kind | recognised by |
|---|---|
| ``compose`` | ``compose*.y(a)ml``, ``docker-compose*.y(a)ml`` |
| ``workflow`` | ``.github/workflows/*.y(a)ml`` |
| ``action`` | ``action.y(a)ml`` |
| ``gitlab-ci`` | ``.gitlab-ci.y(a)ml``, ``*.gitlab-ci.y(a)ml``, ``.gitlab/ci/**/*.y(a)ml`` |
| ``helm`` | ``values*.y(a)ml`` next to a ``Chart.yaml``, or under a ``charts/`` directory |
| ``kustomize`` | ``kustomization.y(a)ml``, ``Kustomization`` |
| ``circleci`` | ``.circleci/*.y(a)ml`` |
| ``bitbucket`` | ``bitbucket-pipelines.y(a)ml`` |
| ``azure-pipelines`` | ``azure-pipelines*.y(a)ml``, ``.azure-pipelines/**/*.y(a)ml`` |
| ``drone`` | ``.drone.y(a)ml`` |
| ``woodpecker`` | ``.woodpecker.y(a)ml``, ``.woodpecker/*.y(a)ml`` |
| ``cloudbuild`` | ``cloudbuild*.y(a)ml`` |
| ``kubernetes`` | any other ``*.y(a)ml`` (its documents with ``apiVersion`` and ``kind``) |
| ``dockerfile`` | anything else (pre-commit's ``dockerfile`` type chooses those) |

Scanner modules are imported only to scan: a run whose files are all
memoised never imports PyYAML.
"""
from __future__ import annotations

import os
import re
from typing import Callable
from typing import NamedTuple

from pin_from.kinds.sites import Scan
from pin_from.kinds.walks import WALKS as _YAML_KINDS  # kind: the module of its walk

DOCKERFILE = 'dockerfile'
_YAML_SUFFIXES = ('.yml', '.yaml')
_COMPOSE_RE = re.compile(r'(?:docker-)?compose(?:[._-][^/]*)?\.ya?ml')  # not composer.yaml
_VALUES_RE = re.compile(r'values(?:[._-][^/]*)?\.ya?ml')
_CLOUDBUILD_RE = re.compile(r'cloudbuild(?:[._-][^/]*)?\.ya?ml')
_AZURE_RE = re.compile(r'azure-pipelines(?:[._-][^/]*)?\.ya?ml')
_BY_NAME = {
    'bitbucket-pipelines': 'bitbucket', '.drone': 'drone', '.woodpecker': 'woodpecker',
    'kustomization': 'kustomize',
}


class Kind(NamedTuple):
    name: str
    module: str  # the scanner's module: its source is part of the memo key
    scan: Callable[[str], Scan]
    also: tuple[str, ...] = ()  # more modules the scan uses (a kind's own walk)


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
    **{name: Kind(name, 'pin_from.kinds.yaml_kinds', _yaml(name), (f'pin_from.kinds.{module}',))
       for name, module in _YAML_KINDS.items()},
}


def yaml_kind(path: str) -> str | None:
    """The YAML scanner's kind for a file's name (``yaml``: Kubernetes by
    content), or None for a file that is not YAML."""
    parts = [part for part in path.replace('\\', '/').split('/') if part not in ('', '.')]
    name = parts[-1].lower() if parts else ''
    if parts and parts[-1] == 'Kustomization':
        return 'kustomize'
    if not name.endswith(_YAML_SUFFIXES):
        return None
    dirs = parts[:-1]
    if dirs[-2:] == ['.github', 'workflows']:
        return 'workflow'
    if name.endswith(('.gitlab-ci.yml', '.gitlab-ci.yaml')) or _under(dirs, '.gitlab', 'ci'):
        return 'gitlab-ci'
    by_name = _BY_NAME.get(name.rpartition('.')[0])
    if by_name:
        return by_name
    if dirs[-1:] == ['.circleci']:
        return 'circleci'
    if dirs[-1:] == ['.woodpecker']:
        return 'woodpecker'
    if _AZURE_RE.fullmatch(name) or '.azure-pipelines' in dirs:
        return 'azure-pipelines'
    if _CLOUDBUILD_RE.fullmatch(name):
        return 'cloudbuild'
    if _VALUES_RE.fullmatch(name) and ('charts' in dirs or _beside_chart(path)):
        return 'helm'
    if name in ('action.yml', 'action.yaml'):
        return 'action'
    if _COMPOSE_RE.fullmatch(name):
        return 'compose'
    return 'yaml'


def _under(dirs: list[str], *names: str) -> bool:
    n = len(names)
    return any(dirs[i:i + n] == list(names) for i in range(len(dirs) - n + 1))


def _beside_chart(path: str) -> bool:
    """A Helm chart's values: a ``Chart.yaml`` in the same directory (a stat, no read)."""
    return os.path.isfile(os.path.join(os.path.dirname(path), 'Chart.yaml'))


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
