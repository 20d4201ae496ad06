"""Keeping up: which pinned tags moved, which moves to make, and the report's facts.

Runs only on ``--update``, only for references whose tag now names another
digest. The digests come from answers fetched in this run (never from the
cache); what changed is read from the registry by digest (cached forever).
A move is held back when:

- ``--platform`` is given and none of those platforms' manifests changed;
- the pin is a *platform pin* (a digest of one platform's manifest, not of the
  tag's index: an image manifest the tag was never seen to name, while the tag
  now names an index) and that platform did not move; when it did, the pin
  moves to that platform's new manifest and stays a platform pin;
- ``--min-age`` is given and the new image is younger. Its age comes from the
  best evidence at hand: the index's ``org.opencontainers.image.created``
  annotation, the compared platform's config ``created``, or when pin-from first
  saw the new digest. A ``created`` older than pin-from's first sighting of the
  digest being replaced cannot be when the new image appeared (a reproducible
  build's source date): it counts as unknown, and the next evidence is used.
  When pin-from never saw the digest being replaced (a fresh CI cache, pins
  made by plain runs), no ``created`` is believed: the move is held until
  pin-from has seen the new digest (recorded now) for the full age, and the
  note says so. A ``created`` that is not a valid time is unknown too.
"""
from __future__ import annotations

import re
from typing import Callable
from typing import Iterable
from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from.explain import report
from pin_from.registry.changes import DEFAULT_PLATFORM
from pin_from.registry.changes import Facts
from pin_from.registry.changes import Inspector
from pin_from.files.edit import Hold
from pin_from.files.edit import Moves
from pin_from.files.edit import Outcome
from pin_from.files.edit import Pin
from pin_from.errors import LibraryError
from pin_from.errors import PinFromError
from pin_from.files.load import Loaded
from pin_from.registry.manifest import Platform
from pin_from.reference import Reference

if TYPE_CHECKING:
    from pin_from.explain.attested import Explainer
    from pin_from.support.library import Library
    from pin_from.support.libraries import Libraries

_GITHUB_RE = re.compile(r'(?:https://|git://|git@)github\.com[/:]([\w.-]+/[\w.-]+?)(?:\.git)?/?$')


class Pinned(NamedTuple):
    """A pinned reference whose tag now names another digest."""

    ref: Reference  # tag only
    old: str
    new: str
    where: str  # FILE:LINE


class Updates(NamedTuple):
    """What --update decided: the moves to make (with the report's facts), and the pins it holds."""

    moves: list[report.Move]
    decided: Moves  # holds, platform-pin targets and unreadable new images, as values
    aged: dict[Pin, str] = {}  # with --min-age: why each move made is old enough (for -v)

    @property
    def held(self) -> list[str]:
        """One note per held pin, for -v and the report."""
        return [f'{pin.tag}@{pin.digest}: {hold.text}; kept' for pin, hold in self.decided.holds.items()]

    @property
    def evidence(self) -> list[str]:
        """One line per move that --min-age let through: its age and the evidence for it (-v)."""
        return [f'{pin.tag}@{pin.digest}: {text}' for pin, text in self.aged.items()]


_TIME_RE = re.compile(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)')


def parse_time(text: str | None) -> float | None:
    """An RFC 3339 time (``2026-11-30T10:00:00.123456789Z``) as a POSIX time;
    None if it is not one (``2024-13-01``, ``2024-02-30``, year 0000, ``+99:99``:
    an image's ``created`` is input)."""
    import datetime
    m = _TIME_RE.fullmatch(text or '')
    if m is None:
        return None
    try:
        zone = datetime.timezone.utc if m.group(2) == 'Z' else datetime.datetime.strptime(m.group(2), '%z').tzinfo
        moment = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S').replace(tzinfo=zone)
        return moment.timestamp()
    except (ValueError, OverflowError):
        return None


def duration(text: str) -> float:
    """``--min-age``: ``12h``, ``1d``, ``2w`` in seconds (ValueError otherwise)."""
    m = re.fullmatch(r'(\d{1,5})([hdw])', text.strip())
    if m is None:
        raise ValueError(f'{text!r}: expected a whole number and a unit: h, d or w (e.g. 1d)')
    return int(m.group(1)) * {'h': 3600, 'd': 86400, 'w': 604800}[m.group(2)]


def _span(seconds: float) -> str:
    hours = max(0.0, seconds) / 3600
    return f'{hours:.0f} h' if hours < 48 else f'{hours / 24:.1f} d'


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


class Settle(NamedTuple):
    """--min-age: the age a new image must have, as of ``now``."""

    min_age: float
    now: float


def _never_seen(ref: Reference, digest: str) -> float | None:
    return None


class Updater:
    def __init__(
            self, inspector: Inspector, platforms: list[Platform],
            libraries: Libraries | None,
            explainer: Explainer | None = None, settle: Settle | None = None,
            first_seen: Callable[[Reference, str], float | None] = _never_seen,
    ) -> None:
        self.first_seen = first_seen  # when a tag was first seen to name a digest
        self.inspector = inspector
        self.platforms = platforms
        self.shown = platforms[0] if platforms else DEFAULT_PLATFORM
        self.libraries = libraries  # for the official-images entry behind a moved official tag
        self.explainer = explainer
        self.settle = settle

    def run(self, rows: list[Pinned]) -> Updates:
        moves: list[report.Move] = []
        holds: dict[Pin, Hold] = {}
        targets: dict[Pin, str] = {}
        errors: dict[Pin, PinFromError] = {}
        aged: dict[Pin, str] = {}
        for ref, old, new, where in group(rows):
            hold = self._held(ref, old, new, targets)
            if isinstance(hold, str):
                aged[Pin(ref, old)] = hold
            elif hold is not None:
                holds[Pin(ref, old)] = hold
                continue
            target = targets.get(Pin(ref, old), new)
            shown = self._platform_of(ref, old) if target != new else self.shown
            try:
                new_facts = self.inspector.facts(ref, target, shown or self.shown)
            except PinFromError as e:  # the new image is unreadable: never pin to it
                errors[Pin(ref, new)] = e
                continue
            details = tuple(report.describe(self._old_facts(ref, old, shown or self.shown), new_facts, str(shown or self.shown)))
            moves.append(report.Move(ref, old, target, where, details, self._source(ref)))
        return Updates(self._explained(moves), Moves(holds, targets, errors), aged)

    def _held(self, ref: Reference, old: str, new: str, targets: dict[Pin, str]) -> Hold | str | None:
        """Why this move waits (None, or with --min-age the age evidence: make it); a platform
        pin's target is recorded."""
        platform = self._platform_of(ref, old)
        if platform is not None:
            target = self._platform_target(ref, new, platform)
            if target == old:
                return Hold('platform-pin-kept',
                            f'a platform pin ({platform}); {ref} moved, but not its {platform} manifest')
            if target is not None:
                targets[Pin(ref, old)] = target
        elif self.platforms and not self._platform_changed(ref, old, new):
            return Hold('held-by-platforms', f'moved to {new}, but not for {", ".join(map(str, self.platforms))}')
        return self._too_young(ref, old, new)

    def _source(self, ref: Reference) -> report.Source | LibraryError | None:
        """The official-images entry that builds a moved official tag, for the report."""
        if not ref.is_official or self.libraries is None:
            return None
        try:
            lib = self.libraries.get(ref.official_name)
        except PinFromError as e:
            return LibraryError(f'the official-images library could not be read ({e})')
        return None if lib is None else library_source(lib, ref.effective_tag)

    def _platform_of(self, ref: Reference, old: str) -> Platform | None:
        """The platform of a platform pin: ``old`` is one image manifest, not an index,
        and the tag was never seen to name it (a tag that was single-platform then)."""
        from pin_from.registry.manifest import Image
        if self.first_seen(ref, old) is not None:
            return None
        try:
            manifest = self.inspector.manifest(ref, old)
            if not isinstance(manifest, Image):
                return None
            return self.inspector.config(ref, manifest.config.digest).platform
        except PinFromError:
            return None  # the old image is gone: nothing says it was a platform pin

    def _platform_target(self, ref: Reference, new: str, platform: Platform) -> str | None:
        from pin_from.registry.manifest import Index
        try:
            if not isinstance(self.inspector.manifest(ref, new), Index):
                return None  # the tag is one image now: pin it as it is
            return self.inspector.platform_digest(ref, new, platform)
        except PinFromError:
            return None

    def _too_young(self, ref: Reference, old: str, new: str) -> Hold | str | None:
        """A hold, or (old enough) the evidence of its age; None without --min-age."""
        if self.settle is None:
            return None
        age, evidence = self._age(ref, old, new)
        if age >= self.settle.min_age:
            return (f'moved to {new} {_span(age)} ago (by {evidence}); old enough for --min-age '
                    f'{_span(self.settle.min_age)}')
        return Hold('held-by-min-age', (
            f'moved to {new} {_span(age)} ago (by {evidence}); held by --min-age '
            f'for {_span(self.settle.min_age - age)} more'
        ))

    def _age(self, ref: Reference, old: str, new: str) -> tuple[float, str]:
        """Seconds since the new image appeared, and the evidence used."""
        assert self.settle is not None
        replaced_seen = self.first_seen(ref, old)
        # a created date is evidence only against a sighting of the image it replaces: without
        # one (a fresh CI cache, pins made by plain runs) it may be a source date, however old
        for evidence, created in self._created(ref, new) if replaced_seen is not None else ():
            when = parse_time(created)
            if when is None or when > self.settle.now or when < (replaced_seen or 0.0):
                continue  # older than the image it replaces: a source date, not a build date
            return self.settle.now - when, evidence
        seen = self.first_seen(ref, new)
        age = self.settle.now - (self.settle.now if seen is None else seen)
        if replaced_seen is None:
            return age, ('when pin-from first saw it; it never saw the pinned image, '
                         'so no created date can tell when this one appeared')
        return age, 'when pin-from first saw it'

    def _created(self, ref: Reference, digest: str) -> list[tuple[str, str | None]]:
        from pin_from.registry.manifest import Index
        ret: list[tuple[str, str | None]] = []
        try:
            top = self.inspector.manifest(ref, digest)
            if isinstance(top, Index):
                ret.append(('its index annotation', dict(top.annotations).get('org.opencontainers.image.created')))
            ret.append((f'its {self.shown} config', self.inspector.facts(ref, digest, self.shown).created))
        except PinFromError:
            pass
        return ret

    def _explained(self, moves: list[report.Move]) -> list[report.Move]:
        """Each move with what its attestations (and OSV) tell, for ``self.shown``."""
        if self.explainer is None or not moves:
            return moves
        from pin_from.explain.attested import Moved
        found = self.explainer.explain([Moved(m.ref, m.old, m.new) for m in moves], self.shown)
        return [m._replace(explained=e) for m, e in zip(moves, found)]

    def _old_facts(self, ref: Reference, old: str, platform: Platform) -> Facts | None:
        try:
            return self.inspector.facts(ref, old, platform)
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
