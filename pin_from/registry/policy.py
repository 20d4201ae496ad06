"""The one cache policy, for every source: tag answers, library files, notices.

- *fresh*: a cached answer younger than the TTL is used with no request at all;
- *offline*: only the cache is used, whatever its age; a miss is an error;
- *refresh*: cached answers are not used as fresh (``--refresh``, ``--update``);
- *stale-if-unavailable*: when the source cannot answer (connection error,
  timeout, 429, 5xx: :class:`~pin_from.errors.Unavailable`), an expired copy
  stands in, with a note. Never after a definite answer (401, 403, 404), and
  never where the caller forbids it (``--update`` re-pins only from answers
  fetched in this run).
"""
from __future__ import annotations

from typing import Callable
from typing import Generic
from typing import NamedTuple
from typing import Optional
from typing import TypeVar

from pin_from.errors import CacheMiss
from pin_from.errors import Unavailable

T = TypeVar('T')


class Cached(Generic[T]):
    """A stored value and its age in seconds (a plain class: no dataclasses
    import on the hot path)."""

    __slots__ = ('value', 'age')

    def __init__(self, value: T, age: float) -> None:
        self.value = value
        self.age = age

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cached) and (self.value, self.age) == (other.value, other.age)

    def __hash__(self) -> int:
        return hash((self.value, self.age))

    def __repr__(self) -> str:
        return f'Cached({self.value!r}, age={self.age!r})'


class Policy(NamedTuple):
    ttl: float
    offline: bool = False
    refresh: bool = False
    stale_if_unavailable: bool = True

    def fresh(self, cached: Cached[T] | None) -> bool:
        if cached is None:
            return False
        return self.offline or (not self.refresh and cached.age <= self.ttl)


def get(
        policy: Policy, cached: Optional[Cached[T]], fetch: Callable[[Optional[T]], T],
        what: str, note: Callable[[str], None],
) -> T:
    """The cached value if fresh, else ``fetch(stale value or None)``; a stale
    value stands in when the source is unavailable and the policy allows it."""
    if cached is not None and policy.fresh(cached):
        return cached.value
    if policy.offline:
        raise CacheMiss('not in the cache and --offline was given')
    try:
        return fetch(None if cached is None else cached.value)
    except Unavailable as e:
        if cached is None or not policy.stale_if_unavailable:
            raise
        note(f'{what}: {e}; using the cached answer')
        return cached.value
