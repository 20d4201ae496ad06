"""Keeping up: moved tags, the noise filter, and the report of what changed."""
from __future__ import annotations

import re
from typing import Any
from typing import Iterable
from typing import NamedTuple

from pin_from import changes
from pin_from.errors import PinFromError
from pin_from.reference import Reference

_GITHUB_RE = re.compile(r'(?:https://|git://|git@)github\.com[/:]([^/]+/[^/]+?)(?:\.git)?/?$')


class Move(NamedTuple):
    """A tag whose digest moved, and every place in the files that pins it."""

    ref: Reference  # tag only
    old: str
    new: str
    locations: tuple[str, ...]  # FILE:LINE
    details: tuple[str, ...]
    source: str | None


def group(moved: Iterable[tuple[Reference, str, str, str]]) -> list[tuple[Reference, str, str, tuple[str, ...]]]:
    """(ref, old, new, location) rows -> one row per distinct move."""
    found: dict[tuple[Reference, str, str], list[str]] = {}
    for ref, old, new, where in moved:
        found.setdefault((ref, old, new), []).append(where)
    return [(r, o, n, tuple(w)) for (r, o, n), w in sorted(found.items())]


def platform_changed(inspector: changes.Inspector, ref: Reference, old: str, new: str, platforms: list[tuple[str, ...]]) -> bool:
    """Whether any wanted platform's manifest differs (unknown counts as changed)."""
    try:
        return any(
            inspector.platform_digest(ref, old, p) != inspector.platform_digest(ref, new, p)
            for p in platforms
        )
    except PinFromError:
        return True


def details(inspector: changes.Inspector, ref: Reference, old: str, new: str, platform: tuple[str, ...]) -> tuple[str, ...]:
    try:
        new_facts = inspector.facts(ref, new, platform)
    except PinFromError as e:
        return (f'could not read the new image: {e}',)
    try:
        old_facts: changes.Facts | None = inspector.facts(ref, old, platform)
    except PinFromError:
        old_facts = None
    return tuple(changes.describe(old_facts, new_facts, '/'.join(platform)))


def library_source(lib: Any, tag: str) -> str | None:
    """Markdown naming the official-images entry that builds ``tag`` today."""
    entry = lib.entry_for(tag)
    if entry is None:
        return None
    m = _GITHUB_RE.match(entry.git_repo)
    short = entry.git_commit[:12]
    where = f' `{entry.directory}`' if entry.directory else ''
    if m is None:
        return f'`library/{lib.name}`: {entry.git_repo} at `{short}`{where}'
    url = f'https://github.com/{m.group(1)}'
    tree = f'{url}/tree/{entry.git_commit}/{entry.directory}'.rstrip('/')
    return (
        f'`library/{lib.name}`: [{m.group(1)}@{short}]({url}/commit/{entry.git_commit})'
        f' ([{entry.directory or "/"}]({tree}))'
    )


def _short(digest: str) -> str:
    return digest[:19]


def markdown(moves: list[Move], platform: str) -> str:
    """A report usable verbatim as a pull-request body."""
    lines = [
        '## Base image updates',
        '',
        f'pin-from re-pinned {len(moves)} moved tag{"s" * (len(moves) != 1)}. '
        f'Details compare `{platform}`.',
        '',
        '| image | old digest | new digest | where |',
        '|---|---|---|---|',
    ]
    for m in moves:
        lines.append(
            f'| `{m.ref}` | `{_short(m.old)}` | `{_short(m.new)}` | {", ".join(f"`{w}`" for w in m.locations)} |',
        )
    for m in moves:
        lines += ['', f'### `{m.ref}`', '', f'- Digest: `{m.old}` → `{m.new}`']
        lines += [f'- {d}' for d in m.details]
        if m.source:
            lines.append(f'- Source: {m.source}')
    return '\n'.join(lines) + '\n'


def summary(moves: list[Move]) -> str:
    """A few lines for stdout when no --report is asked for."""
    out = []
    for m in moves:
        out.append(f'{m.ref}: {_short(m.old)} -> {_short(m.new)} ({len(m.locations)} place{"s" * (len(m.locations) != 1)})')
        out += [f'    {d}' for d in m.details]
    return '\n'.join(out)
