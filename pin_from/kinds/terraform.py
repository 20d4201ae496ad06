"""Terraform (``*.tf``): image strings in the resources that run containers.

Pinned, when written as a literal string (never a ``${...}`` interpolation,
a variable or a reference to another resource):

* ``resource "docker_image"``'s ``name`` and ``resource "docker_container"``'s ``image``;
* the ``image`` of every ``container``, ``containers``, ``init_container``
  block of a resource: ``kubernetes_*`` pod specs, Cloud Run, Azure
  container groups and apps;
* ECS ``container_definitions``: each definition's ``image``, in a
  ``jsonencode(...)`` expression or a JSON heredoc.

``data`` sources, variables and outputs are not read: a value there is not
known to be an image that runs.
"""
from __future__ import annotations

from pin_from.kinds import hcl
from pin_from.kinds import jsonc
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

_CONTAINER_BLOCKS = frozenset(('container', 'containers', 'init_container', 'init_containers'))
Found = list[Site | Skip | Problem | None]


def scan(text: str) -> Scan:
    if 'resource' not in text:
        return Scan((), (), ())
    try:
        body = hcl.parse(text)
    except hcl.HclError as e:
        return hcl.unparsable(text, e)
    found: Found = []
    scans: list[Scan] = []
    for block in body.blocks:
        if block.type != 'resource' or not block.labels:
            continue
        kind = block.labels[0]
        if kind == 'docker_image':
            found.append(_attr(text, block.body, 'name', 'tf-docker-image'))
        elif kind == 'docker_container':
            found.append(_attr(text, block.body, 'image', 'tf-docker-container'))
        elif kind == 'aws_ecs_task_definition':
            _ecs(text, block.body.get('container_definitions'), found, scans)
        _containers(text, block.body, found, 0)
    return hcl.collect(found, scans)


def _attr(text: str, body: hcl.Body, name: str, kind: str) -> Site | Skip | Problem | None:
    for attribute in reversed(body.attributes):
        if attribute.name == name:
            return hcl.image(text, attribute.value, kind, key=attribute.key)
    return None


def _containers(text: str, body: hcl.Body, found: Found, depth: int) -> None:
    for block in body.blocks:
        if block.type in _CONTAINER_BLOCKS:
            found.append(_attr(text, block.body, 'image', 'tf-container'))
        if depth < 50:
            _containers(text, block.body, found, depth + 1)


def _ecs(text: str, definitions: hcl.Expr | None, found: Found, scans: list[Scan]) -> None:
    if isinstance(definitions, hcl.Call) and definitions.name == 'jsonencode':
        stack: list[hcl.Expr] = list(definitions.args)
        while stack:
            expr = stack.pop()
            if isinstance(expr, hcl.Tup):
                stack.extend(expr.items)
            elif isinstance(expr, hcl.Obj):
                for name, key, value in expr.items:
                    if name == 'image':
                        found.append(hcl.image(text, value, 'tf-ecs', key=key))
    elif isinstance(definitions, hcl.Heredoc):
        start, end = definitions.token.inner
        body = text[start:end]
        try:
            doc = jsonc.parse(body)
        except jsonc.JsonError:
            found.append(Skip(hcl.line_of(text, start), body.strip()[:40], 'container definitions that are not '
                                                                            'plain JSON (interpolations?): pin them by hand'))
            return
        inner: Found = []
        for item in doc.items if isinstance(doc, jsonc.Arr) else ():
            if isinstance(item, jsonc.Obj):
                pair = item.pair('image')
                if pair is not None:
                    inner.append(jsonc.image(body, pair[1], 'ecs', key=pair[0]))
        scans.append(hcl.embedded(text, start, jsonc.collect(inner), 'tf'))
