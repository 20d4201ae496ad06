"""Google Cloud Build (``cloudbuild.y(a)ml``): each step's ``name`` is the image it runs.

``images:`` lists what the build pushes: outputs, never pinned.
"""
from __future__ import annotations

from yaml.nodes import Node

from pin_from.kinds.yaml_kinds import _Walker


def walk(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        for step in w.seq(w.get(doc, 'steps')):
            w.image_in(step, 'name', 'cloudbuild-step')
