"""Ordering package versions with a maintained library (``univers``).

pin-from never compares versions by hand: dpkg, apk, PEP 440, semver, Go,
Maven, RubyGems, NuGet and RPM rules all come from ``univers``. A version the
library cannot parse is "unordered" (None), never guessed.

Versions come from SBOMs and OSV records, which anyone can write, and
``univers`` is superlinear in a version's length (a 500-character apk
version costs milliseconds to compare). So a version longer than
:data:`MAX_VERSION` characters is unordered, every parse and comparison is
memoised, and ordering has a deadline per run (:func:`start_deadline` and
:func:`stop_deadline`, around the explain step, which orders everything the
report shows): past it, versions not yet compared are unordered (and stay so
in this run) and :func:`late` says how many, for the report's note.
"""
from __future__ import annotations

import time
from typing import Dict, Optional, Type

from univers import versions as uv

Version = uv.Version
Scheme = Type[uv.Version]

# purl type -> version scheme
BY_PURL_TYPE: Dict[str, Scheme] = {
    'deb': uv.DebianVersion,
    'apk': uv.AlpineLinuxVersion,
    'pypi': uv.PypiVersion,
    'npm': uv.SemverVersion,
    'golang': uv.GolangVersion,
    'maven': uv.MavenVersion,
    'gem': uv.RubygemsVersion,
    'nuget': uv.NugetVersion,
    'rpm': uv.RpmVersion,
    'composer': uv.ComposerVersion,
    'cargo': uv.SemverVersion,
}

# OSV ecosystem (before the first ':') -> version scheme
BY_ECOSYSTEM: Dict[str, Scheme] = {
    'Debian': uv.DebianVersion,
    'Ubuntu': uv.DebianVersion,
    'Alpine': uv.AlpineLinuxVersion,
    'Wolfi': uv.AlpineLinuxVersion,
    'Chainguard': uv.AlpineLinuxVersion,
    'PyPI': uv.PypiVersion,
    'npm': uv.SemverVersion,
    'Go': uv.GolangVersion,
    'Maven': uv.MavenVersion,
    'RubyGems': uv.RubygemsVersion,
    'NuGet': uv.NugetVersion,
    'Packagist': uv.ComposerVersion,
    'crates.io': uv.SemverVersion,
}


MAX_VERSION = 64  # characters; a longer version is unordered
ORDER_SECONDS = 30.0  # the explain step's deadline for ordering versions, per run
_MEMO_MAX = 200_000

_parsed: Dict[tuple[Scheme, str], Optional[uv.Version]] = {}
_ordered: Dict[tuple[Scheme, str, str], Optional[int]] = {}
_deadline: list[float] = []  # the monotonic time ordering ends, once started
_late: list[int] = [0]


def start_deadline(seconds: Optional[float] = None) -> None:
    """Ordering ends ``seconds`` (default :data:`ORDER_SECONDS`) from now."""
    _deadline[:] = [time.monotonic() + (ORDER_SECONDS if seconds is None else seconds)]
    _late[0] = 0


def stop_deadline() -> None:
    """Ordering is no longer timed (what was ordered, or left unordered, stays memoised)."""
    _deadline.clear()


def reset() -> None:
    """Forget the memos and the deadline (tests)."""
    _parsed.clear()
    _ordered.clear()
    _deadline.clear()
    _late[0] = 0


def late() -> int:
    """How many comparisons the deadline left unordered in this run."""
    return _late[0]


def _past_deadline() -> bool:
    if _deadline and time.monotonic() > _deadline[0]:
        _late[0] += 1
        return True
    return False


def parse(scheme: Scheme, text: str) -> Optional[uv.Version]:
    """``text`` in ``scheme``, or None if the library refuses it or it is too long."""
    key = (scheme, text)
    if key in _parsed:
        return _parsed[key]
    if len(text) > MAX_VERSION or _past_deadline():
        return None
    try:
        found: Optional[uv.Version] = scheme(text)
    except Exception:  # noqa: BLE001 - univers raises several kinds; all mean "not a version"
        found = None
    if len(_parsed) < _MEMO_MAX:
        _parsed[key] = found
    return found


def compare(scheme: Optional[Scheme], old: str, new: str) -> Optional[int]:
    """-1, 0 or 1 as ``old`` is below, equal to or above ``new``; None if unordered."""
    if scheme is None:
        return None
    if old == new:
        return 0
    key = (scheme, old, new)
    if key in _ordered:
        return _ordered[key]
    a, b = parse(scheme, old), parse(scheme, new)
    order: Optional[int] = None
    if a is not None and b is not None and not _past_deadline():
        order = (a > b) - (a < b)
    if len(_ordered) < _MEMO_MAX:
        _ordered[key] = order
    return order
