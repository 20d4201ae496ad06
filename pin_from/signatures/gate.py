"""The signature gate of a run: a digest a rule covers is written only if its signer signed it.

:meth:`Gate.check` is asked before a pin, an ``--update`` re-pin and on
``--verify``. It lists what is attached to the digest (:mod:`.find`), checks
every cosign signature there against the rule (:mod:`.verify`) and returns
who signed; when none counts it raises :class:`SignatureError` naming the
rule and what was found. A verified answer is cached forever under the
digest and the rule (a signature of a digest never changes; a new rule or
root is another key); a failed one is not (a signature may come later).

:meth:`Gate.signers` and :meth:`Gate.attached` feed the ``--update`` report:
who signed the old and the new digest, and what the old one carried that the
new one lost (a cosign signature, a cosign attestation, BuildKit
attestations), for every move, with or without a rule.
"""
from __future__ import annotations

import hashlib
from typing import Callable
from typing import NamedTuple
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from.errors import PinFromError
from pin_from.reference import Reference
from pin_from.signatures.find import COSIGN_SIGN
from pin_from.signatures.find import Finder
from pin_from.signatures.find import MAX_BUNDLES
from pin_from.signatures.rules import Rule
from pin_from.signatures.rules import rule_for

if TYPE_CHECKING:
    from pin_from.registry.cache import Cache
    from pin_from.registry.changes import Inspector
    from pin_from.registry.client import Client

MAX_FOUND = 4  # reasons shown in one error
_KIND = 'cosign signature'


class SignatureError(PinFromError):
    """A digest a rule covers that its signer did not sign (or not verifiably)."""


class Attached(NamedTuple):
    """What one digest carries, for the report."""

    kinds: frozenset[str]  # 'cosign signature', 'cosign attestation <type>', 'BuildKit attestations'
    signers: tuple[str, ...]  # who the signatures say signed (unverified unless a rule checked it)
    error: str | None = None  # why what is attached could not be read (then kinds are not all known)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 600


def _fingerprint(rule: Rule) -> str:
    """The rule's content (patterns aside): another key, identity or root is another cache key."""
    h = hashlib.sha256()
    for part in (rule.identity, rule.identity_regexp, rule.issuer):
        h.update((part or '').encode() + b'\0')
    for path in (rule.key, rule.trusted_root):
        if path is not None:
            with open(path, 'rb') as f:
                h.update(f.read(1024 * 1024))
        h.update(b'\0')
    return h.hexdigest()[:32]


class Gate:
    def __init__(
            self, rules: Sequence[Rule], client: Callable[[], Client], inspector: Callable[[], Inspector],
            cache: Cache,
    ) -> None:
        self.rules = tuple(rules)
        self._client = client
        self._inspector = inspector
        self.cache = cache
        self._finder: Finder | None = None
        self._prints: dict[str, str] = {}

    def finder(self) -> Finder:
        if self._finder is None:
            self._finder = Finder(self._client(), self._inspector())
        return self._finder

    def rule(self, ref: Reference, written: str | None = None) -> Rule | None:
        return rule_for(self.rules, ref, written)

    def _key(self, ref: Reference, digest: str, rule: Rule) -> str:
        if rule.where not in self._prints:
            self._prints[rule.where] = _fingerprint(rule)
        return f'signed:{ref.registry}/{ref.repository}@{digest}:{self._prints[rule.where]}'

    def check(self, ref: Reference, digest: str, written: str | None = None) -> str | None:
        """Who signed ``digest`` as the rule for ``ref`` wants; None when no rule applies."""
        rule = self.rule(ref, written)
        if rule is None:
            return None
        key = self._key(ref, digest, rule)
        cached = self.cache.get(key, _is_text)
        if cached is not None:
            return str(cached.value)
        signer, found = self._verify(ref, digest, rule)
        if signer is None:
            what = '; '.join(found[:MAX_FOUND]) + (f'; and {len(found) - MAX_FOUND} more' if len(found) > MAX_FOUND else '')
            raise SignatureError(
                f'{digest} is not signed by {rule.signer}, as {rule.where} requires for '
                f'{", ".join(rule.images)}; found: {what or "no signature"}',
            )
        self.cache.set(key, signer)
        return signer

    def _verify(self, ref: Reference, digest: str, rule: Rule) -> tuple[str | None, list[str]]:
        from pin_from.signatures import verify
        finder = self.finder()
        found: list[str] = []
        try:
            listing = finder.listing(ref, digest)
        except PinFromError as e:
            listing = None
            found.append(f'referrers unreadable ({e})')
        if listing is not None:
            found += listing.notes
            bundles = [e for e in listing.entries if e.predicate_type in (None, COSIGN_SIGN)]
            if len(bundles) > MAX_BUNDLES:
                found.append(f'{len(bundles) - MAX_BUNDLES} more referrers not read (at most {MAX_BUNDLES})')
            for entry in bundles[:MAX_BUNDLES]:
                try:
                    return verify.check_bundle(finder.bundle(ref, digest, entry).data, digest, rule), found
                except PinFromError as e:
                    found.append(f'{entry.digest[:19]}…: {e}')
        try:
            legacy, notes = finder.legacy(ref, digest)
        except PinFromError as e:
            legacy, notes = [], [f'the .sig tag unreadable ({e})']
        found += notes
        for signature in legacy:
            try:
                return verify.check_legacy(signature, digest, rule), found
            except PinFromError as e:
                found.append(f'{signature.where}: {e}')
        return None, found

    def attached(self, ref: Reference, digest: str) -> Attached:
        """What ``digest`` carries (signatures, attestations) and who its signatures name."""
        from pin_from.registry.manifest import Index
        from pin_from.signatures import verify
        finder = self.finder()
        kinds: set[str] = set()
        signers: list[str] = []
        try:
            listing = finder.listing(ref, digest)
            for entry in listing.entries[:MAX_BUNDLES]:
                if entry.predicate_type not in (None, COSIGN_SIGN):
                    kinds.add(f'cosign attestation {entry.predicate_type}')
                    continue
                try:
                    data = finder.bundle(ref, digest, entry).data
                except PinFromError:
                    continue
                kind = verify.statement_kind(data)
                if kind == COSIGN_SIGN:
                    kinds.add(_KIND)
                    signers.append(verify.signer_of(data))
                elif kind is not None:
                    kinds.add(f'cosign attestation {kind}')
            legacy, _ = finder.legacy(ref, digest)
            if legacy:
                kinds.add(_KIND)
                signers += [verify.legacy_signer(s) for s in legacy]
            if finder.has_tag(ref, digest, '.att'):
                kinds.add('cosign attestation (legacy .att)')
            top = self._inspector().manifest(ref, digest)
            if isinstance(top, Index) and any(
                    dict(m.annotations).get('vnd.docker.reference.type') == 'attestation-manifest'
                    for m in top.manifests):
                kinds.add('BuildKit attestations')
        except PinFromError as e:
            return Attached(frozenset(kinds), tuple(dict.fromkeys(signers)), str(e))
        return Attached(frozenset(kinds), tuple(dict.fromkeys(signers)))

    def signed_by(self, ref: Reference, digest: str, attached: Attached) -> str:
        """Who signed, in words: verified under the rule, else what the signatures say."""
        if self.rule(ref) is not None:
            try:
                return f'{self.check(ref, digest)} (verified)'
            except SignatureError:
                pass
        if not attached.signers:
            return 'unsigned'
        return ', '.join(attached.signers) + (' (not verified: no rule)' if self.rule(ref) is None else ' (not verified)')

    def move_lines(self, ref: Reference, old: str, new: str) -> list[str]:
        """Report bullets for a move: who signed each side, and what the new one lost."""
        from pin_from.escape import code_span
        before, after = self.attached(ref, old), self.attached(ref, new)
        lines = []
        unread = [f'{side} digest: {code_span(a.error, 200)}' for side, a in (('old', before), ('new', after))
                  if a.error is not None]
        if unread:  # what is attached is not all known: no claim of a loss
            return [f'Signatures and attestations could not be read ({"; ".join(unread)})']
        lost = sorted(before.kinds - after.kinds)
        if lost:
            lines.append('**Warning: the new digest lost ' + ', '.join(code_span(k, 200) for k in lost)
                         + ', which the old one had**')
        signers = [self.signed_by(ref, old, before), self.signed_by(ref, new, after)]
        if signers == ['unsigned', 'unsigned']:
            lines.append('Signed: neither digest carries a cosign signature')
        else:
            old_by, new_by = ('unsigned' if s == 'unsigned' else f'by {code_span(s, 300)}' for s in signers)
            lines.append(f'Signed: old {old_by}; new {new_by}')
        return lines
