"""The pure core: a file's text, its scan and the answers -> the new text and its changes.

No I/O. Every rewrite rule lives here and is tested by tables without a
registry. Only the recorded span of each reference changes; everything else
stays, byte for byte.
"""
from __future__ import annotations

from typing import Iterable
from typing import Mapping
from typing import Literal
from typing import NamedTuple
from typing import Optional
from typing import Sequence
from typing import Union

from pin_from.errors import PinFromError
from pin_from.reference import Reference
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

Outcome = Union[str, PinFromError]  # a digest, or why there is none

# What a run did (or, with --check, would do) with a site: the status of --format json.
Status = Literal['pinned', 'would-pin', 're-pinned', 'would-re-pin', 'unchanged', 'skipped', 'error']
# Why: a closed set, one per rule of decide().
Why = Literal[
    'pinned',  # a tag pinned to its digest
    're-pinned',  # --update: a pinned tag moved, re-pinned
    'unchanged',  # the pin is what the tag names
    'held-by-platforms',  # --update: moved, but none of the --platform platforms changed
    'held-by-min-age',  # --update: the new image is younger than --min-age
    'platform-pin-kept',  # --update: a platform pin whose platform did not move
    'digest-only',  # skipped: no tag to track
    'already-pinned',  # skipped: a plain run leaves pins alone
    'scanner',  # skipped by the scanner: a stage name, scratch, an ignore comment, an arg...
    'file-failed',  # skipped: another reference of the file failed, the file stays untouched
    'error',  # no digest: the lookup failed, or the new image cannot be read
]
HOLDS: tuple[Why, ...] = ('held-by-platforms', 'held-by-min-age', 'platform-pin-kept')


class Pin(NamedTuple):
    """A tag and one digest it names (or named)."""

    tag: Reference  # tag only
    digest: str


class Hold(NamedTuple):
    """Why --update leaves a moved tag's pin as it is."""

    why: Why  # one of HOLDS
    text: str


class Moves(NamedTuple):
    """What --update decided, as values: nothing edits the answers afterwards."""

    holds: Mapping[Pin, Hold]  # (tag, old digest): moved, but held back
    targets: Mapping[Pin, str]  # (tag, old digest) -> a platform pin's new manifest
    errors: Mapping[Pin, PinFromError]  # (tag, new digest): the new image is unreadable, never pinned


NO_MOVES = Moves({}, {}, {})


class Decision(NamedTuple):
    """What happens to one site (or a skip the scanner made): the one decision every renderer formats."""

    at: Union[Site, Skip]
    status: Status
    why: Why
    old: Optional[str]  # the digest before (None: unpinned)
    new: Optional[str]  # the digest after (None: skipped or failed)
    reason: Optional[str] = None  # the reason in words, where there is more to say than ``why``

    @property
    def changes(self) -> bool:
        return self.status in ('pinned', 'would-pin', 're-pinned', 'would-re-pin')


class Change(NamedTuple):
    line: int
    old: str
    new: str
    repin: bool  # the reference was pinned already; its tag moved


class Edit(NamedTuple):
    text: str  # the new text; the old one when there are failures
    changes: tuple[Change, ...]
    failures: tuple[Problem, ...]  # references that could not be pinned
    skipped: tuple[Skip, ...]  # pinned references a plain run leaves alone
    decisions: tuple[Decision, ...] = ()  # every site's, in scan order (the scanner's skips first)


def wanted(site: Site, update: bool) -> bool:
    """Whether a run looks this reference up: unpinned ones always; with
    ``--update``, pinned ones that carry a tag."""
    if site.ref.digest is None:
        return True
    return update and site.ref.tag is not None


def skip_reason(site: Site) -> str:
    if site.ref.tag is None:
        return 'digest-only reference; no tag to track'
    return 'already pinned (pin-from --update re-pins moved tags)'


def pinned_text(site: Site, digest: str) -> str:
    """The token as written, plus ``@digest`` (``:latest`` added if untagged)."""
    base = site.text.rpartition('@')[0] if site.ref.digest else site.text
    if site.ref.tag is None:
        base += ':latest'
    return f'{base}@{digest}'


def replacement(site: Site, digest: str) -> str:
    """What the site's span becomes: the pinned reference, or for a reference
    written in parts, the part its ``form`` names."""
    if not site.form:
        return pinned_text(site, digest)
    return site.form.format(tag=site.ref.tag or '', digest=digest)


def splice(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Replace each ``text[start:end]`` with its new value; other characters stay."""
    out = []
    pos = 0
    for start, end, new in sorted(edits):
        if start < pos:
            raise AssertionError('overlapping edits')
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return ''.join(out)


def _decide(site: Site, answers: Mapping[Reference, Outcome], update: bool, moves: Moves, check: bool) -> Decision:
    old = site.ref.digest
    if not wanted(site, update):
        return Decision(site, 'skipped', 'already-pinned' if site.ref.tag else 'digest-only', old, None,
                        skip_reason(site))
    outcome = answers[site.ref]
    tag = site.ref.tag_only()
    if isinstance(outcome, str):
        error = moves.errors.get(Pin(tag, outcome))
        outcome = error if error is not None else moves.targets.get(Pin(tag, old or ''), outcome)
    if isinstance(outcome, PinFromError):
        return Decision(site, 'error', 'error', old, None, str(outcome))
    if outcome == old:
        return Decision(site, 'unchanged', 'unchanged', old, old)
    hold = moves.holds.get(Pin(tag, old or ''))
    if hold is not None:
        return Decision(site, 'unchanged', hold.why, old, old, hold.text)
    if old is None:
        return Decision(site, 'would-pin' if check else 'pinned', 'pinned', old, outcome)
    return Decision(site, 'would-re-pin' if check else 're-pinned', 're-pinned', old, outcome)


def decide(
        scan: Scan, answers: Mapping[Reference, Outcome], update: bool = False, moves: Moves = NO_MOVES,
        check: bool = False,
) -> list[Decision]:
    """The status and reason of every site and skip of one file: the one place they are decided.
    One failure leaves the whole file untouched, so its other changes become skips."""
    sites = [_decide(site, answers, update, moves, check) for site in scan.sites]
    if any(d.status == 'error' for d in sites):
        sites = [
            d._replace(status='skipped', why='file-failed', new=None,
                       reason='the file is left untouched: another reference in it failed')
            if d.changes else d
            for d in sites
        ]
    return [Decision(skip, 'skipped', 'scanner', None, None, skip.reason) for skip in scan.skips] + sites


def plan(
        text: str, scan: Scan, answers: Mapping[Reference, Outcome], update: bool = False,
        moves: Moves = NO_MOVES, check: bool = False,
) -> Edit:
    """What a run does to one file: its decisions, and the new text they make."""
    return apply(text, decide(scan, answers, update, moves, check))


def apply(text: str, decisions: Sequence[Decision]) -> Edit:
    """The new text of a file from its decisions (the old one when any failed)."""
    edits, changes, failures, skipped = [], [], [], []
    for d in decisions:
        if not isinstance(d.at, Site):
            continue  # the scanner's skips: shown by the loader
        site = d.at
        if d.status == 'error':
            failures.append(Problem(site.line, site.text, d.reason or ''))
        elif d.why in ('digest-only', 'already-pinned'):
            skipped.append(Skip(site.line, site.text, d.reason or ''))
        elif d.changes and d.new is not None:
            new = pinned_text(site, d.new)
            edits.append((site.start, site.end, replacement(site, d.new)))
            changes.append(Change(site.line, site.text, new, site.ref.digest is not None))
    if failures:
        return Edit(text, (), tuple(failures), tuple(skipped), tuple(decisions))
    return Edit(splice(text, edits), tuple(changes), (), tuple(skipped), tuple(decisions))
