"""``--verify``: what is pinned still exists, and is what its tag names.

For every pinned reference: the digest must still exist in its repository (a
HEAD by digest; a registry's garbage collection, a deleted tag or a typo in a
hand-edited pin make it disappear). For ``tag@digest``, the digest is compared
with what the tag names today: its current digest, one of the platform
manifests of its current index (a platform pin), or neither (a warning: the
tag moved, or the pin was never the tag's). Positive answers are cached with
the usual TTL, under the one cache policy.
"""
from __future__ import annotations

from typing import Callable
from typing import Iterable
from typing import NamedTuple
from typing import Protocol

from pin_from.registry import policy
from pin_from.registry.cache import Cache
from pin_from.registry.changes import Inspector
from pin_from.files.edit import Outcome
from pin_from.errors import PinFromError
from pin_from.files.load import Loaded
from pin_from.registry.policy import Policy
from pin_from.reference import Reference
from pin_from.kinds.sites import Site


class ExistenceSource(Protocol):
    def exists(self, ref: Reference, digest: str) -> bool: ...


class Verdict(NamedTuple):
    path: str
    site: Site
    status: str  # current, platform-pin, unrelated, missing, error, skipped
    text: str  # the line after ``path:line: ``
    error: bool  # counts as an error (exit 3)


def _is_true(value: object) -> bool:
    return value is True


class Verifier:
    def __init__(
            self, cache: Cache, rules: Policy, client: Callable[[], ExistenceSource],
            inspector: Callable[[], Inspector], note: Callable[[str], None],
    ) -> None:
        self.cache = cache
        self.rules = rules
        self._client = client
        self._inspector = inspector
        self._note = note

    def exists(self, ref: Reference, digest: str) -> bool:
        key = f'exists:{ref.registry}/{ref.repository}@{digest}'
        found = self.cache.get(key, _is_true)

        def fetch(stale: bool | None) -> bool:
            answer = self._client().exists(ref, digest)
            if answer:
                self.cache.set(key, True)
            return answer
        return bool(policy.get(self.rules, found, fetch, f'{ref.familiar_name}@{digest}', self._note))

    def check(self, files: Iterable[Loaded], answers: dict[Reference, Outcome]) -> list[Verdict]:
        ret = []
        for loaded in files:
            for site in loaded.scan.sites:
                if site.ref.digest is not None:
                    ret.append(self._one(loaded.path, site, answers.get(site.ref)))
        return ret

    def _one(self, path: str, site: Site, answer: Outcome | None) -> Verdict:
        ref, digest = site.ref, site.ref.digest or ''
        try:
            if not self.exists(ref, digest):
                return Verdict(path, site, 'missing', (
                    f'{site.text}: {digest} no longer exists in {ref.registry}/{ref.repository}; '
                    'run pin-from --update to re-pin it to what its tag names today'
                ), True)
            if ref.tag is None:
                return Verdict(path, site, 'current', f'{site.text}: exists (digest-only; no tag to compare)', False)
            if isinstance(answer, PinFromError):
                return Verdict(path, site, 'error', f'{site.text}: {answer}', True)
            if answer == digest:
                return Verdict(path, site, 'current', f'{site.text}: exists, and is what {ref.tag_only()} names', False)
            if answer is not None and digest in self._inspector().platforms(ref, answer).values():
                return Verdict(path, site, 'platform-pin', (
                    f'{site.text}: exists; a platform pin (one platform of what {ref.tag_only()} names)'
                ), False)
        except PinFromError as e:
            return Verdict(path, site, 'error', f'{site.text}: {e}', True)
        return Verdict(path, site, 'unrelated', (
            f'{site.text}: warning: {ref.tag_only()} names another image today '
            '(it moved, or this pin was never its); pin-from --update re-pins it'
        ), False)
