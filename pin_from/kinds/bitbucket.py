"""Bitbucket Pipelines (``bitbucket-pipelines.yml``): the default ``image``,
each step's ``image`` and each service's (a string, or a mapping with ``name``)."""
from __future__ import annotations

from yaml.nodes import MappingNode
from yaml.nodes import Node
from yaml.nodes import SequenceNode

from pin_from.kinds.yaml_kinds import _string_or_mapping
from pin_from.kinds.yaml_kinds import _Walker


def walk(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        _string_or_mapping(w, doc, 'image', 'name', 'bitbucket-image')
        for service in w.values(w.get(doc, 'definitions', 'services')):
            _string_or_mapping(w, service, 'image', 'name', 'bitbucket-service')
        stack = [w.get(doc, 'pipelines'), w.get(doc, 'definitions')]
        while stack:  # steps sit in lists, parallel groups and stages at any depth
            node = stack.pop()
            if isinstance(node, SequenceNode):
                stack.extend(w.seq(node))
            elif isinstance(node, MappingNode) and w.first_visit(node, 'bitbucket-node'):
                step = w.get(node, 'step')
                if isinstance(step, MappingNode) and w.first_visit(step, 'bitbucket-step'):
                    _string_or_mapping(w, step, 'image', 'name', 'bitbucket-image')
                stack.extend(pair[1] for key, pair in w.pairs(node).items() if key != 'services')
