"""Push images whose index carries BuildKit attestation manifests.

BuildKit's layout (``docker buildx build --sbom=true --provenance=true``): the
OCI index lists each platform manifest, then one attestation manifest per
platform with platform ``unknown/unknown`` and the annotations
``vnd.docker.reference.type: attestation-manifest`` and
``vnd.docker.reference.digest: <that platform manifest's digest>``. The
attestation manifest's config is an empty-ish OCI config and its layers are
in-toto statements (``application/vnd.in-toto+json``) annotated
``in-toto.io/predicate-type``.

Everything goes over the registry HTTP API (see :mod:`tests.registry_server`).
This module must not import pytest.
"""
from __future__ import annotations

import json
from typing import Mapping, NamedTuple, Sequence

from tests.registry_server import (
    DEFAULT_PLATFORMS, OCI_INDEX, OCI_MANIFEST, Platform, _Client, _platform_dict,
    _push_platform, _sha256,
)

IN_TOTO = 'application/vnd.in-toto+json'
SPDX = 'https://spdx.dev/Document'
SLSA_V02 = 'https://slsa.dev/provenance/v0.2'


class Pushed(NamedTuple):
    index: str  # type: ignore[assignment]  # the tag's digest (the field shadows tuple.index)
    platforms: dict[str, str]  # 'os/arch' -> platform manifest digest
    attestations: dict[str, str]  # platform manifest digest -> attestation manifest digest


def _attestation_manifest(client: _Client, statements: Mapping[str, bytes]) -> bytes:
    config = json.dumps({
        'architecture': 'unknown', 'os': 'unknown', 'config': {},
        'rootfs': {'type': 'layers', 'diff_ids': [_sha256(s) for s in statements.values()]},
    }).encode()
    layers = [
        {'mediaType': IN_TOTO, 'digest': client.upload_blob(data), 'size': len(data),
         'annotations': {'in-toto.io/predicate-type': kind}}
        for kind, data in statements.items()
    ]
    return json.dumps({
        'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
        'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                   'digest': client.upload_blob(config), 'size': len(config)},
        'layers': layers,
    }, indent=2).encode()


def push_attested_image(
        registry_url: str,
        repository: str,
        tag: str,
        statements: Mapping[str, bytes],
        *,
        platforms: Sequence[Platform] = DEFAULT_PLATFORMS,
        seed: str = '',
) -> Pushed:
    """Push ``repository:tag``: an index of ``platforms`` each with an
    attestation manifest holding ``statements`` (predicate type -> bytes)."""
    client = _Client(registry_url, repository, None, 'pull,push')
    entries, names, attested = [], {}, {}
    for platform in platforms:
        manifest, digest = _push_platform(client, platform, None, None, 1, seed)
        entries.append({'mediaType': OCI_MANIFEST, 'size': len(manifest), 'digest': digest,
                        'platform': _platform_dict(platform)})
        names['/'.join(platform)] = digest
    for digest in list(names.values()):
        body = _attestation_manifest(client, statements)
        attested[digest] = client.put_manifest(_sha256(body), body, OCI_MANIFEST)
        entries.append({
            'mediaType': OCI_MANIFEST, 'size': len(body), 'digest': attested[digest],
            'platform': {'architecture': 'unknown', 'os': 'unknown'},
            'annotations': {'vnd.docker.reference.digest': digest,
                            'vnd.docker.reference.type': 'attestation-manifest'},
        })
    index = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': entries}, indent=2).encode()
    return Pushed(client.put_manifest(tag, index, OCI_INDEX), names, attested)
