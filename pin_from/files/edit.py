"""The pure core: a file's text, its scan and the answers -> the new text and its changes.

No I/O. Every rewrite rule lives here and is tested by tables without a
registry. Only the recorded span of each reference changes; everything else
stays, byte for byte.
"""
from __future__ import annotations

from typing import AbstractSet
from typing import Iterable
from typing import Mapping
from typing import NamedTuple
from typing import Union

from pin_from.errors import PinFromError
from pin_from.reference import Reference
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site

Outcome = Union[str, PinFromError]  # a digest, or why there is none


class Change(NamedTuple):
    line: int
    old: str
    new: str
    repin: bool  # the reference was pinned already; its tag moved


class Failure(NamedTuple):
    line: int
    text: str
    reason: str


class Skipped(NamedTuple):
    line: int
    text: str
    reason: str


class Edit(NamedTuple):
    text: str  # the new text; the old one when there are failures
    changes: tuple[Change, ...]
    failures: tuple[Failure, ...]
    skipped: tuple[Skipped, ...]  # pinned references a plain run leaves alone


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


def plan(
        text: str, scan: Scan, answers: Mapping[Reference, Outcome], update: bool = False,
        keep: AbstractSet[tuple[Reference, str]] = frozenset(),
) -> Edit:
    """What a run does to one file. ``keep`` holds (tag, digest) pairs that
    must stay as they are (a move vetoed by ``--platform``)."""
    edits, changes, failures, skipped = [], [], [], []
    for site in scan.sites:
        if not wanted(site, update):
            skipped.append(Skipped(site.line, site.text, skip_reason(site)))
            continue
        outcome = answers[site.ref]
        if isinstance(outcome, PinFromError):
            failures.append(Failure(site.line, site.text, str(outcome)))
        elif outcome != site.ref.digest and (site.ref.tag_only(), site.ref.digest or '') not in keep:
            new = pinned_text(site, outcome)
            edits.append((site.start, site.end, new))
            changes.append(Change(site.line, site.text, new, site.ref.digest is not None))
    if failures:
        return Edit(text, (), tuple(failures), tuple(skipped))
    return Edit(splice(text, edits), tuple(changes), (), tuple(skipped))
