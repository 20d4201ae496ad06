"""The YAML scanners: every site's exact offsets, skips and problems, for real
looking files of each kind, with both PyYAML loaders (libyaml and pure Python)."""
from __future__ import annotations

import time

import pytest
import yaml

from pin_from import reference
from pin_from import kinds
from pin_from.kinds import yaml_kinds

D = 'sha256:' + 'b' * 64
LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, 'CSafeLoader') else [])


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request):
    return request.param


def scan(text, kind, loader):
    ret = yaml_kinds.scan(text, kind, loader=loader)
    for s in ret.sites:
        assert text[s.start:s.end] == s.text  # what a rewrite splices
        assert s.ref == reference.parse(s.text)
    assert len({s.start for s in ret.sites}) == len(ret.sites)  # never twice
    return ret


def sites(text, kind, loader):
    return [(s.line, s.kind, s.text) for s in scan(text, kind, loader).sites]


def skips(text, kind, loader):
    return [(s.line, s.text) for s in scan(text, kind, loader).skips]


@pytest.mark.parametrize(
    ('path', 'kind'),
    (
        ('compose.yaml', 'compose'),
        ('compose.yml', 'compose'),
        ('deploy/compose.override.yaml', 'compose'),
        ('docker-compose.yml', 'compose'),
        ('docker-compose.prod.yaml', 'compose'),
        ('docker-compose-dev.yml', 'compose'),
        ('.github/workflows/ci.yml', 'workflow'),
        ('/repo/.github/workflows/compose.yaml', 'workflow'),
        ('.github/workflows/sub/ci.yml', 'yaml'),  # GitHub reads only the top of workflows/
        ('.github/dependabot.yml', 'yaml'),
        ('action.yml', 'action'),
        ('actions/build/action.yaml', 'action'),
        ('.gitlab-ci.yml', 'gitlab-ci'),
        ('.gitlab-ci.yaml', 'gitlab-ci'),
        ('ci/build.gitlab-ci.yml', 'gitlab-ci'),  # an included file, by GitLab's convention
        ('k8s/deployment.yaml', 'yaml'),
        ('mycompose.yaml', 'yaml'),
        ('composer.yaml', 'yaml'),
        ('compose_dev.yaml', 'compose'),
        ('Compose.YML', 'compose'),
        ('compose.json', None),
        ('Dockerfile', None),
        ('README.md', None),
    ),
)
def test_kind_for(path, kind):
    assert kinds.yaml_kind(path) == kind


COMPOSE = '''\
# the app and its database
name: shop
x-common: &common
  restart: unless-stopped
  image: "registry.example.com:5000/shop/base:2.1"
x-redis: &redis redis:7.2-alpine
services:
  db:
    image: postgres:16  # the database
    environment:
      POSTGRES_PASSWORD: example
  web: {image: 'nginx:1.25', ports: ["80:80"]}
  cache:
    image: *redis
  cache2:
    image: *redis
  worker:
    <<: *common
    command: worker
  beat:
    <<: *common
  pinned:
    image: python:3.12@%(d)s
  digest_only:
    image: ghcr.io/org/tool@%(d)s
''' % {'d': D}


@pytest.mark.parametrize(
    ('text', 'kind', 'expected'),
    (
        pytest.param(COMPOSE, 'compose', [
            (5, 'compose-service', 'registry.example.com:5000/shop/base:2.1'),
            (6, 'compose-service', 'redis:7.2-alpine'),
            (9, 'compose-service', 'postgres:16'),
            (12, 'compose-service', 'nginx:1.25'),
            (23, 'compose-service', f'python:3.12@{D}'),
            (25, 'compose-service', f'ghcr.io/org/tool@{D}'),
        ], id='compose-shapes'),
        pytest.param(
            '\ufeff# caf\u00e9 \u2603 \U0001f600\r\nservices:\r\n  app:\r\n    image: "p\u00e9/x" \r\n'
            '  db:\r\n    image: mariadb:11 # \u00fc\r\n  q:\r\n    image: \'quay.io/a/b:1\'\r\n',
            'compose', [(6, 'compose-service', 'mariadb:11'), (8, 'compose-service', 'quay.io/a/b:1')],
            id='compose-bom-crlf-non-ascii',
        ),
        pytest.param(
            '---\nservices:\n  a:\n    image: alpine\n...\n',
            'compose', [(4, 'compose-service', 'alpine')], id='compose-document-markers',
        ),
        pytest.param(
            'services: {a: {image: "busybox:1.36"}, b: {image: busybox}}\n',
            'compose', [(1, 'compose-service', 'busybox:1.36'), (1, 'compose-service', 'busybox')],
            id='compose-flow',
        ),
        pytest.param(
            'services:\n  a:\n    image: !!str alpine:3\n  b:\n    image: &i node:20\n  c:\n    image: *i\n',
            'compose', [(3, 'compose-service', 'alpine:3'), (5, 'compose-service', 'node:20')],
            id='compose-tag-and-anchor-on-the-value',
        ),
        pytest.param(
            'version: "3.8"\nservices:\n  a:\n    image: alpine\n    image: alpine:3.20\n',
            'compose', [(5, 'compose-service', 'alpine:3.20')], id='compose-duplicate-key-last-wins',
        ),
        pytest.param(
            'services:\n  app:\n    image: alpine\n    <<: {image: "never:1"}\n',
            'compose', [(3, 'compose-service', 'alpine')], id='compose-explicit-key-beats-merge',
        ),
        pytest.param(
            'x: &a {image: "a:1"}\ny: &b {image: "b:1"}\nservices:\n  s: {<<: [*a, *b]}\n',
            'compose', [(1, 'compose-service', 'a:1')], id='compose-first-merge-source-wins',
        ),
        pytest.param(
            'image: nginx\nservices:\n  a:\n    build: .\n  b: null\n  c: just-a-string\n',
            'compose', [], id='compose-only-services',
        ),
        pytest.param(
            'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx\n',
            'compose', [], id='compose-ignores-kubernetes',
        ),
        pytest.param(
            'services:\n  a:\n    # pin-from: ignore\n    image: nginx\n  b:\n    image: redis\n'
            '  c: {image: "x:1"}  # pin-from: ignore\n  d: {image: "y:1"}  # not pin-from: ignore\n',
            'compose', [(6, 'compose-service', 'redis'), (8, 'compose-service', 'y:1')], id='ignore-is-one-value',
        ),
    ),
)
def test_sites(text, kind, expected, loader):
    assert sites(text, kind, loader) == expected


K8S = '''\
# a multi-document manifest
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  template:
    spec:
      initContainers:
        - name: migrate
          image: "ghcr.io/acme/migrate:1.4"
      containers:
        - name: web
          image: nginx:1.25.4
          ports: [{containerPort: 80}]
        - {name: sidecar, image: 'envoyproxy/envoy:v1.29.1'}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: backup
            image: postgres:16-alpine
          restartPolicy: OnFailure
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: main
    image: busybox
  ephemeralContainers:
  - name: dbg
    image: alpine:3.19
...
'''


@pytest.mark.parametrize(
    ('text', 'expected'),
    (
        pytest.param(K8S, [
            (13, 'k8s-init-container', 'ghcr.io/acme/migrate:1.4'),
            (16, 'k8s-container', 'nginx:1.25.4'),
            (18, 'k8s-container', 'envoyproxy/envoy:v1.29.1'),
            (38, 'k8s-container', 'postgres:16-alpine'),
            (48, 'k8s-container', 'busybox'),
            (51, 'k8s-ephemeral-container', 'alpine:3.19'),
        ], id='multi-document'),
        pytest.param(
            'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n'
            '    containers: [{name: a, image: "redis:7"}]\n'
            '- apiVersion: apps/v1\n  kind: StatefulSet\n  spec:\n    template:\n      spec:\n'
            '        containers: [{name: b, image: "mongo:7"}]\n',
            [(7, 'k8s-container', 'redis:7'), (13, 'k8s-container', 'mongo:7')], id='list',
        ),
        pytest.param(
            ''.join(
                f'---\napiVersion: apps/v1\nkind: {k}\nspec:\n  template:\n    spec:\n'
                f'      containers:\n      - image: img{i}:1\n'
                for i, k in enumerate(('ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'Rollout'))
            ),
            [(8 + 8 * i, 'k8s-container', f'img{i}:1') for i in range(5)], id='pod-templates',
        ),
        pytest.param(
            'apiVersion: v1\nkind: PodTemplate\ntemplate:\n  spec:\n    containers:\n    - image: a:1\n',
            [(6, 'k8s-container', 'a:1')], id='podtemplate',
        ),
        pytest.param(
            'apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n'
            '    template:\n      spec: &pod\n        containers:\n        - image: a:1\n'
            '- apiVersion: apps/v1\n  kind: DaemonSet\n  spec: {template: {spec: *pod}}\n'
            '- apiVersion: v1\n  kind: Pod\n  spec: *pod\n',
            [(10, 'k8s-container', 'a:1')], id='aliased-pod-spec-once',
        ),
        pytest.param(
            'apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: a:1}]\n---\n'
            'apiVersion: v1\nkind: Pod\nspec: *pod\n',
            [], id='anchors-do-not-cross-documents',
        ),
        pytest.param(
            '\ufeffapiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: "\u00fcber-\u65e5\u672c"\r\n'
            'spec:\r\n  containers:\r\n  - image: "nginx"\r\n',
            [(7, 'k8s-container', 'nginx')], id='bom-crlf-non-ascii',
        ),
        pytest.param(
            'openapi: 3.0.0\npaths:\n  /x:\n    get: {}\ncomponents:\n  image: nginx\n',
            [], id='not-kubernetes',
        ),
        pytest.param(
            'kind: Pod\nspec:\n  containers:\n  - image: nginx\n', [], id='no-apiVersion',
        ),
        pytest.param(
            'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx\n  - [\n', [],
            id='invalid-yaml-is-ignored',
        ),
    ),
)
def test_kubernetes(text, expected, loader):
    assert sites(text, 'yaml', loader) == expected
    assert not scan(text, 'yaml', loader).problems


WORKFLOW = '''\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    container: node:20-bookworm
    services:
      redis:
        image: redis:7
      postgres:
        image: "postgres:16"
        env: {POSTGRES_PASSWORD: x}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.19
        with: {args: echo hi}
      - name: lint
        uses: 'docker://ghcr.io/hadolint/hadolint:v2.12.0'
      - uses: ./.github/actions/local
  build:
    container:
      image: golang:1.22
      options: --cpus 1
    strategy:
      matrix: {img: ["a:1", "b:2"]}
    steps:
      - run: make
  matrix:
    container: ${{ matrix.img }}
    steps:
      - uses: docker://${{ vars.IMAGE }}
  reusable:
    uses: org/repo/.github/workflows/x.yml@v1
'''


def test_workflow(loader):
    assert sites(WORKFLOW, 'workflow', loader) == [
        (6, 'workflow-container', 'node:20-bookworm'),
        (9, 'workflow-service', 'redis:7'),
        (11, 'workflow-service', 'postgres:16'),
        (15, 'workflow-step', 'alpine:3.19'),
        (18, 'workflow-step', 'ghcr.io/hadolint/hadolint:v2.12.0'),
        (22, 'workflow-container', 'golang:1.22'),
    ]
    found = scan(WORKFLOW, 'workflow', loader).skips
    assert [(s.line, s.text) for s in found] == [(29, '${{ matrix.img }}'), (31, '${{ vars.IMAGE }}')]
    assert all('GitHub Actions expression' in s.reason for s in found)


@pytest.mark.parametrize(
    ('text', 'expected'),
    (
        pytest.param(
            "name: x\nruns:\n  using: docker\n  image: 'docker://debian:bookworm-slim'\n",
            [(4, 'action-image', 'debian:bookworm-slim')], id='docker-image',
        ),
        pytest.param('runs:\n  using: docker\n  image: Dockerfile\n', [], id='dockerfile'),
        pytest.param('runs:\n  using: docker\n  image: ./docker/Dockerfile\n', [], id='path'),
        pytest.param(
            'runs:\n  using: composite\n  steps:\n  - run: echo\n    shell: bash\n  - uses: docker://alpine:3\n',
            [(6, 'action-step', 'alpine:3')], id='composite-step',
        ),
    ),
)
def test_action(text, expected, loader):
    assert sites(text, 'action', loader) == expected


GITLAB = '''\
spec:
  inputs:
    tag: {default: "3.12"}
---
image: python:3.12
services:
  - postgres:16
  - name: redis:7
    alias: cache
default:
  image: {name: "alpine:3.19", entrypoint: [""]}
  services: [docker:24-dind]
variables:
  image: not-an-image
stages: [test]
.base: &base
  image: node:20
test:
  <<: *base
  script: [npm test]
lint:
  extends: .base
  image:
    name: ghcr.io/org/linter:1
  services:
    - name: mysql:8
      alias: db
inputs:
  image: python:$[[ inputs.tag ]]
registry:
  image: $CI_REGISTRY_IMAGE:latest
ref:
  image: !reference [.base, image]
include:
  - local: ci/other.gitlab-ci.yml
'''


def test_gitlab(loader):
    assert sites(GITLAB, 'gitlab-ci', loader) == [
        (5, 'gitlab-image', 'python:3.12'),
        (7, 'gitlab-service', 'postgres:16'),
        (8, 'gitlab-service', 'redis:7'),
        (11, 'gitlab-image', 'alpine:3.19'),
        (12, 'gitlab-service', 'docker:24-dind'),
        (17, 'gitlab-image', 'node:20'),
        (24, 'gitlab-image', 'ghcr.io/org/linter:1'),
        (26, 'gitlab-service', 'mysql:8'),
    ]
    found = scan(GITLAB, 'gitlab-ci', loader).skips
    assert [(s.line, s.text) for s in found] == [
        (29, 'python:$[[ inputs.tag ]]'), (31, '$CI_REGISTRY_IMAGE:latest'), (33, '!reference [.base, image]'),
    ]
    assert [s.reason.split(',')[0] for s in found] == [
        'a GitLab CI input', 'built from a variable', 'a GitLab !reference; the value it names is pinned where it is written',
    ]


@pytest.mark.parametrize(
    ('text', 'kind', 'expected'),
    (
        pytest.param(
            'services:\n  a:\n    # pin-from: ignore\n    image: nginx\n  b:\n    image: redis  #pin-from:ignore\n'
            '  c:\n    image: "mysql:8" # Pin-From: Ignore (tested elsewhere)\n',
            'compose', [(4, 'nginx', yaml_kinds.IGNORED), (6, 'redis', yaml_kinds.IGNORED),
                        (8, 'mysql:8', yaml_kinds.IGNORED)],
            id='ignore-comments',
        ),
        pytest.param(
            'services:\n  a:\n    image: "${REGISTRY:-docker.io}/app:1"\n  b:\n    image: app:$TAG\n',
            'compose', [(3, '${REGISTRY:-docker.io}/app:1', 'built from a variable, known only when it is expanded'),
                        (5, 'app:$TAG', 'built from a variable, known only when it is expanded')],
            id='variables',
        ),
        pytest.param(
            'services:\n  a:\n    image: "{{ .Service.Name }}:1"\n',
            'compose', [(3, '{{ .Service.Name }}:1', 'a template expression, known only when it is rendered')],
            id='template-value',
        ),
        pytest.param(
            'services:\n  a:\n    image: "ngin\\x78:1"\n  b:\n    image: \'it\'\'s\'\n  c:\n    image: nginx\n'
            '      :1.25\n  d:\n    image: |\n      nginx\n  e:\n    image: "nginx\n      :1"\n',
            'compose', [
                (3, '"ngin\\x78:1"', 'written with escapes or over several lines; edit it by hand'),
                (5, "'it''s'", 'written with escapes or over several lines; edit it by hand'),
                (7, 'nginx', 'written with escapes or over several lines; edit it by hand'),
                (10, '|', 'a block scalar (| or >); only single-line values are edited'),
                (13, '"nginx', 'written with escapes or over several lines; edit it by hand'),
            ],
            id='not-literal',
        ),
        pytest.param(
            'services:\n  a:\n    build: .\n    image: me/app:dev\n  b:\n    build: {context: .}\n',
            'compose', [(4, 'me/app:dev', 'names the image this service builds (build:); it is not pulled')],
            id='built-image',
        ),
        pytest.param(
            'services:\n  a:\n    image: 3\n  b:\n    image: ""\n  c:\n    image: !custom x:1\n  d:\n    image: [a]\n'
            '  e:\n    image:\n  f:\n    image: ~\n',
            'compose', [
                (3, '3', 'not a string (YAML reads it as int)'),
                (5, '', 'an empty value'),
                (7, 'x:1', 'tagged !custom; not a plain image reference'),
                (9, '[a]', 'not a string'),
            ],
            id='not-strings',
        ),
    ),
)
def test_skips(text, kind, expected, loader):
    found = scan(text, kind, loader)
    assert [(s.line, s.text, s.reason) for s in found.skips] == expected
    assert not found.sites and not found.problems


def test_helm_templates_are_skipped(loader):
    unparsable = (
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n'
        '      containers:\n      - image: nginx:1\n{{- if .Values.sidecar }}\n      - image: envoy\n{{- end }}\n'
    )
    parsable = (
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n  - image: nginx\n'
    )
    for text, line in ((unparsable, 10), (parsable, 4)):
        found = scan(text, 'yaml', loader)
        assert not found.sites and not found.problems
        assert [(s.line, s.reason) for s in found.skips] == [
            (line, 'a Helm/Go template, not YAML: its images are left alone'),
        ]


@pytest.mark.parametrize(
    ('text', 'kind', 'line'),
    (
        ('services:\n  a:\n    image: nginx\n  b: [\n', 'compose', 4),  # end of stream: the last line
        ('jobs:\n  a:\n    container: x\n   bad: indent\n', 'workflow', 4),
        ('runs: {image: "docker://a"\n', 'action', 1),
        ('image: *nope\n', 'gitlab-ci', 1),
        ('services:\n  a:\n    image: "nginx\x07"\n', 'compose', 3),
        ('a: 1\n---\nb: [\n', 'compose', 3),
    ),
)
def test_invalid_yaml_is_a_problem_for_named_kinds(text, kind, line, loader):
    found = scan(text, kind, loader)
    assert not found.sites and not found.skips
    [problem] = found.problems
    assert problem.line == line and problem.text  # a line of the file, never past its end
    assert problem.reason.startswith('not valid YAML: ') and '\n' not in problem.reason
    assert scan(text, 'yaml', loader) == ((), (), ())  # unrecognised: ignored


def test_invalid_reference_is_a_problem(loader):
    text = 'services:\n  a:\n    image: Nginx:1\n  b:\n    image: nginx:bad tag\n  c:\n    image: ok:1\n'
    found = scan(text, 'compose', loader)
    assert [(p.line, p.text) for p in found.problems] == [(3, 'Nginx:1'), (5, 'nginx:bad tag')]
    assert [s.text for s in found.sites] == ['ok:1']


def test_both_loaders_agree():
    if len(LOADERS) < 2:
        pytest.skip('libyaml is not available')
    for text, kind in ((COMPOSE, 'compose'), (K8S, 'yaml'), (WORKFLOW, 'workflow'), (GITLAB, 'gitlab-ci')):
        for prefix in ('', '\ufeff', '# \u00e9\U0001f600\u2028\n'):
            variant = prefix + text.replace('\n', '\r\n')
            assert yaml_kinds.scan(variant, kind, loader=LOADERS[0]) == yaml_kinds.scan(variant, kind, loader=LOADERS[1])


def test_offsets_are_characters():
    for loader in LOADERS:
        assert yaml_kinds.offset_unit(loader) == 'chars'
    assert yaml_kinds.default_loader() is LOADERS[-1]
    text = 'a\u00e9\U0001f600b'  # byte offsets 0, 1, 3, 7; end 8
    convert = yaml_kinds.char_offsets(text, 'bytes')
    assert [convert(i) for i in (0, 1, 3, 7, 8)] == [0, 1, 2, 3, 4]
    assert yaml_kinds.char_offsets(text, 'chars')(3) == 3


def test_alias_bomb_is_walked_once(loader):
    lines = ['a0: &a0 {image: "x:1"}']
    lines += [f'a{i}: &a{i} [{", ".join([f"*a{i - 1}"] * 9)}]' for i in range(1, 10)]  # 9**9 when expanded
    lines += ['services:', '  s: *a0', '  t: {image: *a9}']
    text = '\n'.join(lines) + '\n'
    began = time.perf_counter()
    found = scan(text, 'compose', loader)
    assert time.perf_counter() - began < 1
    assert [(s.line, s.text) for s in found.sites] == [(1, 'x:1')]
    assert [s.reason for s in found.skips] == ['not a string']


def test_merge_bomb_is_refused(loader):
    keys = ', '.join(f'k{i}: {i}' for i in range(600))
    text = f'x: &big {{{keys}}}\nservices:\n' + ''.join(f'  s{i}: {{<<: *big, image: "a:{i}"}}\n' for i in range(600))
    found = scan(text, 'compose', loader)
    assert not found.sites
    assert [p.reason for p in found.problems] == ['too many aliases and merge keys to follow (an alias expansion bomb?)']


def test_merges_of_a_real_size_are_followed(loader):
    keys = ''.join(f'  k{i}: {i}\n' for i in range(100))
    text = f'x-common: &common\n{keys}services:\n' + ''.join(
        f'  s{i}:\n    <<: *common\n    image: a:{i}\n' for i in range(200)
    )
    assert len(sites(text, 'compose', loader)) == 200


def test_deep_nesting_is_a_problem(loader):
    text = 'services: ' + '[' * 5000 + ']' * 5000 + '\n'
    [problem] = scan(text, 'compose', loader).problems
    assert problem.line == 1 and problem.reason.startswith('not valid YAML: ')


def test_recursive_structures_end(loader):
    text = 'services: &s\n  a: {image: "a:1", <<: *s}\n  b: *s\n'
    assert sites(text, 'compose', loader) == [(2, 'compose-service', 'a:1')]


def test_unknown_kind():
    with pytest.raises(ValueError):
        yaml_kinds.scan('a: 1\n', 'dockerfile')


def test_scratch_is_not_an_image_in_yaml_either():
    scan = yaml_kinds.scan('services:\n  a:\n    image: scratch\n  b:\n    image: busybox:1\n', 'compose')
    assert [s.text for s in scan.sites] == ['busybox:1']
    assert [(s.line, s.text, s.reason) for s in scan.skips] == [(3, 'scratch', 'scratch is not an image')]


def test_too_many_nodes_is_one_problem_before_any_graph_is_built(loader, monkeypatch):
    """Issue 18, item 4 (at a lowered cap; the real one is tested under a memory limit in hostile_test)."""
    monkeypatch.setattr(yaml_kinds, 'MAX_NODES', 1000)
    text = 'services:\n  a:\n    image: a:1\nx: [' + ','.join(['a'] * 1000) + ']\n'
    [problem] = scan(text, 'compose', loader).problems
    assert (problem.line, problem.reason) == (1, 'more than 1,000 YAML nodes; not read (a memory bomb?)')
    assert len(sites(text.replace(','.join(['a'] * 1000), 'a'), 'compose', loader)) == 1
    found = scan('apiVersion: v1\nkind: Pod\nimage: x\ny: [' + ','.join(['a'] * 1000) + ']\n', 'yaml', loader)
    assert [s.reason for s in found.skips] == ['more than 1,000 YAML nodes; not read (a memory bomb?)']
    assert not found.problems


def test_a_kubernetes_file_nested_too_deeply_is_said_not_silent(loader):
    """Minor item of issue 18: it was ignored silently, even with -v."""
    text = 'apiVersion: v1\nkind: Pod\nspec:\n  image: a:1\n  x: ' + '[' * 5000 + ']' * 5000 + '\n'
    found = scan(text, 'yaml', loader)
    assert [s.reason for s in found.skips] == ['nested too deeply to follow'] and not found.problems


@pytest.mark.parametrize('order', ('runner-first', 'builder-first'))
def test_an_anchor_shared_by_a_pulled_and_a_built_service_is_left_alone(loader, order):
    """Issue 18, item 14: pinning it would pin the image name the builder builds."""
    runner, builder = '  runner: {<<: *base}\n', '  builder: {<<: *base, build: .}\n'
    services = runner + builder if order == 'runner-first' else builder + runner
    text = 'x-base: &base {image: "nginx:1"}\nservices:\n' + services
    found = scan(text, 'compose', loader)
    assert not found.sites
    assert [(s.line, s.reason) for s in found.skips] == [
        (1, 'names the image this service builds (build:); it is not pulled')]
    plain = 'x-base: &base {image: "nginx:1"}\nservices:\n' + runner + '  other: {<<: *base}\n'
    assert sites(plain, 'compose', loader) == [(1, 'compose-service', 'nginx:1')]
