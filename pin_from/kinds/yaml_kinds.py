"""Image references in YAML files (Compose, Kubernetes, GitHub Actions, GitLab
CI), with exact offsets, found by walking PyYAML's node graph.

Nothing is constructed and nothing is re-serialised: a site's offsets come
from the end mark of its scalar node, and a scalar counts only when its text
between the quotes is exactly its value (no escapes, no folding), so a later
splice changes nothing else. A scalar reached twice (an anchor and its
aliases) is reported once, where it is written. Like the Dockerfile lexer,
this only reads.
"""
from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING
from typing import Callable

import yaml
from yaml.nodes import MappingNode
from yaml.nodes import Node
from yaml.nodes import ScalarNode
from yaml.nodes import SequenceNode

from pin_from import reference
from pin_from.errors import InvalidReference
from pin_from.errors import PinFromError
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

if TYPE_CHECKING:
    Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]
KINDS = (
    'compose', 'workflow', 'action', 'gitlab-ci', 'yaml',
    'helm', 'kustomize', 'circleci', 'bitbucket', 'azure-pipelines', 'drone', 'woodpecker', 'cloudbuild',
)
IGNORED = 'under a "# pin-from: ignore" comment'
DOCKER_SCHEME = 'docker://'
BUILT = 'compose-built'  # not a site kind: the image a Compose service builds

_IGNORE_BEFORE_RE = re.compile(r'[ \t]*#[ \t]*pin-from:[ \t]*ignore\b', re.I)
_IGNORE_AFTER_RE = re.compile(r'(?:^|[ \t])#[ \t]*pin-from:[ \t]*ignore\b', re.I)
_STR = 'tag:yaml.org,2002:str'
_NULL = 'tag:yaml.org,2002:null'
_MERGE = 'tag:yaml.org,2002:merge'
_INT = 'tag:yaml.org,2002:int'
_GITLAB_GLOBALS = frozenset((
    'default', 'include', 'stages', 'variables', 'workflow', 'spec',
    'image', 'services', 'cache', 'before_script', 'after_script',
))
_WORKLOADS = frozenset((
    'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job',
))
_CONTAINER_LISTS = {
    'containers': 'k8s-container', 'initContainers': 'k8s-init-container',
    'ephemeralContainers': 'k8s-ephemeral-container', 'steps': 'k8s-step', 'sidecars': 'k8s-sidecar',
}
_CONTAINER_FIELDS = {'container': 'k8s-container', 'script': 'k8s-script', 'stepTemplate': 'k8s-step-template'}
_POD_SPEC_FIELDS = (
    ('containers', 'k8s-container'),
    ('initContainers', 'k8s-init-container'),
    ('ephemeralContainers', 'k8s-ephemeral-container'),
)


def default_loader() -> Loader:
    """libyaml's loader when present and its offsets are usable, else PyYAML's."""
    c_loader: Loader | None = getattr(yaml, 'CSafeLoader', None)
    if c_loader is not None and offset_unit(c_loader) in ('chars', 'bytes'):
        return c_loader
    return yaml.SafeLoader


_UNITS: dict[Loader, str] = {}


def offset_unit(loader: Loader) -> str:
    """What a loader's mark index counts: 'chars', 'bytes' (of UTF-8) or 'other'.

    Measured once per loader: libyaml 0.2.5 counts characters, but nothing
    promises it, and a wrong guess would move every splice.
    """
    if loader not in _UNITS:
        probe = '# \u00e9\U0001f600\nk: v\n'  # 'k' is char 5, byte 9, UTF-16 unit 6
        node = yaml.compose(probe, Loader=loader)
        index = node.value[0][0].start_mark.index if isinstance(node, MappingNode) else -1
        _UNITS[loader] = {5: 'chars', 9: 'bytes'}.get(index, 'other')
    return _UNITS[loader]


def char_offsets(text: str, unit: str) -> Callable[[int], int]:
    """Turn a mark index in ``unit`` ('chars' or 'bytes', of UTF-8) into a str offset."""
    if unit == 'chars' or text.isascii():
        return lambda i: i
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode('utf-8', 'surrogatepass')))
    table.append(len(text))
    return lambda i: table[min(i, len(table) - 1)]


_LOADER: Loader | None = None
MAX_NODES = 1_000_000  # scalars, sequences and mappings in one file: about 300 MB once composed


def _default() -> Loader:
    global _LOADER
    if _LOADER is None:
        _LOADER = default_loader()
    return _LOADER


def scan(text: str, kind: str, loader: Loader | None = None) -> Scan:
    """All image references in a decoded YAML file of ``kind``, skips and problems.

    ``loader`` is for tests (both loaders must agree); by default libyaml's.
    """
    if kind not in KINDS:
        raise ValueError(f'unknown YAML kind {kind!r}')
    if kind == 'yaml' and not all(word in text for word in ('apiVersion', 'kind', 'image')):
        return Scan((), (), ())  # cannot hold a Kubernetes image: not even parsed
    loader = loader or _default()
    bom = 1 if text.startswith('\ufeff') else 0  # loaders disagree on counting it
    try:
        if _too_many_nodes(text[bom:], loader):
            return _refused(text, kind, f'more than {MAX_NODES:,} YAML nodes; not read (a memory bomb?)')
        docs = list(yaml.compose_all(text[bom:], Loader=loader))
    except (yaml.YAMLError, RecursionError) as e:
        return _unparsable(text, kind, e)
    walker = _Walker(text, bom, char_offsets(text[bom:], offset_unit(loader)))
    try:
        _walk(kind)(walker, docs)
    except _TooMuchWork:
        reason = 'too many aliases and merge keys to follow (an alias expansion bomb?)'
    except RecursionError:
        reason = 'nested too deeply to follow'
    else:
        return walker.finish()
    return _refused(text, kind, reason)


def _too_many_nodes(text: str, loader: Loader) -> bool:
    """Whether ``text`` holds more than :data:`MAX_NODES` nodes, counted on the
    event stream (one event at a time) before any node graph is built. A node
    takes at least one character, so only a text longer than that is counted."""
    if len(text) <= MAX_NODES:
        return False
    count = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            count += 1
            if count > MAX_NODES:
                return True
    return False


def _refused(text: str, kind: str, reason: str) -> Scan:
    """A file too large or deep to follow: one problem; a skip (said with -v) for a plain .yaml file."""
    if kind == 'yaml':
        return Scan((), (Skip(1, _line_text(text, 1), reason),), ())
    return Scan((), (), (Problem(1, '', reason),))


def _unparsable(text: str, kind: str, e: Exception) -> Scan:
    """A named kind that is not YAML is a problem; a template is a skip; else nothing."""
    if kind == 'yaml' and (isinstance(e, RecursionError) or 'maximum nesting depth' in str(e)):  # libyaml's limit
        return _refused(text, kind, 'nested too deeply to follow')
    if kind == 'yaml':
        return _template_skip(text) if '{{' in text else Scan((), (), ())
    line, reason = _error_line(text, e)
    line = min(line, text.rstrip().count('\n') + 1)  # an end-of-stream mark: the last line written
    return Scan((), (), (Problem(line, _line_text(text, line), f'not valid YAML: {reason}'),))


def _error_line(text: str, e: Exception) -> tuple[int, str]:
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        return (mark.line + 1 if mark else 1), (e.problem or e.context or 'cannot parse')
    if isinstance(e, yaml.reader.ReaderError) and isinstance(e.position, int):
        line = text.count('\n', 0, e.position) + 1
        return line, f'unacceptable character #x{e.character:04x}' if isinstance(e.character, int) else 'bad input'
    if isinstance(e, RecursionError):
        return 1, 'nested too deeply'
    return 1, str(e).splitlines()[0] if str(e) else type(e).__name__


def _line_text(text: str, line: int) -> str:
    lines = text.split('\n', line)
    return lines[line - 1].strip().lstrip('\ufeff')[:80] if line <= len(lines) else ''


def _template_skip(text: str) -> Scan:
    at = text.find('{{')
    line = text.count('\n', 0, at) + 1
    return Scan((), (Skip(
        line, _line_text(text, line), 'a Helm/Go template, not YAML: its images are left alone',
    ),), ())


class _TooMuchWork(PinFromError):
    """The work budget of one file is spent (aliases and merges multiply it)."""


class _Walker:
    """The state of one scan: offsets, work budget and what was found."""

    def __init__(self, text: str, shift: int, to_char: Callable[[int], int]) -> None:
        self.text = text
        self.shift = shift
        self.to_char = to_char
        self.budget = 100_000 + 2 * len(text)  # a legitimate file spends far less
        self.flat: dict[int, dict[str, tuple[Node, Node]]] = {}
        self.found: list[tuple[int, int, Node, str, str]] = []
        self.seen: set[tuple[int, str]] = set()
        self.newlines: list[int] | None = None
        self.sites: list[Site] = []
        self.skips: list[Skip] = []
        self.problems: list[Problem] = []

    def result(self) -> Scan:
        """In file order, as the Dockerfile lexer reports them."""
        return Scan(
            tuple(sorted(self.sites, key=lambda s: s.start)),
            tuple(sorted(self.skips, key=lambda s: s.line)),
            tuple(sorted(self.problems, key=lambda p: p.line)),
        )

    def first_visit(self, node: Node, role: str) -> bool:
        """True once per (node, role): an alias never walks a node again."""
        key = (id(node), role)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    # mappings, with merge keys (``<<: *defaults``) as the constructor reads them

    def pairs(self, node: Node | None) -> dict[str, tuple[Node, Node]]:
        """A mapping's scalar keys and their (key, value) nodes; empty for anything else."""
        if not isinstance(node, MappingNode):
            return {}
        if id(node) in self.flat:
            return self.flat[id(node)]
        self.flat[id(node)] = {}  # a mapping merging itself sees nothing more
        merged: list[tuple[str, tuple[Node, Node]]] = []
        explicit: list[tuple[str, tuple[Node, Node]]] = []
        for key, value in node.value:
            if key.tag == _MERGE:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in reversed(sources):
                    merged.extend(self.pairs(source).items())
            elif isinstance(key, ScalarNode):
                explicit.append((key.value, (key, value)))
        self.spend(len(merged) + len(explicit))
        ret = dict(merged + explicit)
        self.flat[id(node)] = ret
        return ret

    def values(self, node: Node | None) -> list[Node]:
        return [value for _, value in self.pairs(node).values()]

    def get(self, node: Node | None, *path: str) -> Node | None:
        for key in path:
            pair = self.pairs(node).get(key)
            node = pair[1] if pair else None
        return node

    def seq(self, node: Node | None) -> list[Node]:
        if not isinstance(node, SequenceNode):
            return []
        self.spend(len(node.value))
        return list(node.value)

    def spend(self, work: int) -> None:
        self.budget -= work
        if self.budget < 0:
            raise _TooMuchWork('work budget spent')

    # image values

    def image_in(self, node: Node | None, key: str, kind: str, scheme: str = '') -> None:
        """The image under ``key`` of a mapping, if any (see :meth:`image`)."""
        pair = self.pairs(node).get(key)
        if pair:
            self.image(pair[1], kind, pair[0], scheme)

    def image(self, node: Node | None, kind: str, where: Node | None = None, scheme: str = '') -> None:
        """Note an image value, named at ``where`` (its key; else the value).

        Values are judged in the order they are named in the file, so a value
        named twice (an anchor and its aliases) takes the kind named first.
        A scheme (``docker://``) is required and is not part of the image.
        """
        if node is not None:
            self.found.append(((where or node).start_mark.index, len(self.found), node, kind, scheme))

    def part(self, key: Node, node: Node, whole: list[str | Node], kind: str, form: str, raw: bool = False) -> None:
        """A reference written in parts (a Helm ``digest:``, a kustomize
        ``newTag``): ``whole`` spells it (strings and the scalar nodes of its
        parts), ``node`` (under ``key``) is the part a pin rewrites, ``form``
        what it becomes (see :class:`~pin_from.kinds.sites.Site`). ``raw``: the
        reader takes every scalar as the text written (kustomize's Go structs)."""
        if not isinstance(node, ScalarNode) or not self.first_visit(node, 'image'):
            return
        if node.tag == _NULL and node.value == '':  # ``digest:`` with no value: written after the colon
            start = self.text.index(':', self.to_char(key.end_mark.index) + self.shift) + 1
            if self.text[start:start + 1] in (' ', '\t'):
                start += 1
            else:
                form = ' ' + form
            span: tuple[int, int] | str = (start, start)
        elif node.tag == _NULL:
            start = self.to_char(node.start_mark.index) + self.shift
            span = (start, start + len(node.value))
            if self.text[span[0]:span[1]] != node.value or node.style:
                span = 'written with escapes; edit it by hand'
        else:
            span = self.span(node)
        if isinstance(span, str):
            self.skip(node, span)
            return
        start, end = span
        texts = [p if isinstance(p, str) else '' if p.tag == _NULL else str(p.value) for p in whole]
        text = ''.join(texts)
        line = self.line(start)
        reason = (
            IGNORED if self.ignored(start, end) or self.ignored_key(key) else
            next((_not_a_string(p.tag) for p in whole if isinstance(p, Node) and not (raw or _text_like(p))), '')
            or _expression(text)
        )
        self.add(line, start, end, text, kind, reason, form, invalid_is_problem=False)

    def ignored_key(self, key: Node) -> bool:
        start = self.to_char(key.start_mark.index) + self.shift
        return self.ignored(start, start)

    def finish(self) -> Scan:
        # a value any built service names (an anchor shared with a pulled one) is that service's own
        # image name: left alone, whichever service comes first
        built = {id(node) for _, _, node, kind, _ in self.found if kind == BUILT}
        for _, _, node, kind, scheme in sorted(self.found, key=lambda f: f[:2]):
            if self.first_visit(node, 'image'):
                self.judge(node, BUILT if id(node) in built else kind, scheme)
        return self.result()

    def judge(self, node: Node, kind: str, scheme: str) -> None:
        """A site, a skip or a problem; nothing for a null value or another scheme."""
        if not isinstance(node, ScalarNode):
            if node.tag == '!reference':
                self.skip(node, 'a GitLab !reference; the value it names is pinned where it is written')
            else:
                self.skip(node, 'not a string')
            return
        if node.tag == _NULL or scheme and not node.value.startswith(scheme):
            return
        if kind == BUILT:
            if node.tag == _STR:
                self.skip(node, 'names the image this service builds (build:); it is not pulled')
            return
        self.scalar(node, kind, len(scheme))

    def scalar(self, node: ScalarNode, kind: str, skip_chars: int) -> None:
        span = self.span(node)
        if isinstance(span, str):
            self.skip(node, span)
            return
        start, end = span[0] + skip_chars, span[1]
        text = self.text[start:end]
        line = self.line(start)
        reason = (
            IGNORED if self.ignored(start, end) else
            _not_a_string(node.tag) or _expression(text) or ('' if text else 'an empty value')
            or ('scratch is not an image' if text == 'scratch' else '')
        )
        self.add(line, start, end, text, kind, reason)

    def add(
            self, line: int, start: int, end: int, text: str, kind: str, reason: str,
            form: str = '', invalid_is_problem: bool = True,
    ) -> None:
        """A site, or a skip for ``reason``; text that is no reference is a problem (a
        value written whole), or a skip (one spelt in parts: it may be no image at all)."""
        if reason:
            self.skips.append(Skip(line, text, reason))
            return
        try:
            ref = reference.parse(text)
        except InvalidReference as e:
            if invalid_is_problem:
                self.problems.append(Problem(line, text, str(e)))
            else:
                self.skips.append(Skip(line, text, f'not an image reference ({e})'))
        else:
            self.sites.append(Site(line, start, end, text, kind, ref, form))

    def span(self, node: ScalarNode) -> tuple[int, int] | str:
        """Offsets of the value's exact text, or why it has none."""
        value: str = node.value
        style = node.style or ''
        if style in ('|', '>'):
            return 'a block scalar (| or >); only single-line values are edited'
        end = self.to_char(node.end_mark.index) + self.shift
        if style:  # quoted: the text between the quotes must be the value itself
            if self.text[end - 1:end] != style or style in value or '\\' in value and style == '"':
                return 'written with escapes or over several lines; edit it by hand'
            end -= 1
        start = end - len(value)
        if self.text[start:end] != value or '\n' in value or '\r' in value or (
                style and self.text[start - 1:start] != style
        ):
            return 'written with escapes or over several lines; edit it by hand'
        return start, end

    def ignored(self, start: int, end: int) -> bool:
        line_start = self.text.rfind('\n', 0, start) + 1
        line_end = self.text.find('\n', end)
        after = self.text[end:line_end if line_end >= 0 else len(self.text)]
        if _IGNORE_AFTER_RE.search(after):
            return True
        if line_start == 0:
            return False
        before_start = self.text.rfind('\n', 0, line_start - 1) + 1 or self.shift  # after a BOM
        return bool(_IGNORE_BEFORE_RE.match(self.text, before_start, line_start - 1))

    def line(self, offset: int) -> int:
        if self.newlines is None:
            self.newlines = [m.start() for m in re.finditer('\n', self.text)]
        return bisect.bisect_left(self.newlines, offset) + 1

    def skip(self, node: Node, reason: str) -> None:
        start = self.to_char(node.start_mark.index) + self.shift
        line_end = self.text.find('\n', start)
        text = self.text[start:line_end if line_end >= 0 else len(self.text)].rstrip('\r')
        self.skips.append(Skip(self.line(start), text[:80], reason))


def filled(node: Node | None) -> bool:
    """A scalar with a value (not empty, not null)."""
    return isinstance(node, ScalarNode) and node.tag != _NULL and node.value != ''


def _text_like(node: Node) -> bool:
    """A part that reads as the text written: a string, nothing, or a plain
    decimal number (``tag: 16``; never ``1.10``, which a template prints as 1.1)."""
    if node.tag in (_STR, _NULL):
        return True
    value = node.value if isinstance(node, ScalarNode) else ''
    return node.tag == _INT and isinstance(value, str) and value.isdigit() and (value == '0' or value[0] != '0')


def _not_a_string(tag: str) -> str:
    if tag == _STR:
        return ''
    if tag.startswith('tag:yaml.org,2002:'):
        return f'not a string (YAML reads it as {tag.rsplit(":", 1)[1]})'
    return f'tagged {tag}; not a plain image reference'


def _expression(text: str) -> str:
    """Why a value built from variables or expressions is left alone, or ''."""
    if '${{' in text:
        return 'a GitHub Actions expression, known only when the workflow runs'
    if '$[[' in text:
        return 'a GitLab CI input, known only when the pipeline runs'
    if '{{' in text:
        return 'a template expression, known only when it is rendered'
    if '$' in text:
        return 'built from a variable, known only when it is expanded'
    return ''


# --- one walk per kind -----------------------------------------------------

def _compose(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        for service in w.values(w.get(doc, 'services')):
            if w.first_visit(service, 'compose-service'):
                built = w.get(service, 'build') is not None
                w.image_in(service, 'image', BUILT if built else 'compose-service')


def _kubernetes(w: _Walker, docs: list[Node]) -> None:
    if '{{' in w.text and any(_templated(doc) for doc in docs):
        skip = _template_skip(w.text).skips[0]
        w.skips.append(skip)
        return
    for doc in docs:
        if w.get(doc, 'apiVersion') is not None and isinstance(w.get(doc, 'kind'), ScalarNode):
            _k8s_object(w, doc)


def _k8s_object(w: _Walker, obj: Node) -> None:
    if not w.first_visit(obj, 'k8s-object'):
        return
    kind_node = w.get(obj, 'kind')
    kind = kind_node.value if isinstance(kind_node, ScalarNode) else ''
    if not isinstance(kind, str):
        return
    if kind.endswith('List'):
        for item in w.seq(w.get(obj, 'items')):
            _k8s_object(w, item)
    elif kind == 'Pod':
        _pod_spec(w, w.get(obj, 'spec'))
    elif kind == 'CronJob':
        _pod_spec(w, w.get(obj, 'spec', 'jobTemplate', 'spec', 'template', 'spec'))
    elif kind == 'PodTemplate':
        _pod_spec(w, w.get(obj, 'template', 'spec'))
    elif kind in _WORKLOADS:
        _pod_spec(w, w.get(obj, 'spec', 'template', 'spec'))
    elif kind != 'CustomResourceDefinition':  # a CRD's schema names fields, not images
        _custom(w, w.get(obj, 'spec'))


def _custom(w: _Walker, spec: Node | None) -> None:
    """Containers anywhere in a custom resource's spec: pod templates (Argo
    Rollouts, Knative, operators), Tekton ``steps``/``sidecars``/``stepTemplate``
    (in Tasks and in the task specs of Pipelines and runs), Argo Workflows'
    ``container``/``script``/``containerSet`` templates. A container is a
    mapping with an ``image`` string, listed under one of those fields."""
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, SequenceNode):
            stack.extend(reversed(w.seq(node)))
            continue
        if not isinstance(node, MappingNode) or not w.first_visit(node, 'k8s-custom'):
            continue
        later = []
        for field, (_, value) in w.pairs(node).items():
            kind = _CONTAINER_LISTS.get(field)
            if kind is not None and isinstance(value, SequenceNode):
                for item in w.seq(value):
                    _container(w, item, kind)
            kind = _CONTAINER_FIELDS.get(field)
            if kind is not None and isinstance(value, MappingNode):
                _container(w, value, kind)
            later.append(value)
        stack.extend(reversed(later))


def _container(w: _Walker, container: Node, kind: str) -> None:
    if isinstance(w.get(container, 'image'), ScalarNode):
        w.image_in(container, 'image', kind)


def _pod_spec(w: _Walker, spec: Node | None) -> None:
    if spec is None or not w.first_visit(spec, 'pod-spec'):
        return
    for field, kind in _POD_SPEC_FIELDS:
        for container in w.seq(w.get(spec, field)):
            w.image_in(container, 'image', kind)


def _templated(doc: Node) -> bool:
    """A mapping used as a key: how ``{{ .Values.x }}`` parses; YAML data never does."""
    stack, seen = [doc], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            if any(isinstance(k, MappingNode) for k, _ in node.value):
                return True
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return False


def _workflow(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        for job in w.values(w.get(doc, 'jobs')):
            if not w.first_visit(job, 'workflow-job'):
                continue
            _string_or_mapping(w, job, 'container', 'image', 'workflow-container')
            for service in w.values(w.get(job, 'services')):
                w.image_in(service, 'image', 'workflow-service')
            _steps(w, w.get(job, 'steps'), 'workflow-step')


def _string_or_mapping(w: _Walker, parent: Node | None, key: str, inner: str, kind: str) -> None:
    """``key: IMAGE`` or ``key: {inner: IMAGE}`` (a workflow's container, GitLab's image)."""
    value = w.get(parent, key)
    if isinstance(value, MappingNode):
        w.image_in(value, inner, kind)
    else:
        w.image_in(parent, key, kind)


def _steps(w: _Walker, steps: Node | None, kind: str) -> None:
    for step in w.seq(steps):
        w.image_in(step, 'uses', kind, scheme=DOCKER_SCHEME)


def _action(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        runs = w.get(doc, 'runs')
        w.image_in(runs, 'image', 'action-image', scheme=DOCKER_SCHEME)
        _steps(w, w.get(runs, 'steps'), 'action-step')


def _gitlab(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        _gitlab_job(w, doc)
        _gitlab_job(w, w.get(doc, 'default'))
        for name, (_, job) in w.pairs(doc).items():
            if name not in _GITLAB_GLOBALS and isinstance(job, MappingNode):
                _gitlab_job(w, job)


def _gitlab_job(w: _Walker, job: Node | None) -> None:
    if job is None or not w.first_visit(job, 'gitlab-job'):
        return
    _string_or_mapping(w, job, 'image', 'name', 'gitlab-image')
    services = w.get(job, 'services')
    if not isinstance(services, SequenceNode) or services.tag == '!reference':
        w.image_in(job, 'services', 'gitlab-service')  # a skip, unless absent or null
        return
    for service in w.seq(services):
        if isinstance(service, MappingNode):
            w.image_in(service, 'name', 'gitlab-service')
        else:
            w.image(service, 'gitlab-service')


_WALKS: dict[str, Callable[[_Walker, list[Node]], None]] = {
    'compose': _compose,
    'yaml': _kubernetes,
    'workflow': _workflow,
    'action': _action,
    'gitlab-ci': _gitlab,
}


def _walk(kind: str) -> Callable[[_Walker, list[Node]], None]:
    """A kind's walk: here, or in a module of its own, imported when such a file is scanned."""
    if kind in _WALKS:
        return _WALKS[kind]
    import importlib
    from pin_from.kinds.walks import WALKS
    walk: Callable[[_Walker, list[Node]], None] = importlib.import_module(f'pin_from.kinds.{WALKS[kind]}').walk
    return walk
