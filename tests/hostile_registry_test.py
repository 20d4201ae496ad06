"""Malicious or broken registry answers (issue 7): refused with one line, never trusted.

A real registry cannot be made to send these on demand, so this is the narrow
place for `responses` mocks; the client code under test is the real one.
"""
from __future__ import annotations

import hashlib
import json

import pytest
import responses

from pin_from.registry import changes
from pin_from import reference
from pin_from.registry.cache import Cache
from pin_from.errors import PinFromError
from pin_from.errors import RegistryError
from pin_from.pin import main
from pin_from.registry.client import Client
from pin_from.registry.http import Http
from pin_from.registry.manifest import MAX_MANIFEST as MAX_BODY
from pin_from.registry.client import Options

BASE = 'https://reg.example'
MANIFEST = f'{BASE}/v2/team/app/manifests/1'
REF = reference.parse('reg.example/team/app:1')


def client():
    return Client(Http(5.0), Options({}, frozenset()))


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add('HEAD', f'{BASE}/v2/', status=200)
        yield mock


@pytest.mark.parametrize(
    'header',
    ('sha256:abc', 'md5:' + 'a' * 32, 'sha256:' + 'A' * 64, 'sha256:' + 'a' * 64 + ' x', ''),
)
def test_malformed_digest_header_is_refused(rsps, header):
    rsps.add('HEAD', MANIFEST, status=200, headers={'Docker-Content-Digest': header})
    with pytest.raises(RegistryError, match='^reg.example answered a malformed digest$'):
        client().digest(REF)


def test_missing_header_falls_back_to_hashing_the_body(rsps):
    body = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': []}).encode()
    rsps.add('HEAD', MANIFEST, status=200)
    rsps.add('GET', MANIFEST, status=200, body=body, content_type='application/vnd.oci.image.index.v1+json')
    assert client().digest(REF) == 'sha256:' + hashlib.sha256(body).hexdigest()


def test_oversized_body_is_refused(rsps):
    rsps.add('HEAD', MANIFEST, status=200)
    rsps.add('GET', MANIFEST, status=200, body=b'{' + b' ' * MAX_BODY + b'}')
    with pytest.raises(RegistryError, match='answered an answer larger than 4 MiB'):
        client().digest(REF)


def test_content_that_does_not_match_its_digest_is_refused(rsps):
    digest = 'sha256:' + 'd' * 64
    rsps.add('GET', f'{BASE}/v2/team/app/manifests/{digest}', status=200, body=b'{}')
    with pytest.raises(RegistryError, match='does not match'):
        client().manifest(REF, digest)


def test_non_json_manifest_is_an_error_not_a_crash(rsps, tmp_path):
    body = b'\xff\xfe not json'
    digest = 'sha256:' + hashlib.sha256(body).hexdigest()
    rsps.add('GET', f'{BASE}/v2/team/app/manifests/{digest}', status=200, body=body,
             content_type='application/vnd.oci.image.manifest.v1+json')
    inspector = changes.Inspector(client(), Cache(str(tmp_path)))
    with pytest.raises(PinFromError, match='is not JSON'):
        inspector.platforms(REF, digest)


@pytest.mark.parametrize(
    ('realm', 'message'),
    (
        ('http://auth.example/token', 'plain-HTTP token realm for an HTTPS registry; refused'),
        ('ftp://auth.example/token', 'unusable token realm'),
        ('/token', 'unusable token realm'),
    ),
)
def test_bad_token_realms_are_refused(rsps, realm, message):
    rsps.replace('HEAD', f'{BASE}/v2/', status=401, headers={'WWW-Authenticate': f'Bearer realm="{realm}",service="s"'})
    rsps.add('GET', realm if realm.startswith('http') else 'http://unused', json={'token': 't'})
    with pytest.raises(RegistryError, match=message):
        client().digest(REF)
    assert not [c for c in rsps.calls if 'auth.example' in c.request.url]  # never asked


@pytest.mark.parametrize(
    'body',
    (b'not json', b'[]', b'{"token": ""}', b'{"token": 42}', json.dumps({'token': 'a\r\nX-Evil: 1'}).encode()),
)
def test_unusable_token_answers_are_refused(rsps, body):
    rsps.replace('HEAD', f'{BASE}/v2/', status=401, headers={
        'WWW-Authenticate': 'Bearer realm="https://auth.example/token",service="s"'})
    rsps.add('GET', 'https://auth.example/token', status=200, body=body)
    with pytest.raises(RegistryError, match='without a usable token'):
        client().digest(REF)
    assert not [c for c in rsps.calls if c.request.url == MANIFEST]


@pytest.mark.parametrize(
    'line',
    (
        'FROM reg.example/team/app:1%0d%0aX-Evil:1',
        'FROM reg.example/team/../../v2/_catalog:1',
        'FROM reg.example/team/app:1?x=y',
        'FROM reg.example/team/app:1#frag',
        'FROM reg.example/team/app@sha256:../../x',
    ),
)
def test_references_are_validated_before_any_url_is_built(tmp_path, capsys, line):
    path = tmp_path / 'Dockerfile'
    path.write_text(line + '\n')
    with responses.RequestsMock() as mock:  # any request at all would fail this test
        assert main(['--cache-dir', str(tmp_path / 'c'), str(path)]) == 3
        assert len(mock.calls) == 0
    out = capsys.readouterr().out
    assert out.startswith(f'{path}:1: ') and 'invalid' in out
    assert path.read_text() == line + '\n'
