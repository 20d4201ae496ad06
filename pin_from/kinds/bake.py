"""Docker Buildx bake files (``docker-bake.hcl``, ``docker-bake.json`` and their
``.override`` files): the images a build pulls.

Pinned: ``contexts`` values ``docker-image://IMAGE`` (a named context taken
from a registry), and the ``FROM`` (and ``COPY --from``, ``# syntax=``) images
of a ``dockerfile-inline`` Dockerfile, read by the Dockerfile lexer. ``tags``
name what the target builds: outputs, never pinned; other contexts
(``target:``, paths, URLs) are not images. HCL is read by
:mod:`pin_from.kinds.hcl`, JSON by :mod:`pin_from.kinds.jsonc`; only literal
strings are pinned, never ``${...}`` interpolations.
"""
from __future__ import annotations

from pin_from.kinds import hcl
from pin_from.kinds import jsonc
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

DOCKER_IMAGE = 'docker-image://'


def scan(text: str) -> Scan:
    """A bake file's images: JSON when it opens with ``{``, else HCL (as buildx tells them)."""
    if text.lstrip('\ufeff \t\r\n').startswith('{'):
        return _json(text)
    try:
        body = hcl.parse(text)
    except hcl.HclError as e:
        return hcl.unparsable(text, e)
    found: list[Site | Skip | Problem | None] = []
    scans: list[Scan] = []
    for block in body.blocks:
        if block.type != 'target':
            continue
        contexts = block.body.get('contexts')
        if isinstance(contexts, hcl.Obj):
            for _, key, value in contexts.items:
                found.append(hcl.image(text, value, 'bake-context', DOCKER_IMAGE, key))
        inline = block.body.get('dockerfile-inline')
        if isinstance(inline, (hcl.Str, hcl.Heredoc)):
            scans.append(_inline(text, inline.token))
    return hcl.collect(found, scans)


def _inline(text: str, tok: hcl.Token) -> Scan:
    from pin_from.kinds import dockerfile
    if tok.kind == 'string' and not tok.literal and '${' not in tok.text:
        return Scan((), (Skip(hcl.line_of(text, tok.start), tok.text[:40], 'an inline Dockerfile written with escapes '
                                                                          '(\\n); write it as a heredoc to pin it'),), ())
    start, end = tok.inner
    return hcl.embedded(text, start, dockerfile.scan(text[start:end]), 'bake-inline')


def _json(text: str) -> Scan:
    try:
        doc = jsonc.parse(text)
    except jsonc.JsonError as e:
        return jsonc.unparsable(text, e)
    targets = doc.get('target') if isinstance(doc, jsonc.Obj) else None
    found: list[Site | Skip | Problem | None] = []
    scans: list[Scan] = []
    for _, target in targets.pairs if isinstance(targets, jsonc.Obj) else ():
        if not isinstance(target, jsonc.Obj):
            continue
        contexts = target.get('contexts')
        for key, value in contexts.pairs if isinstance(contexts, jsonc.Obj) else ():
            found.append(jsonc.image(text, value, 'bake-context', DOCKER_IMAGE, key))
        inline = target.get('dockerfile-inline')
        if isinstance(inline, jsonc.Str):
            if inline.plain and '\n' not in inline.value:
                from pin_from.kinds import dockerfile
                scans.append(hcl.embedded(text, inline.start + 1, dockerfile.scan(inline.value), 'bake-inline'))
            else:
                found.append(Skip(jsonc.line_of(text, inline.start), inline.value[:40].split('\n')[0],
                                  'an inline Dockerfile written with escapes (\\n); pin it by hand'))
    return hcl.collect(found, scans)
