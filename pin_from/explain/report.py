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
    if old.created != new.created:  # nothing to say when it is the same
        lines.append(f'Created: {c(old.created or "?")} → {c(new.created or "?")}')
    lines += [
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


def _source_text(source: Source | PinFromError) -> str:
    if isinstance(source, PinFromError):
        return str(source)
    short = c(source.commit[:12])
    if source.github is None:
        where = f' {c(source.directory)}' if source.directory else ''
        return f'{c(source.library)}: {c(source.repo)} at {short}{where}'
    url = f'https://github.com/{source.github}'
    tree = f'{url}/tree/{source.commit}/{source.directory}'.rstrip('/')
    return (
        f'{c(source.library)}: [{source.github}@{source.commit[:12]}]({url}/commit/{source.commit})'
        f' ([{source.directory or "/"}]({tree}))'
    )


def _short(digest: str) -> str:
    return digest[:19]


MAX_REPORT = 60_000  # characters: GitHub cuts a pull-request body at 65,536
WHERE_FILES = 10  # files listed per image in the table; the rest counted
WHERE_PLACES = 20  # FILE:LINE places listed per image at most
MAX_HELD = 50  # held-back moves listed; the rest counted
_NOTE_ROOM = 600  # kept free for the note of what was left out


def _where(locations: tuple[str, ...]) -> str:
    """The first few FILE:LINE places of an image, and how many files (or places) more."""
    files: dict[str, list[str]] = {}
    for place in locations:
        files.setdefault(place.rpartition(':')[0] or place, []).append(place)
    shown_files = list(files)[:WHERE_FILES]
    shown = [p for f in shown_files for p in files[f]][:WHERE_PLACES]
    text = ', '.join(c(p) for p in shown)
    more_files = len(files) - len({p.rpartition(':')[0] or p for p in shown})
    more_places = len(locations) - len(shown)
    if more_files > 0:
        text += f' and {more_files:,} more file{"s" * (more_files != 1)}'
    elif more_places > 0:
        text += f' and {more_places:,} more place{"s" * (more_places != 1)}'
    return text


def _held(held: list[str]) -> list[str]:
    """Moves held back (a platform pin whose platform did not move, --platform, --min-age)."""
    if not held:
        return []
    lines = ['', '### Held back', ''] + [f'- {markdown_text(line, 400)}' for line in held[:MAX_HELD]]
    if len(held) > MAX_HELD:
        lines.append(f'- … and {len(held) - MAX_HELD:,} more held back')
    return lines


class _Budget:
    """Blocks of lines taken while they fit under :data:`MAX_REPORT`; what did not fit is counted."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.dropped: dict[str, int] = {}

    def take(self, lines: list[str], what: str) -> bool:
        size = sum(len(line) + 1 for line in lines)
        if size > self.left:
            self.dropped[what] = self.dropped.get(what, 0) + 1
            return False
        self.left -= size
        return True


_LEFT_OUT = {  # what: (one, many)
    'row': ('table row', 'table rows'),
    'vulnerabilities': ('image\'s vulnerabilities', 'images\' vulnerabilities'),
    'packages': ('image\'s package changes', 'images\' package changes'),
    'source': ('image\'s source', 'images\' sources'),
    'attestations': ('image\'s attestation note', 'images\' attestation notes'),
    'image': ('image\'s details', 'images\' details'),
    'held': ('held-back list', 'held-back lists'),
}


def _left_out(dropped: dict[str, int]) -> list[str]:
    if not dropped:
        return []
    parts = [f'{n:,} {_LEFT_OUT[what][n != 1]}' for what, n in dropped.items()]
    return ['', f'_Left out to keep this report under {MAX_REPORT:,} characters (a pull-request body holds '
                f'65,536): {", ".join(parts)}._']


def markdown(moves: list[Move], platform: str, held: list[str] | None = None, check: bool = False) -> str:
    """A report usable verbatim as a pull-request body, under :data:`MAX_REPORT` characters.

    What matters most is taken first: the table, then each image's digest and facts, then its
    vulnerabilities, then its packages and source. Each list is capped; a block that does not fit
    is left out, and the report ends by saying what was.
    """
    held = held or []
    budget = _Budget(MAX_REPORT - _NOTE_ROOM)
    if not moves:
        lines = ['No base image tag moved.']
        block = _held(held)
        return '\n'.join(lines + (block if budget.take(block, 'held') else []) + _left_out(budget.dropped)) + '\n'
    verb = 'would re-pin' if check else 're-pinned'
    head = [
        '## Base image updates',
        '',
        f'pin-from {verb} {len(moves)} moved tag{"s" * (len(moves) != 1)}. Details compare {c(platform)}.',
    ]
    if any(m.explained is not None and m.explained.vulns is None for m in moves):
        from pin_from.explain.markdown import NOT_CONFIGURED
        head.append(f'Vulnerabilities: {NOT_CONFIGURED}.')
    head += ['', '| image | old digest | new digest | where |', '|---|---|---|---|']
    budget.take(head, 'head')
    rows = [[f'| {c(str(m.ref))} | {c(_short(m.old))} | {c(_short(m.new))} | {_where(m.locations)} |'] for m in moves]
    rows = [row if budget.take(row, 'row') else [] for row in rows]
    parts = [_parts(m) for m in moves]
    taken: list[dict[str, list[str]]] = [
        {'head': found['head']} if budget.take(found['head'], 'image') else {} for found in parts
    ]
    for tier in (('vulnerabilities', 'attestations'), ('packages', 'source')):
        for found, kept in zip(parts, taken):
            for what in tier:
                if kept and what in found and budget.take(found[what], what):
                    kept[what] = found[what]
    lines = head + [line for row in rows for line in row]
    for found in taken:
        for what in ('head', 'attestations', 'vulnerabilities', 'packages', 'source'):
            lines += found.get(what, [])
    block = _held(held)
    lines += block if budget.take(block, 'held') else []
    return '\n'.join(lines + _left_out(budget.dropped)) + '\n'


def _parts(m: Move) -> dict[str, list[str]]:
    """One image's blocks of lines: its heading and facts, and the sections explaining it."""
    head = ['', f'### {c(str(m.ref))}', '', f'- Digest: {c(m.old)} → {c(m.new)}']
    head += [f'- {d}' for d in m.details]
    ret = {'head': head}
    library = [_source_text(m.source)] if m.source is not None else []
    if m.explained is None:
        head += [f'- Source: {line}' for line in library]
        return ret
    from pin_from.explain.markdown import sections
    found = sections(*m.explained, library=library)
    if found[0][0] == 'attestations':  # no Source section: the entry stays a bullet
        head += [f'- Source: {line}' for line in library]
    for what, block in found:
        ret[what] = [''] + block
    return ret


_SPAN_RE = None


def plain(line: str) -> str:
    """A Markdown line of code spans as plain text for a terminal (the fences dropped)."""
    global _SPAN_RE
    if '`' not in line:
        return line
    if _SPAN_RE is None:
        import re
        _SPAN_RE = re.compile(r'(?<!`)(`+)(?!`) ?(.*?) ?(?<!`)\1(?!`)')
    return _SPAN_RE.sub(lambda m: m.group(2), line)


def summary(moves: list[Move]) -> list[str]:
    """A few plain-text lines for stdout when no --report is asked for."""
    out = []
    unconfigured = False
    for m in moves:
        places = f'{len(m.locations)} place{"s" * (len(m.locations) != 1)}'
        out.append(f'{m.ref}: {_short(m.old)} -> {_short(m.new)} ({places})')
        out += [f'    {plain(d)}' for d in m.details]
        if m.explained is not None:
            from pin_from.explain.markdown import summary as explained
            out.append(f'    {plain(explained(m.explained))}')
            unconfigured |= m.explained.vulns is None
    if unconfigured:
        out.append('vulnerabilities: OSV not configured (--osv)')
    return out
