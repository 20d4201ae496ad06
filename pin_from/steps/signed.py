"""The pin-from hook's signature steps: the gate before writing, ``--verify``, the report lines.

- :func:`gate`: before any file is written, every digest a run would write
  for a reference a rule covers is checked (a pin, an ``--update`` re-pin, a
  ``--pin-platform`` pin). What is checked is the digest the tag names (an
  index, for a multi-platform image: what cosign signs); a platform manifest
  pinned from it is covered by that index's digest. A failure replaces the
  answer with the error (in a new mapping), so the file is left untouched and its message names
  the rule and what was found.
- :func:`verify`: ``--verify`` checks the pinned digests a rule covers
  (or, for a platform pin, the index its tag names that lists it).
- :func:`annotate`: who signed the old and the new digest of each move, and a
  warning when the new digest lost a signature or an attestation.
"""
from __future__ import annotations

from typing import AbstractSet
from typing import Callable
from typing import Iterable
from typing import Mapping
from typing import Sequence
from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from.errors import PinFromError
from pin_from.files import edit
from pin_from.kinds.sites import Site
from pin_from.reference import Reference
from pin_from.signatures.rules import Rule
from pin_from.signatures.rules import rule_for

if TYPE_CHECKING:
    from pin_from.explain.report import Move
    from pin_from.files.load import Loaded
    from pin_from.signatures.gate import Gate


class Finding(NamedTuple):
    path: str
    line: int
    text: str
    error: bool


def gate(
        rules: Sequence[Rule], checker: Callable[[], Gate], files: Iterable[Loaded],
        answers: Mapping[Reference, edit.Outcome], named: Mapping[Reference, edit.Outcome], moves: edit.Moves,
        update: bool,
) -> dict[Reference, edit.Outcome]:
    """The answers, with a :class:`SignatureError` for each reference whose written digest
    (a change :func:`edit.decide` would make) is not signed as its rule wants. The gate
    (and with it hashing and the registry) is made only when a rule covers a change."""
    gated = dict(answers)
    for loaded in files:
        for decision in edit.decide(loaded.scan, answers, update, moves):
            site = decision.at
            if not decision.changes or not isinstance(site, Site) or rule_for(rules, site.ref, site.text) is None:
                continue
            tagged = named.get(site.ref)
            digest = tagged if isinstance(tagged, str) else str(decision.new)
            try:
                checker().check(site.ref, digest, site.text)
            except PinFromError as e:
                gated[site.ref] = e
    return gated


def verify(checker: Gate, files: Iterable[Loaded], answers: dict[Reference, edit.Outcome],
           platform_pins: AbstractSet[Reference], verbose: bool) -> list[Finding]:
    """The pinned digests a rule covers must be signed (``platform_pins``: pinned references,
    digest included, whose digest is one platform of the index the tag names: the index's
    signature then counts)."""
    found = []
    for loaded in files:
        for site in loaded.scan.sites:
            ref, digest = site.ref, site.ref.digest
            if digest is None or checker.rule(ref, site.text) is None:
                continue
            answer = answers.get(ref)
            subject = str(answer) if ref in platform_pins and isinstance(answer, str) else digest
            try:
                signer = checker.check(ref, subject, site.text)
            except PinFromError as e:
                found.append(Finding(loaded.path, site.line, f'{site.text}: {e}', True))
                continue
            if verbose:
                found.append(Finding(loaded.path, site.line, f'{site.text}: signed by {signer}', False))
    return found


def annotate(checker: Gate, moves: list[Move]) -> list[Move]:
    """Each move with who signed its old and new digest, and what the new one lost."""
    return [m._replace(details=m.details + tuple(checker.move_lines(m.ref, m.old, m.new))) for m in moves]
