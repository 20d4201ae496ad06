"""What changed between two digests of a tag, read from the registry.

Manifests and config blobs are fetched by digest and cached without expiry:
content addressed by its digest never changes. What comes back from the
registry or the cache is parsed by :mod:`pin_from.registry.manifest` (validated once;
a cached copy is input too). Only the first ``--platform`` (``linux/amd64``
by default) is compared in detail.
"""
from __future__ import annotations

from typing import NamedTuple
from typing import Protocol

from pin_from.registry.cache import Cache
from pin_from.registry.manifest import Config
from pin_from.registry.manifest import Image
from pin_from.registry.manifest import Index
from pin_from.registry.manifest import Manifest
from pin_from.registry.manifest import MAX_CONFIG
from pin_from.registry.manifest import parse_config
from pin_from.registry.manifest import parse_manifest
from pin_from.registry.manifest import Platform
from pin_from.reference import Reference

DEFAULT_PLATFORM = Platform('linux', 'amd64')


class ContentSource(Protocol):
    def manifest(self, ref: Reference, digest: str) -> bytes: ...

    def blob(self, ref: Reference, digest: str, cap: int) -> bytes: ...


class Facts(NamedTuple):
    """One image (one platform of a digest), as a reviewer wants to see it."""

    digest: str
    platforms: tuple[str, ...]  # of the index; empty for a single manifest
    manifest: str | None  # the chosen platform's manifest digest
    created: str | None
    size: int
    layers: tuple[str, ...]
    env: dict[str, str]
    labels: dict[str, str]


def _is_bytes(value: object) -> bool:
    return isinstance(value, bytes)


class Inspector:
    def __init__(self, client: ContentSource, cache: Cache) -> None:
        self.client = client
        self.cache = cache

    def _content(self, ref: Reference, digest: str, kind: str, cap: int = MAX_CONFIG) -> bytes:
        key = f'{kind}:{digest}'
        found = self.cache.get(key, _is_bytes)
        if found is not None:
            data: bytes = found.value
            return data
        data = (
            self.client.manifest(ref, digest) if kind == 'manifest'
            else self.client.blob(ref, digest, cap)
        )
        self.cache.set(key, data)
        return data

    def manifest_bytes(self, ref: Reference, digest: str) -> bytes:
        """The manifest ``digest`` as the registry served it (checked, cached forever)."""
        return self._content(ref, digest, 'manifest')

    def blob_bytes(self, ref: Reference, digest: str, cap: int) -> bytes:
        """The blob ``digest``, at most ``cap`` bytes (checked, cached forever)."""
        return self._content(ref, digest, 'blob', cap)

    def manifest(self, ref: Reference, digest: str) -> Manifest:
        return parse_manifest(self._content(ref, digest, 'manifest'))

    def config(self, ref: Reference, digest: str) -> Config:
        return parse_config(self._content(ref, digest, 'blob'))

    def platforms(self, ref: Reference, digest: str) -> dict[str, str]:
        """Platform -> manifest digest for an index; ``{}`` for a single manifest."""
        top = self.manifest(ref, digest)
        if not isinstance(top, Index):
            return {}
        return {
            str(m.platform): m.digest for m in top.manifests
            if m.platform is not None and m.platform.os not in ('', 'unknown')
        }

    def platform_digest(self, ref: Reference, digest: str, want: Platform) -> str | None:
        """The manifest of ``want`` in ``digest``; a single-platform image is its own,
        unless its config names another platform."""
        top = self.manifest(ref, digest)
        if isinstance(top, Image):
            platform = self.config(ref, top.config.digest).platform
            return digest if platform is None or platform.matches(want) else None
        for m in top.manifests:
            if m.platform is not None and m.platform.matches(want):
                return m.digest
        return None

    def facts(self, ref: Reference, digest: str, want: Platform) -> Facts:
        platforms = self.platforms(ref, digest)
        manifest_digest = self.platform_digest(ref, digest, want)
        if manifest_digest is None:
            return Facts(digest, tuple(sorted(platforms)), None, None, 0, (), {}, {})
        image = self.manifest(ref, manifest_digest)
        if not isinstance(image, Image):
            return Facts(digest, tuple(sorted(platforms)), None, None, 0, (), {}, {})
        config = self.config(ref, image.config.digest)
        return Facts(
            digest, tuple(sorted(platforms)), manifest_digest, config.created,
            sum(layer.size for layer in image.layers), tuple(layer.digest for layer in image.layers),
            dict(config.env), dict(config.labels),
        )
