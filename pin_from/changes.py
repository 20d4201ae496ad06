"""What changed between two digests of a tag, read from the registry.

Manifests and config blobs are fetched by digest (GET) and cached without
expiry: content addressed by its digest never changes. Only the first
``--platform`` (``linux/amd64`` by default) is compared in detail.
"""
from __future__ import annotations

import json
from typing import Any
from typing import NamedTuple

from pin_from.cache import Cache
from pin_from.errors import PinFromError
from pin_from.reference import Reference

DEFAULT_PLATFORM = 'linux/amd64'
_INDEX_TYPES = frozenset((
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
))


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


def parse_platform(text: str) -> tuple[str, ...]:
    parts = tuple(text.split('/'))
    if len(parts) not in (2, 3) or not all(parts):
        raise PinFromError(f'--platform {text!r}: expected OS/ARCH[/VARIANT]')
    return parts


def _platform_name(p: dict[str, Any]) -> str:
    name = f'{p.get("os", "?")}/{p.get("architecture", "?")}'
    return f'{name}/{p["variant"]}' if p.get('variant') else name


def _matches(want: tuple[str, ...], p: dict[str, Any]) -> bool:
    if (p.get('os'), p.get('architecture')) != want[:2]:
        return False
    return len(want) < 3 or p.get('variant') == want[2]


class Inspector:
    def __init__(self, client: Any, cache: Cache) -> None:
        self.client = client
        self.cache = cache

    def _json(self, ref: Reference, digest: str, kind: str) -> dict[str, Any]:
        key = f'{kind}:{digest}'
        found = self.cache.get(key)
        if found is not None:
            data = found[0]
        else:
            data = self.client.fetch(ref, digest, kind).decode('utf-8', 'replace')
            self.cache.set(key, data)
        try:
            parsed = json.loads(data)
        except ValueError:
            raise PinFromError(f'{digest} is not JSON') from None
        if not isinstance(parsed, dict):
            raise PinFromError(f'{digest} is not a JSON object')
        return parsed

    def platforms(self, ref: Reference, digest: str) -> dict[str, str]:
        """Platform -> manifest digest for an index; ``{}`` for a single manifest."""
        top = self._json(ref, digest, 'manifests')
        if top.get('mediaType') not in _INDEX_TYPES and 'manifests' not in top:
            return {}
        ret = {}
        for m in top.get('manifests') or ():
            p = m.get('platform') or {}
            if isinstance(p, dict) and p.get('os') not in (None, 'unknown'):
                ret[_platform_name(p)] = m.get('digest', '')
        return ret

    def platform_digest(self, ref: Reference, digest: str, want: tuple[str, ...]) -> str | None:
        top = self._json(ref, digest, 'manifests')
        if top.get('mediaType') not in _INDEX_TYPES and 'manifests' not in top:
            return digest
        for m in top.get('manifests') or ():
            if isinstance(m.get('platform'), dict) and _matches(want, m['platform']):
                return str(m.get('digest'))
        return None

    def facts(self, ref: Reference, digest: str, want: tuple[str, ...]) -> Facts:
        platforms = self.platforms(ref, digest)
        manifest_digest = self.platform_digest(ref, digest, want)
        if manifest_digest is None:
            return Facts(digest, tuple(sorted(platforms)), None, None, 0, (), {}, {})
        manifest = self._json(ref, manifest_digest, 'manifests')
        layers = tuple(
            (layer.get('digest', ''), int(layer.get('size', 0)))
            for layer in manifest.get('layers') or () if isinstance(layer, dict)
        )
        config_digest = (manifest.get('config') or {}).get('digest', '')
        config = self._json(ref, config_digest, 'blobs') if config_digest else {}
        inner = config.get('config') or {}
        env = dict(e.partition('=')[::2] for e in inner.get('Env') or () if isinstance(e, str))
        return Facts(
            digest, tuple(sorted(platforms)), manifest_digest, config.get('created'),
            sum(size for _, size in layers), tuple(d for d, _ in layers),
            env, dict(inner.get('Labels') or {}),
        )


def _size(n: int) -> str:
    for unit in ('B', 'kB', 'MB', 'GB'):
        if abs(n) < 1000 or unit == 'GB':
            return f'{n:.1f} {unit}' if unit != 'B' else f'{n} B'
        n /= 1000  # type: ignore[assignment]
    raise AssertionError('unreachable')


def _dict_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    ret = []
    for k in sorted(old.keys() | new.keys()):
        if old.get(k) == new.get(k):
            continue
        if k not in old:
            ret.append(f'`{k}` added: `{new[k]}`')
        elif k not in new:
            ret.append(f'`{k}` removed (was `{old[k]}`)')
        else:
            ret.append(f'`{k}` `{old[k]}` → `{new[k]}`')
    return ret


def describe(old: Facts | None, new: Facts, platform: str) -> list[str]:
    """Markdown bullet texts describing the change from ``old`` to ``new``."""
    if old is None:
        return ['the old digest is no longer available from the registry; nothing to compare']
    lines = []
    added = sorted(set(new.platforms) - set(old.platforms))
    removed = sorted(set(old.platforms) - set(new.platforms))
    if added or removed:
        parts = [f'added {", ".join(added)}'] * bool(added) + [f'removed {", ".join(removed)}'] * bool(removed)
        lines.append(f'Platforms: {"; ".join(parts)}')
    if new.manifest is None:
        lines.append(f'{platform}: not in the new image')
        return lines
    if old.manifest == new.manifest:
        lines.append(f'{platform}: unchanged (same manifest {new.manifest})')
        return lines
    lines.append(f'Created: {old.created or "?"} → {new.created or "?"}')
    delta = new.size - old.size
    sign = '+' if delta >= 0 else '-'
    lines.append(
        f'Size ({platform}, compressed): {_size(old.size)} → {_size(new.size)} ({sign}{_size(abs(delta))})',
    )
    gained = len(set(new.layers) - set(old.layers))
    lost = len(set(old.layers) - set(new.layers))
    lines.append(f'Layers: {gained} added, {lost} removed ({len(new.layers)} now)')
    env = _dict_changes(old.env, new.env)
    if env:
        lines.append('Environment: ' + '; '.join(env))
    labels = _dict_changes(old.labels, new.labels)
    if labels:
        lines.append('Labels: ' + '; '.join(labels))
    return lines
