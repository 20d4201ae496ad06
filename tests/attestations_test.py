"""pin_from.explain.attestations: finding, reading and validating BuildKit attestations."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pin_from.explain.attestations import (
    IN_TOTO, SLSA, SPDX, AttestationError, Attestations, BlobTooLarge, Package,
    Provenance, attestation_manifest, parse_provenance, parse_sbom,
    read_attestations, statement_layers,
)
from pin_from.errors import PinFromError

DATA = Path(__file__).parent / 'data' / 'attestations'
PLATFORM = 'sha256:' + 'a' * 64
ATT = 'sha256:' + 'b' * 64
SBOM_LAYER = 'sha256:' + 'c' * 64
PROV_LAYER = 'sha256:' + 'd' * 64


def _index(*entries: dict) -> dict:
    return {'schemaVersion': 2, 'manifests': list(entries)}


def _att_entry(ref: str = PLATFORM, digest: str = ATT, kind: str = 'attestation-manifest') -> dict:
    return {
        'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': digest, 'size': 1,
        'platform': {'os': 'unknown', 'architecture': 'unknown'},
        'annotations': {'vnd.docker.reference.type': kind, 'vnd.docker.reference.digest': ref},
    }


def _layer(digest: str, predicate: str, media: str = IN_TOTO) -> dict:
    return {'mediaType': media, 'digest': digest, 'size': 1,
            'annotations': {'in-toto.io/predicate-type': predicate}}


@pytest.mark.parametrize('index, expected', [
    (_index(_att_entry()), ATT),
    (_index({'digest': PLATFORM, 'platform': {'os': 'linux'}}, _att_entry()), ATT),
    (_index(_att_entry(ref='sha256:' + 'e' * 64)), None),  # another platform's
    (_index(_att_entry(kind='something-else')), None),
    (_index(_att_entry(digest='md5:abc')), None),  # not a digest we fetch
    (_index(), None),
    ({'manifests': 'nonsense'}, None),
    ({'manifests': [None, 3, 'x', {'annotations': []}]}, None),
])
def test_attestation_manifest(index, expected):
    assert attestation_manifest(index, PLATFORM) == expected


@pytest.mark.parametrize('layers, expected', [
    ([_layer(SBOM_LAYER, SPDX), _layer(PROV_LAYER, SLSA[0])], {SPDX: SBOM_LAYER, SLSA[0]: PROV_LAYER}),
    ([_layer(PROV_LAYER, SLSA[1])], {SLSA[1]: PROV_LAYER}),
    ([_layer(SBOM_LAYER, SPDX, media='application/json')], {}),
    ([_layer(SBOM_LAYER, 'https://cyclonedx.org/bom')], {}),
    ([_layer(SBOM_LAYER, SPDX), _layer(PROV_LAYER, SPDX)], {SPDX: SBOM_LAYER}),  # first wins
    ('not a list', {}),
])
def test_statement_layers(layers, expected):
    assert statement_layers({'layers': layers}) == expected


def test_parse_sbom_reads_names_versions_and_purls():
    packages = parse_sbom((DATA / 'sbom-old.spdx.json').read_bytes())
    assert len(packages) == 6
    assert packages[4] == Package(
        'nginx-light', '1.2.1-2.2+wheezy2',
        'pkg:deb/debian/nginx-light@1.2.1-2.2+wheezy2?arch=amd64&upstream=nginx&distro=debian-7',
    )
    assert packages[5] == Package('requests', '2.31.0', 'pkg:pypi/requests@2.31.0')


def _sbom(packages: object) -> bytes:
    return json.dumps({'predicateType': SPDX, 'predicate': {'packages': packages}}).encode()


@pytest.mark.parametrize('entry, expected', [
    ({'name': 'a', 'versionInfo': '1'}, (Package('a', '1', None),)),
    ({'name': 'a', 'versionInfo': '1', 'externalRefs': [
        {'referenceType': 'cpe23Type', 'referenceLocator': 'cpe:2.3:a'},
        {'referenceType': 'purl', 'referenceLocator': 'pkg:npm/a@1'}]}, (Package('a', '1', 'pkg:npm/a@1'),)),
    ({'name': 'a', 'versionInfo': '1', 'externalRefs': [
        {'referenceType': 'purl', 'referenceLocator': 'http://evil'}]}, (Package('a', '1', None),)),
    ({'name': 'a'}, ()),  # no version: not a package we can compare
    ({'name': 'x' * 600, 'versionInfo': '1'}, ()),  # over the length cap
    ({'name': 7, 'versionInfo': '1'}, ()),
    ('string', ()),
])
def test_parse_sbom_validates_each_package(entry, expected):
    assert parse_sbom(_sbom([entry])) == expected


@pytest.mark.parametrize('data, message', [
    (b'\xff\xfe', 'not JSON'),
    (b'[]', 'not a JSON object'),
    (json.dumps({'predicateType': SLSA[0], 'predicate': {}}).encode(), 'predicate type'),
    (json.dumps({'predicateType': SPDX, 'predicate': 'x'}).encode(), 'no predicate'),
])
def test_parse_sbom_refuses_what_is_not_an_sbom(data, message):
    with pytest.raises(AttestationError, match=message):
        parse_sbom(data)


def test_provenance_v02_prefers_buildkit_vcs_metadata():
    data = (DATA / 'provenance-old.v0.2.json').read_bytes()
    assert parse_provenance(data, SLSA[0]) == Provenance(
        'https://github.com/nginxinc/docker-nginx',
        '0f3f4e3b0c1f1f4e1a6d2b1c9e8f7a6b5c4d3e2f',
        '2014-09-01T10:00:00.000000000Z',
    )


def test_provenance_v1():
    data = (DATA / 'provenance-new.v1.json').read_bytes()
    assert parse_provenance(data, SLSA[1]) == Provenance(
        'https://github.com/nginxinc/docker-nginx',
        '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b',
        '2014-09-21T10:00:00.000000000Z',
    )


def _v02(predicate: dict) -> bytes:
    return json.dumps({'predicateType': SLSA[0], 'predicate': predicate}).encode()


@pytest.mark.parametrize('predicate, expected', [
    ({'invocation': {'configSource': {'uri': 'https://github.com/o/r.git', 'digest': {'sha1': 'abc1234'}}}},
     Provenance('https://github.com/o/r.git', 'abc1234', None)),
    ({'invocation': {'parameters': {'args': {'vcs:source': 'https://github.com/o/r', 'vcs:revision': 'f00d123'}}}},
     Provenance('https://github.com/o/r', 'f00d123', None)),
    ({'invocation': {'configSource': {'uri': 5, 'digest': 'x'}}, 'metadata': {'buildFinishedOn': ['x']}},
     Provenance(None, None, None)),
    ({}, Provenance(None, None, None)),
])
def test_provenance_v02_fallbacks_and_bad_types(predicate, expected):
    assert parse_provenance(_v02(predicate), SLSA[0]) == expected


class Registry:
    """Injected fetchers over a dict; records what was asked."""

    def __init__(self, manifests: dict[str, bytes], blobs: dict[str, bytes | Exception]) -> None:
        self.manifests, self.blobs, self.asked = manifests, blobs, []

    def manifest(self, digest: str) -> bytes:
        self.asked.append(('manifests', digest))
        return self.manifests[digest]

    def blob(self, digest: str) -> bytes:
        self.asked.append(('blobs', digest))
        found = self.blobs[digest]
        if isinstance(found, Exception):
            raise found
        return found


def _attestation_manifest(*layers: dict) -> bytes:
    return json.dumps({'schemaVersion': 2, 'layers': list(layers)}).encode()


def test_read_attestations_reads_both_statements():
    fake = Registry(
        {ATT: _attestation_manifest(_layer(SBOM_LAYER, SPDX), _layer(PROV_LAYER, SLSA[0]))},
        {SBOM_LAYER: (DATA / 'sbom-new.spdx.json').read_bytes(),
         PROV_LAYER: (DATA / 'provenance-old.v0.2.json').read_bytes()},
    )
    found = read_attestations(_index(_att_entry()), PLATFORM, fake.manifest, fake.blob)
    assert found.packages is not None and len(found.packages) == 6
    assert found.provenance is not None and found.provenance.commit.startswith('0f3f4e3')
    assert found.notes == ()
    assert fake.asked == [('manifests', ATT), ('blobs', SBOM_LAYER), ('blobs', PROV_LAYER)]


def test_no_attestation_manifest_is_one_note_and_no_fetch():
    fake = Registry({}, {})
    found = read_attestations(_index(), PLATFORM, fake.manifest, fake.blob)
    assert found == Attestations(None, None, ('no attestations on this image',))
    assert fake.asked == []


def test_sbom_over_the_cap_is_one_note_provenance_still_read():
    fake = Registry(
        {ATT: _attestation_manifest(_layer(SBOM_LAYER, SPDX), _layer(PROV_LAYER, SLSA[1]))},
        {SBOM_LAYER: BlobTooLarge(SBOM_LAYER, 50_000_000),
         PROV_LAYER: (DATA / 'provenance-new.v1.json').read_bytes()},
    )
    found = read_attestations(_index(_att_entry()), PLATFORM, fake.manifest, fake.blob)
    assert found.packages is None
    assert found.notes == ('SBOM too large (over 50 MB)',)
    assert found.provenance is not None


def test_malformed_parts_are_notes_not_exceptions():
    fake = Registry(
        {ATT: _attestation_manifest(_layer(SBOM_LAYER, SPDX), _layer(PROV_LAYER, SLSA[0]))},
        {SBOM_LAYER: b'{"predicateType": "https://spdx.dev/Document"}', PROV_LAYER: b'<html>'},
    )
    found = read_attestations(_index(_att_entry()), PLATFORM, fake.manifest, fake.blob)
    assert found == Attestations(None, None, (
        'SBOM unreadable: attestation has no predicate',
        'provenance unreadable: attestation is not JSON',
    ))


def test_an_unreadable_attestation_manifest_is_a_note():
    fake = Registry({ATT: b'[1]'}, {})
    found = read_attestations(_index(_att_entry()), PLATFORM, fake.manifest, fake.blob)
    assert found.notes == ('attestations unreadable: attestation manifest is not a JSON object',)


def test_other_fetch_errors_are_let_through():
    class Down(PinFromError):
        pass

    def manifest(digest: str) -> bytes:
        raise Down('registry down')

    with pytest.raises(Down):
        read_attestations(_index(_att_entry()), PLATFORM, manifest, manifest)
