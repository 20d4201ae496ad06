"""Tag -> digest resolution: cache first, then the registry, concurrently.

Each distinct (registry, repository, tag) is resolved once per run, under the
one cache policy (:mod:`pin_from.registry.policy`). A fresh cached answer makes no
request (and imports no HTTP library). ``--update`` runs with a policy that
refreshes and never lets a stale answer stand in: a re-pin comes only from an
answer fetched in this run.
"""
from __future__ import annotations

from typing import Callable
from typing import Iterable
from typing import Protocol
from typing import TYPE_CHECKING

from pin_from.registry import policy
from pin_from.registry.cache import Cache
from pin_from.files.edit import Outcome
from pin_from.errors import PinFromError
from pin_from.registry.policy import Policy
from pin_from.reference import Reference

if TYPE_CHECKING:
    from concurrent.futures import Future
    from concurrent.futures import ThreadPoolExecutor


class DigestSource(Protocol):
    def digest(self, ref: Reference) -> str:
        """The digest the registry serves for ``ref``'s tag."""


def tag_key(ref: Reference) -> str:
    return f'tag:{ref.registry}/{ref.repository}:{ref.effective_tag}'


def digest_key(ref: Reference, digest: str) -> str:
    return f'{ref.registry}/{ref.repository}@{digest}'


class Resolver:
    """One run's tag answers: :meth:`start` begins looking up tags while files are still being
    read (a cold run's requests overlap its lexing); :meth:`resolve` collects every answer."""

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
        self._cached: dict[Reference, policy.Cached[str] | None] = {}  # tag -> what the cache holds
        self._pending: dict[Reference, Future[Outcome]] = {}  # tag -> its lookup, started
        self._fetched: dict[Reference, str] = {}  # tag -> the digest the registry gave, this run
        self._pool: ThreadPoolExecutor | None = None

    def _known(self, tag: Reference) -> policy.Cached[str] | None:
        if tag not in self._cached:
            self._cached[tag] = self.cache.tag(tag_key(tag))
        return self._cached[tag]

    def start(self, refs: Iterable[Reference]) -> None:
        """Begin looking up, in the background, the tags of ``refs`` the cache has no fresh answer
        for (never offline: a miss is then an error, said by :meth:`resolve`)."""
        if self.rules.offline:
            return
        for ref in refs:
            tag = ref.tag_only()
            if tag in self._pending or tag in self._cached and self._fresh(self._cached[tag]):
                continue
            if self._fresh(self._known(tag)):
                continue
            self._pending[tag] = self._executor().submit(self._one, tag)

    def _fresh(self, cached: policy.Cached[str] | None) -> bool:
        return cached is not None and self.rules.fresh(cached)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only on a cache miss
            self._pool = ThreadPoolExecutor(max_workers=max(1, self.jobs))
        return self._pool

    def close(self) -> None:
        """Lookups started and never collected (the run ended early) are cancelled or awaited."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def resolve(self, refs: set[Reference]) -> dict[Reference, Outcome]:
        """Digest (or the error) for each reference's tag."""
        wanted = sorted({r.tag_only() for r in refs})
        answers: dict[Reference, Outcome] = {}
        for tag in wanted:
            cached = self._known(tag)
            if tag not in self._pending and cached is not None and self.rules.fresh(cached):
                answers[tag] = cached.value
        missing = [r for r in wanted if r not in answers]
        if missing:
            answers.update(self._fetch(missing))
            fetched = {r: self._fetched.pop(r) for r in missing if r in self._fetched}
            self.cache.store_tags({tag_key(r): d for r, d in fetched.items()})
            if self.record_sightings:  # --min-age's last evidence of a digest's age
                self.cache.saw([digest_key(r, d) for r, d in fetched.items()])
        return {r: answers[r.tag_only()] for r in refs}

    def _one(self, ref: Reference) -> Outcome:
        def fetch(stale: str | None) -> str:
            self._fetched[ref] = self._client().digest(ref)
            return self._fetched[ref]
        try:
            return policy.get(self.rules, self._cached.get(ref), fetch, str(ref), self._note)
        except PinFromError as e:
            return e

    def _fetch(self, refs: list[Reference]) -> dict[Reference, Outcome]:
        if self.rules.offline or (len(refs) == 1 and refs[0] not in self._pending):
            return {r: self._one(r) for r in refs}
        for ref in refs:
            if ref not in self._pending:
                self._pending[ref] = self._executor().submit(self._one, ref)
        try:
            return {r: self._pending[r].result() for r in refs}
        finally:
            self.close()
