"""Tag -> digest resolution: cache first, then the registry, concurrently.

Each distinct (registry, repository, tag) is resolved once per run, under the
one cache policy (:mod:`pin_from.registry.policy`). A fresh cached answer makes no
request (and imports no HTTP library). ``--update`` runs with a policy that
refreshes and never lets a stale answer stand in: a re-pin comes only from an
answer fetched in this run.
"""
from __future__ import annotations

from typing import Callable
from typing import Protocol

from pin_from.registry import policy
from pin_from.registry.cache import Cache
from pin_from.files.edit import Outcome
from pin_from.errors import PinFromError
from pin_from.registry.policy import Policy
from pin_from.reference import Reference


class DigestSource(Protocol):
    def digest(self, ref: Reference) -> str:
        """The digest the registry serves for ``ref``'s tag."""


def tag_key(ref: Reference) -> str:
    return f'tag:{ref.registry}/{ref.repository}:{ref.effective_tag}'


def digest_key(ref: Reference, digest: str) -> str:
    return f'{ref.registry}/{ref.repository}@{digest}'


class Resolver:
    def __init__(
            self, cache: Cache, rules: Policy, client: Callable[[], DigestSource],
            note: Callable[[str], None], jobs: int = 8, record_sightings: bool = False,
    ) -> None:
        self.record_sightings = record_sightings
        self.cache = cache
        self.rules = rules
        self._client = client  # called only when something must be fetched
        self._note = note
        self.jobs = jobs

    def resolve(self, refs: set[Reference]) -> dict[Reference, Outcome]:
        """Digest (or the error) for each reference's tag."""
        wanted = sorted({r.tag_only() for r in refs})
        cached = {r: self.cache.tag(tag_key(r)) for r in wanted}
        answers: dict[Reference, Outcome] = {
            r: c.value for r, c in cached.items() if c is not None and self.rules.fresh(c)
        }
        missing = [r for r in wanted if r not in answers]
        fetched: dict[Reference, str] = {}
        if missing:
            answers.update(self._fetch(missing, cached, fetched))
            self.cache.store_tags({tag_key(r): d for r, d in fetched.items()})
            if self.record_sightings:  # --min-age's last evidence of a digest's age
                self.cache.saw([digest_key(r, d) for r, d in fetched.items()])
        return {r: answers[r.tag_only()] for r in refs}

    def _fetch(
            self, refs: list[Reference], cached: dict[Reference, policy.Cached[str] | None],
            fetched: dict[Reference, str],
    ) -> dict[Reference, Outcome]:
        def one(ref: Reference) -> Outcome:
            def fetch(stale: str | None) -> str:
                fetched[ref] = self._client().digest(ref)
                return fetched[ref]
            try:
                return policy.get(self.rules, cached[ref], fetch, str(ref), self._note)
            except PinFromError as e:
                return e
        if self.rules.offline or len(refs) == 1:
            return {r: one(r) for r in refs}
        from concurrent.futures import ThreadPoolExecutor  # only on a cache miss
        with ThreadPoolExecutor(max_workers=max(1, min(self.jobs, len(refs)))) as pool:
            return dict(zip(refs, pool.map(one, refs)))
