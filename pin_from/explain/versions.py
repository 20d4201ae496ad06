"""Ordering package versions with a maintained library (``univers``).

pin-from never compares versions by hand: dpkg, apk, PEP 440, semver, Go,
Maven, RubyGems, NuGet and RPM rules all come from ``univers``. A version the
library cannot parse is "unordered" (None), never guessed.
"""
from __future__ import annotations

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


def parse(scheme: Scheme, text: str) -> Optional[uv.Version]:
    """``text`` in ``scheme``, or None if the library refuses it."""
    try:
        return scheme(text)
    except Exception:  # noqa: BLE001 - univers raises several kinds; all mean "not a version"
        return None


def compare(scheme: Optional[Scheme], old: str, new: str) -> Optional[int]:
    """-1, 0 or 1 as ``old`` is below, equal to or above ``new``; None if unordered."""
    if scheme is None:
        return None
    a, b = parse(scheme, old), parse(scheme, new)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)
