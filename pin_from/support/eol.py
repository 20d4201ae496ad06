"""End-of-life verdicts: which release cycles a tag names, and how long they live.

Pure functions over :mod:`pin_from.support.endoflife` data, a tag and a date ("today",
a parameter, so that tests fix it):

- **the image's own cycle**, through the product whose ``pkg:docker/library/<image>``
  purl names the image (operating systems by their name or alias: ``debian``,
  ``ubuntu``, ``alpine``): the tag's version prefix against the product's cycle
  names, longest first and whole components only (``3.10.4`` is 3.10, never
  3.1; ``3`` names no Python cycle), or, for an operating system, a codename
  (``bookworm``, ``jammy``);
- **the base system's cycle**, from the rest of the tag: a component that is
  the first word of an operating system's codename (``bookworm``, ``jammy``)
  or one of its names followed by a cycle (``alpine3.20``). Only operating
  systems that are official images count (``stable``, Slackware's codename,
  is not a base system), and a word that two of them claim names none.
- tags with no cycle (``latest``, ``lts``, ``slim``, ``python:3``) get no
  verdict, with a reason for ``-v``.

A cycle has ended when its end-of-life date is today or earlier (or the data
says it has ended without a date); it ends soon when the date falls within the
warning window. Every verdict carries a suggestion: a listed tag of the same
shape (version components, variant) whose cycles are released and do not end
within the window, newest first, keeping what is still fine.
"""
from __future__ import annotations

import datetime
import re
from typing import Callable
from typing import Iterable
from typing import NamedTuple
from typing import Sequence

from pin_from.support.endoflife import Cycle
from pin_from.support.endoflife import Data
from pin_from.support.endoflife import Product

ENDED, ENDING, SUPPORTED = 'end-of-life', 'near-end-of-life', 'supported'
IMAGE, BASE = 'image', 'base'
_VERSION_RE = re.compile(r'v?(\d+(?:\.\d+)*)(?:[a-z]+\d*)?', re.ASCII)
_WORD_RE = re.compile(r'[a-z][a-z0-9]*', re.ASCII)
_DATE_STAMP_RE = re.compile(r'(?<![0-9])(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])')


class Window(NamedTuple):
    """When a cycle's end is worth a word: ``warn`` ahead, failing ``fail`` ahead."""

    warn: datetime.timedelta
    fail: datetime.timedelta | None = None

    @property
    def horizon(self) -> datetime.timedelta:
        return max(self.warn, self.fail) if self.fail is not None else self.warn


class Verdict(NamedTuple):
    subject: str  # IMAGE or BASE
    cycle: Cycle
    status: str  # ENDED, ENDING or SUPPORTED
    fails: bool  # the run fails for it
    suggestion: str | None  # ``image:tag`` to move to, when one is listed


class Judgement(NamedTuple):
    verdicts: tuple[Verdict, ...]
    why_none: str | None  # with no image verdict: why (said with -v)


class _Parsed(NamedTuple):
    version: str | None  # the version prefix, digits and dots: 3.12.4
    rest: tuple[str, ...]  # the components after it (all of them without one)
    own: Cycle | None
    own_at: int | None  # the component of ``rest`` that named ``own`` (None: the version did)
    base: Cycle | None
    base_at: int | None


class Index:
    """What the data says, indexed once per run."""

    def __init__(self, data: Data, official: Callable[[str], bool]) -> None:
        self.data = data
        self.by_image = data.by_image()
        self._official = official
        self._official_products: dict[str, bool] = {}
        self._base_words: dict[str, list[tuple[Product, Cycle]]] = {}
        self._parsed: dict[tuple[str, str], _Parsed] = {}  # (product, tag): each listed tag is parsed once
        for product in data.products:
            if product.is_os:
                for word, cycle in _words(product):
                    self._base_words.setdefault(word, []).append((product, cycle))

    def is_official(self, product: Product) -> bool:
        """An OS product counts as a base system when it is an official image."""
        if product.images:
            return True
        if product.name not in self._official_products:
            self._official_products[product.name] = any(self._official(n) for n in product.names)
        return self._official_products[product.name]

    def base(self, word: str) -> Cycle | None:
        """The base system ``word`` names, when exactly one official OS claims it."""
        claims = {(p.name, c.name): c for p, c in self._base_words.get(word, ()) if self.is_official(p)}
        return next(iter(claims.values())) if len(claims) == 1 else None

    def base_candidates(self, tags: Iterable[str]) -> set[str]:
        """Image names to look up in the library before judging ``tags``: the names of the operating
        systems (without a docker purl) that a component of them may name, so :meth:`is_official` can answer."""
        names: set[str] = set()
        for tag in tags:
            for part in tag.split('-'):
                for product, _ in self._base_words.get(part, ()):
                    if not product.images:
                        names.update(product.names)
        return names


def _words(product: Product) -> Iterable[tuple[str, Cycle]]:
    """Tag components naming a cycle of an OS: codenames' first words, ``<name><cycle>``."""
    for cycle in product.cycles:
        if cycle.codename:
            word = cycle.codename.split()[0].lower()
            if _WORD_RE.fullmatch(word):
                yield word, cycle
        for name in product.names:
            yield f'{name}{cycle.name}'.lower(), cycle


def _cycle_for_version(product: Product, version: str) -> Cycle | None:
    """The longest cycle name that is ``version`` or a whole-component prefix of it."""
    best: Cycle | None = None
    for cycle in product.cycles:
        name = cycle.name.lower().lstrip('v')
        if (version == name or version.startswith(name + '.')) and (best is None or len(name) > len(best.name)):
            best = cycle
    return best


def _cycle_for_codename(product: Product, word: str) -> Cycle | None:
    found = [c for c in product.cycles if c.codename and c.codename.split()[0].lower() == word]
    return found[0] if len(found) == 1 else None


def _parse(index: Index, product: Product | None, tag: str) -> _Parsed:
    key = ('' if product is None else product.name, tag)
    found = index._parsed.get(key)
    if found is None:
        found = index._parsed[key] = _parse_tag(index, product, tag)
    return found


def _parse_tag(index: Index, product: Product | None, tag: str) -> _Parsed:
    parts = tag.split('-')
    match = _VERSION_RE.fullmatch(parts[0])
    version = match.group(1) if match else None
    rest = tuple(parts[1:] if match else parts)
    own = own_at = None
    if product is not None:
        if version is not None:
            own = _cycle_for_version(product, version)
        elif rest:
            own = _cycle_for_codename(product, rest[0])
            own_at = 0 if own is not None else None
    base = base_at = None
    if product is None or not product.is_os:
        found = [(i, c) for i, part in enumerate(rest) if i != own_at and (c := index.base(part)) is not None]
        if len(found) == 1:
            base_at, base = found[0]
    return _Parsed(version, rest, own, own_at, base, base_at)


def _shape(parsed: _Parsed) -> tuple[object, ...]:
    """What a suggestion must share with the tag: version components, the variant."""
    rest = tuple('*' if i in (parsed.own_at, parsed.base_at) else p for i, p in enumerate(parsed.rest))
    components = None if parsed.version is None else len(parsed.version.split('.'))
    base = None if parsed.base is None else parsed.base.product
    return components, rest, parsed.own_at, parsed.base_at, base, parsed.own is not None


def _status(cycle: Cycle, today: datetime.date, window: Window) -> tuple[str, bool]:
    """The cycle's status today, and whether it fails the run."""
    if cycle.eol is None:
        return (ENDED, True) if cycle.ended else (SUPPORTED, False)
    if cycle.eol <= today:
        return ENDED, True
    left = cycle.eol - today
    if left <= window.horizon:
        return ENDING, window.fail is not None and left <= window.fail
    return SUPPORTED, False


def _fine(cycle: Cycle | None, today: datetime.date, window: Window) -> bool:
    """A cycle worth moving to: released, and not ending within the window."""
    if cycle is None:
        return True
    if cycle.released is not None and cycle.released > today:
        return False
    return _status(cycle, today, window)[0] == SUPPORTED


def _key(version: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split('.')) if version else ()


def _cycle_key(cycle: Cycle | None) -> tuple[datetime.date, tuple[int, ...]]:
    """Newer cycles sort later: by release date, then by the numbers of their name."""
    if cycle is None:
        return datetime.date.min, ()
    return cycle.released or datetime.date.min, tuple(int(p) for p in re.findall(r'\d+', cycle.name)[:8])


def _suggest(
        index: Index, product: Product | None, image: str, tag: str, parsed: _Parsed,
        listed: Sequence[str], today: datetime.date, window: Window,
) -> str | None:
    shape = _shape(parsed)
    stamped = _DATE_STAMP_RE.search(tag) is not None
    found = []
    for candidate in listed:
        if candidate == tag or (not stamped and _DATE_STAMP_RE.search(candidate)):
            continue
        other = _parse(index, product, candidate)
        if _shape(other) == shape and _fine(other.own, today, window) and _fine(other.base, today, window):
            found.append((candidate, other))
    keep_own = parsed.own is not None and _fine(parsed.own, today, window)
    keep_base = parsed.base is not None and _fine(parsed.base, today, window)
    found.sort(key=lambda f: f[0])
    found.sort(key=lambda f: _cycle_key(f[1].base), reverse=True)
    found.sort(key=lambda f: _key(f[1].version), reverse=True)
    found.sort(key=lambda f: _cycle_key(f[1].own), reverse=True)
    keep_version = parsed.own is None and parsed.version is not None  # a version of no known cycle stays
    found.sort(key=lambda f: (  # what is still fine stays
        not (keep_own and f[1].own == parsed.own), not (keep_version and f[1].version == parsed.version),
        not (keep_base and f[1].base == parsed.base),
    ))
    return f'{image}:{found[0][0]}' if found else None


def judge(
        index: Index, image: str, tag: str, today: datetime.date, window: Window,
        listed: Sequence[str] | None = None,
) -> Judgement:
    """The verdicts on ``image:tag`` (an official image's name and tag) as of ``today``.

    ``listed``: the tags the library lists today (suggestions are drawn from
    them; None: the library could not be read, no suggestion)."""
    product = index.by_image.get(image)
    parsed = _parse(index, product, tag)
    verdicts = []
    for subject, cycle in ((IMAGE, parsed.own), (BASE, parsed.base)):
        if cycle is None:
            continue
        status, fails = _status(cycle, today, window)
        suggestion = None
        if status != SUPPORTED and listed is not None:
            suggestion = _suggest(index, product, image, tag, parsed, listed, today, window)
        verdicts.append(Verdict(subject, cycle, status, fails, suggestion))
    why = None
    if parsed.own is None:
        why = (f'no endoflife.date product names the image {image!r}' if product is None
               else f'the tag names no {product.label} release cycle')
    return Judgement(tuple(verdicts), why)


def message(shown: str, verdict: Verdict, today: datetime.date) -> str:
    """``python:3.8: Python 3.8 reached end of life on 2024-10-07``."""
    cycle = verdict.cycle
    what = cycle.title if verdict.subject == IMAGE else f'its base system, {cycle.title},'
    if verdict.status == ENDED:
        when = f' on {cycle.eol.isoformat()}' if cycle.eol is not None else ''
        extended = ''
        if cycle.eoes is not None and cycle.eoes > today:
            extended = f' (extended support until {cycle.eoes.isoformat()})'
        return f'{shown}: {what} reached end of life{when}{extended}'
    if verdict.status == ENDING and cycle.eol is not None:
        days = (cycle.eol - today).days
        return f'{shown}: {what} reaches end of life on {cycle.eol.isoformat()}, in {days} day{"s" if days != 1 else ""}'
    until = f' until {cycle.eol.isoformat()}' if cycle.eol is not None else ''
    return f'{shown}: {what} is supported{until}'
