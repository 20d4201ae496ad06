"""What changed between two SBOM package lists: upgraded, added, removed.

Packages are keyed by purl type, namespace, name and ``arch`` qualifier (a
multi-arch SBOM may list ``libc6`` twice); packages without a purl are keyed by
name. Versions are ordered by :mod:`pin_from.explain.versions` (``univers``).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, NamedTuple, Optional, Sequence

from pin_from.explain.attestations import Package
from pin_from.explain.purl import parse_purl
from pin_from.explain.versions import BY_PURL_TYPE, compare


class PackageKey(NamedTuple):
    type: str
    namespace: str
    name: str
    arch: str


class Change(NamedTuple):
    name: str
    old: str
    new: str
    type: str  # purl type, '' when unknown


class PackageDiff(NamedTuple):
    upgraded: tuple[Change, ...]
    downgraded: tuple[Change, ...]
    changed: tuple[Change, ...]  # versions the library cannot order
    added: tuple[Package, ...]
    removed: tuple[Package, ...]


def package_key(package: Package) -> PackageKey:
    purl = parse_purl(package.purl)
    if purl is None:
        return PackageKey('', '', package.name, '')
    return PackageKey(purl.type, purl.namespace, purl.name, purl.qualifiers.get('arch', ''))


def _group(packages: Iterable[Package]) -> dict[PackageKey, dict[str, Package]]:
    grouped: dict[PackageKey, dict[str, Package]] = defaultdict(dict)
    for package in packages:
        grouped[package_key(package)].setdefault(package.version, package)
    return grouped


def _change(key: PackageKey, old: Package, new: Package) -> tuple[Optional[int], Change]:
    order = compare(BY_PURL_TYPE.get(key.type), old.version, new.version)
    return order, Change(new.name, old.version, new.version, key.type)


def _sorted(packages: Iterable[Package]) -> tuple[Package, ...]:
    return tuple(sorted(packages, key=lambda p: (p.name, p.version, p.purl or '')))


def diff_packages(old: Sequence[Package], new: Sequence[Package]) -> PackageDiff:
    """Compare two package lists (an SBOM each)."""
    before, after = _group(old), _group(new)
    moves: dict[Optional[int], list[Change]] = defaultdict(list)
    added: list[Package] = []
    removed: list[Package] = []
    for key in before.keys() | after.keys():
        was, now = before.get(key, {}), after.get(key, {})
        if len(was) == 1 and len(now) == 1 and was.keys() != now.keys():
            order, change = _change(key, *was.values(), *now.values())
            moves[order].append(change)
            continue
        removed.extend(p for v, p in was.items() if v not in now)
        added.extend(p for v, p in now.items() if v not in was)
    ordered = {k: tuple(sorted(v)) for k, v in moves.items()}
    return PackageDiff(
        ordered.get(-1, ()), ordered.get(1, ()), ordered.get(None, ()),
        _sorted(added), _sorted(removed),
    )
