"""Helm values files: image strings, and image mappings with a ``digest`` key.

A chart reads its images from values, in one of two shapes (the ones
Renovate's helm-values manager reads, under a key ending in ``image``):

* ``image: "repo:tag"``, a whole reference: pinned as written;
* ``image: {registry, repository, tag, digest}``: only an existing
  ``digest`` key is filled (empty) or re-pinned (stale), with the digest of
  ``registry/repository:tag``. Keys are never invented: ``@sha256`` in a
  ``tag`` would also reach the labels charts build from it, so a mapping
  without ``digest`` is left alone, and ``-v`` says why.

Labels, annotations, environment variables and other free-form maps are
not looked into: a key ``image`` there is data. Templates (``templates/``)
are not values: they are not this kind.
"""
from __future__ import annotations

import re

from yaml.nodes import MappingNode
from yaml.nodes import Node
from yaml.nodes import ScalarNode
from yaml.nodes import SequenceNode

from pin_from.kinds.sites import Skip
from pin_from.kinds.yaml_kinds import _Walker
from pin_from.kinds.yaml_kinds import filled

_IMAGE_KEY_RE = re.compile(r'image\Z', re.I)
_FREE_FORM_RE = re.compile(r'(?:labels|annotations|env|selector|config|data)\Z', re.I)  # free-form maps: no images
NO_DIGEST = ('repository and tag with no digest key: left alone (a tag with @sha256 would reach labels too; '
             'add digest: "" where the chart reads one)')


def walk(w: _Walker, docs: list[Node]) -> None:
    stack = list(reversed(docs))
    while stack:
        node = stack.pop()
        if isinstance(node, SequenceNode):
            stack.extend(reversed(w.seq(node)))
        if not isinstance(node, MappingNode) or not w.first_visit(node, 'helm-values'):
            continue
        later = []
        for name, (key, value) in w.pairs(node).items():
            if _IMAGE_KEY_RE.search(name) and isinstance(value, ScalarNode):
                w.image(value, 'helm-image', key)
            elif _IMAGE_KEY_RE.search(name) and 'repository' in w.pairs(value):
                _mapping(w, key, value)
            elif not _FREE_FORM_RE.search(name):
                later.append(value)
        stack.extend(reversed(later))


def _mapping(w: _Walker, key: Node, image: Node) -> None:
    if not w.first_visit(image, 'helm-image-mapping'):
        return
    pairs = w.pairs(image)
    registry, repository, tag = (pairs[k][1] if k in pairs else None for k in ('registry', 'repository', 'tag'))
    if not isinstance(repository, ScalarNode) or not filled(repository):
        return
    whole: list[str | Node] = []
    if isinstance(registry, ScalarNode) and filled(registry):
        whole += [registry, '/']
    whole.append(repository)
    line = w.line(w.to_char(key.start_mark.index) + w.shift)
    shown = ''.join(p if isinstance(p, str) else str(p.value) for p in whole)
    has_tag = isinstance(tag, ScalarNode) and filled(tag)
    if 'digest' not in pairs:
        if has_tag:
            w.skips.append(Skip(line, f'{shown}:{tag.value}' if tag is not None else shown, NO_DIGEST))
        return
    digest_key, digest = pairs['digest']
    if not isinstance(digest, ScalarNode):
        w.skip(digest, 'not a string')
        return
    if has_tag and tag is not None:
        whole += [':', tag]
    elif not filled(digest):
        w.skips.append(Skip(line, shown, "no tag (the chart's appVersion is used): nothing to pin the digest to"))
        return
    if filled(digest):
        whole += ['@', digest]
    w.part(digest_key, digest, whole, 'helm-digest', '{digest}')
