"""File kinds and their scanners: adding a kind is one entry here.

A scanner takes a file's decoded text and returns a :class:`~pin_from.sites.Scan`.
The hooks never ask which kind a file is: they work only with what a scan
returns. The kind is chosen from the file's name; anything not recognised
is read as a Dockerfile (pre-commit's ``dockerfile`` type chooses those).
"""
from __future__ import annotations

from typing import Callable
from typing import NamedTuple

from pin_from.sites import Scan

DOCKERFILE = 'dockerfile'


class Kind(NamedTuple):
    name: str
    module: str  # the scanner's module: its source is part of the memo key
    scan: Callable[[str], Scan]


def _dockerfile(text: str) -> Scan:
    from pin_from import dockerfile
    return dockerfile.scan(text)


KINDS: dict[str, Kind] = {
    DOCKERFILE: Kind(DOCKERFILE, 'pin_from.dockerfile', _dockerfile),
}
def kind_for(path: str) -> str:
    """The kind of ``path`` by its name (a Dockerfile unless it says otherwise)."""
    return DOCKERFILE


def names() -> tuple[str, ...]:
    return tuple(KINDS)
