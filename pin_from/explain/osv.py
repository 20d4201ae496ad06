"""Vulnerabilities from OSV: which advisories an update fixes or brings.

A source is either the OSV API (``--osv https://api.osv.dev``: ``POST
/v1/querybatch`` then ``GET /v1/vulns/{id}`` for the records it names) or an
offline copy (``--osv DIR``: OSV's per-ecosystem exports, unzipped JSON files
or the ``all.zip`` files themselves, read with size caps). Either way the
candidate records are matched here, the same way: SBOM packages map to OSV
queries (binary package -> source package from the purl's ``upstream``
qualifier, ``distro=debian-12`` -> ecosystem ``Debian:12``), and a version is
affected per the record's ``versions`` list and ``ECOSYSTEM``/``SEMVER``
ranges, ordered by :mod:`pin_from.explain.versions` (``univers``).
"""
from __future__ import annotations

import functools
import json
import re
import urllib.parse
import zipfile
from pathlib import Path
from typing import (
    TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Protocol, Sequence,
)

from pin_from import untrusted_json
from pin_from.explain.attestations import Package
from pin_from.errors import PinFromError
from pin_from.explain.purl import Purl, parse_purl
from pin_from.explain import versions
from pin_from.explain.versions import BY_ECOSYSTEM, Scheme, Version, parse

if TYPE_CHECKING:
    from pin_from.registry.http import Http as PinHttp

ENV = 'PIN_FROM_OSV'
MAX_RECORD = 8_000_000  # bytes of one JSON record (file or zip member)
MAX_ZIP_TOTAL = 4_000_000_000  # uncompressed bytes read from one zip
MAX_ZIP_MEMBERS = 1_000_000
MAX_ANSWER = 32_000_000  # bytes of one API answer
MAX_IDS = 5_000  # records fetched from the API in one comparison
MAX_CHECKS = 1_000_000  # (version, affected entry) checks in one comparison: versions x records
MAX_FILES = 1_000_000  # files in an OSV directory
MAX_KEPT = 100_000  # records of the wanted packages kept from a directory
MAX_RANGES = 1_000_000  # ranges in the records kept
BATCH = 1_000  # OSV's querybatch limit
MAX_PAGES = 10
MAX_ID = 128
MAX_TEXT = 512

Json = Mapping[str, object]
# (method, url, body or None) -> (status, body); raises PinFromError when unreachable
Http = Callable[[str, str, Optional[bytes]], 'tuple[int, bytes]']


class OsvError(PinFromError):
    """An OSV source that cannot be read."""


class OsvUnavailable(OsvError):
    """The OSV API could not answer (unreachable, timed out, 5xx, nonsense)."""


class Query(NamedTuple):
    ecosystem: str
    name: str
    version: str


class Range(NamedTuple):
    type: str
    events: tuple[tuple[str, str], ...]  # (introduced|fixed|last_affected, version)


class Affected(NamedTuple):
    ecosystem: str
    name: str
    ranges: tuple[Range, ...]
    versions: frozenset[str]
    severity: Optional[str]


class Advisory(NamedTuple):
    id: str
    aliases: tuple[str, ...]
    severity: Optional[str]
    affected: tuple[Affected, ...]


class Finding(NamedTuple):
    id: str
    aliases: tuple[str, ...]
    severity: Optional[str]
    package: str  # the OSV (source) package name
    version: str  # the affected version in the image
    fixed: Optional[str]  # the first fixed version above it, if the record names one


class VulnDiff(NamedTuple):
    fixed: tuple[Finding, ...]  # affect the old image, not the new one
    introduced: tuple[Finding, ...]  # affect the new image, not the old one
    before: int
    after: int


class Source(Protocol):
    def candidates(self, queries: Sequence[Query]) -> list[Advisory]:
        """Records that may affect some of ``queries`` (matched afterwards)."""


# --- SBOM package -> OSV query ----------------------------------------------

_DEBIAN_CODENAMES = {
    'wheezy': '7', 'jessie': '8', 'stretch': '9', 'buster': '10',
    'bullseye': '11', 'bookworm': '12', 'trixie': '13', 'forky': '14',
}
_LANGUAGE = {
    'pypi': 'PyPI', 'npm': 'npm', 'golang': 'Go', 'maven': 'Maven',
    'gem': 'RubyGems', 'nuget': 'NuGet', 'composer': 'Packagist', 'cargo': 'crates.io',
}
_NAMESPACED = {'npm': '/', 'golang': '/', 'maven': ':', 'composer': '/'}


def _release(distro: str, prefix: str) -> Optional[tuple[str, ...]]:
    """``debian-12.5`` / ``12`` -> ('12', '5'); None if it is not one."""
    text = distro[len(prefix) + 1:] if distro.startswith(prefix + '-') else distro
    text = text[1:] if text.startswith('v') else text
    parts = tuple(text.split('.'))
    return parts if all(p.isdigit() for p in parts) and parts[0] else None


def _debian(distro: str) -> Optional[str]:
    if distro in _DEBIAN_CODENAMES:
        return f'Debian:{_DEBIAN_CODENAMES[distro]}'
    release = _release(distro, 'debian')
    return f'Debian:{release[0]}' if release else None


def _ubuntu(distro: str) -> Optional[str]:
    release = _release(distro, 'ubuntu')
    if not release or len(release) < 2:
        return None
    name = f'{release[0]}.{release[1]}'
    lts = release[1] == '04' and int(release[0]) % 2 == 0
    return f'Ubuntu:{name}:LTS' if lts else f'Ubuntu:{name}'


def _alpine(distro: str) -> Optional[str]:
    release = _release(distro, 'alpine')
    return f'Alpine:v{release[0]}.{release[1]}' if release and len(release) > 1 else None


def ecosystem(purl: Purl) -> Optional[str]:
    """OSV's ecosystem name for a purl, or None (unknown or not covered)."""
    if purl.type in _LANGUAGE:
        return _LANGUAGE[purl.type]
    distro = purl.qualifiers.get('distro', '').lower()
    if purl.type == 'deb':
        return {'debian': _debian, 'ubuntu': _ubuntu}.get(purl.namespace, lambda _: None)(distro)
    if purl.type == 'apk':
        fixed = {'wolfi': 'Wolfi', 'chainguard': 'Chainguard'}.get(purl.namespace)
        return fixed or (_alpine(distro) if purl.namespace == 'alpine' else None)
    return None


def query_for(package: Package) -> Optional[Query]:
    """The OSV query for an SBOM package: source package and version."""
    purl = parse_purl(package.purl)
    if purl is None or not purl.version:
        return None
    name_of = ecosystem(purl)
    if name_of is None:
        return None
    if purl.type in _NAMESPACED and purl.namespace:
        return Query(name_of, f'{purl.namespace}{_NAMESPACED[purl.type]}{purl.name}', purl.version)
    upstream = purl.qualifiers.get('upstream', '')
    source, _, source_version = upstream.partition('@')
    return Query(name_of, source or purl.name, source_version or purl.version)


# --- records ----------------------------------------------------------------

def _str(value: object, limit: int = MAX_TEXT) -> Optional[str]:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _obj(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else ()


def _strings(value: object, limit: int = MAX_TEXT) -> tuple[str, ...]:
    items = _list(value)
    return tuple(s for s in (_str(v, limit) for v in items) if s is not None)


def _range(value: object) -> Optional[Range]:
    data = _obj(value)
    kind = data.get('type')
    if kind not in ('ECOSYSTEM', 'SEMVER'):
        return None  # GIT ranges name commits, not versions
    events = []
    for event in _list(data.get('events')):
        for key in ('introduced', 'fixed', 'last_affected'):
            text = _str(_obj(event).get(key))
            if text is not None:
                events.append((key, text))
    return Range(str(kind), tuple(events))


def _severity_of(*sources: Json) -> Optional[str]:
    for source in sources:
        text = _str(source.get('severity'), 64)
        if text is not None:
            return text
    return None


def _cvss(record: Json) -> Optional[str]:
    for entry in _list(record.get('severity')):
        score = _str(_obj(entry).get('score'), 200)
        if score is not None:
            return score
    return None


def _affected(value: object) -> Optional[Affected]:
    data = _obj(value)
    package = _obj(data.get('package'))
    eco, name = _str(package.get('ecosystem'), 64), _str(package.get('name'))
    if eco is None or name is None:
        return None
    ranges = tuple(r for r in map(_range, _list(data.get('ranges'))) if r)
    severity = _severity_of(_obj(data.get('ecosystem_specific')), _obj(data.get('database_specific')))
    return Affected(eco, name, ranges, frozenset(_strings(data.get('versions'))), severity)


def parse_record(value: object) -> Optional[Advisory]:
    """One OSV record, validated; None if it is not one or is withdrawn."""
    record = _obj(value)
    ident = _str(record.get('id'), MAX_ID)
    if ident is None or record.get('withdrawn'):
        return None
    aliases = _strings(record.get('aliases'), MAX_ID) + tuple(
        u for u in _strings(record.get('upstream'), MAX_ID) if u.startswith('CVE-')
    )
    affected = tuple(a for a in map(_affected, _list(record.get('affected'))) if a)
    severity = _severity_of(_obj(record.get('database_specific'))) or _cvss(record)
    return Advisory(ident, tuple(dict.fromkeys(aliases))[:20], severity, affected)


# --- matching ---------------------------------------------------------------

def _scheme(eco: str, kind: str) -> Optional[Scheme]:
    if kind not in ('ECOSYSTEM', 'SEMVER'):
        return None  # GIT ranges name commits
    base = BY_ECOSYSTEM.get(eco.split(':', 1)[0])
    return base if base is not None else (BY_ECOSYSTEM['npm'] if kind == 'SEMVER' else None)


_Event = tuple[str, str, Optional[Version]]  # kind, text, parsed (None: introduced "0")


_KEYED: dict[tuple[Scheme, tuple[tuple[str, str], ...]], tuple[_Event, ...]] = {}


def _keyed(scheme: Scheme, events: tuple[tuple[str, str], ...]) -> tuple[_Event, ...]:
    """A range's events, parsed and in order: once per range, whatever the number of versions."""
    memo_key = (scheme, events)
    if memo_key in _KEYED:
        return _KEYED[memo_key]
    late = versions.late()
    keyed: list[_Event] = [
        (kind, text, None if text == '0' else parse(scheme, text)) for kind, text in events
    ]
    keyed = [e for e in keyed if e[2] is not None or (e[0] == 'introduced' and e[1] == '0')]
    keyed.sort(key=functools.cmp_to_key(_event_order))
    if versions.late() == late and len(_KEYED) < 65_536:  # not when the deadline cut it short
        _KEYED[memo_key] = tuple(keyed)
    return tuple(keyed)


def _in_range(scheme: Scheme, version: str, events: tuple[tuple[str, str], ...]) -> tuple[bool, Optional[str]]:
    """OSV's evaluation of one range: (affected, first fixed version above)."""
    current = parse(scheme, version)
    if current is None:
        return False, None
    keyed = _keyed(scheme, events)
    affected = False
    for kind, _, at in keyed:
        if kind == 'introduced' and (at is None or current >= at):
            affected = True
        elif kind == 'fixed' and at is not None and current >= at:
            affected = False
        elif kind == 'last_affected' and at is not None and current > at:
            affected = False
    fixed = next((t for k, t, at in keyed if k == 'fixed' and at is not None and at > current), None)
    return affected, fixed


def _event_order(a: _Event, b: _Event) -> int:
    if a[2] is None or b[2] is None:
        return (a[2] is not None) - (b[2] is not None)
    return (a[2] > b[2]) - (a[2] < b[2])


def affects(entry: Affected, query: Query) -> tuple[bool, Optional[str]]:
    """Whether ``entry`` affects ``query``'s version, and the fix it names."""
    if entry.ecosystem != query.ecosystem or entry.name != query.name:
        return False, None
    listed = query.version in entry.versions
    for one in entry.ranges:
        scheme = _scheme(entry.ecosystem, one.type)
        if scheme is not None:
            hit, fixed = _in_range(scheme, query.version, one.events)
            if hit:
                return True, fixed
    return listed, None


_Index = dict[tuple[str, str], list[tuple[Advisory, Affected]]]
_Hit = tuple[Advisory, Affected, Optional[str]]


def _index(advisories: Sequence[Advisory]) -> _Index:
    """The affected entries by (ecosystem, package name): a version meets only its own package's."""
    by_name: _Index = {}
    for advisory in advisories:
        for entry in advisory.affected:
            by_name.setdefault((entry.ecosystem, entry.name), []).append((advisory, entry))
    return by_name


def _hits(queries: Iterable[Query], index: _Index) -> dict[Query, list[_Hit]]:
    """The entries affecting each query, each query checked once; at most :data:`MAX_CHECKS` checks."""
    wanted = sorted(set(queries))
    checks = sum(len(index.get((q.ecosystem, q.name), ())) for q in wanted)
    if checks > MAX_CHECKS:
        raise OsvError(f'over {MAX_CHECKS:,} version checks (versions x advisories); not compared')
    ret: dict[Query, list[_Hit]] = {}
    for query in wanted:
        found = []
        for advisory, entry in index.get((query.ecosystem, query.name), ()):
            hit, fixed = affects(entry, query)
            if hit:
                found.append((advisory, entry, fixed))
        ret[query] = found
    return ret


def _findings(queries: Iterable[Query], hits: dict[Query, list[_Hit]]) -> dict[tuple[str, str], Finding]:
    found: dict[tuple[str, str], Finding] = {}
    for query in sorted(set(queries)):
        for advisory, entry, fixed in hits[query]:
            if (advisory.id, query.name) not in found:
                severity = entry.severity or advisory.severity
                found[advisory.id, query.name] = Finding(
                    advisory.id, advisory.aliases, severity, query.name, query.version, fixed,
                )
    return found


def findings(queries: Iterable[Query], advisories: Sequence[Advisory]) -> dict[tuple[str, str], Finding]:
    """(advisory id, package) -> finding, for every query an advisory affects."""
    queries = list(queries)
    return _findings(queries, _hits(queries, _index(advisories)))


def _queries(packages: Iterable[Package]) -> set[Query]:
    return {q for q in map(query_for, packages) if q is not None}


def vulnerability_diff(old: Sequence[Package], new: Sequence[Package], source: Source) -> VulnDiff:
    """Advisories fixed and introduced going from ``old`` to ``new`` packages."""
    before_q, after_q = _queries(old), _queries(new)
    advisories = source.candidates(sorted(before_q | after_q))
    hits = _hits(before_q | after_q, _index(advisories))  # a version in both images is checked once
    before, after = _findings(before_q, hits), _findings(after_q, hits)
    return VulnDiff(
        tuple(before[k] for k in sorted(before.keys() - after.keys())),
        tuple(after[k] for k in sorted(after.keys() - before.keys())),
        len(before), len(after),
    )


# --- offline source ---------------------------------------------------------

def _load(data: bytes) -> Optional[Advisory]:
    try:
        return parse_record(untrusted_json.loads(data, MAX_RECORD))
    except untrusted_json.JSONInputError:
        return None


def _zip_records(path: Path) -> Iterator[bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith('.json')]
            if len(members) > MAX_ZIP_MEMBERS:
                raise OsvError(f'{path}: over {MAX_ZIP_MEMBERS} records')
            total = 0
            for member in members:
                total += member.file_size
                if member.file_size > MAX_RECORD or total > MAX_ZIP_TOTAL:
                    raise OsvError(f'{path}: {member.filename} is over the size cap')
                with archive.open(member) as stream:
                    yield stream.read(MAX_RECORD + 1)[:MAX_RECORD]
    except (OSError, zipfile.BadZipFile) as error:
        raise OsvError(f'{path}: {error}') from None


def _file_records(path: Path) -> Iterator[bytes]:
    try:
        if path.stat().st_size > MAX_RECORD:
            raise OsvError(f'{path}: over {MAX_RECORD} bytes')
        yield path.read_bytes()
    except OSError as error:
        raise OsvError(f'{path}: {error.strerror or error}') from None


class DirectorySource:
    """OSV records on disk: a directory of JSON files and/or ``.zip`` exports,
    or one zip file. Read once, keeping only records for the wanted names."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if not self.path.is_dir():
            raise OsvError(f'{self.path}: no such OSV directory or zip')
        files = []
        for p in self.path.rglob('*'):
            if p.suffix in ('.json', '.zip') and p.is_file():
                files.append(p)
                if len(files) > MAX_FILES:
                    raise OsvError(f'{self.path}: over {MAX_FILES:,} files')
        return sorted(files)

    def _raw(self) -> Iterator[bytes]:
        for path in self._files():
            yield from (_zip_records(path) if path.suffix == '.zip' else _file_records(path))

    def candidates(self, queries: Sequence[Query]) -> list[Advisory]:
        wanted = {(q.ecosystem, q.name) for q in queries}
        found = []
        ranges = 0
        for data in self._raw():
            advisory = _load(data)
            if advisory and any((a.ecosystem, a.name) in wanted for a in advisory.affected):
                found.append(advisory)
                ranges += sum(len(a.ranges) for a in advisory.affected)
                if len(found) > MAX_KEPT or ranges > MAX_RANGES:
                    raise OsvError(f'{self.path}: over {MAX_KEPT:,} records or {MAX_RANGES:,} ranges '
                                   'for the packages compared')
        return found


# --- API source -------------------------------------------------------------

class ApiSource:
    """The OSV API at ``base`` (e.g. ``https://api.osv.dev``) through ``http``."""

    def __init__(self, base: str, http: Http) -> None:
        self.base = base.rstrip('/')
        self.http = http

    def _call(self, method: str, path: str, body: Optional[Json] = None) -> Json:
        url = f'{self.base}{path}'
        data = None if body is None else json.dumps(body).encode()
        try:
            status, answer = self.http(method, url, data)
        except PinFromError as error:
            raise OsvUnavailable(f'{url}: {error}') from None
        if status != 200:
            raise OsvUnavailable(f'{url}: HTTP {status}')
        try:
            return untrusted_json.loads_object(answer, MAX_ANSWER)
        except untrusted_json.JSONInputError as e:
            raise OsvUnavailable(f'{url}: answer {e}') from None

    def _batch(self, queries: Sequence[tuple[Query, str]]) -> list[Json]:
        body = {'queries': [
            {'package': {'ecosystem': q.ecosystem, 'name': q.name}, 'version': q.version,
             **({'page_token': token} if token else {})}
            for q, token in queries
        ]}
        results = self._call('POST', '/v1/querybatch', body).get('results')
        if not isinstance(results, list) or len(results) != len(queries):
            raise OsvUnavailable(f'{self.base}/v1/querybatch: answer does not match the queries')
        return [_obj(r) for r in results]

    def _ids(self, queries: Sequence[Query]) -> list[str]:
        pending = [(q, '') for q in queries]
        ids: dict[str, None] = {}
        for _ in range(MAX_PAGES):
            more: list[tuple[Query, str]] = []
            for start in range(0, len(pending), BATCH):
                chunk = pending[start:start + BATCH]
                for (query, _), result in zip(chunk, self._batch(chunk)):
                    vulns = _list(result.get('vulns'))
                    ids.update((i, None) for i in (_str(_obj(v).get('id'), MAX_ID) for v in vulns) if i)
                    token = _str(result.get('next_page_token'), 4096)
                    if token:
                        more.append((query, token))
            if not more:
                break
            pending = more  # the API pages per query: ask again with its token
        if len(ids) > MAX_IDS:
            raise OsvUnavailable(f'{self.base}: over {MAX_IDS} advisories named')
        return list(ids)

    def candidates(self, queries: Sequence[Query]) -> list[Advisory]:
        found = []
        for ident in self._ids(queries):
            advisory = parse_record(self._call('GET', f'/v1/vulns/{urllib.parse.quote(ident, safe="")}'))
            if advisory is not None:
                found.append(advisory)
        return found


def open_source(spec: str, http: Optional[Http]) -> Source:
    """``--osv URL_OR_DIR``: the API for an http(s) URL, else a path."""
    if re.match(r'^https?://', spec):
        if http is None:
            raise OsvError('--osv URL needs network access (not with --offline)')
        return ApiSource(spec, http)
    return DirectorySource(Path(spec))


def http_calls(http: PinHttp, limit: int = MAX_ANSWER) -> Http:
    """An :data:`Http` over the run's one :class:`pin_from.registry.http.Http`: its
    deadlines and retries, a body capped at ``limit`` bytes, no redirects."""
    def call(method: str, url: str, body: Optional[bytes]) -> tuple[int, bytes]:
        headers = {'Content-Type': 'application/json'} if body is not None else {}
        resp = http.request(method, url, cap=limit, headers=headers, data=body)
        return resp.status, resp.body  # TransportError, BodyError: ApiSource names them
    return call
