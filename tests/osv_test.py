"""pin_from.explain.osv: queries, matching, and the offline and API sources."""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from pin_from.explain.attestations import Package
from pin_from.registry.http import Http
from pin_from.explain.osv import (
    Affected, ApiSource, DirectorySource, OsvError, OsvUnavailable, Query, Range,
    affects, findings, open_source, parse_record, query_for, http_calls,
    vulnerability_diff,
)
from tests.registry_server import free_port

OSV = Path(__file__).parent / 'data' / 'osv'
DSA = OSV / 'Debian' / 'DSA-3029-1.json'
UBUNTU = OSV / 'Ubuntu' / 'UBUNTU-CVE-2025-38094.json'
NGINX_OLD = Package('nginx-light', '1.2.1-2.2+wheezy2',
                    'pkg:deb/debian/nginx-light@1.2.1-2.2+wheezy2?arch=amd64&upstream=nginx&distro=debian-7')
NGINX_NEW = Package('nginx-light', '1.2.1-2.2+wheezy3',
                    'pkg:deb/debian/nginx-light@1.2.1-2.2+wheezy3?arch=amd64&upstream=nginx&distro=debian-7')


def _p(purl: str) -> Package:
    return Package('x', 'x', purl)


@pytest.mark.parametrize('purl, expected', [
    ('pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12',
     Query('Debian:12', 'openssl', '3.0.11-1~deb12u2')),
    ('pkg:deb/debian/libgcc-s1@12.2.0-14?upstream=gcc-12%4012.2.0-14&distro=debian-12.5',
     Query('Debian:12', 'gcc-12', '12.2.0-14')),  # the source version, not the binary's
    ('pkg:deb/debian/bash@5.2.15-2+b2?upstream=bash%405.2.15-2&distro=bookworm',
     Query('Debian:12', 'bash', '5.2.15-2')),
    ('pkg:deb/ubuntu/libssl3t64@3.0.13-0ubuntu3.1?upstream=openssl&distro=ubuntu-24.04',
     Query('Ubuntu:24.04:LTS', 'openssl', '3.0.13-0ubuntu3.1')),
    ('pkg:deb/ubuntu/bash@5.2-1?distro=ubuntu-24.10', Query('Ubuntu:24.10', 'bash', '5.2-1')),
    ('pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&upstream=openssl&distro=alpine-3.20.3',
     Query('Alpine:v3.20', 'openssl', '3.3.2-r0')),
    ('pkg:apk/alpine/busybox@1.36.1-r29?distro=3.20.1', Query('Alpine:v3.20', 'busybox', '1.36.1-r29')),
    ('pkg:apk/wolfi/glibc@2.40-r1?arch=x86_64&distro=wolfi-20230201', Query('Wolfi', 'glibc', '2.40-r1')),
    ('pkg:pypi/requests@2.31.0', Query('PyPI', 'requests', '2.31.0')),
    ('pkg:npm/%40babel/core@7.0.0', Query('npm', '@babel/core', '7.0.0')),
    ('pkg:golang/golang.org/x/net@v0.1.0', Query('Go', 'golang.org/x/net', 'v0.1.0')),
    ('pkg:maven/org.apache/log4j-core@2.14.1', Query('Maven', 'org.apache:log4j-core', '2.14.1')),
    ('pkg:deb/debian/bash@5.2?distro=debian-unstable', None),  # no release number
    ('pkg:deb/debian/bash@5.2', None),  # no distro: no ecosystem
    ('pkg:apk/alpine/busybox@1.36?distro=alpine-3', None),
    ('pkg:rpm/fedora/bash@5.2', None),
    ('pkg:pypi/requests', None),  # no version
])
def test_query_for(purl, expected):
    assert query_for(_p(purl)) == expected


# Constructed in the shape of OSV's Alpine records (no verbatim one at hand):
ALPINE = {
    'id': 'ALPINE-CVE-0000-0001 (constructed)',
    'upstream': ['CVE-0000-0001'],
    'affected': [{
        'package': {'ecosystem': 'Alpine:v3.20', 'name': 'openssl',
                    'purl': 'pkg:apk/alpine/openssl?arch=source'},
        'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': '3.3.2-r0'}]}],
    }],
}


def _entry(events, kind='ECOSYSTEM', versions=(), eco='Debian:12', name='openssl'):
    return Affected(eco, name, (Range(kind, tuple(events)),), frozenset(versions), None)


@pytest.mark.parametrize('entry, version, expected', [
    (_entry([('introduced', '0'), ('fixed', '3.0.13-1~deb12u1')]), '3.0.11-1~deb12u2', (True, '3.0.13-1~deb12u1')),
    (_entry([('introduced', '0'), ('fixed', '3.0.13-1~deb12u1')]), '3.0.13-1~deb12u1', (False, None)),
    (_entry([('introduced', '0'), ('fixed', '3.0.13-1~deb12u1')]), '3.0.13-1', (False, None)),
    (_entry([('introduced', '3.0.0'), ('last_affected', '3.0.5')]), '3.0.5', (True, None)),
    (_entry([('introduced', '3.0.0'), ('last_affected', '3.0.5')]), '3.0.6', (False, None)),
    (_entry([('introduced', '3.0.0'), ('last_affected', '3.0.5')]), '2.9', (False, None)),
    # two windows, given out of order: OSV sorts the events
    (_entry([('introduced', '2.0'), ('fixed', '2.5'), ('introduced', '0'), ('fixed', '1.5')]), '2.1', (True, '2.5')),
    (_entry([('introduced', '2.0'), ('fixed', '2.5'), ('introduced', '0'), ('fixed', '1.5')]), '1.7', (False, None)),
    (_entry([('introduced', '0')]), '9.9', (True, None)),
    (_entry([], versions=['1.0-1']), '1.0-1', (True, None)),  # only the versions list
    (_entry([], versions=['1.0-1']), '1.0-2', (False, None)),
    (_entry([('introduced', '0'), ('fixed', '1.0')], kind='GIT'), '0.5', (False, None)),
    (_entry([('introduced', '1.0.0'), ('fixed', '1.2.0')], kind='SEMVER', eco='npm'), '1.1.9', (True, '1.2.0')),
    (_entry([('introduced', '0'), ('fixed', '1.0')]), 'not a version!', (False, None)),
])
def test_affects(entry, version, expected):
    assert affects(entry, Query(entry.ecosystem, entry.name, version)) == expected


def test_affects_only_its_ecosystem_and_package():
    entry = _entry([('introduced', '0'), ('fixed', '1.0')], eco='Debian:11')
    assert affects(entry, Query('Debian:11', 'openssl', '0.5')) == (True, '1.0')
    assert affects(entry, Query('Debian:12', 'openssl', '0.5')) == (False, None)
    assert affects(entry, Query('Debian:11', 'openssl-other', '0.5')) == (False, None)


def test_alpine_record_matches_by_branch_and_apk_order():
    advisory = parse_record(ALPINE)
    old = _p('pkg:apk/alpine/libcrypto3@3.3.1-r3?upstream=openssl&distro=alpine-3.20.3')
    new = _p('pkg:apk/alpine/libcrypto3@3.3.10-r0?upstream=openssl&distro=alpine-3.20.3')
    other_branch = _p('pkg:apk/alpine/libcrypto3@3.3.1-r3?upstream=openssl&distro=alpine-3.21.0')
    assert advisory is not None
    found = findings([q for p in (old, new, other_branch) if (q := query_for(p)) is not None], [advisory])
    assert list(found.values())[0].version == '3.3.1-r3'
    assert len(found) == 1
    assert advisory.aliases == ('CVE-0000-0001',)


def test_parse_real_records():
    dsa = parse_record(json.loads(DSA.read_bytes()))
    assert (dsa.id, dsa.aliases, dsa.severity) == ('DSA-3029-1', ('CVE-2014-3616',), None)
    assert dsa.affected[0].ranges[0].events == (('introduced', '0'), ('fixed', '1.2.1-2.2+wheezy3'))
    ubuntu = parse_record(json.loads(UBUNTU.read_bytes()))
    assert ubuntu.aliases == ('CVE-2025-38094',)
    assert ubuntu.severity == 'medium'
    assert '3.13.0-206.257' in ubuntu.affected[0].versions
    hit = affects(ubuntu.affected[0], Query('Ubuntu:Pro:14.04:LTS', 'linux', '3.13.0-100.147'))
    assert hit == (True, None)


@pytest.mark.parametrize('record', [
    {}, [], 'x', {'id': 5}, {'id': 'X', 'withdrawn': '2024-01-01T00:00:00Z'}, {'id': 'x' * 200},
])
def test_parse_record_refuses_non_records(record):
    assert parse_record(record) is None


def test_parse_record_tolerates_bad_parts():
    advisory = parse_record({'id': 'X-1', 'aliases': [1, 'CVE-1'], 'affected': [
        None, {'package': 'x'}, {'package': {'ecosystem': 'npm', 'name': 'a'}, 'ranges': 'no',
                                 'versions': [1, '1.0'], 'ecosystem_specific': {'severity': 'HIGH'}}],
        'severity': [{'type': 'CVSS_V3', 'score': 'CVSS:3.1/AV:N'}]})
    assert advisory.aliases == ('CVE-1',)
    assert advisory.severity == 'CVSS:3.1/AV:N'
    assert advisory.affected == (Affected('npm', 'a', (), frozenset({'1.0'}), 'HIGH'),)


def test_directory_source_reads_json_files(tmp_path):
    (tmp_path / 'Debian').mkdir()
    (tmp_path / 'Debian' / 'DSA-3029-1.json').write_bytes(DSA.read_bytes())
    (tmp_path / 'Debian' / 'broken.json').write_bytes(b'{not json')
    diff = vulnerability_diff([NGINX_OLD], [NGINX_NEW], DirectorySource(tmp_path))
    assert [f.id for f in diff.fixed] == ['DSA-3029-1']
    assert diff.fixed[0].fixed == '1.2.1-2.2+wheezy3'
    assert diff.fixed[0].package == 'nginx'
    assert (diff.introduced, diff.before, diff.after) == ((), 1, 0)


def _export_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.write(DSA, 'DSA-3029-1.json')
        archive.write(UBUNTU, 'UBUNTU-CVE-2025-38094.json')
    return path


def test_directory_source_reads_an_all_zip_file_and_a_zip_in_a_directory(tmp_path):
    (tmp_path / 'Debian').mkdir()
    zipped = _export_zip(tmp_path / 'Debian' / 'all.zip')
    for source in (DirectorySource(zipped), DirectorySource(tmp_path)):
        found = source.candidates([Query('Debian:7', 'nginx', '1.2.1-2.2+wheezy2')])
        assert [a.id for a in found] == ['DSA-3029-1']  # the Ubuntu record is not wanted


def test_zip_members_over_the_cap_are_refused(tmp_path, monkeypatch):
    zipped = _export_zip(tmp_path / 'all.zip')
    monkeypatch.setattr('pin_from.explain.osv.MAX_RECORD', 1000)
    with pytest.raises(OsvError, match='over the size cap'):
        DirectorySource(zipped).candidates([Query('Debian:7', 'nginx', '1')])


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(OsvError, match='no such OSV directory'):
        DirectorySource(tmp_path / 'nope').candidates([])


class _Api(http.server.BaseHTTPRequestHandler):
    """OSV's two API routes, answered from tests/data/osv."""

    records = {json.loads(p.read_bytes())['id']: p.read_bytes() for p in (DSA, UBUNTU)}
    seen: list[tuple[str, str, object]] = []

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.seen.append(('POST', self.path, body))
        if self.path != '/v1/querybatch':
            return self._send(404, b'{}')
        results = []
        for query in body['queries']:
            ids = [rid for rid, raw in self.records.items()
                   if parse_record(json.loads(raw)).affected[0].name == query['package']['name']]
            results.append({'vulns': [{'id': i, 'modified': '2025-01-01T00:00:00Z'} for i in ids]})
        self._send(200, json.dumps({'results': results}).encode())

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(('GET', self.path, None))
        ident = self.path.removeprefix('/v1/vulns/')
        if ident in self.records:
            return self._send(200, self.records[ident])
        self._send(404, b'{"code": 5, "message": "Bug not found."}')

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _http(timeout: float) -> contextlib.closing[Http]:
    """The run's one session, as pin-from makes it."""
    return contextlib.closing(Http(timeout=timeout))


@pytest.fixture
def osv_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Api)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    _Api.seen.clear()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_api_source_queries_then_fetches_the_named_records(osv_api):
    with _http(5) as http:
        source = open_source(osv_api, http_calls(http))
        diff = vulnerability_diff([NGINX_OLD, _p('pkg:pypi/requests@2.31.0')], [NGINX_NEW], source)
    assert [f.id for f in diff.fixed] == ['DSA-3029-1']
    assert (diff.before, diff.after) == (1, 0)
    post = _Api.seen[0]
    assert post[:2] == ('POST', '/v1/querybatch')
    assert post[2] == {'queries': [
        {'package': {'ecosystem': 'Debian:7', 'name': 'nginx'}, 'version': '1.2.1-2.2+wheezy2'},
        {'package': {'ecosystem': 'Debian:7', 'name': 'nginx'}, 'version': '1.2.1-2.2+wheezy3'},
        {'package': {'ecosystem': 'PyPI', 'name': 'requests'}, 'version': '2.31.0'},
    ]}
    assert _Api.seen[1:] == [('GET', '/v1/vulns/DSA-3029-1', None)]


def test_a_down_api_is_osv_unavailable():
    with _http(2) as http:
        source = ApiSource(f'http://127.0.0.1:{free_port()}', http_calls(http))
        with pytest.raises(OsvUnavailable, match='cannot reach 127.0.0.1:[0-9]+ .connection refused.'):
            source.candidates([Query('Debian:7', 'nginx', '1')])


@pytest.mark.parametrize('answer, message', [
    ((500, b'{}'), 'HTTP 500'),
    ((200, b'<html>'), 'not JSON'),
    ((200, b'{"results": []}'), 'does not match the queries'),
])
def test_api_nonsense_is_osv_unavailable(answer, message):
    source = ApiSource('http://osv.invalid', lambda method, url, body: answer)
    with pytest.raises(OsvUnavailable, match=message):
        source.candidates([Query('Debian:7', 'nginx', '1')])


def test_api_follows_page_tokens():
    pages = iter([
        {'results': [{'vulns': [{'id': 'A'}], 'next_page_token': 't1'}]},
        {'results': [{'vulns': [{'id': 'B'}]}]},
    ])
    sent = []

    def http(method, url, body):
        if method == 'POST':
            sent.append(json.loads(body))
            return 200, json.dumps(next(pages)).encode()
        return 200, json.dumps({'id': url.rsplit('/', 1)[1]}).encode()

    found = ApiSource('http://osv.invalid', http).candidates([Query('PyPI', 'a', '1')])
    assert [a.id for a in found] == ['A', 'B']
    assert sent[1]['queries'][0]['page_token'] == 't1'


def test_open_source_picks_by_spec(tmp_path):
    assert isinstance(open_source(str(tmp_path), None), DirectorySource)
    with pytest.raises(OsvError, match='offline'):
        open_source('https://api.osv.dev', None)
