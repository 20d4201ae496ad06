"""BuildKit attestations of an image: its SBOM packages and SLSA provenance.

BuildKit puts, next to each platform manifest of an index, an "attestation
manifest" (platform ``unknown/unknown``) annotated
``vnd.docker.reference.type: attestation-manifest`` and
``vnd.docker.reference.digest: <platform manifest digest>``. Its layers are
in-toto statements (``application/vnd.in-toto+json``) whose annotation
``in-toto.io/predicate-type`` names the predicate: an SPDX document (the SBOM)
or SLSA provenance v0.2 / v1.

Everything read here comes from a registry and is validated: a malformed part
is "no data" with a one-line note, never an exception other than
:class:`~pin_from.errors.PinFromError` from the injected fetchers.
"""
from __future__ import annotations

from typing import Callable, Mapping, NamedTuple, Optional, Sequence

from pin_from import untrusted_json
from pin_from.errors import PinFromError

IN_TOTO = 'application/vnd.in-toto+json'
SPDX = 'https://spdx.dev/Document'
SLSA = ('https://slsa.dev/provenance/v0.2', 'https://slsa.dev/provenance/v1')
REF_TYPE = 'vnd.docker.reference.type'
REF_DIGEST = 'vnd.docker.reference.digest'
PREDICATE_TYPE = 'in-toto.io/predicate-type'
BUILDKIT_METADATA = 'https://mobyproject.org/buildkit@v1#metadata'
MAX_PACKAGES = 100_000
MAX_FIELD = 512  # names, versions
MAX_URL = 2048  # purls, repository URLs
MAX_JSON = 32_000_000  # bytes of one attestation document (an SBOM), as attested.MAX_STATEMENT

Fetch = Callable[[str], bytes]  # digest -> bytes (capped, cached by the caller)
Json = Mapping[str, object]


class AttestationError(PinFromError):
    """An attestation that is there but cannot be read: one line, why."""


class BlobTooLarge(AttestationError):
    """Raised by a fetcher when a blob is over its cap (``limit`` bytes)."""

    def __init__(self, digest: str, limit: int) -> None:
        super().__init__(f'{digest}: over {limit} bytes')
        self.limit = limit


class Package(NamedTuple):
    name: str
    version: str
    purl: Optional[str]


class Provenance(NamedTuple):
    repository: Optional[str]
    commit: Optional[str]
    build_time: Optional[str]


class Attestations(NamedTuple):
    """What one platform of one image tells; ``notes`` say what is missing."""

    packages: Optional[tuple[Package, ...]]
    provenance: Optional[Provenance]
    notes: tuple[str, ...]


def _str(value: object, limit: int = MAX_FIELD) -> Optional[str]:
    """A non-empty string within ``limit`` characters, else None."""
    if isinstance(value, str) and 0 < len(value) <= limit:
        return value
    return None


def _obj(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else ()


def _digest(value: object) -> Optional[str]:
    text = _str(value, 200)
    return text if text is not None and text.startswith('sha256:') else None


def attestation_manifest(index: Json, platform_digest: str) -> Optional[str]:
    """The digest of the attestation manifest for ``platform_digest``."""
    for entry in _list(index.get('manifests')):
        notes = _obj(_obj(entry).get('annotations'))
        if notes.get(REF_TYPE) == 'attestation-manifest' \
                and notes.get(REF_DIGEST) == platform_digest:
            return _digest(_obj(entry).get('digest'))
    return None


def statement_layers(manifest: Json) -> dict[str, str]:
    """Predicate type -> layer digest, for the in-toto layers we read."""
    found: dict[str, str] = {}
    for layer in _list(manifest.get('layers')):
        layer = _obj(layer)
        kind = _obj(layer.get('annotations')).get(PREDICATE_TYPE)
        digest = _digest(layer.get('digest'))
        wanted = kind == SPDX or kind in SLSA
        if layer.get('mediaType') == IN_TOTO and wanted and digest:
            found.setdefault(str(kind), digest)
    return found


def _statement(data: bytes, predicate_type: str) -> Json:
    statement = json_object(data, 'attestation')
    if statement.get('predicateType') != predicate_type:
        raise AttestationError('attestation predicate type does not match its layer')
    predicate = statement.get('predicate')
    if not isinstance(predicate, dict):
        raise AttestationError('attestation has no predicate')
    return predicate


def _purl(package: Json) -> Optional[str]:
    for ref in _list(package.get('externalRefs')):
        ref = _obj(ref)
        if ref.get('referenceType') == 'purl':
            locator = _str(ref.get('referenceLocator'), MAX_URL)
            if locator is not None and locator.startswith('pkg:'):
                return locator
    return None


def parse_sbom(data: bytes) -> tuple[Package, ...]:
    """The packages of an in-toto statement holding an SPDX 2.x document."""
    document = _statement(data, SPDX)
    entries = _list(document.get('packages'))
    if len(entries) > MAX_PACKAGES:
        raise AttestationError(f'SBOM lists over {MAX_PACKAGES} packages')
    found = []
    for entry in entries:
        entry = _obj(entry)
        name, version = _str(entry.get('name')), _str(entry.get('versionInfo'))
        if name is not None and version is not None:
            found.append(Package(name, version, _purl(entry)))
    return tuple(found)


def _vcs(metadata: Json) -> tuple[Optional[str], Optional[str]]:
    vcs = _obj(_obj(metadata.get(BUILDKIT_METADATA)).get('vcs'))
    return _str(vcs.get('source'), MAX_URL), _str(vcs.get('revision'), 128)


def _config_source(source: Json) -> tuple[Optional[str], Optional[str]]:
    digest = _obj(source.get('digest'))
    return _str(source.get('uri'), MAX_URL), _str(digest.get('sha1'), 128)


def _args_vcs(parameters: Json) -> tuple[Optional[str], Optional[str]]:
    args = _obj(parameters.get('args'))
    source = parameters.get('vcs:source', args.get('vcs:source'))
    revision = parameters.get('vcs:revision', args.get('vcs:revision'))
    return _str(source, MAX_URL), _str(revision, 128)


def _first(*pairs: tuple[Optional[str], Optional[str]]) -> tuple[Optional[str], Optional[str]]:
    repository = next((r for r, _ in pairs if r), None)
    commit = next((c for _, c in pairs if c), None)
    return repository, commit


def _provenance_v02(predicate: Json) -> Provenance:
    invocation, metadata = _obj(predicate.get('invocation')), _obj(predicate.get('metadata'))
    repository, commit = _first(
        _vcs(metadata), _args_vcs(_obj(invocation.get('parameters'))),
        _config_source(_obj(invocation.get('configSource'))),
    )
    return Provenance(repository, commit, _str(metadata.get('buildFinishedOn'), 64))


def _provenance_v1(predicate: Json) -> Provenance:
    definition = _obj(predicate.get('buildDefinition'))
    external = _obj(definition.get('externalParameters'))
    metadata = _obj(_obj(predicate.get('runDetails')).get('metadata'))
    repository, commit = _first(
        _vcs(metadata), _args_vcs(_obj(external.get('request'))),
        _args_vcs(external), _config_source(_obj(external.get('configSource'))),
    )
    return Provenance(repository, commit, _str(metadata.get('finishedOn'), 64))


def parse_provenance(data: bytes, predicate_type: str) -> Provenance:
    """Repository, commit and build time from SLSA provenance v0.2 or v1."""
    if predicate_type not in SLSA:
        raise AttestationError('not SLSA provenance')
    predicate = _statement(data, predicate_type)
    if predicate_type == SLSA[0]:
        return _provenance_v02(predicate)
    return _provenance_v1(predicate)


def json_object(data: bytes, what: str) -> Json:
    """``data`` as a JSON object, within the bounds of :mod:`pin_from.untrusted_json`."""
    try:
        return untrusted_json.loads_object(data, MAX_JSON)
    except untrusted_json.JSONInputError as e:
        raise AttestationError(f'{what} {e}') from None



def _too_large(error: BlobTooLarge) -> str:
    return f'SBOM too large (over {error.limit / 1_000_000:g} MB)'


def _read_sbom(digest: Optional[str], blob: Fetch) -> tuple[Optional[tuple[Package, ...]], list[str]]:
    if digest is None:
        return None, ['no SBOM attestation on this image']
    try:
        return parse_sbom(blob(digest)), []
    except BlobTooLarge as error:
        return None, [_too_large(error)]
    except AttestationError as error:
        return None, [f'SBOM unreadable: {error}']


def _read_provenance(layers: Mapping[str, str], blob: Fetch) -> tuple[Optional[Provenance], list[str]]:
    kind = next((k for k in SLSA if k in layers), None)
    if kind is None:
        return None, ['no provenance attestation on this image']
    try:
        return parse_provenance(blob(layers[kind]), kind), []
    except AttestationError as error:
        return None, [f'provenance unreadable: {error}']


def read_attestations(
        index: Json, platform_digest: str, manifest: Fetch, blob: Fetch,
) -> Attestations:
    """The SBOM packages and provenance BuildKit attached to one platform.

    ``manifest`` and ``blob`` fetch by digest (the caller caps and caches);
    they may raise :class:`BlobTooLarge` or any other ``PinFromError``, which
    is let through except for ``AttestationError`` (a note).
    """
    digest = attestation_manifest(index, platform_digest)
    if digest is None:
        return Attestations(None, None, ('no attestations on this image',))
    try:
        layers = statement_layers(json_object(manifest(digest), 'attestation manifest'))
    except AttestationError as error:
        return Attestations(None, None, (f'attestations unreadable: {error}',))
    packages, notes = _read_sbom(layers.get(SPDX), blob)
    provenance, more = _read_provenance(layers, blob)
    return Attestations(packages, provenance, tuple(notes + more))
