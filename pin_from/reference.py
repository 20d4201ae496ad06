"""Image references: Docker's grammar and normalisation (distribution/reference).

The registry *name* (``docker.io``) is kept apart from the host a client
connects to (``registry-1.docker.io``); see :mod:`pin_from.registry.client`.
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

from pin_from.errors import InvalidReference

DOCKER_HUB = 'docker.io'
DOCKER_HUB_ALIASES = frozenset(
    ('docker.io', 'index.docker.io', 'registry-1.docker.io'),
)

_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
_DOMAIN_PART = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_DOMAIN = (
    rf'(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?'
)
_COMPONENT_RE = re.compile(_COMPONENT)
_DOMAIN_RE = re.compile(_DOMAIN)
_TAG_RE = re.compile(r'[\w][\w.-]{0,127}')
DIGEST_RE = re.compile(r'sha256:[0-9a-f]{64}')
_ANY_DIGEST_RE = re.compile(
    r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}',
)
_MAX_NAME = 255
_SPACE_RE = re.compile(r'\s')


class Reference(NamedTuple):
    """A parsed, normalised image reference.

    ``tag`` and ``digest`` are ``None`` when the reference does not carry them.
    """

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def effective_tag(self) -> str:
        return self.tag if self.tag is not None else 'latest'

    @property
    def is_official(self) -> bool:
        """True for Docker Official Images (``docker.io/library/<name>``)."""
        head, _, rest = self.repository.partition('/')
        return (
            self.registry == DOCKER_HUB and head == 'library' and
            bool(rest) and '/' not in rest
        )

    @property
    def official_name(self) -> str:
        """``python`` for ``docker.io/library/python``; only if is_official."""
        return self.repository.partition('/')[2]

    @property
    def familiar_name(self) -> str:
        """The shortest name that means the same repository."""
        if self.registry == DOCKER_HUB:
            if self.is_official:
                return self.official_name
            return self.repository
        return f'{self.registry}/{self.repository}'

    def tag_only(self) -> Reference:
        """The same repository and tag (``latest`` if none), without a digest."""
        return Reference(self.registry, self.repository, self.effective_tag, None)

    def __str__(self) -> str:
        ret = self.familiar_name
        if self.tag is not None:
            ret += f':{self.tag}'
        if self.digest is not None:
            ret += f'@{self.digest}'
        return ret


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition('/')
    if sep and ('.' in first or ':' in first or first == 'localhost'):
        return first, rest
    if sep and first.lower() != first and _DOMAIN_RE.fullmatch(first):
        # Docker reports upper case here as a bad repository name.
        raise InvalidReference(
            f'invalid reference {name!r}: repository name must be lowercase',
        )
    return DOCKER_HUB, name


@functools.lru_cache(maxsize=4096)  # files share their images: each distinct text is parsed once
def parse(text: str) -> Reference:
    """Parse ``text`` as Docker does, or raise :class:`InvalidReference`."""
    if not text or _SPACE_RE.search(text):
        raise InvalidReference(f'invalid reference format: {text!r}')

    rest, at, digest = text.partition('@')
    if at:
        if not _ANY_DIGEST_RE.fullmatch(digest):
            raise InvalidReference(f'invalid digest in {text!r}')
        if not DIGEST_RE.fullmatch(digest):
            raise InvalidReference(
                f'unsupported digest in {text!r}: only sha256:<64 hex>',
            )
    name, tag = rest, None
    colon = rest.rfind(':')
    if colon != -1 and '/' not in rest[colon + 1:]:
        name, tag = rest[:colon], rest[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            raise InvalidReference(f'invalid tag in {text!r}')

    domain, path = _split_domain(name)
    if not _DOMAIN_RE.fullmatch(domain):
        raise InvalidReference(f'invalid registry in {text!r}')
    components = path.split('/')
    for component in components:
        if _COMPONENT_RE.fullmatch(component):
            continue
        if _COMPONENT_RE.fullmatch(component.lower()):
            raise InvalidReference(
                f'invalid reference {text!r}: repository name must be '
                f'lowercase',
            )
        raise InvalidReference(f'invalid reference format: {text!r}')
    if len(name) > _MAX_NAME:
        raise InvalidReference(f'repository name too long in {text!r}')

    if domain in DOCKER_HUB_ALIASES:
        domain = DOCKER_HUB
        if len(components) == 1:
            path = f'library/{path}'
    return Reference(domain, path, tag, digest or None)
