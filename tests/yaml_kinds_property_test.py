"""Property-based tests of the YAML scanners: they find exactly the images we
placed, and splicing a pin at every site changes those scalars and nothing
else (the file loads to the same data but for the image values).

Files of each kind are generated line by line by :class:`_Writer`, which
records where every image went and whether it must be a site (a literal) or
not (an expression, under an ignore comment, the name of a built image).
Decoys that look like images sit where no image is read; they must not move.

Examples per test: ``PIN_FROM_HYPOTHESIS_EXAMPLES`` (default 200, what CI
runs); raise it locally, e.g. ``PIN_FROM_HYPOTHESIS_EXAMPLES=5000``.
"""
from __future__ import annotations

import os
from typing import Any
from typing import NamedTuple

import yaml
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from pin_from import reference
from pin_from.files import edit
from pin_from.kinds import yaml_kinds
from pin_from.kinds.sites import Site

EXAMPLES = int(os.environ.get('PIN_FROM_HYPOTHESIS_EXAMPLES', '200'))
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
FAKE = '@sha256:' + 'a' * 64


def fake_pin(text: str) -> str:
    """A pin as the hooks write it: the digest added, or replaced (a re-pin)."""
    return text.partition('@')[0] + FAKE
LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, 'CSafeLoader') else [])

_REGISTRIES = ('', '', '', 'docker.io/', 'ghcr.io/', 'localhost:5000/', 'registry.example.com:8443/', '[::1]:5000/')
# No "q" in random components: "q<n>" makes every reference unique.
_COMPONENT = st.from_regex(r'[a-pr-z][a-pr-z0-9]{0,5}(?:(?:[._]|__|-+)[a-pr-z0-9]{1,3})?', fullmatch=True)
_TAG = st.from_regex(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,9}', fullmatch=True)
_HEX = st.binary(min_size=32, max_size=32).map(bytes.hex)
_EXPRESSIONS = (
    '${REGISTRY}/app:1', 'app:$TAG', '${{ matrix.image }}', '{{ .Values.image }}',
    '$CI_REGISTRY_IMAGE:latest', 'python:$[[ inputs.tag ]]', '${IMAGE:-nginx}',
)
_COMMENTS = ('# a comment', '# caf\u00e9 \u2603 \U0001f600', '#', '# image: fake:1')


class Placed:
    """An image value written into the file: a site if ``active``."""

    def __init__(self, text: str, kind: str, active: bool, quote: str, scheme: str = '') -> None:
        self.text = text
        self.kind = kind
        self.active = active
        self.quote = quote
        self.scheme = scheme
        self.lead = ''

    def render(self, pinned: bool) -> str:
        text = fake_pin(self.text) if pinned and self.active else self.text
        return f'{self.quote}{self.scheme}{text}{self.quote}'


class Part(Placed):
    """One part of a reference written in parts (a Helm ``digest``, a kustomize
    ``newTag``): ``text`` is the whole reference, ``before`` the part as written,
    ``form`` what a pin writes there (``lead`` comes first: ``digest:`` with no value)."""

    def __init__(self, text: str, kind: str, quote: str, before: str, form: str) -> None:
        super().__init__(text, kind, True, quote)
        self.before = before
        self.form = form
        self.lead = ' ' if form.startswith(' ') else ''

    def render(self, pinned: bool) -> str:
        tag = reference.parse(self.text).tag or ''
        inner = self.form.format(tag=tag, digest=FAKE[1:]) if pinned else self.before
        return f'{self.quote}{inner}{self.quote}'


class Expected(NamedTuple):
    start: int
    text: str
    kind: str


class _Writer:
    def __init__(self, draw: st.DrawFn, eol: str) -> None:
        self.draw = draw
        self.eol = eol
        self.parts: list[str | Placed] = []
        self.count = 0
        self.anchors: list[str] = []  # anchored image scalars of this document
        self.decoys: list[str] = []

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.draw(st.sampled_from(options))

    def line(self, indent: int, *parts: str | Placed) -> None:
        self.parts.extend((' ' * indent, *parts, self.eol))

    def comment(self, indent: int) -> None:
        if not self.draw(st.integers(0, 4)):
            self.line(indent, self.pick(_COMMENTS))

    def ref(self) -> str:
        self.count += 1
        parts = self.draw(st.lists(_COMPONENT, min_size=1, max_size=2))
        name = self.pick(_REGISTRIES) + '/'.join(parts) + f'q{self.count}'
        shape = self.pick(('tag', 'tag', 'bare', 'pinned', 'digest'))
        text = name + (f':{self.draw(_TAG)}' if shape in ('tag', 'pinned') else '')
        return text + (f'@sha256:{self.draw(_HEX)}' if shape in ('pinned', 'digest') else '')

    def decoy(self) -> str:
        """A reference where no image is read: it must not change."""
        text = self.ref()
        self.decoys.append(text)
        return f'"{text}"'

    def quote(self, text: str, flow: bool) -> str:
        plain_ok = not text.startswith('[') and yaml.safe_load(f'k: {text}') == {'k': text}
        choices = ('', '', "'", '"') if plain_ok else ("'", '"')
        return self.pick(choices)

    def value(self, kind: str, indent: int, flow: bool = False, scheme: str = '') -> list[str | Placed]:
        """An image value, after ``key: `` or ``- ``; may write an ignore line first."""
        mode = self.pick(('site', 'site', 'site', 'expression', 'ignore-before', 'ignore-after', 'alias'))
        if mode == 'alias' and self.anchors and not scheme:
            return [f'*{self.pick(self.anchors)}']
        if mode == 'expression':
            return [Placed(self.pick(_EXPRESSIONS), kind, False, '"', scheme)]
        ignored = mode.startswith('ignore') and not flow
        text = self.ref()
        parts: list[str | Placed] = []
        if not scheme and self.draw(st.integers(0, 3)) == 0:
            name = f'img{self.count}'
            self.anchors.append(name)
            parts.append(f'&{name} ')
        parts.append(Placed(text, kind, not ignored, self.quote(scheme + text, flow), scheme))
        if mode == 'ignore-before' and ignored:
            self.line(indent, self.pick(('# pin-from: ignore', '#pin-from:ignore  ')))
        elif mode == 'ignore-after' and ignored:
            parts.append('  # pin-from: ignore')
        elif not flow and not self.draw(st.integers(0, 3)):
            parts.append('  ' + self.pick(_COMMENTS))
        return parts

    def render(self, pinned: bool) -> tuple[str, list[Expected]]:
        out: list[str] = []
        expected = []
        pos = 0
        for part in self.parts:
            text = part.render(pinned) if isinstance(part, Placed) else part
            if isinstance(part, Placed) and part.active:
                start = pos + len(part.quote) + len(part.scheme) + (len(part.lead) if pinned else 0)
                expected.append(Expected(start, fake_pin(part.text) if pinned else part.text, part.kind))
            out.append(text)
            pos += len(text)
        return ''.join(out), expected


# --- one writer per kind ---------------------------------------------------

def _compose(w: _Writer) -> None:
    if w.draw(st.booleans()):
        w.line(0, 'version: "3.8"')
    base = w.draw(st.booleans())  # then the first service merges it
    if base:
        w.line(0, 'x-base: &base')
        w.line(2, 'image: ', *w.value('compose-service', 2))
        w.line(2, 'restart: unless-stopped')
    w.line(0, 'services:')
    for i in range(w.draw(st.integers(1, 4))):
        w.comment(2)
        shape = 'merge' if base and not i else w.pick(('block', 'flow', 'merge', 'build'))
        if shape == 'flow':
            w.line(2, f's{i}: {{image: ', *w.value('compose-service', 2, flow=True), ', labels: {a: ', w.decoy(), '}}')
            continue
        w.line(2, f's{i}:')
        if shape == 'merge' and base:
            w.line(4, '<<: *base')
        elif shape == 'build':
            w.line(4, 'build: .')
            w.line(4, 'image: ', Placed(w.ref(), 'compose-service', False, '"'))
        else:
            w.line(4, 'image: ', *w.value('compose-service', 4))
        w.line(4, 'environment:')
        w.line(6, 'BASE: ', w.decoy())


def _containers(w: _Writer, indent: int, field: str, kind: str) -> None:
    w.line(indent, f'{field}:')
    for i in range(w.draw(st.integers(1, 2))):
        if w.draw(st.booleans()):
            w.line(indent, f'- {{name: c{i}, image: ', *w.value(kind, indent, flow=True), '}')
        else:
            w.line(indent, f'- name: c{i}')
            w.line(indent + 2, 'image: ', *w.value(kind, indent + 2))


def _pod_spec(w: _Writer, indent: int) -> None:
    if w.draw(st.booleans()):
        _containers(w, indent, 'initContainers', 'k8s-init-container')
    _containers(w, indent, 'containers', 'k8s-container')
    if w.draw(st.booleans()):
        _containers(w, indent, 'ephemeralContainers', 'k8s-ephemeral-container')


def _kubernetes(w: _Writer) -> None:
    for n in range(w.draw(st.integers(1, 3))):
        if n or w.draw(st.booleans()):
            w.line(0, '---')
        w.anchors = []  # anchors do not cross documents
        w.comment(0)
        kind = w.pick(('Deployment', 'Pod', 'CronJob', 'List', 'ConfigMap'))
        w.line(0, 'apiVersion: ', 'v1' if kind in ('Pod', 'List', 'ConfigMap') else 'apps/v1')
        w.line(0, f'kind: {kind}')
        w.line(0, 'metadata: {name: ', w.decoy(), '}')
        if kind == 'ConfigMap':
            w.line(0, 'data:')
            w.line(2, 'image: ', w.decoy())
        elif kind == 'Pod':
            w.line(0, 'spec:')
            _pod_spec(w, 2)
        elif kind == 'List':
            w.line(0, 'items:')
            w.line(0, '- apiVersion: v1')
            w.line(2, 'kind: Pod')
            w.line(2, 'spec:')
            _pod_spec(w, 4)
        else:
            path = ('spec', 'jobTemplate', 'spec', 'template', 'spec') if kind == 'CronJob' else (
                'spec', 'template', 'spec')
            for depth, key in enumerate(path):
                w.line(2 * depth, f'{key}:')
            _pod_spec(w, 2 * len(path))
        if w.draw(st.booleans()):
            w.line(0, '...')


def _workflow(w: _Writer) -> None:
    w.line(0, 'on: [push]')
    w.line(0, 'jobs:')
    for i in range(w.draw(st.integers(1, 3))):
        w.line(2, f'j{i}:')
        w.line(4, 'runs-on: ubuntu-latest')
        shape = w.pick(('string', 'mapping', 'none'))
        if shape == 'string':
            w.line(4, 'container: ', *w.value('workflow-container', 4))
        elif shape == 'mapping':
            w.line(4, 'container:')
            w.line(6, 'image: ', *w.value('workflow-container', 6))
            w.line(6, 'options: --cpus 1')
        if w.draw(st.booleans()):
            w.line(4, 'services:')
            w.line(6, 'db:')
            w.line(8, 'image: ', *w.value('workflow-service', 8))
        w.line(4, 'steps:')
        w.line(6, '- uses: actions/checkout@v4')
        w.line(6, '- uses: ', *w.value('workflow-step', 8, scheme='docker://'))
        w.line(6, '- run: echo ', w.ref())


def _action(w: _Writer) -> None:
    w.line(0, 'name: an action')
    w.line(0, 'runs:')
    if w.draw(st.booleans()):
        w.line(2, 'using: docker')
        w.line(2, 'image: ', *w.value('action-image', 2, scheme='docker://'))
        w.line(2, 'args: [', w.decoy(), ']')
    else:
        w.line(2, 'using: composite')
        w.line(2, 'steps:')
        w.line(4, '- uses: ', *w.value('action-step', 6, scheme='docker://'))


def _gitlab_job(w: _Writer, indent: int) -> None:
    if w.draw(st.booleans()):
        w.line(indent, 'image: ', *w.value('gitlab-image', indent))
    else:
        w.line(indent, 'image:')
        w.line(indent + 2, 'name: ', *w.value('gitlab-image', indent + 2))
        w.line(indent + 2, 'entrypoint: [""]')
    if w.draw(st.booleans()):
        w.line(indent, 'services:')
        w.line(indent, '- ', *w.value('gitlab-service', indent + 2))
        w.line(indent, '- name: ', *w.value('gitlab-service', indent + 2))
        w.line(indent + 2, 'alias: db')


def _gitlab(w: _Writer) -> None:
    w.line(0, 'variables:')
    w.line(2, 'IMAGE: ', w.decoy())
    if w.draw(st.booleans()):
        _gitlab_job(w, 0)
    if w.draw(st.booleans()):
        w.line(0, 'default:')
        _gitlab_job(w, 2)
    for i in range(w.draw(st.integers(1, 3))):
        w.line(0, f'{"." if i == 2 else ""}job{i}:')
        w.line(2, 'script: [make]')
        _gitlab_job(w, 2)


def _name(w: _Writer) -> tuple[str, str]:
    """A registry (maybe empty) and a repository, apart."""
    w.count += 1
    registry = w.pick(_REGISTRIES).rstrip('/')
    return registry, '/'.join(w.draw(st.lists(_COMPONENT, min_size=1, max_size=2))) + f'q{w.count}'


def _helm(w: _Writer) -> None:
    w.line(0, 'labels:')
    w.line(2, 'image: ', w.decoy())
    for i in range(w.draw(st.integers(1, 4))):
        w.comment(0)
        w.line(0, f'c{i}:')
        shape = w.pick(('string', 'mapping', 'mapping', 'no-digest'))
        if shape == 'string':
            w.line(2, w.pick(('image', 'initImage')), ': ', *w.value('helm-image', 2))
            continue
        registry, repository = _name(w)
        tag = w.draw(_TAG)
        w.line(2, 'image:')
        if registry:
            w.line(4, f'registry: "{registry}"')
        w.line(4, f'repository: {repository}')
        w.line(4, f'tag: "{tag}"')
        whole = f'{registry + "/" if registry else ""}{repository}:{tag}'
        if shape == 'no-digest':
            w.line(4, 'pullPolicy: IfNotPresent')
            continue
        stale = w.draw(st.booleans())
        if stale:
            old = f'sha256:{w.draw(_HEX)}'
            w.line(4, 'digest: ', Part(f'{whole}@{old}', 'helm-digest', w.pick(('', '"', "'")), old, '{digest}'))
        elif w.draw(st.booleans()):
            w.line(4, 'digest:', Part(whole, 'helm-digest', '', '', ' {digest}'))
        else:
            w.line(4, 'digest: ', Part(whole, 'helm-digest', w.pick(('"', "'")), '', '{digest}'))


def _kustomize(w: _Writer) -> None:
    w.line(0, 'apiVersion: kustomize.config.k8s.io/v1beta1')
    w.line(0, 'kind: Kustomization')
    w.line(0, 'images:')
    for _ in range(w.draw(st.integers(1, 4))):
        registry, repository = _name(w)
        name = f'{registry + "/" if registry else ""}{repository}'
        w.line(0, f'- name: {repository}')
        if registry:
            w.line(2, f'newName: "{name}"')
        tag = f'{w.draw(_TAG)}-t{w.count}'  # unique: the data comparison replaces values by text
        old = f'sha256:{w.draw(_HEX)}'
        shape = w.pick(('tag', 'tag-pinned', 'digest', 'digest-empty'))
        if shape.startswith('tag'):
            before = f'{tag}@{old}' if shape == 'tag-pinned' else tag
            whole = f'{name}:{before}'
            w.line(2, 'newTag: ', Part(whole, 'kustomize-tag', w.quote(before, False), before, '{tag}@{digest}'))
        else:
            w.line(2, f'newTag: "{tag}"')
            before = old if shape == 'digest' else ''
            whole = f'{name}:{tag}' + (f'@{old}' if before else '')
            w.line(2, 'digest: ', Part(whole, 'kustomize-digest', '"', before, '{digest}'))


def _circleci(w: _Writer) -> None:
    w.line(0, 'version: 2.1')
    w.line(0, 'orbs: {node: ', w.decoy(), '}')
    for section in ('executors', 'jobs'):
        w.line(0, f'{section}:')
        w.line(2, 'x:')
        w.line(4, 'docker:')
        for _ in range(w.draw(st.integers(1, 2))):
            w.line(6, '- image: ', *w.value('circleci-docker', 8))


def _bitbucket(w: _Writer) -> None:
    w.line(0, 'image: ', *w.value('bitbucket-image', 0))
    w.line(0, 'definitions:')
    w.line(2, 'services:')
    w.line(4, 'db:')
    w.line(6, 'image: ', *w.value('bitbucket-service', 6))
    w.line(0, 'pipelines:')
    w.line(2, 'default:')
    for _ in range(w.draw(st.integers(1, 3))):
        w.line(4, '- step:')
        w.line(8, 'script: [', w.decoy(), ']')
        w.line(8, 'image: ', *w.value('bitbucket-image', 8))


def _drone(w: _Writer) -> None:
    w.line(0, 'kind: pipeline')
    w.line(0, 'steps:')
    for i in range(w.draw(st.integers(1, 3))):
        w.line(0, f'- name: s{i}')
        w.line(2, 'image: ', *w.value('drone-step', 2))
    w.line(0, 'services:')
    w.line(0, '- name: db')
    w.line(2, 'image: ', *w.value('drone-service', 2))


def _woodpecker(w: _Writer) -> None:
    w.line(0, 'steps:')
    for i in range(w.draw(st.integers(1, 3))):
        w.line(2, f's{i}:')
        w.line(4, 'image: ', *w.value('drone-step', 4))
        w.line(4, 'commands: [', w.decoy(), ']')


def _cloudbuild(w: _Writer) -> None:
    w.line(0, 'steps:')
    for _ in range(w.draw(st.integers(1, 3))):
        w.line(0, '- name: ', *w.value('cloudbuild-step', 2))
        w.line(2, 'args: [', w.decoy(), ']')
    w.line(0, 'images: [', w.decoy(), ']')


def _azure(w: _Writer) -> None:
    w.line(0, 'resources:')
    w.line(2, 'containers:')
    w.line(2, '- container: build')
    w.line(4, 'image: ', *w.value('azure-resource', 4))
    w.line(0, 'jobs:')
    w.line(0, '- job: a')
    w.line(2, 'container: build')
    for i in range(w.draw(st.integers(1, 2))):
        w.line(0, f'- job: j{i}')
        if w.draw(st.booleans()):
            w.line(2, 'container: ', *w.value('azure-container', 2))
        else:
            w.line(2, 'container:')
            w.line(4, 'image: ', *w.value('azure-container', 4))


def _tekton(w: _Writer) -> None:
    w.line(0, 'apiVersion: tekton.dev/v1')
    w.line(0, 'kind: Task')
    w.line(0, 'metadata: {name: ', w.decoy(), '}')
    w.line(0, 'spec:')
    w.line(2, 'stepTemplate:')
    w.line(4, 'image: ', *w.value('k8s-step-template', 4))
    _containers(w, 2, 'steps', 'k8s-step')
    if w.draw(st.booleans()):
        _containers(w, 2, 'sidecars', 'k8s-sidecar')


_KINDS = {'compose': _compose, 'yaml': _kubernetes, 'workflow': _workflow, 'action': _action, 'gitlab-ci': _gitlab,
          'helm': _helm, 'kustomize': _kustomize, 'circleci': _circleci, 'bitbucket': _bitbucket, 'drone': _drone,
          'woodpecker': _woodpecker, 'cloudbuild': _cloudbuild, 'azure-pipelines': _azure, 'tekton': _tekton}


class Doc(NamedTuple):
    kind: str
    text: str
    sites: list[Expected]
    pinned: str
    pinned_sites: list[Expected]
    decoys: list[str]


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    kind = draw(st.sampled_from(sorted(_KINDS)))
    w = _Writer(draw, draw(st.sampled_from(('\n', '\r\n'))))
    if draw(st.booleans()):
        w.parts.append('\ufeff')
    w.comment(0)
    _KINDS[kind](w)
    text, sites = w.render(pinned=False)
    pinned, pinned_sites = w.render(pinned=True)
    return Doc('yaml' if kind == 'tekton' else kind, text, sites, pinned, pinned_sites, w.decoys)


def _replace(data: Any, old: dict[str | None, str]) -> Any:
    """``data`` with every string (or null) in ``old`` replaced (aliases and merges share them)."""
    if isinstance(data, dict):
        return {_replace(k, old): _replace(v, old) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace(v, old) for v in data]
    return old.get(data, data) if isinstance(data, str) or data is None else data


def _new(site: Site) -> str:
    """What a fake pin writes at a site (a part: what its form says)."""
    return edit.replacement(site, FAKE[1:]) if site.form else fake_pin(site.text)


def _found(text: str, kind: str) -> list[list[Expected]]:
    """The sites each loader finds (both loaders must agree)."""
    ret = []
    for loader in LOADERS:
        scan = yaml_kinds.scan(text, kind, loader=loader)
        assert not scan.problems, scan.problems
        for s in scan.sites:
            assert text[s.start:s.end] == s.text or s.form
        ret.append([Expected(s.start, s.text, s.kind) for s in scan.sites])
    return ret


@PROFILE
@given(documents())
def test_sites_are_exactly_the_placed_images(doc: Doc) -> None:
    for found in _found(doc.text, doc.kind):
        assert found == doc.sites


@PROFILE
@given(documents())
def test_pinning_changes_only_the_image_values(doc: Doc) -> None:
    scan = yaml_kinds.scan(doc.text, doc.kind)
    pinned = edit.splice(doc.text, ((s.start, s.end, _new(s)) for s in scan.sites))
    assert pinned == doc.pinned
    schemes = {'workflow-step': 'docker://', 'action-image': 'docker://', 'action-step': 'docker://'}
    old: dict[str | None, str] = {
        schemes.get(s.kind, '') + s.text: schemes.get(s.kind, '') + fake_pin(s.text) for s in scan.sites if not s.form}
    old.update({doc.text[s.start:s.end] or None: _new(s).strip() for s in scan.sites if s.form})
    old.update({'': FAKE[1:] for s in scan.sites if s.form and s.start == s.end})
    before = list(yaml.safe_load_all(doc.text.lstrip('\ufeff')))
    after = list(yaml.safe_load_all(pinned.lstrip('\ufeff')))
    assert after == _replace(before, old)
    assert after != before or all(fake_pin(s.text) == s.text for s in scan.sites)
    assert all(f'"{decoy}"' in pinned for decoy in doc.decoys)
    for found in _found(pinned, doc.kind):  # a pinned file scans to the pinned sites
        assert found == doc.pinned_sites
