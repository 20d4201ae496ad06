"""File kinds and their scanners: adding a kind is one entry here.

A scanner takes a file's decoded text and returns a :class:`~pin_from.kinds.sites.Scan`.
The hooks never ask which kind a file is: they work only with what a scan
returns. The kind is chosen from the file's name, without reading it:

| kind | recognised by |
|---|---|
| ``compose`` | ``compose*.y(a)ml``, ``docker-compose*.y(a)ml`` |
| ``workflow`` | ``.github/workflows/*.y(a)ml`` |
| ``action`` | ``action.y(a)ml`` |
| ``gitlab-ci`` | ``.gitlab-ci.y(a)ml``, ``*.gitlab-ci.y(a)ml``, ``.gitlab/ci/**/*.y(a)ml``, files named by ``include: local:`` in ``./.gitlab-ci.yml`` |
| ``helm`` | ``values*.y(a)ml`` next to a ``Chart.yaml``, or under a ``charts/`` directory |
| ``kustomize`` | ``kustomization.y(a)ml``, ``Kustomization`` |
| ``circleci`` | ``.circleci/*.y(a)ml`` |
| ``bitbucket`` | ``bitbucket-pipelines.y(a)ml`` |
| ``azure-pipelines`` | ``azure-pipelines*.y(a)ml``, ``.azure-pipelines/**/*.y(a)ml`` |
| ``drone`` | ``.drone.y(a)ml`` |
| ``woodpecker`` | ``.woodpecker.y(a)ml``, ``.woodpecker/*.y(a)ml`` |
| ``cloudbuild`` | ``cloudbuild*.y(a)ml`` |
| ``kubernetes`` | any other ``*.y(a)ml`` (its documents with ``apiVersion`` and ``kind``) |
| ``devcontainer`` | ``.devcontainer.json``, ``.devcontainer/**/devcontainer.json`` |
| ``quadlet`` | ``*.container``, ``*.image``, ``*.volume``, ``*.pod``, ``*.build`` |
| ``earthfile`` | ``Earthfile`` |
| ``bake`` | ``docker-bake.hcl``, ``docker-bake.json``, ``docker-bake.*.hcl``/``.json`` (overrides) |
| ``terraform`` | ``*.tf`` |
| ``dockerfile`` | ``Dockerfile``, ``Containerfile``, ``Dockerfile.*``, ``Dockerfile-*``, ``*.Dockerfile``, ``*.containerfile`` (any case; not ``*.dockerignore``) |

Any other file has no kind: it is skipped (``-v`` says so), never guessed
at. A kind can be forced by glob (:func:`kind_for`'s ``overrides``, from the
configuration file's ``[tool.pin-from.kinds]``).

Scanner modules are imported only to scan: a run whose files are all
memoised never imports PyYAML.
"""
from __future__ import annotations

import functools
import os
import re
from typing import Callable
from typing import Mapping
from typing import NamedTuple
from typing import Sequence
from typing import Tuple

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
# Renovate's and hadolint's names: Dockerfile, Dockerfile.prod, Dockerfile-dev, app.Dockerfile, build.containerfile
_DOCKERFILE_RE = re.compile(r'(?:docker|container)file(?:[._-].*)?|.+[._-](?:docker|container)file')
# The names a kind recognises, as one regular expression over a path (pre-commit's ``files:``
# in .pre-commit-hooks.yaml is this pattern; a test keeps the two equal).
FILES_PATTERN = (
    r'(?i)(^|/)((docker|container)file([._-][^/]*)?|[^/]+[._-](docker|container)file'
    r'|[^/]+\.ya?ml|Kustomization|Earthfile|\.devcontainer\.json|\.devcontainer/(.*/)?devcontainer\.json'
    r'|[^/]+\.(container|image|volume|pod|build)|docker-bake(\.[^/]*)?\.(hcl|json)|[^/]+\.tf)$'
)


class Kind(NamedTuple):
    name: str
    module: str  # the scanner's module: its source is part of the memo key
    scan: Callable[[str], Scan]
    also: tuple[str, ...] = ()  # more modules the scan uses (a kind's own walk)


def _dockerfile(text: str) -> Scan:
    from pin_from.kinds import dockerfile
    return dockerfile.scan(text)


def _module(name: str) -> Callable[[str], Scan]:
    """The ``scan`` of ``pin_from.kinds.<name>``, imported when a file of that kind is scanned."""
    def scan(text: str) -> Scan:
        import importlib
        found: Scan = importlib.import_module(f'pin_from.kinds.{name}').scan(text)
        return found
    return scan


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
    'devcontainer': Kind('devcontainer', 'pin_from.kinds.devcontainer', _module('devcontainer'),
                         ('pin_from.kinds.jsonc', 'pin_from.kinds.comments')),
    'quadlet': Kind('quadlet', 'pin_from.kinds.quadlet', _module('quadlet')),
    'earthfile': Kind('earthfile', 'pin_from.kinds.earthfile', _module('earthfile'),
                      ('pin_from.kinds.dockerfile', 'pin_from.kinds.shellword')),
    'bake': Kind('bake', 'pin_from.kinds.bake', _module('bake'),
                 ('pin_from.kinds.hcl', 'pin_from.kinds.jsonc', 'pin_from.kinds.comments', 'pin_from.kinds.dockerfile',
                  'pin_from.kinds.shellword')),
    'terraform': Kind('terraform', 'pin_from.kinds.terraform', _module('terraform'),
                      ('pin_from.kinds.hcl', 'pin_from.kinds.jsonc', 'pin_from.kinds.comments')),
}
_BAKE_RE = re.compile(r'docker-bake(?:\.[^/]*)?\.(?:hcl|json)')
_QUADLET_SUFFIXES = ('.container', '.image', '.volume', '.pod', '.build')


def other_kind(path: str) -> str | None:
    """The kind of a file that is neither YAML nor a Dockerfile, by its name; else None."""
    parts = [part for part in path.replace('\\', '/').split('/') if part not in ('', '.')]
    name = parts[-1] if parts else ''
    if name == '.devcontainer.json' or name == 'devcontainer.json' and '.devcontainer' in parts[:-1]:
        return 'devcontainer'
    if name == 'Earthfile':
        return 'earthfile'
    if _BAKE_RE.fullmatch(name):
        return 'bake'
    if name.endswith('.tf'):
        return 'terraform'
    if name.endswith(_QUADLET_SUFFIXES) and not name.startswith('.'):
        return 'quadlet'
    return None


def yaml_kind(path: str) -> str | None:
    """The YAML scanner's kind for a file's name (``yaml``: Kubernetes by
    content), or None for a file that is not YAML."""
    if path[-1:] not in ('/', '.', '\\') and not path.lower().endswith(_YAML_SUFFIXES) and (
            not path.endswith('Kustomization')):
        return None  # most files of a run: no split of the path
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
    if _helm_template(path):
        return None  # Go templates that render YAML, not YAML: never read
    if name in ('action.yml', 'action.yaml'):
        return 'action'
    if _COMPOSE_RE.fullmatch(name):
        return 'compose'
    if _gitlab_included(path):
        return 'gitlab-ci'
    return 'yaml'


_LOCAL_INCLUDE_RE = re.compile(r'''^[ \t]*(?:-[ \t]*)?local:[ \t]*(["']?)([^"'#\s]+)\1''', re.M)
_MAX_GITLAB_CI = 1 << 20


@functools.lru_cache(maxsize=1)
def _gitlab_includes(cwd: str) -> tuple[str, ...]:
    """The ``include: local:`` paths (globs allowed, as GitLab reads them) of the
    ``.gitlab-ci.yml`` in the working directory, where pre-commit runs hooks: the
    repository's root. Read by pattern, not parsed: this runs on every commit."""
    import stat
    try:  # a regular file only (a FIFO would block), a bounded read
        fd = os.open(os.path.join(cwd, '.gitlab-ci.yml'), os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except OSError:
        return ()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ()
        text = os.read(fd, _MAX_GITLAB_CI).decode('utf-8', 'replace')
    except OSError:
        return ()
    finally:
        os.close(fd)
    return tuple(m.group(2).lstrip('/') for m in _LOCAL_INCLUDE_RE.finditer(text) if '$' not in m.group(2))


def _gitlab_included(path: str) -> bool:
    """``path`` (relative to the working directory) is a file ``./.gitlab-ci.yml`` includes."""
    includes = _gitlab_includes(os.getcwd())
    if not includes:
        return False
    relative = os.path.relpath(os.path.abspath(path)).replace(os.sep, '/')  # GitLab's paths start at the root
    return any(_glob_re(pattern).fullmatch(relative) for pattern in includes)


def _under(dirs: list[str], *names: str) -> bool:
    n = len(names)
    return any(dirs[i:i + n] == list(names) for i in range(len(dirs) - n + 1))


def _beside_chart(path: str) -> bool:
    """A Helm chart's values: a ``Chart.yaml`` in the same directory (a stat, no read)."""
    return os.path.isfile(os.path.join(os.path.dirname(path), 'Chart.yaml'))


def _helm_template(path: str) -> bool:
    """A file under a chart's ``templates/`` (a ``Chart.yaml`` beside that folder; stats, no read)."""
    head = os.path.dirname(path)
    while head and os.path.basename(head) != 'templates':
        parent = os.path.dirname(head)
        if parent == head:
            return False
        head = parent
    return bool(head) and os.path.isfile(os.path.join(os.path.dirname(head), 'Chart.yaml'))


def recognised() -> dict[str, str]:
    """Each kind and the names it recognises, as the table at the top of this module says."""
    found = {}
    for line in (__doc__ or '').splitlines():
        m = re.fullmatch(r'\| ``([\w-]+)`` \| (.*) \|', line.strip())
        if m and m.group(1) in KINDS:
            found[m.group(1)] = m.group(2).replace('``', '')
    return {name: found.get(name, '') for name in KINDS}


def is_dockerfile(path: str) -> bool:
    name = path.replace('\\', '/').rsplit('/', 1)[-1].lower()
    return _DOCKERFILE_RE.fullmatch(name) is not None and not name.endswith('.dockerignore')


Overrides = Sequence[Tuple[str, str]]  # (glob, kind), first match wins


def kind_for(path: str, overrides: Overrides | Mapping[str, str] = ()) -> str | None:
    """The kind of ``path`` by its name, or None: a file of no known kind is
    never read. ``overrides`` (glob -> kind, first match wins) come first."""
    pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
    for pattern, kind in pairs:
        if glob_match(pattern, path):
            return kind
    found = yaml_kind(path)
    if found is not None:
        return 'kubernetes' if found == 'yaml' else found
    if is_dockerfile(path):  # before Quadlet's suffixes: Dockerfile.build is a Dockerfile
        return DOCKERFILE
    return other_kind(path)


def glob_match(pattern: str, path: str) -> bool:
    """gitignore-like: ``*`` stays within a directory, ``**`` crosses them; a
    pattern without ``/`` matches the file's name; one with ``/`` matches the
    path (relative to the current directory, or its tail)."""
    parts = [p for p in path.replace('\\', '/').split('/') if p not in ('', '.')]
    if '/' not in pattern.strip('/'):
        return _glob_re(pattern.strip('/')).fullmatch(parts[-1] if parts else '') is not None
    regex = _glob_re(pattern.strip('/'))
    return any(regex.fullmatch('/'.join(parts[i:])) for i in range(len(parts)))


@functools.lru_cache(maxsize=256)
def _glob_re(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith('**/', i):
            out.append('(?:.*/)?')
            i += 3
            continue
        if pattern.startswith('**', i):
            out.append('.*')
            i += 2
            continue
        out.append({'*': '[^/]*', '?': '[^/]'}.get(ch, re.escape(ch)))
        i += 1
    return re.compile(''.join(out), re.DOTALL)


def check_overrides(overrides: Mapping[str, str], where: str) -> Overrides:
    """Configured glob -> kind pairs, each kind known (ValueError naming ``where`` otherwise)."""
    for pattern, kind in overrides.items():
        if kind not in KINDS:
            raise ValueError(f'{where}: {pattern!r} = {kind!r}: expected one of {", ".join(KINDS)}')
    return tuple(overrides.items())


def parse(text: str) -> frozenset[str]:
    """``--kinds dockerfile,compose``: a set of known kind names (ValueError otherwise)."""
    names = frozenset(n.strip() for n in text.split(',') if n.strip())
    unknown = sorted(names - KINDS.keys())
    if unknown or not names:
        raise ValueError(f'{text!r}: expected a comma-separated list of {", ".join(KINDS)}')
    return names
