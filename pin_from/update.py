"""Keeping up: which pinned tags moved, the --platform noise filter, and the report's facts.

Runs only on ``--update``, only for references whose tag now names another
digest. The digests come from answers fetched in this run (never from the
cache); what changed is read from the registry by digest (cached forever).
"""
from __future__ import annotations

import re
from typing import Callable
from typing import Iterable
from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from import report
from pin_from.changes import DEFAULT_PLATFORM
from pin_from.changes import Facts
from pin_from.changes import Inspector
from pin_from.edit import Outcome
from pin_from.errors import PinFromError
from pin_from.files import Loaded
from pin_from.manifest import Platform
from pin_from.reference import Reference

if TYPE_CHECKING:
    from pin_from.attested import Explainer
    from pin_from.library import Library

_GITHUB_RE = re.compile(r'(?:https://|git://|git@)github\.com[/:]([\w.-]+/[\w.-]+?)(?:\.git)?/?$')


class Pinned(NamedTuple):
    """A pinned reference whose tag now names another digest."""

    ref: Reference  # tag only
    old: str
    new: str
    where: str  # FILE:LINE


class Result(NamedTuple):
    moves: list[report.Move]
    keep: frozenset[tuple[Reference, str]]  # (tag, old digest): moved, but not for --platform
    errors: dict[tuple[Reference, str], PinFromError]  # (tag, new digest): unreadable new image
    held: list[str]  # notes for -v


def moved(files: Iterable[Loaded], answers: dict[Reference, Outcome]) -> list[Pinned]:
    return [
        Pinned(s.ref.tag_only(), s.ref.digest, answer, f'{f.path}:{s.line}')
        for f in files for s in f.scan.sites
        if s.ref.digest and s.ref.tag is not None
        and isinstance(answer := answers.get(s.ref), str) and answer != s.ref.digest
    ]


def group(rows: Iterable[Pinned]) -> list[tuple[Reference, str, str, tuple[str, ...]]]:
    """One row per distinct move, with every place that pins it."""
    found: dict[tuple[Reference, str, str], list[str]] = {}
    for row in rows:
        found.setdefault((row.ref, row.old, row.new), []).append(row.where)
    return [(r, o, n, tuple(w)) for (r, o, n), w in sorted(found.items())]


def library_source(lib: Library, tag: str) -> report.Source | None:
    """The official-images entry that builds ``tag`` today."""
    entry = lib.entry_for(tag)
    if entry is None:
        return None
    m = _GITHUB_RE.match(entry.git_repo)
    return report.Source(
        f'library/{lib.name}', entry.git_repo, entry.git_commit, entry.directory,
        m.group(1) if m else None,
    )


class Updater:
    def __init__(
            self, inspector: Inspector, platforms: list[Platform],
            source: Callable[[Reference], report.Source | str | None],
            explainer: Explainer | None = None,
    ) -> None:
        self.inspector = inspector
        self.platforms = platforms
        self.shown = platforms[0] if platforms else DEFAULT_PLATFORM
        self.source = source
        self.explainer = explainer

    def run(self, rows: list[Pinned]) -> Result:
        moves, keep, errors, held = [], set(), {}, []
        for ref, old, new, where in group(rows):
            try:
                new_facts = self.inspector.facts(ref, new, self.shown)
            except PinFromError as e:  # the new image is unreadable: never pin to it
                errors[(ref, new)] = e
                continue
            if self.platforms and not self._platform_changed(ref, old, new):
                keep.add((ref, old))
                held.append(f'{ref}: moved to {new}, but not for {", ".join(map(str, self.platforms))}; kept')
                continue
            details = tuple(report.describe(self._old_facts(ref, old), new_facts, str(self.shown)))
            moves.append(report.Move(ref, old, new, where, details, self.source(ref)))
        return Result(self._explained(moves), frozenset(keep), errors, held)

    def _explained(self, moves: list[report.Move]) -> list[report.Move]:
        """Each move with what its attestations (and OSV) tell, for ``self.shown``."""
        if self.explainer is None or not moves:
            return moves
        from pin_from.attested import Moved
        found = self.explainer.explain([Moved(m.ref, m.old, m.new) for m in moves], self.shown)
        return [m._replace(explained=e) for m, e in zip(moves, found)]

    def _old_facts(self, ref: Reference, old: str) -> Facts | None:
        try:
            return self.inspector.facts(ref, old, self.shown)
        except PinFromError:
            return None

    def _platform_changed(self, ref: Reference, old: str, new: str) -> bool:
        """Whether any wanted platform's manifest differs (unknown counts as changed)."""
        try:
            return any(
                self.inspector.platform_digest(ref, old, p) != self.inspector.platform_digest(ref, new, p)
                for p in self.platforms
            )
        except PinFromError:
            return True
