"""kustomize's ``images:`` entries (``name``, ``newName``, ``newTag``, ``digest``).

kustomize's image transformer (api/filters/imagetag/updater.go) renders
``name[:tag][@digest]`` from an entry: with both ``newTag`` and ``digest`` it
writes ``newName:newTag@digest``; with ``newTag`` alone, ``newName:newTag``,
taking ``newTag`` as it is (``image.Split`` is never applied to it), so
``newTag: 1.27@sha256:…`` renders ``nginx:1.27@sha256:…``; with ``digest``
alone the tag is dropped. So:

* an entry with a ``digest`` key (and a ``newTag`` to track) has its digest
  re-pinned (filled, if empty) in place;
* an entry with only ``newTag`` gets ``newTag: TAG@sha256:…``, which every
  kustomize release renders as ``name:TAG@sha256:…``, with no key added;
* an entry without ``newTag`` takes its tag from the resources: the image is
  pinned there (as a Kubernetes file), and ``-v`` says so.
"""
from __future__ import annotations

from yaml.nodes import Node
from yaml.nodes import ScalarNode

from pin_from.kinds.sites import Skip
from pin_from.kinds.yaml_kinds import _Walker
from pin_from.kinds.yaml_kinds import filled


def walk(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        for entry in w.seq(w.get(doc, 'images')):
            if w.first_visit(entry, 'kustomize-image'):
                _entry(w, entry)


def _entry(w: _Walker, entry: Node) -> None:
    pairs = w.pairs(entry)
    name = w.get(entry, 'newName') or w.get(entry, 'name')
    if not isinstance(name, ScalarNode) or not filled(name):
        return
    tag = pairs.get('newTag')
    digest = pairs.get('digest')
    has_tag = tag is not None and filled(tag[1])
    if digest is not None:
        key, node = digest
        whole: list[str | Node] = [name]
        if has_tag and tag is not None:
            whole += [':', tag[1]]
        elif not filled(node):
            w.skip(node, 'no newTag: the tag comes from the resources; nothing to pin the digest to')
            return
        if filled(node):
            whole += ['@', node]
        w.part(key, node, whole, 'kustomize-digest', '{digest}', raw=True)
    elif has_tag and tag is not None:
        w.part(tag[0], tag[1], [name, ':', tag[1]], 'kustomize-tag', '{tag}@{digest}', raw=True)
    else:
        key = next(iter(pairs.values()))[0]
        line = w.line(w.to_char(key.start_mark.index) + w.shift)
        w.skips.append(Skip(line, str(name.value), 'no newTag: the tag comes from the resources (pinned there)'))
