"""The file kinds of issue 21 end to end: real-looking files of each kind, pinned
by the ``pin-from`` hook against a real registry (Docker Hub names served by a
mirror on the loopback registry), byte for byte, checked, re-pinned with a
report, and checked for supported tags by ``check-deprecated-tags``.

Templates as in ``tests/yaml_pin_test.py``: ``«ref»`` is a reference the hook
must pin (``ref`` before, ``ref[:latest]@<digest>`` after). A reference written
in parts has two more marks: ``«=ref»`` is a digest field (empty before, the
digest of ``ref`` after), ``«+ref»`` a kustomize ``newTag`` (the tag before,
``tag@digest`` after). Digests come from ``skopeo inspect``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from typing import Callable

import pytest

from pin_from import check_deprecated_tags
from pin_from.reference import parse
from tests.file_kinds_property_test import jsonc_data
from tests.yaml_pin_test import Files
from tests.yaml_pin_test import flag_old_tags
from tests.yaml_pin_test import Hub
from tests.yaml_pin_test import LIBRARY

MARK_RE = re.compile('«([=+]?)([^»]+)»')
IMAGES = ('python:3.12-slim', 'postgres:16', 'redis:7', 'nginx:1.27', 'busybox:1.36', 'alpine:3.20', 'node:20',
          'golang:1.22')

HELM_CHART = """\
apiVersion: v2
name: shop
version: 1.4.0
appVersion: "2.1.0"
"""

# a values file in the shapes of popular charts (Bitnami's image mappings, the
# 'helm create' scaffold, plain strings)
HELM_VALUES = """\
## @section Global parameters
global:
  imageRegistry: ""
  imagePullSecrets: []

## Bitnami-style image: registry, repository, tag and digest
image:
  registry: docker.io
  repository: library/nginx
  tag: "1.27"
  digest: "«=docker.io/library/nginx:1.27»"
  pullPolicy: IfNotPresent

metrics:
  enabled: true
  image:
    registry: docker.io
    repository: redis
    tag: 7
    digest:«=redis:7»
    pullPolicy: IfNotPresent

# the 'helm create' scaffold: no digest key, so the tag is left alone
app:
  image:
    repository: node
    pullPolicy: IfNotPresent
    # Overrides the image tag whose default is the chart appVersion.
    tag: "20"

initImage: «busybox:1.36»
sidecars:
  - name: logs
    image: '«alpine:3.20»'
  - name: exporter
    image: "{{ .Values.exporter.image }}"
volumePermissions:
  image: {registry: docker.io, repository: library/busybox, tag: "1.36", digest: «=busybox:1.36»}
legacy:
  # pin-from: ignore
  image: python:3.12-slim
podAnnotations: {}
labels:
  image: not-an-image-key-but-a-label
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: nginx
    newTag: «+nginx:1.27»
  - name: postgres
    newName: docker.io/library/postgres
    newTag: "16"
    digest: "«=docker.io/library/postgres:16»"
  - name: app
    newName: LOCAL
  - name: redis
    newTag: '«+redis:7»'  # the cache
"""

CIRCLECI = """\
version: 2.1
orbs:
  python: circleci/python@2.1.1
executors:
  py:
    docker:
      - image: «python:3.12-slim»
jobs:
  test:
    docker:
      - image: «node:20»
        auth:
          username: $DOCKERHUB_USER
          password: $DOCKERHUB_PASSWORD
      - image: «postgres:16»
        environment: {POSTGRES_PASSWORD: example}
    steps:
      - checkout
      - run: npm test
  lint:
    executor: py
    steps: [checkout]
workflows:
  main:
    jobs: [test, lint]
"""

BITBUCKET = """\
image: «python:3.12-slim»
definitions:
  services:
    postgres:
      image: «postgres:16»
      variables: {POSTGRES_PASSWORD: example}
    cache:
      image:
        name: «redis:7»
  steps:
    - step: &lint
        name: Lint
        image: «node:20»
        script: [npm run lint]
pipelines:
  default:
    - step: *lint
    - parallel:
        - step:
            name: Test
            script: [pytest]
            services: [postgres, cache]
        - step:
            name: Go
            image: {name: "«golang:1.22»"}
            script: [go test ./...]
  branches:
    main:
      - stage:
          name: Deploy
          steps:
            - step: {name: Ship, image: '«alpine:3.20»', script: [./ship]}
"""

AZURE = """\
trigger: [main]
resources:
  containers:
    - container: pg
      image: «postgres:16»
    - container: build
      image: "«golang:1.22»"
stages:
  - stage: Test
    jobs:
      - job: Unit
        pool: {vmImage: ubuntu-latest}
        container: «python:3.12-slim»
        services:
          pg: pg
        steps:
          - script: pytest
      - job: Build
        container: build
        steps: [{script: go build}]
  - stage: Deploy
    jobs:
      - deployment: Web
        environment: prod
        container:
          image: '«node:20»'
          options: --user 0
        strategy: {runOnce: {deploy: {steps: [{script: ./deploy}]}}}
"""

DRONE = """\
kind: pipeline
type: docker
name: default

steps:
  - name: test
    image: «golang:1.22»
    commands: [go test ./...]
  - name: publish
    image: «node:20»
    settings: {repo: example/app}

services:
  - name: db
    image: «postgres:16»
---
kind: secret
name: token
get: {path: secret/data/token, name: value}
"""

WOODPECKER = """\
steps:
  build:
    image: «golang:1.22»
    commands: [go build]
  notify:
    image: «alpine:3.20»
    commands: [echo done]
services:
  cache:
    image: «redis:7»
"""

CLOUDBUILD = """\
steps:
  - name: '«node:20»'
    entrypoint: npm
    args: [ci]
  - name: «python:3.12-slim»
    args: [-m, pytest]
  - name: gcr.io/cloud-builders/docker  # pin-from: ignore
    args: [build, -t, 'gcr.io/$PROJECT_ID/app', .]
images: ['gcr.io/$PROJECT_ID/app']
"""

GITLAB_INCLUDE = """\
# included by .gitlab-ci.yml (include: local: .gitlab/ci/test.yml)
test:
  stage: test
  image: «python:3.12-slim»
  services:
    - name: «postgres:16»
      alias: db
  script: [pytest]
"""

TEKTON_ARGO = """\
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: build}
spec:
  stepTemplate:
    image: «alpine:3.20»
  steps:
    - name: compile
      image: «golang:1.22»
      script: go build ./...
  sidecars:
    - {name: db, image: '«postgres:16»'}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hello-}
spec:
  entrypoint: main
  templates:
    - name: main
      steps: [[{name: say, template: say}]]
    - name: say
      container:
        image: «busybox:1.36»
        command: [echo, hi]
    - name: calc
      script:
        image: "«python:3.12-slim»"
        source: print(1)
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          image: «nginx:1.27»
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          properties:
            container: {properties: {image: {type: string, default: "busybox:1.36"}}}
"""

YAML_FILES = {
    'chart/Chart.yaml': HELM_CHART,
    'chart/values.yaml': HELM_VALUES,
    'deploy/overlays/prod/kustomization.yaml': KUSTOMIZATION,
    '.circleci/config.yml': CIRCLECI,
    'bitbucket-pipelines.yml': BITBUCKET,
    'azure-pipelines.yml': AZURE,
    '.drone.yml': DRONE,
    '.woodpecker/build.yaml': WOODPECKER,
    'cloudbuild.yaml': CLOUDBUILD,
    '.gitlab/ci/test.yml': GITLAB_INCLUDE,
    'k8s/pipelines.yaml': TEKTON_ARGO,
}
CRLF_BOM = ('bitbucket-pipelines.yml',)  # written with a BOM and CRLF line ends
KINDS = {
    'chart/values.yaml': 'helm', 'deploy/overlays/prod/kustomization.yaml': 'kustomize',
    '.circleci/config.yml': 'circleci', 'bitbucket-pipelines.yml': 'bitbucket',
    'azure-pipelines.yml': 'azure-pipelines', '.drone.yml': 'drone', '.woodpecker/build.yaml': 'woodpecker',
    'cloudbuild.yaml': 'cloudbuild', '.gitlab/ci/test.yml': 'gitlab-ci', 'k8s/pipelines.yaml': 'kubernetes',
}


class Tree(Files):
    """The files of a repository: inputs, the expected outputs, and the image values that change."""

    def __init__(self, hub: Hub, root: Path, files: dict[str, str], crlf_bom: tuple[str, ...] = ()) -> None:
        self.hub = hub
        self.root = root
        self.before: dict[str, str] = {}
        self.after: dict[str, str] = {}
        self.marks: dict[str, list[int]] = {}
        self.changes: set[tuple[Any, Any]] = set()  # (value before, value after) of changed scalars
        for name, template in files.items():
            template = template.replace('LOCAL', hub.local)
            self.marks[name] = [template.count('\n', 0, m.start()) + 1 for m in MARK_RE.finditer(template)]
            self.before[name] = MARK_RE.sub(self._before, template)
            self.after[name] = MARK_RE.sub(self._after, template)
            if name in crlf_bom:
                self.before[name], self.after[name] = (
                    '\ufeff' + t.replace('\n', '\r\n') for t in (self.before[name], self.after[name]))
        self.write(self.before)

    def digest(self, ref: str) -> str:
        return self.hub.skopeo(ref.removeprefix('docker.io/library/'))

    def _before(self, m: re.Match[str]) -> str:
        mark, ref = m.groups()
        return {'': ref, '=': '', '+': parse(ref).tag or ''}[mark]

    def _after(self, m: re.Match[str]) -> str:
        mark, ref = m.groups()
        digest = self.digest(ref)
        if mark == '=':
            self.changes |= {('', digest), (None, digest)}
            return (' ' if m.string[m.start() - 1] == ':' else '') + digest
        if mark == '+':
            self.changes.add((parse(ref).tag, f'{parse(ref).tag}@{digest}'))
            return f'{parse(ref).tag}@{digest}'
        tagged = ref if parse(ref).tag else f'{ref}:latest'
        self.changes.add((ref, f'{tagged}@{digest}'))
        return f'{tagged}@{digest}'



def same_but_images(old: Any, new: Any, changes: set[tuple[Any, Any]], where: str = '') -> None:
    """Equal data, except scalars changed as ``changes`` allows."""
    if isinstance(old, dict) and isinstance(new, dict):
        assert list(old) == list(new), where
        for key in old:
            same_but_images(old[key], new[key], changes, f'{where}.{key}')
    elif isinstance(old, list) and isinstance(new, list):
        assert len(old) == len(new), where
        for i, (a, b) in enumerate(zip(old, new)):
            same_but_images(a, b, changes, f'{where}[{i}]')
    elif old != new:
        assert (old, new) in changes or (str(old), new) in changes, (where, old, new)


@pytest.fixture
def hub(registry, repo_factory):
    hub = Hub(registry, repo_factory().replace('/', '-'))
    for ref in (*IMAGES, f'{hub.local}:1.0'):
        hub.push(ref)
    return hub


@pytest.fixture
def make_tree(hub, tmp_path) -> Callable[..., Tree]:
    return lambda files, crlf_bom=(): Tree(hub, tmp_path, files, crlf_bom)


def loads(name: str, text: str) -> Any:
    import yaml
    return list(yaml.safe_load_all(text.lstrip('\ufeff')))


def pinned_lines(out: str) -> list[tuple[str, str]]:
    return sorted(re.findall(r'^(.+):(\d+): pinned ', out, re.M))


def test_yaml_kinds_are_recognised_by_name(hub, make_tree):
    from pin_from import kinds
    tree = make_tree(YAML_FILES)
    for name, kind in KINDS.items():
        assert kinds.kind_for(str(tree.root / name)) == kind, name
    assert kinds.kind_for(str(tree.root / 'values.yaml')) == 'kubernetes'  # no Chart.yaml beside it


def test_yaml_kinds_are_pinned_byte_for_byte(hub, make_tree, capsys):
    tree = make_tree(YAML_FILES, CRLF_BOM)
    assert hub.main(*tree.paths()) == 1
    assert tree.read() == tree.after
    out = capsys.readouterr().out
    assert pinned_lines(out) == sorted(
        (str(tree.root / n), str(line)) for n, marks in tree.marks.items() for line in marks)
    for name in tree.before:
        same_but_images(loads(name, tree.before[name]), loads(name, tree.after[name]), tree.changes, name)
    # a reference in parts is reported whole
    assert f'{tree.root / "chart/values.yaml"}:11: pinned docker.io/library/nginx:1.27 -> ' \
           f'docker.io/library/nginx:1.27@{tree.digest("nginx:1.27")}' in out
    assert f'kustomization.yaml:7: pinned nginx:1.27 -> nginx:1.27@{tree.digest("nginx:1.27")}' in out

    assert hub.main(*tree.paths()) == 0  # a second run changes nothing
    assert hub.main('--check', *tree.paths()) == 0
    assert tree.read() == tree.after
    assert capsys.readouterr().out == ''


def test_verbose_says_why_parts_are_left_alone(hub, make_tree, capsys):
    tree = make_tree(YAML_FILES)
    assert hub.main('-v', '--check', *tree.paths('chart/values.yaml', 'deploy/overlays/prod/kustomization.yaml')) == 1
    out = capsys.readouterr().out
    values, kustomization = tree.paths('chart/values.yaml', 'deploy/overlays/prod/kustomization.yaml')
    assert f'{values}:25: skipped node:20: repository and tag with no digest key: left alone' in out
    assert f'{values}:36: skipped {{{{ .Values.exporter.image }}}}: a template expression' in out
    assert f'{values}:41: skipped python:3.12-slim: under a "# pin-from: ignore" comment' in out
    assert f'{kustomization}:12: skipped {tree.hub.local}: no newTag: the tag comes from the resources' in out
    assert 'not-an-image-key' not in out


def test_update_repins_every_part_with_a_report(hub, make_tree, capsys):
    tree = make_tree(YAML_FILES, CRLF_BOM)
    assert hub.main(*tree.paths()) == 1
    moved = {'nginx:1.27': tree.digest('nginx:1.27'), 'postgres:16': tree.digest('postgres:16')}
    for ref in moved:
        hub.push(ref, seed='moved')
    capsys.readouterr()
    report = tree.root / 'report.md'
    assert hub.main('--update', '--library-url', LIBRARY, '--report', report, *tree.paths()) == 1
    expected = {
        n: t.replace(moved['nginx:1.27'], tree.digest('nginx:1.27')).replace(moved['postgres:16'], tree.digest('postgres:16'))
        for n, t in tree.after.items()
    }
    assert tree.read() == expected != tree.after
    out = capsys.readouterr().out
    assert f'{tree.root / "chart/values.yaml"}:11: re-pinned docker.io/library/nginx:1.27@{moved["nginx:1.27"]}' in out
    assert f'kustomization.yaml:7: re-pinned nginx:1.27@{moved["nginx:1.27"]}' in out
    assert f'kustomization.yaml:11: re-pinned docker.io/library/postgres:16@{moved["postgres:16"]}' in out
    assert f'{tree.root / "k8s/pipelines.yaml"}:12: re-pinned postgres:16@' in out
    text = report.read_text()
    assert moved['nginx:1.27'] in text and tree.digest('nginx:1.27') in text
    assert hub.main('--update', '--library-url', LIBRARY, *tree.paths()) == 0


def test_kinds_option_selects_new_kinds(hub, make_tree):
    tree = make_tree(YAML_FILES)
    assert hub.main('--kinds', 'helm,cloudbuild', *tree.paths()) == 1
    changed = ('chart/values.yaml', 'cloudbuild.yaml')
    assert tree.read() == {**tree.before, **{n: tree.after[n] for n in changed}}


def test_json_results_name_the_whole_reference(hub, make_tree, capsys):
    tree = make_tree(YAML_FILES)
    capsys.readouterr()
    assert hub.main('--format', 'json', '--check', *tree.paths('deploy/overlays/prod/kustomization.yaml')) == 1
    results = json.loads(capsys.readouterr().out)['results']
    pins = [(r['line'], r['image'], r['status']) for r in results if r['status'] == 'would-pin']
    assert pins == [(7, 'nginx:1.27', 'would-pin'), (11, 'docker.io/library/postgres:16', 'would-pin'),
                    (15, 'redis:7', 'would-pin')]


def test_check_deprecated_tags_reads_every_yaml_kind(tmp_path, capsys):
    files = {
        'chart/Chart.yaml': HELM_CHART,
        'chart/values.yaml': 'image: {repository: python, tag: "3.7", digest: ""}\nsidecarImage: node:16\n',
        'kustomization.yaml': 'images:\n- name: python\n  newTag: 3.7-slim\n',
        '.circleci/config.yml': 'jobs:\n  t:\n    docker:\n    - image: python:3.7\n',
        'bitbucket-pipelines.yml': 'image: node:16\n',
        'azure-pipelines.yml': 'container: python:3.7\n',
        '.drone.yml': 'kind: pipeline\nsteps:\n- name: a\n  image: node:16\n',
        '.woodpecker.yml': 'steps:\n  a:\n    image: python:3.12\n',
        'cloudbuild.yaml': 'steps:\n- name: node:16\n',
        '.gitlab/ci/a.yml': 't:\n  image: python:3.7\n',
        'k8s/task.yaml': 'apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - image: node:16\n',
    }
    flagged, _ = flag_old_tags(tmp_path, files, capsys)
    assert sorted(flagged) == sorted([
        (f'{tmp_path}/chart/values.yaml:1', 'python:3.7'),
        (f'{tmp_path}/chart/values.yaml:2', 'node:16'),
        (f'{tmp_path}/kustomization.yaml:3', 'python:3.7-slim'),
        (f'{tmp_path}/.circleci/config.yml:4', 'python:3.7'),
        (f'{tmp_path}/bitbucket-pipelines.yml:1', 'node:16'),
        (f'{tmp_path}/azure-pipelines.yml:1', 'python:3.7'),
        (f'{tmp_path}/.drone.yml:4', 'node:16'),
        (f'{tmp_path}/cloudbuild.yaml:2', 'node:16'),
        (f'{tmp_path}/.gitlab/ci/a.yml:2', 'python:3.7'),
        (f'{tmp_path}/k8s/task.yaml:5', 'node:16'),
    ])
    assert [(tmp_path / n).read_text() for n in files] == list(files.values())


# --- JSONC, systemd units, Earthfiles -------------------------------------------

DEVCONTAINER = """\
// For format details, see https://aka.ms/devcontainer.json. For config options, see the
// README at: https://github.com/devcontainers/templates/tree/main/src/python
{
\t"name": "Python 3 ☕",
\t// Or use a Dockerfile or Docker Compose file. More info: https://containers.dev/guide/dockerfile
\t"image": "«python:3.12-slim»",

\t// Features to add to the dev container. More info: https://containers.dev/features.
\t"features": {
\t\t"ghcr.io/devcontainers/features/node:1": {"version": "lts"},
\t},
\t/* "forwardPorts": [8000], */
\t"postCreateCommand": "pip3 install --user -r requirements.txt",
\t"customizations": {"vscode": {"extensions": ["ms-python.python",],},},
}
"""

DEVCONTAINER_IGNORED = """\
{
  // pin-from: ignore
  "image": "node:20",
  "runArgs": ["--init"]
}
"""

QUADLET = """\
# /etc/containers/systemd/web.container
[Unit]
Description=The web server
After=network-online.target

[Container]
# a comment; Image=docker.io/library/busybox:1.36 in a comment is not a key
Image=«docker.io/library/nginx:1.27»
ContainerName=web
PublishPort=8080:80
Label=image=docker.io/library/alpine:3.20
Exec=/docker-entrypoint.sh \\
  nginx -g "daemon off;"

[Service]
Restart=always

[Install]
WantedBy=multi-user.target default.target
"""

QUADLET_IMAGE = """\
[Image]
Image = "«docker.io/library/redis:7»"
"""

QUADLET_OTHERS = """\
[Container]
# pin-from: ignore
Image=docker.io/library/postgres:16
Image=app.build
"""

EARTHFILE = """\
VERSION 0.8
FROM «golang:1.22»
WORKDIR /go-workdir

deps:
    COPY go.mod go.sum ./
    RUN go mod download
    SAVE ARTIFACT go.mod AS LOCAL go.mod

build:
    FROM +deps
    COPY main.go .
    RUN go build -o output/example main.go
    SAVE ARTIFACT output/example AS LOCAL local-output/go-example

docker:
    FROM --platform=linux/amd64 «alpine:3.20»
    COPY +build/example .
    ENTRYPOINT ["/go-workdir/example"]
    SAVE IMAGE --push example/go-example:latest

integration:
    FROM «busybox:1.36»
    # pin-from: ignore
    FROM node:20
    WITH DOCKER --pull «postgres:16» \\
            --pull=«redis:7» --load app:latest=+docker
        RUN docker run app:latest
    END
"""

OTHER_FILES = {
    '.devcontainer/devcontainer.json': DEVCONTAINER,
    '.devcontainer.json': DEVCONTAINER_IGNORED,
    'quadlet/web.container': QUADLET,
    'quadlet/cache.image': QUADLET_IMAGE,
    'quadlet/db.container': QUADLET_OTHERS,
    'Earthfile': EARTHFILE,
}
OTHER_KINDS = {
    '.devcontainer/devcontainer.json': 'devcontainer', '.devcontainer.json': 'devcontainer',
    'quadlet/web.container': 'quadlet', 'quadlet/cache.image': 'quadlet', 'Earthfile': 'earthfile',
}


def unit_data(text: str) -> list[tuple[str, str, str]]:
    """What systemd reads: (section, key, value) with continuations joined, comments dropped."""
    ret, section, pending = [], '', ''
    for line in text.lstrip('\ufeff').splitlines():
        if pending:
            pending += ' ' + line.strip()
        elif not line.strip() or line.lstrip().startswith(('#', ';')):
            continue
        elif line.startswith('['):
            section = line.strip()[1:-1]
            continue
        else:
            pending = line
        if pending.endswith('\\'):
            pending = pending[:-1]
            continue
        key, _, value = pending.partition('=')
        ret.append((section, key.strip(), value.strip()))
        pending = ''
    return ret


def test_other_kinds_are_recognised_by_name(hub, make_tree):
    from pin_from import kinds
    tree = make_tree(OTHER_FILES)
    for name, kind in OTHER_KINDS.items():
        assert kinds.kind_for(str(tree.root / name)) == kind, name
    assert kinds.kind_for(str(tree.root / 'other/devcontainer.json')) is None  # not under .devcontainer/


def test_jsonc_units_and_earthfiles_are_pinned_byte_for_byte(hub, make_tree, capsys):
    tree = make_tree(OTHER_FILES, ('quadlet/cache.image',))
    assert hub.main(*tree.paths()) == 1
    assert tree.read() == tree.after
    out = capsys.readouterr().out
    assert pinned_lines(out) == sorted(
        (str(tree.root / n), str(line)) for n, marks in tree.marks.items() for line in marks)
    for name in ('.devcontainer/devcontainer.json', '.devcontainer.json'):
        same_but_images(jsonc_data(tree.before[name]), jsonc_data(tree.after[name]), tree.changes, name)
    for name in ('quadlet/web.container', 'quadlet/cache.image', 'quadlet/db.container'):
        before, after = unit_data(tree.before[name]), unit_data(tree.after[name])
        assert len(before) == len(after)
        for b, a in zip(before, after):
            assert b == a or (b[2].strip('"'), a[2].strip('"')) in tree.changes, (name, b, a)
    assert hub.main(*tree.paths()) == 0
    assert hub.main('--check', *tree.paths()) == 0
    assert tree.read() == tree.after
    assert capsys.readouterr().out == ''


def test_other_kinds_say_why_values_are_left_alone(hub, make_tree, capsys):
    tree = make_tree(OTHER_FILES)
    assert hub.main('-v', '--check', *tree.paths()) == 1
    out = capsys.readouterr().out
    root = tree.root
    assert f'{root / ".devcontainer.json"}:3: skipped node:20: under a "// pin-from: ignore" comment' in out
    assert f'{root / "quadlet/db.container"}:3: skipped docker.io/library/postgres:16: under a "# pin-from: ignore"' in out
    assert f'{root / "quadlet/db.container"}:4: skipped app.build: names another Quadlet unit' in out
    assert f'{root / "Earthfile"}:11: skipped +deps: an Earthly target, not an image' in out
    assert f'{root / "Earthfile"}:25: skipped node:20: under a "# pin-from: ignore" comment' in out
    assert 'example/go-example' not in out  # SAVE IMAGE names an output
    assert 'Label=' not in out and 'busybox:1.36 in a comment' not in out


def moved_and_updated(hub: Hub, tree: Tree, ref: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The tree pinned, ``ref`` moved on the registry, then ``--update``: every file is as pinned but
    for ``ref``'s new digest. Returns the old digest and what the update printed."""
    assert hub.main(*tree.paths()) == 1
    old = tree.digest(ref)
    hub.push(ref, seed='moved')
    capsys.readouterr()
    assert hub.main('--update', '--library-url', LIBRARY, *tree.paths()) == 1
    assert tree.read() == {n: t.replace(old, tree.digest(ref)) for n, t in tree.after.items()}
    return old, capsys.readouterr().out


def test_update_and_check_deprecated_tags_on_other_kinds(hub, make_tree, tmp_path, capsys):
    tree = make_tree(OTHER_FILES)
    old, out = moved_and_updated(hub, tree, 'redis:7', capsys)
    assert f'{tree.root / "quadlet/cache.image"}:2: re-pinned docker.io/library/redis:7@{old}' in out
    assert f'{tree.root / "Earthfile"}:27: re-pinned redis:7@{old}' in out

    old_tags = {
        '.devcontainer.json': '{"image": "python:3.7", /* old */}\n',
        'web.container': '[Container]\nImage=docker.io/library/node:16\n',
        'Earthfile': 'VERSION 0.8\nFROM python:3.7\nt:\n    WITH DOCKER --pull node:16\n    END\n',
    }
    old_dir = tmp_path / 'old'
    flagged, argv = flag_old_tags(old_dir, old_tags, capsys)
    assert sorted(flagged) == sorted([
        (f'{old_dir}/.devcontainer.json:1', 'python:3.7'), (f'{old_dir}/web.container:2', 'node:16'),
        (f'{old_dir}/Earthfile:2', 'python:3.7'), (f'{old_dir}/Earthfile:4', 'node:16'),
    ])
    assert check_deprecated_tags.main([*argv, '--kinds', 'quadlet']) == 1
    assert re.findall(r'^(\S+): ', capsys.readouterr().out, re.M) == [f'{old_dir}/web.container:2']


# --- HCL: bake and Terraform --------------------------------------------------

BAKE_HCL = """\
// docker-bake.hcl
variable "TAG" {
  default = "latest"
}

group "default" {
  targets = ["app", "docs"]
}

target "app" {
  context    = "."
  dockerfile = "Dockerfile"
  contexts = {
    base     = "docker-image://«python:3.12-slim»"
    "golang" = "docker-image://«golang:1.22»" # the toolchain
    src      = "target:deps"
    node     = "docker-image://node:${TAG}"
  }
  tags      = ["example/app:${TAG}", "example/app:latest"]
  platforms = ["linux/amd64", "linux/arm64"]
}

target "docs" {
  dockerfile-inline = <<EOT
# syntax=«busybox:1.36»
FROM «alpine:3.20» AS build
RUN echo "${TAG}" > /tag
FROM scratch
COPY --from=build /tag /
EOT
  tags = ["example/docs:${TAG}"]
}

target "lint" {
  inherits = ["app"]
  # pin-from: ignore
  contexts = { base = "docker-image://node:20" }
  dockerfile-inline = "FROM «node:20»"
}
"""

BAKE_JSON = """\
{
  "group": {"default": {"targets": ["app"]}},
  "target": {
    "app": {
      "context": ".",
      "contexts": {"base": "docker-image://«redis:7»", "src": "target:deps"},
      "dockerfile-inline": "FROM «postgres:16»",
      "tags": ["example/app:latest"]
    },
    "multi": {
      "dockerfile-inline": "FROM alpine:3.20\\nRUN true"
    }
  }
}
"""

TERRAFORM = """\
terraform {
  required_providers {
    docker = { source = "kreuzwerker/docker", version = "~> 3.0" }
  }
}

variable "app_image" {
  default = "nginx:1.27"  # a variable: not known to be an image that runs
}

resource "docker_image" "nginx" {
  name         = "«nginx:1.27»"
  keep_locally = false
}

resource "docker_container" "web" {
  image = docker_image.nginx.image_id
  name  = "web"
  ports {
    internal = 80
    external = 8000
  }
}

resource "docker_container" "cache" {
  image = "«redis:7»"
  name  = "cache-${var.env}"
}

resource "kubernetes_deployment_v1" "api" {
  metadata { name = "api" }
  spec {
    replicas = 2
    template {
      metadata { labels = { app = "api" } }
      spec {
        init_container {
          name  = "migrate"
          image = "«python:3.12-slim»"
        }
        container {
          name  = "api"
          image = "${var.registry}/api:${var.tag}"
        }
        container {
          name = "sidecar"
          # pin-from: ignore
          image = "busybox:1.36"
        }
      }
    }
  }
}

resource "aws_ecs_task_definition" "service" {
  family = "service"
  container_definitions = jsonencode([
    {
      name      = "first"
      image     = "«golang:1.22»"
      cpu       = 10
      memory    = 512
      essential = true
      portMappings = [for p in var.ports : { containerPort = p, hostPort = p }]
    },
    {
      name  = "second"
      image = "«alpine:3.20»"
    },
  ])
}

resource "aws_ecs_task_definition" "legacy" {
  family                = "legacy"
  container_definitions = <<DEFINITIONS
[
  {
    "name": "legacy",
    "image": "«node:20»",
    "essential": true
  }
]
DEFINITIONS
}

data "docker_registry_image" "ubuntu" {
  name = "ubuntu:24.04"
}
"""

HCL_FILES = {
    'docker-bake.hcl': BAKE_HCL,
    'build/docker-bake.json': BAKE_JSON,
    'infra/main.tf': TERRAFORM,
}


def test_hcl_kinds_are_recognised_by_name(hub, make_tree):
    from pin_from import kinds
    tree = make_tree(HCL_FILES)
    assert [kinds.kind_for(str(p)) for p in tree.paths()] == ['bake', 'bake', 'terraform']
    assert kinds.kind_for('docker-bake.override.hcl') == 'bake'
    assert kinds.kind_for('modules/x/variables.tf') == 'terraform'


def test_bake_and_terraform_are_pinned_byte_for_byte(hub, make_tree, capsys):
    tree = make_tree(HCL_FILES, ('infra/main.tf',))
    assert hub.main(*tree.paths()) == 1
    assert tree.read() == tree.after
    out = capsys.readouterr().out
    assert pinned_lines(out) == sorted(
        (str(tree.root / n), str(line)) for n, marks in tree.marks.items() for line in marks)
    before, after = jsonc_data(tree.before['build/docker-bake.json']), jsonc_data(tree.after['build/docker-bake.json'])
    target = before['target']['app']
    target['contexts']['base'] = after['target']['app']['contexts']['base']
    target['dockerfile-inline'] = after['target']['app']['dockerfile-inline']
    assert before == after
    assert hub.main(*tree.paths()) == 0
    assert hub.main('--check', *tree.paths()) == 0
    assert capsys.readouterr().out == ''


def test_hcl_kinds_say_why_values_are_left_alone(hub, make_tree, capsys):
    tree = make_tree(HCL_FILES)
    assert hub.main('-v', '--check', *tree.paths()) == 1
    out = capsys.readouterr().out
    bake, bake_json, tf = tree.paths()
    assert f'{bake}:17: skipped node:${{TAG}}: an interpolation' in out
    assert f'{bake}:37: skipped node:20: under a "# pin-from: ignore" comment' in out
    assert f'{bake_json}:11: skipped FROM alpine:3.20' in out
    assert f'{tf}:43: skipped ${{var.registry}}/api:${{var.tag}}: an interpolation' in out
    assert f'{tf}:48: skipped busybox:1.36: under a "# pin-from: ignore" comment' in out
    assert 'example/app' not in out and 'ubuntu:24.04' not in out  # tags are outputs; data sources are not read
    assert f'{tf}:8:' not in out  # a variable's default


def test_update_and_check_deprecated_tags_on_hcl_kinds(hub, make_tree, tmp_path, capsys):
    tree = make_tree(HCL_FILES)
    old, out = moved_and_updated(hub, tree, 'golang:1.22', capsys)
    assert f'{tree.root / "docker-bake.hcl"}:15: re-pinned golang:1.22@{old}' in out
    assert f'{tree.root / "infra/main.tf"}:60: re-pinned golang:1.22@{old}' in out

    files = {
        'docker-bake.hcl': 'target "a" {\n  contexts = { b = "docker-image://python:3.7" }\n}\n',
        'main.tf': 'resource "docker_image" "n" {\n  name = "node:16"\n}\n',
    }
    flagged, _ = flag_old_tags(tmp_path / 'old', files, capsys)
    assert sorted(flagged) == [(f'{tmp_path}/old/docker-bake.hcl:2', 'python:3.7'),
                               (f'{tmp_path}/old/main.tf:2', 'node:16')]
