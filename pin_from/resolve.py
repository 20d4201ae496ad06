"""Tag -> digest resolution: cache first, then the registry, concurrently.

Each distinct (registry, repository, tag) is resolved once per run. A fresh
cached answer makes no request (and imports no HTTP library); a stale one is
used only when the registry cannot be reached, with a note.
"""
from __future__ import annotations

import sys
from typing import Callable
from typing import NamedTuple
from typing import Union

from pin_from.cache import Cache
from pin_from.errors import CacheMiss
from pin_from.errors import PinFromError
from pin_from.errors import RegistryUnavailable
from pin_from.reference import Reference

Outcome = Union[str, PinFromError]


class Policy(NamedTuple):
    ttl: float
    refresh: bool = False  # ignore cached tag -> digest answers
    offline: bool = False
    jobs: int = 8


def tag_key(ref: Reference) -> str:
    return f'tag:{ref.registry}/{ref.repository}:{ref.effective_tag}'


class Resolver:
    def __init__(
            self, cache: Cache, policy: Policy,
            client_factory: Callable[[], object],
    ) -> None:
        self.cache = cache
        self.policy = policy
        self._client_factory = client_factory  # called only on a cache miss

    def resolve(self, refs: set[Reference]) -> dict[Reference, Outcome]:
        """Digest (or the error) for each reference's tag."""
        wanted = {r.tag_only() for r in refs}
        answers: dict[Reference, Outcome] = {}
        stale: dict[Reference, str] = {}
        for ref in wanted:
            found = self.cache.tag(tag_key(ref))
            if found is None:
                continue
            digest, age = found
            if not self.policy.refresh and age <= self.policy.ttl or self.policy.offline:
                answers[ref] = digest
            else:
                stale[ref] = digest
        missing = sorted(wanted - answers.keys())
        if missing and self.policy.offline:
            for ref in missing:
                answers[ref] = CacheMiss('not in the cache and --offline was given')
        elif missing:
            fetched = self._fetch(missing, stale)
            answers.update((r, outcome) for r, (outcome, _) in fetched.items())
            self.cache.store_tags({
                tag_key(r): outcome for r, (outcome, fresh) in fetched.items()
                if fresh and isinstance(outcome, str)
            })
        return {r: answers[r.tag_only()] for r in refs}

    def _fetch(
            self, refs: list[Reference], stale: dict[Reference, str],
    ) -> dict[Reference, tuple[Outcome, bool]]:
        from concurrent.futures import ThreadPoolExecutor  # only on a cache miss
        client = self._client_factory()
        with ThreadPoolExecutor(max_workers=max(1, min(self.policy.jobs, len(refs)))) as pool:
            results = list(pool.map(lambda r: self._one(client, r, stale.get(r)), refs))
        return dict(zip(refs, results))

    def _one(self, client: object, ref: Reference, stale: str | None) -> tuple[Outcome, bool]:
        """The answer, and whether it is a fresh one from the registry."""
        try:
            digest: str = client.digest(ref)  # type: ignore[attr-defined]
        except RegistryUnavailable as e:
            if stale is not None:
                print(f'pin-from: {ref}: {e}; using the cached answer', file=sys.stderr)
                return stale, False
            return e, False
        except PinFromError as e:
            return e, False
        return digest, True
