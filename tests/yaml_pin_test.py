"""The YAML kinds end to end: real files of each kind, in their shapes, pinned
by the ``pin-from`` hook against a real registry (Docker Hub names are served
by a mirror on the loopback registry), checked, re-pinned with a report, and
checked for supported tags by ``check-deprecated-tags``.

The files are templates: a reference written ``«ref»`` is one the hook must
pin; the input has ``ref``, the expected output ``ref[:latest]@<digest>``
with the digest from ``skopeo inspect``. Nothing else may change.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pin_from import check_deprecated_tags
from pin_from.pin import main
from pin_from.reference import parse
from tests.precommit_test import commit
from tests.precommit_test import git
from tests.precommit_test import hooked_project
from tests.precommit_test import hook_repo  # noqa: F401 -- fixtures
from tests.precommit_test import pre_commit_home  # noqa: F401
from tests.registry_server import push_image
from tests.registry_server import RegistryServer
from tests.registry_server import skopeo_digest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / 'examples' / 'official-images' / 'library'
MARK_RE = re.compile('«([^»]+)»')
OFFICIAL = (
    'python:3.12-slim', 'postgres:16', 'redis', 'nginx:1.27', 'busybox:1.36',
    'busybox', 'alpine:3.20', 'node:20',
)

COMPOSE = """\
# the app and its backing services ☕ (non-ASCII before a value moves no offset)
x-base: &base
  image: «python:3.12-slim»   # shared by web and worker
  restart: unless-stopped
services:
  web:
    <<: *base
    ports: ["8000:8000"]
  worker:
    <<: *base
    command: ["celery", "worker"]
  db:
    image: "«postgres:16»"
    environment: {POSTGRES_PASSWORD: example}
  cache: {image: '«redis»', ports: ['6379']}
  proxy:
    image: nginx:1.27  # pin-from: ignore
  app:
    build: .
    image: example/app:dev
  tools:
    image: ${TOOLS_IMAGE:-busybox:1.36}
  own:
    image: «LOCAL:1.0»
"""

# CRLF line ends, a BOM, an anchored scalar and its alias, document markers
OVERRIDE = """\
---
services:
  api:
    image: &py «python:3.12-slim»
  jobs:  # ü 😀
    image: *py
  'quoted-key':
    image: "«node:20»"   # a comment
  pinned:
    image: PINNED
...
"""

KUBERNETES = """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - name: migrate
          image: "«python:3.12-slim»"
      containers:
        - name: web
          image: «nginx:1.27»
        - {name: sidecar, image: «busybox»}
---
# a scheduled job
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: report
            image: '«alpine:3.20»'
          restartPolicy: OnFailure
...
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: debug}
  spec:
    containers:
    - name: shell
      # pin-from: ignore
      image: busybox:1.36
    ephemeralContainers:
    - name: dbg
      image: «busybox:1.36»
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cfg}
  data:
    image: postgres:16     # data, not a container's image
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      containers: [{name: once, image: «alpine:3.20»}]
      restartPolicy: Never
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tpl}
template:
  spec:
    containers:
    - name: t
      image: «node:20»
"""

WORKFLOW = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    container: «node:20»
    services:
      db:
        image: «postgres:16»
        env: {POSTGRES_PASSWORD: example}
      cache:
        image: ${{ matrix.cache }}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://«alpine:3.20»
        with: {args: echo hi}
      - name: lint
        uses: 'docker://«busybox:1.36»'
  build:
    runs-on: ubuntu-latest
    container:
      image: "«python:3.12-slim»"
      options: --user root
    steps:
      - run: python --version
"""

ACTION = """\
name: 'Lint'
description: 'Lints in a container'
runs:
  using: 'docker'
  image: 'docker://«python:3.12-slim»'
  args: ['--check']
"""

ACTION_DOCKERFILE = """\
name: build
description: builds its own image
runs:
  using: docker
  image: Dockerfile
"""

ACTION_COMPOSITE = """\
name: composite
description: a container step
runs:
  using: composite
  steps:
    - uses: docker://«alpine:3.20»
    - run: echo done
      shell: bash
"""

GITLAB = """\
image: «python:3.12-slim»
services:
  - «postgres:16»
default:
  image:
    name: «node:20»
    entrypoint: [""]
  services:
    - name: «redis»
      alias: cache
variables:
  IMAGE: alpine:3.20
.template: &tmpl
  image: «busybox:1.36»
test:
  <<: *tmpl
  script: [make test]
lint:
  image: "«nginx:1.27»"
  services: ["«postgres:16»", {name: '«alpine:3.20»', alias: a}]
  script:
    - lint
deploy:
  image: $CI_REGISTRY_IMAGE/deploy:latest
  script: deploy
"""

NOT_A_KIND = """\
# an application's settings: YAML, but no kind pin-from reads
image: python:3.12-slim
services:
  - postgres:16
"""

FILES = {
    'compose.yaml': COMPOSE,
    'docker-compose.override.yml': OVERRIDE,
    'k8s/app.yaml': KUBERNETES,
    '.github/workflows/ci.yml': WORKFLOW,
    'action.yml': ACTION,
    'actions/build/action.yaml': ACTION_DOCKERFILE,
    'actions/composite/action.yml': ACTION_COMPOSITE,
    '.gitlab-ci.yml': GITLAB,
    'config/settings.yaml': NOT_A_KIND,
}


def crlf_bom(text: str) -> str:
    return '\ufeff' + text.replace('\n', '\r\n')


class Hub:
    """Docker Hub's official images, served by the loopback registry as a mirror,
    and one repository named on the loopback registry itself."""

    def __init__(self, registry: RegistryServer, prefix: str) -> None:
        self.registry = registry
        self.prefix = prefix
        self.mirror = f'docker.io={registry.url}/{prefix}'
        self.local = f'{registry.host}/{prefix}-own/app'

    def repo(self, ref: str) -> tuple[str, str]:
        """Where ``ref`` lives on the loopback registry: (repository, tag)."""
        name, _, tag = ref.partition(':')
        if ref.startswith(self.registry.host):
            name, _, tag = ref[len(self.registry.host) + 1:].rpartition(':')
            return name, tag
        return f'{self.prefix}/library/{name}', tag or 'latest'

    def push(self, ref: str, seed: str = '') -> str:
        repo, tag = self.repo(ref)
        return push_image(self.registry.url, repo, tag, seed=seed or ref, env={'IMAGE': ref})

    def skopeo(self, ref: str) -> str:
        repo, tag = self.repo(ref)
        return skopeo_digest(self.registry.host, f'{repo}:{tag}')

    def main(self, *args: Any) -> int:
        return main(['--registry-mirror', self.mirror, *map(str, args)])


@pytest.fixture
def hub(registry, repo_factory):
    hub = Hub(registry, repo_factory().replace('/', '-'))
    for ref in (*OFFICIAL, f'{hub.local}:1.0'):
        hub.push(ref)
    return hub


def pinned(hub: Hub, ref: str) -> str:
    """The pin the oracle expects: the tag stays (``:latest`` added), skopeo's digest."""
    tagged = ref if parse(ref).tag else f'{ref}:latest'
    return f'{tagged}@{hub.skopeo(ref)}'


class Files:
    """A repository's files under ``root``: ``before`` (what is written) and ``after`` (what a run
    must leave), by name."""

    root: Path
    before: dict[str, str]
    after: dict[str, str]

    def write(self, texts: dict[str, str]) -> None:
        for name, text in texts.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode('utf-8'))

    def paths(self, *names: str) -> list[Path]:
        return [self.root / n for n in (names or self.before)]

    def read(self) -> dict[str, str]:
        return {name: (self.root / name).read_bytes().decode('utf-8') for name in self.before}


def flag_old_tags(
        directory: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str],
) -> tuple[list[tuple[str, str]], list[str]]:
    """``files`` written under ``directory`` and checked by check-deprecated-tags against the test
    library (it must find something): the (file:line, image) pairs it flags, in its order, and the
    command line it ran."""
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    docs = directory / 'docs'
    docs.mkdir(exist_ok=True)
    argv = ['--library-url', str(LIBRARY), '--docs-url', str(docs), *(str(directory / n) for n in files)]
    assert check_deprecated_tags.main(argv) == 1
    out = capsys.readouterr().out
    return re.findall(r'^(\S+): (\S+) is no longer supported by the official image', out, re.M), argv


class Tree(Files):
    """The files of a repository: inputs, the expected outputs, and what changes."""

    def __init__(self, hub: Hub, root: Path, files: dict[str, str]) -> None:
        self.root = root
        self.before: dict[str, str] = {}
        self.after: dict[str, str] = {}
        self.marks: dict[str, list[int]] = {}  # lines the hook must pin
        self.changes: dict[str, str] = {}  # image value before -> after
        digests = {ref: pinned(hub, ref) for ref in OFFICIAL}
        for name, template in files.items():
            template = template.replace('LOCAL', hub.local).replace('PINNED', digests['alpine:3.20'])
            for m in MARK_RE.finditer(template):
                ref = m.group(1)
                digests.setdefault(ref, pinned(hub, ref))
                self.changes[ref] = digests[ref]
                self.changes[f'docker://{ref}'] = f'docker://{digests[ref]}'
            self.marks[name] = [template.count('\n', 0, m.start()) + 1 for m in MARK_RE.finditer(template)]
            self.before[name] = MARK_RE.sub(r'\1', template)
            self.after[name] = MARK_RE.sub(lambda m: digests[m.group(1)], template)
            if name.endswith('.override.yml'):
                self.before[name], self.after[name] = crlf_bom(self.before[name]), crlf_bom(self.after[name])
        self.write(self.before)



@pytest.fixture
def tree(hub, tmp_path):
    return Tree(hub, tmp_path, FILES)


def same_but_images(old: Any, new: Any, changes: dict[str, str], where: str = '') -> None:
    """Equal data, except image strings changed exactly as ``changes`` says."""
    assert type(old) is type(new), where
    if isinstance(old, dict):
        assert list(old) == list(new), where
        for key in old:
            same_but_images(old[key], new[key], changes, f'{where}.{key}')
    elif isinstance(old, list):
        assert len(old) == len(new), where
        for i, (a, b) in enumerate(zip(old, new)):
            same_but_images(a, b, changes, f'{where}[{i}]')
    elif old != new:
        assert changes.get(old) == new, where


def test_every_kind_is_pinned_byte_for_byte(hub, tree, capsys):
    assert hub.main(*tree.paths()) == 1
    assert tree.read() == tree.after  # byte for byte: only the marked scalars changed
    out = capsys.readouterr().out
    lines = sorted(re.findall(r'^(.+):(\d+): pinned ', out, re.M))
    assert lines == sorted((str(tree.root / n), str(line)) for n, marks in tree.marks.items() for line in marks)
    assert 'settings.yaml' not in out and 'actions/build' not in out

    for name in tree.before:  # the data is the same but for the image values
        old = list(yaml.safe_load_all(tree.before[name]))
        new = list(yaml.safe_load_all((tree.root / name).read_bytes()))
        same_but_images(old, new, tree.changes, name)
    for ref, after in tree.changes.items():  # every digest is the registry's, by skopeo
        if not ref.startswith('docker://'):
            assert after.rpartition('@')[2] == hub.skopeo(ref) != ''

    assert hub.main(*tree.paths()) == 0  # a second run changes nothing
    assert hub.main('--check', *tree.paths()) == 0
    assert tree.read() == tree.after
    assert capsys.readouterr().out == ''


def test_check_writes_nothing(hub, tree, capsys):
    assert hub.main('--check', *tree.paths()) == 1
    assert tree.read() == tree.before
    out = capsys.readouterr().out
    assert f'{tree.root / ".gitlab-ci.yml"}:1: would pin python:3.12-slim -> python:3.12-slim@' in out
    assert f'{tree.root / "k8s/app.yaml"}:16: would pin busybox -> busybox:latest@{hub.skopeo("busybox")}' in out
    assert ': pinned ' not in out


def test_verbose_says_why_values_are_left_alone(hub, tree, capsys):
    assert hub.main('-v', *tree.paths('compose.yaml', '.github/workflows/ci.yml', '.gitlab-ci.yml')) == 1
    out = capsys.readouterr().out
    compose, workflow, gitlab = (tree.root / n for n in ('compose.yaml', '.github/workflows/ci.yml', '.gitlab-ci.yml'))
    assert f'{compose}:17: skipped nginx:1.27: under a "# pin-from: ignore" comment' in out
    assert f'{compose}:20: skipped example/app:dev: names the image this service builds' in out
    assert f'{compose}:22: skipped ${{TOOLS_IMAGE:-busybox:1.36}}: built from a variable' in out
    assert f'{workflow}:12: skipped ${{{{ matrix.cache }}}}: a GitHub Actions expression' in out
    assert f'{gitlab}:24: skipped $CI_REGISTRY_IMAGE/deploy:latest: built from a variable' in out
    assert tree.read() == {**tree.after, **{n: tree.before[n] for n in tree.before if n not in (
        'compose.yaml', '.github/workflows/ci.yml', '.gitlab-ci.yml')}}


def test_update_repins_a_moved_tag_with_a_report(hub, tree, capsys):
    assert hub.main(*tree.paths()) == 1
    old = hub.skopeo('python:3.12-slim')
    new = hub.push('python:3.12-slim', seed='moved')
    assert new != old and new == hub.skopeo('python:3.12-slim')
    capsys.readouterr()

    report = tree.root / 'report.md'
    args = ('--update', '--library-url', LIBRARY, '--report', report)
    assert hub.main(*args, '--check', *tree.paths()) == 1
    assert tree.read() == tree.after
    assert hub.main(*args, *tree.paths()) == 1
    moved = {n: t.replace(f'python:3.12-slim@{old}', f'python:3.12-slim@{new}') for n, t in tree.after.items()}
    assert tree.read() == moved and moved != tree.after
    out = capsys.readouterr().out
    where = ['compose.yaml:3', 'docker-compose.override.yml:4', 'k8s/app.yaml:12',
             '.github/workflows/ci.yml:22', 'action.yml:5', '.gitlab-ci.yml:1']
    for w in where:
        path, line = w.split(':')
        assert f'{tree.root / path}:{line}: re-pinned python:3.12-slim@{old} -> python:3.12-slim@{new}' in out
        assert out.count(f'{tree.root / path}:{line}: re-pinned') == 1
    assert out.count('re-pinned') == len(where)  # nothing else moved
    text = report.read_text()
    assert old in text and new in text
    for w in where:
        assert f'`{tree.root / w}`' in text
    assert hub.main('--update', '--library-url', LIBRARY, *tree.paths()) == 0


def test_check_deprecated_tags_flags_yaml_files(tmp_path, capsys):
    files = {
        'compose.yaml': 'services:\n  app:\n    image: python:3.7-slim\n  ok:\n    image: python:3.12-slim\n',
        'k8s/pod.yaml': 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: "python:3.7"\n',
        '.github/workflows/ci.yml': (
            'jobs:\n  t:\n    container: {image: node:16}\n    steps:\n    - uses: docker://python:3.7\n'
        ),
        'action.yml': 'runs:\n  using: docker\n  image: docker://alpine:3.12\n',
        '.gitlab-ci.yml': (
            'default:\n  image: python:3.12\nt:\n  services: [{name: "busybox:1.38"}, node:16]\n  script: [x]\n'
        ),
    }
    flagged, argv = flag_old_tags(tmp_path, files, capsys)
    assert flagged == [
        (f'{tmp_path}/compose.yaml:3', 'python:3.7-slim'),
        (f'{tmp_path}/k8s/pod.yaml:5', 'python:3.7'),
        (f'{tmp_path}/.github/workflows/ci.yml:3', 'node:16'),
        (f'{tmp_path}/.github/workflows/ci.yml:5', 'python:3.7'),
        (f'{tmp_path}/action.yml:3', 'alpine:3.12'),
        (f'{tmp_path}/.gitlab-ci.yml:4', 'node:16'),
    ]
    assert [(tmp_path / n).read_text() for n in files] == list(files.values())
    assert check_deprecated_tags.main([*argv, '--kinds', 'dockerfile']) == 0
    assert capsys.readouterr().out == ''


def test_kinds_dockerfile_leaves_yaml_alone(hub, tree, capsys):
    dockerfile = tree.root / 'Dockerfile'
    dockerfile.write_text('FROM alpine:3.20\n')
    assert hub.main('--kinds', 'dockerfile', *tree.paths(), dockerfile) == 1
    assert tree.read() == tree.before
    assert dockerfile.read_text() == f'FROM {pinned(hub, "alpine:3.20")}\n'
    assert hub.main('--kinds', 'dockerfile', '--check', *tree.paths()) == 0
    assert capsys.readouterr().out.count(': pinned ') == 1
    assert hub.main('--kinds', 'compose,gitlab-ci', *tree.paths()) == 1
    compose_and_gitlab = ('compose.yaml', 'docker-compose.override.yml', '.gitlab-ci.yml')
    assert tree.read() == {**tree.before, **{n: tree.after[n] for n in compose_and_gitlab}}


def test_invalid_yaml_recognised_by_name_is_one_error(hub, tree, capsys):
    bad = tree.root / 'bad' / 'compose.yaml'
    bad.parent.mkdir()
    text = 'services:\n  web:\n    image: python:3.12-slim\n   oops: [\n'
    bad.write_text(text)
    assert hub.main(bad, *tree.paths('action.yml')) == 3  # 3 wins over 1
    out = capsys.readouterr().out.splitlines()
    errors = [line for line in out if line.startswith(str(bad))]
    assert len(errors) == 1 and errors[0].startswith(f'{bad}:4: ') and 'not valid YAML' in errors[0], out
    assert bad.read_text() == text
    assert tree.read()['action.yml'] == tree.after['action.yml']  # the valid file is pinned


@pytest.mark.parametrize(('name', 'text', 'line'), (
    ('docker-compose.yml', 'services: [web,\n', 'services: [web,: not valid YAML: did not find expected node content'),
    ('.gitlab-ci.yml', 'test:\n  image: "python:3\n\n',
     'image: "python:3: not valid YAML: found unexpected end of stream'),
))
def test_invalid_yaml_at_the_end_of_the_stream_names_the_last_line(hub, tmp_path, capsys, name, text, line):
    """The parser's mark is past the last line: the error names the last line written, with its text."""
    path = tmp_path / name
    path.write_text(text)
    assert hub.main(path) == 3
    last = text.rstrip().count('\n') + 1
    assert capsys.readouterr().out == f'{path}:{last}: {line}\n'
    assert path.read_text() == text


def test_alias_bomb_is_one_error_line(hub, tmp_path, capsys):
    keys = ', '.join(f'k{i}: {i}' for i in range(600))
    services = ''.join(f'  s{i}: {{<<: *big, image: "a:{i}"}}\n' for i in range(600))
    text = f'x-big: &big {{{keys}}}\nservices:\n{services}'
    path = tmp_path / 'compose.yaml'
    path.write_text(text)
    assert hub.main(path) == 3
    reason = 'too many aliases and merge keys to follow (an alias expansion bomb?)'
    assert capsys.readouterr().out == f'{path}:1: {reason}\n'
    assert path.read_text() == text


def test_invalid_unrecognised_yaml_is_ignored(hub, tmp_path, capsys):
    paths = []
    for name, text in (('notes.yaml', 'apiVersion: v1\nkind: Pod\nimage: [unclosed\n'),
                       ('tabs.yml', 'apiVersion: v1\nkind: Pod\nspec:\n\timage: 1\n'),
                       ('chart/templates/deploy.yaml', 'apiVersion: v1\nkind: Pod\n{{- if .x }}\nimage: {{ .y }}\n')):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append((path, text))
    assert hub.main(*(p for p, _ in paths)) == 0
    assert capsys.readouterr() == ('', '')
    assert [p.read_text() for p, _ in paths] == [t for _, t in paths]


# --- through pre-commit: a real commit of one file of each kind (examples/yaml) ---

EXAMPLES = ROOT / 'examples' / 'yaml'
EXAMPLE_PINS = {
    'compose.yaml': ('python:3.12-slim', 'postgres:16'),
    'k8s/deployment.yaml': ('nginx:1.27',),
    '.github/workflows/ci.yml': ('node:20', 'postgres:16', 'alpine:3.20'),
    'action.yml': ('busybox:1.36',),
    '.gitlab-ci.yml': ('python:3.12-slim', 'redis'),
}


def pinned_example(hub: Hub, name: str) -> str:
    """The example as the README shows it after pinning: each listed value pinned, once."""
    text = (EXAMPLES / name).read_text()
    for ref in EXAMPLE_PINS[name]:
        text, n = re.subn(rf'(?<=[ /]){re.escape(ref)}$', pinned(hub, ref), text, flags=re.M)
        assert n == 1, (name, ref)
    return text


def test_commit_of_each_kind_is_stopped_then_passes(hook_repo, pre_commit_home, hub, tmp_path):
    work = tmp_path / 'project'
    shutil.copytree(EXAMPLES, work)
    (work / 'Dockerfile').write_text('FROM alpine:3.20\n')
    hooks = f'    -   id: pin-from\n        args: [--registry-mirror, "{hub.mirror}"]\n'
    env = hooked_project(work, hook_repo, pre_commit_home, hooks)

    first = commit(work, env)
    said = first.stdout + first.stderr  # git commit shows the hook's output on stderr
    assert first.returncode != 0, said
    for name, refs in EXAMPLE_PINS.items():
        assert (work / name).read_text() == pinned_example(hub, name)
        for ref in refs:
            assert re.search(rf'^{re.escape(name)}:\d+: pinned {re.escape(ref)} -> ', said, re.M), said
    assert (work / 'Dockerfile').read_text() == f'FROM {pinned(hub, "alpine:3.20")}\n'
    status = git('status', '--porcelain', '--untracked-files=no', cwd=work, env=env)
    changed = sorted(line[3:] for line in status.splitlines() if line[1] == 'M')  # changed, not staged
    assert changed == sorted([*EXAMPLE_PINS, 'Dockerfile']), status

    git('add', '-A', cwd=work, env=env)
    second = commit(work, env)
    assert second.returncode == 0, second.stdout + second.stderr
    for name in EXAMPLE_PINS:
        assert git('show', f'HEAD:{name}', cwd=work, env=env) == pinned_example(hub, name)
