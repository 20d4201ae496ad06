"""An index with BuildKit attestations, pushed to the real registry, read back
by pin_from.explain.attestations through plain registry GETs."""
from __future__ import annotations

import json
from pathlib import Path

import requests

from pin_from.explain.attestations import BlobTooLarge, read_attestations
from tests.attested_images import SLSA_V02, SPDX, push_attested_image
from tests.registry_server import MANIFEST_ACCEPT, push_image

ATT = Path(__file__).parent / 'data' / 'attestations'


def _fetchers(base: str, repo: str, session: requests.Session, cap: int = 10_000_000):
    def get(kind: str, digest: str) -> bytes:
        resp = session.get(f'{base}/v2/{repo}/{kind}/{digest}', headers={'Accept': MANIFEST_ACCEPT}, timeout=10)
        resp.raise_for_status()
        if len(resp.content) > cap:
            raise BlobTooLarge(digest, cap)
        return resp.content
    return (lambda d: get('manifests', d)), (lambda d: get('blobs', d))


def test_pushed_attestations_are_read_back(registry, unique_repo):
    statements = {
        SPDX: (ATT / 'sbom-new.spdx.json').read_bytes(),
        SLSA_V02: (ATT / 'provenance-old.v0.2.json').read_bytes(),
    }
    pushed = push_attested_image(registry.url, unique_repo, 'attested', statements)
    with requests.Session() as session:
        index = json.loads(session.get(
            f'{registry.url}/v2/{unique_repo}/manifests/attested',
            headers={'Accept': MANIFEST_ACCEPT}, timeout=10).content)
        manifest, blob = _fetchers(registry.url, unique_repo, session)
        amd64 = pushed.platforms['linux/amd64']
        found = read_attestations(index, amd64, manifest, blob)
        small_manifest, small_blob = _fetchers(registry.url, unique_repo, session, cap=2_000)
        capped = read_attestations(index, amd64, small_manifest, small_blob)
    assert len(index['manifests']) == 4  # two platforms, two attestation manifests
    assert found.notes == ()
    assert [p.name for p in found.packages][:2] == ['base-files', 'libc6']
    assert found.provenance.repository == 'https://github.com/nginxinc/docker-nginx'
    assert capped.packages is None and capped.notes == ('SBOM too large (over 0.002 MB)',)
    assert capped.provenance is not None


def test_an_index_without_attestations_says_so(registry, unique_repo):
    push_image(registry.url, unique_repo, 'plain')
    with requests.Session() as session:
        index = session.get(f'{registry.url}/v2/{unique_repo}/manifests/plain',
                            headers={'Accept': MANIFEST_ACCEPT}, timeout=10).json()
        manifest, blob = _fetchers(registry.url, unique_repo, session)
        found = read_attestations(index, index['manifests'][0]['digest'], manifest, blob)
    assert found.notes == ('no attestations on this image',)
