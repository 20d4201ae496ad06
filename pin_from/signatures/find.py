"""What a registry attaches to a digest: cosign v3 bundles and legacy ``.sig`` signatures.

cosign v3 stores a Sigstore bundle as an OCI 1.1 *referrer* of the image: a
manifest whose ``artifactType`` is the bundle media type, whose one layer is
the bundle, and whose ``subject`` is the image. The referrers are listed by
the referrers API (``GET /v2/<name>/referrers/<digest>``) or, on a registry
without it (a 404), by the referrers tag ``sha256-<hex>`` (an OCI index).
Legacy cosign tags ``sha256-<hex>.sig`` with one simple-signing layer per
signature, the signature in the ``dev.cosignproject.cosign/signature``
annotation; ``sha256-<hex>.att`` holds legacy attestations.

Everything here comes from the registry and is hostile. A referrers-API page
is capped at :data:`MAX_PAGE` bytes, at most :data:`MAX_PAGES` pages and
:data:`MAX_REFERRERS` entries are read; at most :data:`MAX_BUNDLES` bundles
are fetched. Every manifest and blob is fetched by digest, checked against it
(by the client) and only then parsed, and cached forever by the Inspector;
a bundle over :data:`MAX_BUNDLE` bytes (by its descriptor, or while read) is
not read.
"""
from __future__ import annotations

from typing import Any
from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from.errors import PinFromError
from pin_from.reference import DIGEST_RE
from pin_from.reference import Reference

if TYPE_CHECKING:
    from pin_from.registry.changes import Inspector
    from pin_from.registry.client import Client

BUNDLE_TYPES = frozenset((
    'application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3',
))
COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1'
SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json'
SIGNATURE = 'dev.cosignproject.cosign/signature'
CERTIFICATE = 'dev.sigstore.cosign/certificate'
CHAIN = 'dev.sigstore.cosign/chain'
REKOR_BUNDLE = 'dev.sigstore.cosign/bundle'
PREDICATE = 'dev.sigstore.bundle.predicateType'
MAX_PAGE = 1024 * 1024
MAX_PAGES = 8
MAX_REFERRERS = 1000
MAX_BUNDLES = 16
MAX_BUNDLE = 256 * 1024
MAX_PAYLOAD = 64 * 1024
MAX_LEGACY = 16
MAX_FIELD = 64 * 1024  # an annotation value (a base64 signature, a PEM certificate)
MAX_JSON = 4 * 1024 * 1024  # any JSON document read here (pages and bundles are capped lower where fetched)


_CUT = f'the referrers list has over {MAX_REFERRERS} entries; read the first {MAX_REFERRERS}'


class Entry(NamedTuple):
    """One referrer of a digest, as its list describes it (not yet read)."""

    digest: str
    artifact_type: str
    predicate_type: str | None  # the list's annotation, when it has one
    size: int


class Bundle(NamedTuple):
    data: bytes  # checked against its digest, not yet parsed
    where: str  # 'referrer sha256:...'


class Legacy(NamedTuple):
    payload: bytes  # the simple-signing payload (checked against its digest)
    signature: str  # base64, from the annotation
    certificate: str | None  # PEM, for a keyless legacy signature
    where: str
    chain: str | None = None  # PEM intermediates and root, for a keyless one
    rekor: str | None = None  # the Rekor bundle (inclusion promise) as JSON text


class Listing(NamedTuple):
    """What is attached to one digest."""

    entries: tuple[Entry, ...]
    via: str  # 'the referrers API', 'the referrers tag', or 'nothing'
    notes: tuple[str, ...]  # what was cut or unreadable


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object, limit: int = 1024) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _json(data: bytes, what: str) -> dict[str, Any]:
    from pin_from import untrusted_json
    try:
        return untrusted_json.loads_object(data, MAX_JSON)
    except untrusted_json.JSONInputError as e:
        raise PinFromError(f'{what} {e}') from None


def tag_for(digest: str, suffix: str = '') -> str:
    """``sha256-<hex>`` (the referrers tag), ``sha256-<hex>.sig``, ``sha256-<hex>.att``."""
    return digest.replace(':', '-') + suffix


def _entries(index: dict[str, Any], limit: int) -> tuple[list[Entry], bool]:
    """The entries of a referrers index (at most ``limit``), and whether it had more."""
    found = []
    manifests = index.get('manifests')
    if not isinstance(manifests, list):
        return [], False
    for item in manifests[:limit]:
        item = _obj(item)
        digest = _str(item.get('digest'), 100)
        size = item.get('size', 0)
        if digest is None or not DIGEST_RE.fullmatch(digest) or not isinstance(size, int) or size < 0:
            continue
        kind = _str(item.get('artifactType')) or ''
        found.append(Entry(digest, kind, _str(_obj(item.get('annotations')).get(PREDICATE)), size))
    return found, len(manifests) > limit


class Finder:
    """Reads attachments through the registry ``client`` and, by digest, the ``inspector``."""

    def __init__(self, client: Client, inspector: Inspector) -> None:
        self.client = client
        self.inspector = inspector

    def _tag(self, ref: Reference, tag: str) -> str | None:
        """The digest a tag names, or None when there is no such tag."""
        from pin_from.registry.client import NotFound
        try:
            return self.client.digest(ref._replace(tag=tag, digest=None))
        except NotFound:
            return None

    def listing(self, ref: Reference, digest: str) -> Listing:
        """The referrers of ``digest``: from the referrers API, else the referrers tag."""
        entries: list[Entry] = []
        page: str | None = None
        for _ in range(MAX_PAGES):
            answer = self.client.referrers(ref, digest, MAX_PAGE, page)
            if answer is None:
                return self._tag_listing(ref, digest)
            body, page = answer
            more, cut = _entries(_json(body, 'the referrers list'), MAX_REFERRERS - len(entries))
            entries += more
            if cut or (page is not None and len(entries) >= MAX_REFERRERS):
                return Listing(tuple(entries), 'the referrers API', (_CUT,))
            if page is None:
                return Listing(tuple(entries), 'the referrers API', ())
        return Listing(tuple(entries), 'the referrers API', (
            f'the referrers list goes on past {MAX_PAGES} pages; read the first {MAX_PAGES}',))

    def _tag_listing(self, ref: Reference, digest: str) -> Listing:
        index_digest = self._tag(ref, tag_for(digest))
        if index_digest is None:
            return Listing((), 'nothing', ())
        index = _json(self.inspector.manifest_bytes(ref, index_digest), 'the referrers tag')
        entries, cut = _entries(index, MAX_REFERRERS)
        return Listing(tuple(entries), 'the referrers tag', (_CUT,) if cut else ())

    def bundle(self, ref: Reference, subject: str, entry: Entry) -> Bundle:
        """The bundle of a referrer of ``subject``: its manifest must say it is a bundle of
        ``subject``; the bundle is read only if its descriptor is within the cap."""
        where = f'referrer {entry.digest}'
        manifest = _json(self.inspector.manifest_bytes(ref, entry.digest), where)
        if manifest.get('artifactType') not in BUNDLE_TYPES:
            raise PinFromError(f'{where} is not a Sigstore bundle')
        if _obj(manifest.get('subject')).get('digest') != subject:
            raise PinFromError(f'{where} is attached to another digest (its subject is not {subject})')
        layers = manifest.get('layers')
        layer = _obj(layers[0]) if isinstance(layers, list) and len(layers) == 1 else {}
        blob, size = _str(layer.get('digest'), 100), layer.get('size')
        if blob is None or not DIGEST_RE.fullmatch(blob) or layer.get('mediaType') not in BUNDLE_TYPES:
            raise PinFromError(f'{where} has no bundle layer')
        if not isinstance(size, int) or size > MAX_BUNDLE:
            raise PinFromError(f'{where}: the bundle is over {MAX_BUNDLE // 1024} kB; not read')
        return Bundle(self.inspector.blob_bytes(ref, blob, MAX_BUNDLE), where)

    def legacy(self, ref: Reference, digest: str) -> tuple[list[Legacy], list[str]]:
        """The simple-signing signatures of the ``sha256-<hex>.sig`` tag, and notes."""
        sig = self._tag(ref, tag_for(digest, '.sig'))
        if sig is None:
            return [], []
        where = f'{tag_for(digest, ".sig")} ({sig})'
        manifest = _json(self.inspector.manifest_bytes(ref, sig), where)
        found, notes = [], []
        layers = manifest.get('layers')
        for layer in (layers[:MAX_LEGACY] if isinstance(layers, list) else []):
            layer = _obj(layer)
            notes_of = _obj(layer.get('annotations'))
            blob, size = _str(layer.get('digest'), 100), layer.get('size')
            signature = _str(notes_of.get(SIGNATURE), MAX_FIELD)
            if layer.get('mediaType') != SIMPLE_SIGNING or blob is None or not DIGEST_RE.fullmatch(blob) \
                    or signature is None:
                notes.append(f'{where}: a layer that is not a simple-signing signature')
                continue
            if not isinstance(size, int) or size > MAX_PAYLOAD:
                notes.append(f'{where}: a payload over {MAX_PAYLOAD // 1024} kB; not read')
                continue
            payload = self.inspector.blob_bytes(ref, blob, MAX_PAYLOAD)
            found.append(Legacy(
                payload, signature, _str(notes_of.get(CERTIFICATE), MAX_FIELD), where,
                _str(notes_of.get(CHAIN), MAX_FIELD), _str(notes_of.get(REKOR_BUNDLE), MAX_FIELD),
            ))
        return found, notes

    def has_tag(self, ref: Reference, digest: str, suffix: str) -> bool:
        return self._tag(ref, tag_for(digest, suffix)) is not None
