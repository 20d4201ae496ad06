"""Azure Pipelines (``azure-pipelines.yml``, ``.azure-pipelines/**``): container images.

``resources.containers[].image``, and a job's (or a deployment job's, or a
single-job pipeline's) ``container``: an image string or a mapping with
``image``. A ``container`` string naming a resource (its ``container:``
alias) is not an image, nor are ``services`` values, which name resources
too: those images are pinned where the resource is written.
"""
from __future__ import annotations

from yaml.nodes import MappingNode
from yaml.nodes import Node
from yaml.nodes import ScalarNode
from yaml.nodes import SequenceNode

from pin_from.kinds.yaml_kinds import _Walker


def walk(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        aliases = set()
        for resource in w.seq(w.get(doc, 'resources', 'containers')):
            alias = w.get(resource, 'container')
            if isinstance(alias, ScalarNode):
                aliases.add(alias.value)
            w.image_in(resource, 'image', 'azure-resource')
        stack = [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, SequenceNode):
                stack.extend(w.seq(node))
            elif isinstance(node, MappingNode) and w.first_visit(node, 'azure-node'):
                pairs = w.pairs(node)
                if node is doc or 'job' in pairs or 'deployment' in pairs:
                    _container(w, node, aliases)
                stack.extend(p[1] for k, p in pairs.items() if k in ('stages', 'jobs'))


def _container(w: _Walker, job: Node, aliases: set[str]) -> None:
    container = w.get(job, 'container')
    if isinstance(container, MappingNode):
        w.image_in(container, 'image', 'azure-container')
    elif not (isinstance(container, ScalarNode) and container.value in aliases):
        w.image_in(job, 'container', 'azure-container')
