"""The report of an ``--update`` run: a pull-request body, and a short summary.

Every value that comes from an image, a registry or a library file goes into
a code span (:func:`pin_from.escape.code_span`, length-capped) or is escaped:
a label cannot forge a heading, a link, an image or a mention.
"""
from __future__ import annotations

from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from.registry.changes import Facts
from pin_from.escape import code_span as c
from pin_from.escape import markdown_text
from pin_from.errors import PinFromError
from pin_from.reference import Reference

if TYPE_CHECKING:
    from pin_from.explain.markdown import Explanation


class Source(NamedTuple):
    """The official-images entry that builds a tag today (or why there is none)."""

    library: str  # library/<name>
    repo: str  # the entry's GitRepo
    commit: str
    directory: str
    github: str | None  # owner/name when the repo is on GitHub


class Move(NamedTuple):
    """A tag whose digest moved, and every place in the files that pins it."""

    ref: Reference  # tag only
    old: str
    new: str
    locations: tuple[str, ...]  # FILE:LINE
    details: tuple[str, ...]  # Markdown bullets, already escaped
    source: Source | PinFromError | None  # an error: why the source could not be read
    explained: Explanation | None = None  # packages, source, vulnerabilities (attestations, OSV)


def _size(n: int) -> str:
    value = float(n)
    for unit in ('B', 'kB', 'MB'):
        if abs(value) < 1000:
            return f'{n} B' if unit == 'B' else f'{value:.1f} {unit}'
        value /= 1000
    return f'{value:.1f} GB'


def _dict_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    ret = []
    for k in sorted(old.keys() | new.keys()):
        if old.get(k) == new.get(k):
            continue
        if k not in old:
            ret.append(f'{c(k)} added: {c(new[k])}')
        elif k not in new:
            ret.append(f'{c(k)} removed (was {c(old[k])})')
        else:
            ret.append(f'{c(k)} {c(old[k])} → {c(new[k])}')
    return ret


def _platform_lines(old: Facts, new: Facts) -> list[str]:
    added = sorted(set(new.platforms) - set(old.platforms))
    removed = sorted(set(old.platforms) - set(new.platforms))
    if not (added or removed):
        return []
    parts = [f'added {", ".join(added)}'] * bool(added)  # plain words (pin_from.registry.manifest)
    parts += [f'removed {", ".join(removed)}'] * bool(removed)
    return [f'Platforms: {"; ".join(parts)}']


def describe(old: Facts | None, new: Facts, platform: str) -> list[str]:
    """Markdown bullet texts describing the change from ``old`` to ``new``."""
    if old is None:
        return ['the old digest is no longer available from the registry; nothing to compare']
    lines = _platform_lines(old, new)
    if new.manifest is None:
        return lines + [f'{platform}: not in the new image']
    if old.manifest is None:
        return lines + [f'{platform}: added in the new image (not in the old one; nothing to compare)']
    if old.manifest == new.manifest:
        return lines + [f'{platform}: unchanged (same manifest {c(new.manifest)})']
    delta = new.size - old.size
    sign = '+' if delta >= 0 else '-'
    gained = len(set(new.layers) - set(old.layers))
    lost = len(set(old.layers) - set(new.layers))
    lines += [
        f'Created: {c(old.created or "?")} → {c(new.created or "?")}',
        f'Size ({platform}, compressed): {_size(old.size)} → {_size(new.size)} ({sign}{_size(abs(delta))})',
        f'Layers: {gained} added, {lost} removed ({len(new.layers)} now)',
    ]
    env = _dict_changes(old.env, new.env)
    if env:
        lines.append('Environment: ' + '; '.join(env))
    labels = _dict_changes(old.labels, new.labels)
    if labels:
        lines.append('Labels: ' + '; '.join(labels))
    return lines


def _source_line(source: Source | PinFromError | None) -> str | None:
    if source is None:
        return None
    if isinstance(source, PinFromError):
        return f'Source: {source}'
    short = c(source.commit[:12])
    if source.github is None:
        where = f' {c(source.directory)}' if source.directory else ''
        return f'Source: {c(source.library)}: {c(source.repo)} at {short}{where}'
    url = f'https://github.com/{source.github}'
    tree = f'{url}/tree/{source.commit}/{source.directory}'.rstrip('/')
    return (
        f'Source: {c(source.library)}: [{source.github}@{source.commit[:12]}]({url}/commit/{source.commit})'
        f' ([{source.directory or "/"}]({tree}))'
    )


def _short(digest: str) -> str:
    return digest[:19]


def _held(held: list[str]) -> list[str]:
    """Moves held back (a platform pin whose platform did not move, --platform, --min-age)."""
    if not held:
        return []
    return ['', '### Held back', ''] + [f'- {markdown_text(line, 400)}' for line in held]


def markdown(moves: list[Move], platform: str, held: list[str] | None = None) -> str:
    """A report usable verbatim as a pull-request body."""
    if not moves:
        return '\n'.join(['No base image tag moved.', *_held(held or [])]) + '\n'
    lines = [
        '## Base image updates',
        '',
        f'pin-from re-pinned {len(moves)} moved tag{"s" * (len(moves) != 1)}. '
        f'Details compare {c(platform)}.',
        '',
        '| image | old digest | new digest | where |',
        '|---|---|---|---|',
    ]
    for m in moves:
        where = ', '.join(c(w) for w in m.locations)
        lines.append(f'| {c(str(m.ref))} | {c(_short(m.old))} | {c(_short(m.new))} | {where} |')
    for m in moves:
        lines += ['', f'### {c(str(m.ref))}', '', f'- Digest: {c(m.old)} → {c(m.new)}']
        lines += [f'- {d}' for d in m.details]
        source = _source_line(m.source)
        if source:
            lines.append(f'- {source}')
        if m.explained is not None:
            from pin_from.explain.markdown import render
            lines += ['', render(*m.explained).rstrip('\n')]
    lines += _held(held or [])
    return '\n'.join(lines) + '\n'


def summary(moves: list[Move]) -> list[str]:
    """A few lines for stdout when no --report is asked for."""
    out = []
    for m in moves:
        places = f'{len(m.locations)} place{"s" * (len(m.locations) != 1)}'
        out.append(f'{m.ref}: {_short(m.old)} -> {_short(m.new)} ({places})')
        out += [f'    {d}' for d in m.details]
        if m.explained is not None:
            from pin_from.explain.markdown import summary as explained
            out.append(f'    {explained(m.explained)}')
    return out
