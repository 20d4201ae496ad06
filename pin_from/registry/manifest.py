"""Manifests and image configs, validated once where they enter.

A registry, a proxy or the cache may answer anything: an HTML login page, a
JSON body of the wrong shape, numbers where strings belong. These functions
turn bytes into typed values or raise :class:`MalformedManifest`; code past
them can trust every field. Nothing here fetches.
"""
from __future__ import annotations

import re
from typing import Any
from typing import NamedTuple
from typing import Union

from pin_from import untrusted_json
from pin_from.errors import RegistryError
from pin_from.reference import DIGEST_RE

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
INDEX_TYPES = frozenset((OCI_INDEX, DOCKER_LIST))
IMAGE_TYPES = frozenset((OCI_MANIFEST, DOCKER_MANIFEST))
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
MAX_MANIFEST = 4 * 1024 * 1024
MAX_CONFIG = 8 * 1024 * 1024
_MAX_STRING = 1024 * 1024  # per value; the report shows at most 200 characters of one


class MalformedManifest(RegistryError):
    """An answer that is not a manifest or config of the expected shape."""


class Platform(NamedTuple):
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        name = f'{self.os}/{self.architecture}'
        return f'{name}/{self.variant}' if self.variant else name

    def matches(self, want: Platform) -> bool:
        if (self.os, self.architecture) != (want.os, want.architecture):
            return False
        return want.variant is None or self.variant == want.variant


class Descriptor(NamedTuple):
    media_type: str
    digest: str
    size: int
    platform: Platform | None
    annotations: tuple[tuple[str, str], ...]


class Index(NamedTuple):
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...]


class Image(NamedTuple):
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...]


Manifest = Union[Index, Image]


class Config(NamedTuple):
    created: str | None
    env: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    platform: Platform | None  # of a single-platform image, when its config says


_PLATFORM_PART_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}')


def parse_platform(text: str) -> Platform:
    """``OS/ARCH[/VARIANT]``, as given on the command line."""
    parts = text.split('/')
    if len(parts) not in (2, 3) or not all(_PLATFORM_PART_RE.fullmatch(p) for p in parts):
        raise ValueError(f'{text!r}: expected OS/ARCH[/VARIANT]')
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def _load(data: bytes, what: str) -> dict[str, Any]:
    try:
        return untrusted_json.loads_object(data, max(MAX_MANIFEST, MAX_CONFIG))
    except untrusted_json.JSONInputError as e:
        raise MalformedManifest(f'{what} {e}') from None


def _string(value: object, what: str, optional: bool = False) -> str:
    if value is None and optional:
        return ''
    if not isinstance(value, str) or len(value) > _MAX_STRING:
        raise MalformedManifest(f'{what} is not a string')
    return value


def _pairs(value: object, what: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise MalformedManifest(f'{what} is not a JSON object')
    return tuple(sorted((_string(k, what), _string(v, what)) for k, v in value.items()))


def _platform(value: object) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedManifest('a platform is not a JSON object')
    variant = value.get('variant')
    return Platform(
        _platform_part(value.get('os'), 'os'), _platform_part(value.get('architecture'), 'architecture'),
        _platform_part(variant, 'variant') if variant not in (None, '') else None,
    )


def _platform_part(value: object, what: str) -> str:
    """A platform field, which reports print as is: a plain word only."""
    if not isinstance(value, str) or not (value == '' or _PLATFORM_PART_RE.fullmatch(value)):
        raise MalformedManifest(f'a platform {what} is not a plain word')
    return value


def _descriptor(value: object, what: str) -> Descriptor:
    if not isinstance(value, dict):
        raise MalformedManifest(f'{what} is not a JSON object')
    digest = value.get('digest')
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        raise MalformedManifest(f'{what} has no valid digest')
    size = value.get('size', 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise MalformedManifest(f'{what} has an invalid size')
    return Descriptor(
        _string(value.get('mediaType'), f'{what} media type', optional=True),
        digest, size, _platform(value.get('platform')),
        _pairs(value.get('annotations'), f'{what} annotations'),
    )


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise MalformedManifest(f'{what} is not a list')
    return value


def parse_manifest(data: bytes, content_type: str | None = None) -> Manifest:
    """An index or image manifest; the Content-Type, when given, must be one."""
    declared = (content_type or '').split(';')[0].strip()
    if declared and declared not in MANIFEST_TYPES and declared != 'application/json':
        raise MalformedManifest(f'answered {declared[:60]!r}, not a manifest')
    top = _load(data, 'the manifest')
    media_type = top.get('mediaType') or declared
    if not isinstance(media_type, str):
        raise MalformedManifest('the manifest has an invalid media type')
    annotations = _pairs(top.get('annotations'), 'manifest annotations')
    if media_type in INDEX_TYPES or (not media_type and 'manifests' in top):
        manifests = _list(top.get('manifests'), 'the index manifests')
        return Index(
            media_type or OCI_INDEX,
            tuple(_descriptor(m, 'an index entry') for m in manifests), annotations,
        )
    if media_type in IMAGE_TYPES or (not media_type and 'config' in top):
        layers = _list(top.get('layers', []), 'the manifest layers')
        return Image(
            media_type or OCI_MANIFEST, _descriptor(top.get('config'), 'the config'),
            tuple(_descriptor(layer, 'a layer') for layer in layers), annotations,
        )
    raise MalformedManifest(f'unsupported manifest type {media_type[:60]!r}')


def parse_config(data: bytes) -> Config:
    top = _load(data, 'the image config')
    inner = top.get('config') or {}
    if not isinstance(inner, dict):
        raise MalformedManifest('the image config is not a JSON object')
    env = []
    for item in _list(inner.get('Env') or [], 'the config Env'):
        key, _, value = _string(item, 'an Env entry').partition('=')
        env.append((key, value))
    created = top.get('created')
    platform = None
    if top.get('os') and top.get('architecture'):
        platform = _platform({k: top.get(k) for k in ('os', 'architecture', 'variant') if top.get(k) is not None})
    return Config(
        _string(created, 'created') if created is not None else None,
        tuple(sorted(env)), _pairs(inner.get('Labels'), 'the config Labels'), platform,
    )
