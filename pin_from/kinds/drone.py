"""Drone (``.drone.yml``) and Woodpecker (``.woodpecker.yml``, ``.woodpecker/*.yml``) pipelines.

Each step and service names its ``image``. Steps and services are a list
(Drone, Woodpecker 1+) or a mapping of name to step (Woodpecker's older
``pipeline:`` and ``services:``), and ``clone`` steps are steps too.
"""
from __future__ import annotations

from yaml.nodes import MappingNode
from yaml.nodes import Node

from pin_from.kinds.yaml_kinds import _Walker


def walk(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        for field, kind in (('steps', 'step'), ('pipeline', 'step'), ('clone', 'step'), ('services', 'service')):
            for step in _steps(w, w.get(doc, field)):
                w.image_in(step, 'image', f'drone-{kind}')


def _steps(w: _Walker, node: Node | None) -> list[Node]:
    return w.values(node) if isinstance(node, MappingNode) else w.seq(node)
