"""Package URLs (purl) as found in SBOMs: parse, never trust.

Only what pin-from needs: type, namespace, name, version and qualifiers,
percent-decoded, each length-capped. A string that is not a purl gives None.
"""
from __future__ import annotations

import re
import urllib.parse
from typing import NamedTuple

MAX_PURL = 2048
_TYPE = re.compile(r'^[a-z][a-z0-9.+-]{0,31}$')


class Purl(NamedTuple):
    type: str
    namespace: str
    name: str
    version: str
    qualifiers: dict[str, str]


def _unquote(text: str) -> str:
    return urllib.parse.unquote(text, errors='replace')


def _qualifiers(text: str) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for pair in filter(None, text.split('&')):
        key, sep, value = pair.partition('=')
        if not sep or not key:
            return None
        found[key.lower()] = _unquote(value)
    return found


def parse_purl(text: object) -> Purl | None:
    """``pkg:type/namespace/name@version?qualifiers#subpath`` or None."""
    if not isinstance(text, str) or len(text) > MAX_PURL:
        return None
    if not text.startswith('pkg:'):
        return None
    rest = text[4:].split('#', 1)[0]
    rest, _, query = rest.partition('?')
    qualifiers = _qualifiers(query)
    kind, _, path = rest.lstrip('/').partition('/')
    if qualifiers is None or not _TYPE.match(kind.lower()) or not path:
        return None
    path, _, version = path.rpartition('@') if '@' in path else (path, '', '')
    namespace, _, name = path.strip('/').rpartition('/')
    if not name:
        return None
    return Purl(
        kind.lower(), _unquote(namespace), _unquote(name), _unquote(version),
        qualifiers,
    )
