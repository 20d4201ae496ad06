"""Fixtures: an isolated environment for every test, and real registries.

The registries are session-scoped (starting one takes ~30 ms, but a session of
them keeps the suite fast and their logs small); tests therefore push to
repositories named by ``unique_repo`` / ``repo_factory``, and count requests as
deltas (``registry.requests_log(since=n)``, ``token_server.reset_requests()``).

If ``docker-registry`` is missing the registry fixtures fail loudly, never
skip: CI installs it (``apt-get install -y docker-registry skopeo``).
"""
from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.registry_server import TEST_PASSWORD, TEST_USER, FakeHub, RegistryServer, TokenServer

_ISOLATED_DIRS = {
    'PIN_FROM_CACHE_DIR': 'pin-from-cache',
    'XDG_CACHE_HOME': 'xdg-cache',
    'XDG_CONFIG_HOME': 'xdg-config',  # podman/skopeo containers/auth.json
    'XDG_RUNTIME_DIR': 'xdg-runtime',  # ditto
    'HOME': 'home',
    'DOCKER_CONFIG': 'docker-config',  # empty: no real credentials
}
_UNSET = (
    'PIN_FROM_REGISTRY_MIRRORS',
    'PIN_FROM_INSECURE_REGISTRIES',
    'PIN_FROM_LIBRARY_URL',
    'PIN_FROM_DOCS_URL',
    'REGISTRY_AUTH_FILE',
)


@pytest.fixture(autouse=True)
def isolated_env(
        tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Point every cache, config and credentials path at an empty tmp dir.

    No test can read a developer's credentials or touch the real ``~/.cache``.
    Returns the root holding those directories.
    """
    root = tmp_path_factory.mktemp('env')
    for var, name in _ISOLATED_DIRS.items():
        path = root / name
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    for var in _UNSET:
        monkeypatch.delenv(var, raising=False)
    return root


_counter = itertools.count(1)


def _slug(text: str) -> str:
    """A repository path component: ``[a-z0-9]+`` joined by single dashes."""
    words = re.findall(r'[a-z0-9]+', text.lower())
    return '-'.join(words)[:60].strip('-') or 'test'


@pytest.fixture
def repo_factory(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Make ``test/<testname-slug>-<n>`` names, unique in the session."""
    slug = _slug(request.node.name)
    return lambda: f'test/{slug}-{next(_counter)}'


@pytest.fixture
def unique_repo(repo_factory: Callable[[], str]) -> str:
    return repo_factory()


@pytest.fixture(scope='session')
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry without auth."""
    with RegistryServer(tmp_path_factory.mktemp('registry')) as server:
        yield server


@pytest.fixture(scope='session')
def token_registry(
        tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RegistryServer]:
    """Token auth, anonymous tokens (Docker Hub's flow for public images).

    The token server is ``token_registry.token_server``.
    """
    tmp = tmp_path_factory.mktemp('token-registry')
    with TokenServer(tmp) as tokens:
        with RegistryServer(tmp, 'token', token_server=tokens) as server:
            yield server


@pytest.fixture(scope='session')
def auth_registry(
        tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RegistryServer]:
    """htpasswd (Basic) auth: ``alice`` / ``s3cret-pass`` (``TEST_CREDS``)."""
    tmp = tmp_path_factory.mktemp('auth-registry')
    with RegistryServer(tmp, 'htpasswd', users={TEST_USER: TEST_PASSWORD}) as server:
        yield server


@pytest.fixture(scope='session')
def token_auth_registry(
        tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RegistryServer]:
    """Token auth whose token server wants Basic ``alice`` / ``s3cret-pass``."""
    tmp = tmp_path_factory.mktemp('token-auth-registry')
    with TokenServer(tmp, users={TEST_USER: TEST_PASSWORD}) as tokens:
        with RegistryServer(tmp, 'token', token_server=tokens) as server:
            yield server


@pytest.fixture
def hub(registry: RegistryServer, repo_factory: Callable[[], str]) -> FakeHub:
    """A fake Docker Hub (see :class:`tests.registry_server.FakeHub`); ``hub.main(...)`` runs
    pin-from through its mirror, with the repository's official-images data for ``--update``."""
    from pin_from.pin import main
    from tests.data import OFFICIAL_IMAGES

    class Hub(FakeHub):
        def main(self, *args: object) -> int:
            library = ['--library-url', str(OFFICIAL_IMAGES / 'current' / 'library')] if '--update' in args else []
            return main(['--registry-mirror', self.mirror, *library, *map(str, args)])

    return Hub(registry, repo_factory().replace('/', '-'))
