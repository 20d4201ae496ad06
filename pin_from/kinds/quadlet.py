"""Podman Quadlet units (``*.container``, ``*.image``, ``*.volume``, ``*.pod``,
``*.build``): the ``Image=`` a unit pulls, read as systemd reads unit files.

systemd's rules: ``[Section]`` headers, ``Key=Value`` with the whitespace
around the value dropped, comment lines starting ``#`` or ``;`` (a ``#``
after a value is part of the value), and a line ending in ``\\`` continued by
the next one (comment lines inside a continuation are dropped). Keys are
case-sensitive. Pinned: ``Image=`` in ``[Container]``, ``[Image]`` and
``[Volume]`` (``Driver=image``); never ``ImageTag=`` (what a ``.build`` unit
makes). A ``# pin-from: ignore`` comment line right above a key leaves it alone.

Left alone, with a reason: a value naming another unit (``app.image``,
``app.build``), a transport other than ``docker://``, a value continued
over lines, and a short name (``nginx``): Podman resolves short names
through ``registries.conf`` and its aliases, so the registry is not known
from the file; write the full name (``docker.io/library/nginx``) to pin it.
"""
from __future__ import annotations

import re

from pin_from import reference
from pin_from.errors import InvalidReference
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

_SECTIONS = frozenset(('Container', 'Image', 'Volume'))
_IGNORE_RE = re.compile(r'[ \t]*[#;][ \t]*pin-from:[ \t]*ignore\b', re.I)
_KEY_RE = re.compile(r'[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*')
DOCKER = 'docker://'


def scan(text: str) -> Scan:
    sites: list[Site] = []
    skips: list[Skip] = []
    problems: list[Problem] = []
    section = ''
    ignore_next = False
    continued = False
    pos = 1 if text.startswith('\ufeff') else 0
    number = 0
    while pos < len(text):
        end = text.find('\n', pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].rstrip('\r')
        start, pos = pos, end + 1
        number += 1
        stripped = line.strip()
        if continued:  # the rest of a continued value (or a comment inside it)
            continued = line.rstrip().endswith('\\') or stripped.startswith(('#', ';'))
            continue
        if not stripped or stripped.startswith(('#', ';')):
            ignore_next = ignore_next or bool(_IGNORE_RE.match(line)) if stripped else False
            continue
        ignored, ignore_next = ignore_next, False
        if stripped.startswith('['):
            section = stripped[1:stripped.find(']')] if ']' in stripped else ''
            continue
        m = _KEY_RE.match(line)
        if m is None:
            continue
        continued = line.rstrip().endswith('\\')
        if section not in _SECTIONS or m.group(1) != 'Image':
            continue
        value_start = start + m.end()
        value = line[m.end():].rstrip(' \t')
        if continued:
            skips.append(Skip(number, value.rstrip('\\').strip(), 'continued over lines; edit it by hand'))
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
            value, value_start = value[1:-1], value_start + 1
        reason = _left_alone(value)
        shown = value
        if value.startswith(DOCKER):
            value, value_start = value[len(DOCKER):], value_start + len(DOCKER)
        reason = reason or ('under a "# pin-from: ignore" comment' if ignored else '')
        if reason:
            skips.append(Skip(number, shown, reason))
            continue
        try:
            ref = reference.parse(value)
        except InvalidReference as e:
            problems.append(Problem(number, value, str(e)))
            continue
        sites.append(Site(number, value_start, value_start + len(value), value, f'quadlet-{section.lower()}', ref))
    return Scan(tuple(sites), tuple(skips), tuple(problems))


def _left_alone(value: str) -> str:
    if not value:
        return 'an empty value'
    if '$' in value or '%' in value:
        return 'built from a variable or a systemd specifier, known only when the unit runs'
    if value.endswith(('.image', '.build')):
        return 'names another Quadlet unit; its image is pinned there'
    transport = re.match(r'(oci|oci-archive|docker-archive|containers-storage|dir|docker-daemon):', value)
    if transport or '://' in value and not value.startswith(DOCKER):
        return 'a transport other than docker://; not a registry image'
    name = value[len(DOCKER):] if value.startswith(DOCKER) else value
    first = name.split('/')[0]
    if '/' not in name or not ('.' in first or ':' in first or first == 'localhost'):
        return ('a short name: Podman resolves it through registries.conf, so its registry is not known; '
                'write the full name (docker.io/library/...) to pin it')
    return ''
