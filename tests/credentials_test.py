"""Credentials as ``docker`` finds them, sent only where they belong.

Lookup rules are tested on their own (config files in a temporary
``DOCKER_CONFIG``, small ``docker-credential-*`` programs on ``PATH``), then
end to end against the real htpasswd and token registries, and against small
local servers for the OAuth identity-token flow and for redirects.
"""
from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest
import responses

from pin_from import reference
from pin_from.registry.credentials import HUB_KEY, Auth, CredentialsError, Lookup
from pin_from.errors import RegistryError
from pin_from.pin import main
from pin_from.registry.http import Http
from pin_from.registry.client import Client, Options
from tests.registry_server import (
    TEST_CREDS,
    TEST_PASSWORD,
    TEST_USER,
    RegistryServer,
    TokenServer,
    push_image,
)

ENCODED = base64.b64encode(f'{TEST_USER}:{TEST_PASSWORD}'.encode()).decode()
SECRETS = (TEST_PASSWORD, ENCODED)
ONE_PLATFORM = (('linux', 'amd64'),)


def auth_field(user: str = TEST_USER, password: str = TEST_PASSWORD) -> str:
    return base64.b64encode(f'{user}:{password}'.encode()).decode()


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def docker_config(data: object) -> Path:
    return write_json(Path(os.environ['DOCKER_CONFIG'], 'config.json'), data)


class Helper:
    """A ``docker-credential-NAME`` program on PATH that logs each call."""

    def __init__(
            self, bin_dir: Path, name: str, answers: Mapping[str, Mapping[str, str]],
            exit_status: int = 0,
    ) -> None:
        self.log = bin_dir / f'{name}.log'
        program = bin_dir / f'docker-credential-{name}'
        program.write_text(f'''#!{sys.executable}
import json, sys
address = sys.stdin.read()
with open({str(self.log)!r}, 'a') as log:
    log.write(json.dumps({{'argv': sys.argv[1:], 'stdin': address}}) + '\\n')
if {exit_status}:
    print('helper broke; its output may hold {TEST_PASSWORD}')
    sys.exit({exit_status})
answers = {json.dumps(answers)}
if sys.argv[1:] == ['get'] and address in answers:
    print(json.dumps(answers[address]))
else:
    print('credentials not found in native keychain')
    sys.exit(1)
''')
        program.chmod(0o755)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Helper]:
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    monkeypatch.setenv('PATH', f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return lambda name, answers=(), exit_status=0: Helper(bin_dir, name, dict(answers), exit_status)


def alice(address: str) -> dict[str, dict[str, str]]:
    return {address: {'ServerURL': address, 'Username': TEST_USER, 'Secret': TEST_PASSWORD}}


# --- finding credentials -------------------------------------------------------

@pytest.mark.parametrize('key', [HUB_KEY, 'docker.io', 'index.docker.io', 'https://registry-1.docker.io'])
@pytest.mark.parametrize('host', ['registry-1.docker.io', 'docker.io', 'index.docker.io'])
def test_docker_hub_spellings_are_one_registry(key: str, host: str) -> None:
    docker_config({'auths': {key: {'auth': auth_field()}}})

    assert Lookup()(host) == Auth(TEST_USER, TEST_PASSWORD)


@pytest.mark.parametrize('key', ['ghcr.io', 'https://ghcr.io', 'http://ghcr.io/v2/', 'GHCR.io'])
def test_keys_match_by_host_name_with_or_without_scheme(key: str) -> None:
    docker_config({'auths': {key: {'auth': auth_field()}, 'quay.io': {'auth': auth_field('bob')}}})

    assert Lookup()('ghcr.io') == Auth(TEST_USER, TEST_PASSWORD)
    assert Lookup()('ghcr.io:5000') is None  # the port is part of the registry


def test_an_exact_key_wins_over_a_host_name_match() -> None:
    docker_config({'auths': {
        'https://ghcr.io/': {'auth': auth_field('old')},
        'ghcr.io': {'auth': auth_field()},
    }})

    assert Lookup()('ghcr.io') == Auth(TEST_USER, TEST_PASSWORD)


def test_entry_kinds() -> None:
    docker_config({'auths': {
        'plain.example': {'username': 'u', 'password': 'p'},
        'oauth.example': {'auth': '', 'identitytoken': 'refresh-me'},
        'token.example': {'registrytoken': 'bearer-me'},
        'empty.example': {},
        'colon.example': {'auth': auth_field('u', 'p:with:colons')},
    }})
    lookup = Lookup()

    assert lookup('plain.example') == Auth('u', 'p')
    assert lookup('oauth.example') == Auth(identity_token='refresh-me')
    assert lookup('token.example') == Auth(registry_token='bearer-me')
    assert lookup('empty.example') is None
    assert lookup('colon.example') == Auth('u', 'p:with:colons')
    assert lookup('elsewhere.example') is None


def test_auth_repr_shows_no_secret() -> None:
    text = repr(Auth(TEST_USER, TEST_PASSWORD, 'identity-secret', 'registry-secret'))

    assert TEST_USER in text
    assert not any(s in text for s in (TEST_PASSWORD, 'identity-secret', 'registry-secret'))


@pytest.mark.parametrize('content, message', [
    ('{not json', 'is not JSON'),
    ('[]', 'not a JSON object'),
    ('{"auths": []}', 'auths, credHelpers or credsStore malformed'),
    ('{"auths": {"bad.example": {"auth": "%%%"}}}', '"auth" is not base64 of user:password'),
    (json.dumps({'auths': {'bad.example': {'auth': base64.b64encode(b'nocolon-' + TEST_PASSWORD.encode()).decode()}}}),
     '"auth" is not base64 of user:password'),
])
def test_a_broken_config_is_one_line_without_its_content(content: str, message: str) -> None:
    path = Path(os.environ['DOCKER_CONFIG'], 'config.json')
    path.write_text(content)

    with pytest.raises(CredentialsError) as info:
        Lookup()('bad.example')

    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert TEST_PASSWORD not in str(info.value)


def test_home_docker_config_without_docker_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('DOCKER_CONFIG')
    write_json(Path(os.environ['HOME'], '.docker', 'config.json'), {'auths': {'ghcr.io': {'auth': auth_field()}}})

    assert Lookup()('ghcr.io') == Auth(TEST_USER, TEST_PASSWORD)


def test_helper_protocol_and_hub_address(helpers: Callable[..., Helper]) -> None:
    helper = helpers('hub', alice(HUB_KEY))
    docker_config({'credHelpers': {'docker.io': 'hub'}, 'auths': {HUB_KEY: {'auth': auth_field('unused')}}})

    assert Lookup()('registry-1.docker.io') == Auth(TEST_USER, TEST_PASSWORD)
    assert helper.calls() == [{'argv': ['get'], 'stdin': HUB_KEY}]


def test_creds_store_with_per_registry_helpers(helpers: Callable[..., Helper]) -> None:
    store = helpers('store', alice('ghcr.io'))
    special = helpers('special', {'quay.io': {'Username': '<token>', 'Secret': 'refresh-me'}})
    docker_config({'credsStore': 'store', 'credHelpers': {'quay.io': 'special'}})
    lookup = Lookup()

    assert lookup('ghcr.io') == Auth(TEST_USER, TEST_PASSWORD)
    assert lookup('quay.io') == Auth(identity_token='refresh-me')  # '<token>': an identity token
    assert lookup('other.example') is None  # "not found in native keychain"
    assert [c['stdin'] for c in store.calls()] == ['ghcr.io', 'other.example']
    assert [c['stdin'] for c in special.calls()] == ['quay.io']


def test_a_helper_runs_once_per_host_even_when_asked_concurrently(helpers: Callable[..., Helper]) -> None:
    helper = helpers('store', alice('ghcr.io'))
    docker_config({'credsStore': 'store'})
    lookup = Lookup()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lookup, ['ghcr.io'] * 16 + ['quay.io'] * 16))

    assert answers == [Auth(TEST_USER, TEST_PASSWORD)] * 16 + [None] * 16
    assert sorted(c['stdin'] for c in helper.calls()) == ['ghcr.io', 'quay.io']


def test_helper_failures_name_the_helper_and_registry_only(helpers: Callable[..., Helper]) -> None:
    broken = helpers('broken', exit_status=3)
    docker_config({'credHelpers': {'ghcr.io': 'broken', 'quay.io': 'missing', 'x.example': '../evil'}})
    lookup = Lookup()

    with pytest.raises(CredentialsError) as info:
        lookup('ghcr.io')
    with pytest.raises(CredentialsError, match='^credential helper docker-credential-broken failed'):
        lookup('ghcr.io')  # the same answer, the helper is not run again

    assert str(info.value) == 'credential helper docker-credential-broken failed for ghcr.io (exit status 3)'
    assert len(broken.calls()) == 1
    with pytest.raises(CredentialsError, match='^credential helper docker-credential-missing for quay.io is not on PATH$'):
        lookup('quay.io')
    with pytest.raises(CredentialsError, match='not a helper name'):
        lookup('x.example')


def test_podman_auth_files_after_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    docker_config({'auths': {'ghcr.io': {'auth': auth_field('from-docker')}}})
    runtime = write_json(Path(os.environ['XDG_RUNTIME_DIR'], 'containers', 'auth.json'), {'auths': {
        'ghcr.io': {'auth': auth_field('from-podman')},
        'docker.io': {'auth': auth_field('hub-from-podman')},
        'quay.io/team': {'auth': auth_field('scoped')},  # one namespace only: not for the host
    }})
    write_json(Path(os.environ['XDG_CONFIG_HOME'], 'containers', 'auth.json'), {'auths': {
        'quay.io': {'auth': auth_field('from-config-home')},
    }})

    assert Lookup()('ghcr.io').username == 'from-docker'  # type: ignore[union-attr]
    assert Lookup()('registry-1.docker.io').username == 'hub-from-podman'  # type: ignore[union-attr]
    assert Lookup()('quay.io').username == 'from-config-home'  # type: ignore[union-attr]

    explicit = write_json(tmp_path / 'explicit.json', {'auths': {'docker.io': {'auth': auth_field('explicit')}}})
    monkeypatch.setenv('REGISTRY_AUTH_FILE', str(explicit))  # replaces the runtime file
    assert Lookup()('docker.io').username == 'explicit'  # type: ignore[union-attr]
    assert runtime.exists()


def test_files_are_read_lazily(helpers: Callable[..., Helper]) -> None:
    helper = helpers('store', alice('ghcr.io'))
    path = docker_config({'credsStore': 'store'})
    lookup = Lookup()
    path.write_text('{"credsStore": "store", "auths": {"ghcr.io": {}}}')  # before any lookup: seen
    assert lookup('ghcr.io') == Auth(TEST_USER, TEST_PASSWORD)
    path.write_text('{broken')  # after: read once per run
    assert lookup('quay.io') is None
    assert len(helper.calls()) == 2


# --- end to end: pin with credentials --------------------------------------------

def _push(server: RegistryServer, repo: str) -> str:
    return push_image(server.url, repo, 'v1', platforms=ONE_PLATFORM, auth=TEST_CREDS)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


AUTHENTICATED = ['auth_registry', 'token_auth_registry']


@pytest.mark.parametrize('server_name', AUTHENTICATED)
def test_pin_with_docker_config(request, tmp_path, capsys, unique_repo, server_name) -> None:
    server: RegistryServer = request.getfixturevalue(server_name)
    digest = _push(server, unique_repo)
    docker_config({'auths': {server.host: {'auth': ENCODED}}})
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {server.host}/{unique_repo}:v1 AS base\n')
    if server.token_server is not None:
        server.token_server.reset_requests()

    rc, out, err = _run(capsys, str(path))

    assert rc == 1
    assert path.read_text() == f'FROM {server.host}/{unique_repo}:v1@{digest} AS base\n'
    assert err == ''
    if server.token_server is not None:  # one token, fetched as alice
        assert [r.user for r in server.token_server.token_requests()] == [TEST_USER]


@pytest.mark.parametrize('server_name', AUTHENTICATED)
def test_pin_with_a_credential_helper_run_once(
        request, tmp_path, capsys, repo_factory, helpers, server_name,
) -> None:
    server: RegistryServer = request.getfixturevalue(server_name)
    repos = [repo_factory() for _ in range(3)]
    digests = [_push(server, repo) for repo in repos]
    helper = helpers('pintest', alice(server.host))
    docker_config({'credHelpers': {server.host: 'pintest'}})
    one, two = tmp_path / 'one.Dockerfile', tmp_path / 'two.Dockerfile'
    one.write_text(f'FROM {server.host}/{repos[0]}:v1\nFROM {server.host}/{repos[1]}:v1\n')
    two.write_text(f'FROM {server.host}/{repos[2]}:v1\n')

    rc, out, err = _run(capsys, str(one), str(two))

    assert rc == 1
    assert one.read_text() == ''.join(f'FROM {server.host}/{r}:v1@{d}\n' for r, d in zip(repos[:2], digests))
    assert two.read_text() == f'FROM {server.host}/{repos[2]}:v1@{digests[2]}\n'
    assert helper.calls() == [{'argv': ['get'], 'stdin': server.host}]


def test_pin_with_podman_auth_file(tmp_path, capsys, monkeypatch, auth_registry, unique_repo) -> None:
    digest = _push(auth_registry, unique_repo)
    auth_file = write_json(tmp_path / 'auth.json', {'auths': {auth_registry.host: {'auth': ENCODED}}})
    monkeypatch.setenv('REGISTRY_AUTH_FILE', str(auth_file))
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {auth_registry.host}/{unique_repo}:v1\n')

    assert _run(capsys, str(path))[0] == 1
    assert path.read_text() == f'FROM {auth_registry.host}/{unique_repo}:v1@{digest}\n'


@pytest.mark.parametrize('server_name', AUTHENTICATED)
@pytest.mark.parametrize('config', ['wrong', 'missing', 'not-in-helper'])
def test_wrong_or_missing_credentials(
        request, tmp_path, capsys, unique_repo, helpers, server_name, config,
) -> None:
    server: RegistryServer = request.getfixturevalue(server_name)
    _push(server, unique_repo)
    if config == 'wrong':
        docker_config({'auths': {server.host: {'auth': auth_field(TEST_USER, f'{TEST_PASSWORD}-typo')}}})
    elif config == 'not-in-helper':
        helpers('pintest', alice('elsewhere.example'))
        docker_config({'credsStore': 'pintest'})
    path = tmp_path / 'Dockerfile'
    text = f'FROM {server.host}/{unique_repo}:v1\n'
    path.write_text(text)

    rc, out, err = _run(capsys, str(path))

    assert rc == 3
    assert out == (
        f'{path}:1: {server.host}/{unique_repo}:v1: access denied by {server.host} '
        f'(not logged in? run docker login {server.host})\n'
    )
    assert err == ''
    assert path.read_text() == text
    assert not any(s in out + err for s in (*SECRETS, f'{TEST_PASSWORD}-typo'))


def test_a_failing_helper_is_reported_without_its_output(
        tmp_path, capsys, auth_registry, unique_repo, helpers,
) -> None:
    _push(auth_registry, unique_repo)
    helpers('broken', exit_status=1)
    docker_config({'credsStore': 'broken'})
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {auth_registry.host}/{unique_repo}:v1\n')

    rc, out, err = _run(capsys, str(path))

    assert rc == 3
    assert out == (
        f'{path}:1: {auth_registry.host}/{unique_repo}:v1: credential helper docker-credential-broken '
        f'failed for {auth_registry.host} (exit status 1)\n'
    )
    assert TEST_PASSWORD not in out + err


def test_no_challenge_no_lookup(tmp_path, capsys, registry, unique_repo, helpers) -> None:
    digest = push_image(registry.url, unique_repo, 'v1', platforms=ONE_PLATFORM)
    helper = helpers('pintest', alice(registry.host))
    docker_config({'credsStore': 'pintest', 'auths': {'x': {'auth': 'not base64!'}}})
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{unique_repo}:v1\n')

    assert _run(capsys, str(path))[0] == 1
    assert path.read_text() == f'FROM {registry.host}/{unique_repo}:v1@{digest}\n'
    assert helper.calls() == []


def test_registry_token_goes_to_the_registry_as_is(tmp_path, capsys, token_auth_registry, unique_repo) -> None:
    digest = _push(token_auth_registry, unique_repo)
    tokens = token_auth_registry.token_server
    assert tokens is not None
    bearer = tokens.make_token([{'type': 'repository', 'name': unique_repo, 'actions': ['pull']}])
    docker_config({'auths': {token_auth_registry.host: {'registrytoken': bearer}}})
    tokens.reset_requests()
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {token_auth_registry.host}/{unique_repo}:v1\n')

    rc, out, err = _run(capsys, str(path))

    assert rc == 1
    assert path.read_text() == f'FROM {token_auth_registry.host}/{unique_repo}:v1@{digest}\n'
    assert tokens.token_requests() == []  # no token service involved
    assert bearer not in out + err


def test_mirror_uses_the_mirror_hosts_credentials(tmp_path, capsys, auth_registry, unique_repo) -> None:
    digest = _push(auth_registry, unique_repo)
    docker_config({'auths': {
        HUB_KEY: {'auth': auth_field('hub-user', 'hub-password')},
        auth_registry.host: {'auth': ENCODED},
    }})
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM docker.io/{unique_repo}:v1\n')

    rc, out, err = _run(capsys, '--registry-mirror', f'docker.io={auth_registry.host}', str(path))

    assert rc == 1, out
    assert path.read_text() == f'FROM docker.io/{unique_repo}:v1@{digest}\n'
    assert not any(s in out + err for s in (*SECRETS, 'hub-password'))


# --- identity tokens: docker's OAuth2 refresh-token flow ---------------------------

IDENTITY_TOKEN = 'identity-token-from-docker-login'


class _OAuthHandler(http.server.BaseHTTPRequestHandler):
    server: _OAuthServer

    def do_GET(self) -> None:  # noqa: N802 -- Basic auth: only the pushing test helper
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        ok = self.headers.get('Authorization') == f'Basic {ENCODED}'
        self.server.owner.answer(self, 'GET', query, ok)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get('Content-Length') or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        ok = form.get('grant_type') == ['refresh_token'] and form.get('refresh_token') == [IDENTITY_TOKEN]
        self.server.owner.answer(self, 'POST', form, ok)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _OAuthServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: OAuthRealm) -> None:
        self.owner = owner
        super().__init__(('127.0.0.1', 0), _OAuthHandler)


class OAuthRealm:
    """A token realm that takes an identity token as an OAuth2 refresh token.

    It mints its tokens with a :class:`TokenServer`'s key (that server is
    never started: the registry's realm points here instead).
    """

    def __init__(self, signer: TokenServer) -> None:
        self.signer = signer
        self.requests: list[tuple[str, dict[str, list[str]], bool]] = []
        self._server = _OAuthServer(self)
        self.url = f'http://127.0.0.1:{self._server.server_address[1]}/token'
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, handler: _OAuthHandler, method: str, params: dict[str, list[str]], ok: bool) -> None:
        self.requests.append((method, {k: v for k, v in params.items() if k != 'refresh_token'}, ok))
        if ok:
            access = []
            for scope in params.get('scope', []):
                _, _, rest = scope.partition(':')
                name, _, actions = rest.rpartition(':')
                access.append({'type': 'repository', 'name': name, 'actions': actions.split(',')})
            status, body = 200, {'access_token': self.signer.make_token(access), 'expires_in': 300}
        else:
            status, body = 401, {'error': 'invalid_grant'}
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def oauth_registry(tmp_path_factory) -> Iterator[tuple[RegistryServer, OAuthRealm]]:
    tmp = tmp_path_factory.mktemp('oauth-registry')
    signer = TokenServer(tmp)
    realm = OAuthRealm(signer)
    signer.realm = realm.url
    try:
        with RegistryServer(tmp, 'token', token_server=signer) as server:
            yield server, realm
    finally:
        realm.stop()


def test_identity_token_is_an_oauth2_refresh_token(tmp_path, capsys, oauth_registry, unique_repo) -> None:
    server, realm = oauth_registry
    digest = _push(server, unique_repo)
    docker_config({'auths': {server.host: {'identitytoken': IDENTITY_TOKEN}}})
    realm.requests.clear()
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {server.host}/{unique_repo}:v1\n')

    rc, out, err = _run(capsys, str(path))

    assert rc == 1, out
    assert path.read_text() == f'FROM {server.host}/{unique_repo}:v1@{digest}\n'
    assert realm.requests == [('POST', {
        'scope': [f'repository:{unique_repo}:pull'], 'service': ['test-registry'],
        'grant_type': ['refresh_token'], 'client_id': ['pin-from'],
    }, True)]
    assert IDENTITY_TOKEN not in out + err


# --- where credentials may go ------------------------------------------------------

class _Recorder(http.server.ThreadingHTTPServer):
    """A tiny registry (Basic auth) whose manifest GET redirects to ``target``."""

    daemon_threads = True
    manifest = (
        b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": '
        b'{"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": "sha256:'
        + b'4' * 64 + b'"}, "layers": []}'
    )

    def __init__(self) -> None:
        self.target = ''
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, Authorization

        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_HEAD(self) -> None:  # noqa: N802
                recorder.answer(self)

            do_GET = do_HEAD  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        super().__init__(('127.0.0.1', 0), Handler)
        self.host = f'127.0.0.1:{self.server_address[1]}'
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, h: http.server.BaseHTTPRequestHandler) -> None:
        auth = h.headers.get('Authorization')
        self.seen.append((h.command, h.path, auth))
        headers: dict[str, str] = {}
        body = b''
        if h.path.startswith('/v2/') and auth != f'Basic {ENCODED}':
            status, headers = 401, {'WWW-Authenticate': 'Basic realm="test"'}
        elif h.path == '/v2/':
            status = 200
        elif h.path.startswith('/v2/') and h.command == 'HEAD':
            status = 200  # no Docker-Content-Digest: the client must GET
            headers = {'Content-Type': 'application/vnd.oci.image.manifest.v1+json'}
        elif h.path.startswith('/v2/'):
            status, headers = 307, {'Location': self.target}
        else:  # the redirect target: "object storage"
            status, body = 200, self.manifest
            headers = {'Content-Type': 'application/vnd.oci.image.manifest.v1+json'}
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header('Content-Length', str(len(body)))
        h.end_headers()
        if h.command != 'HEAD':
            h.wfile.write(body)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.mark.parametrize('target, keeps_auth', [
    ('http://localhost:{store_port}/blob', False),  # another host name (and port)
    ('http://127.0.0.1:{store_port}/blob', False),  # same address, another port
    ('http://{registry}/storage/blob', True),  # same origin
])
def test_a_redirect_to_another_host_carries_no_authorization(
        tmp_path, capsys, target: str, keeps_auth: bool,
) -> None:
    registry, store = _Recorder(), _Recorder()
    try:
        registry.target = target.format(store_port=store.server_address[1], registry=registry.host)
        docker_config({'auths': {registry.host: {'auth': ENCODED}}})
        path = tmp_path / 'Dockerfile'
        path.write_text(f'FROM {registry.host}/team/app:v1\n')

        rc, out, err = _run(capsys, str(path))
    finally:
        registry.stop()
        store.stop()

    digest = 'sha256:' + hashlib.sha256(_Recorder.manifest).hexdigest()
    assert rc == 1, out
    assert path.read_text() == f'FROM {registry.host}/team/app:v1@{digest}\n'
    redirected = [s for s in registry.seen + store.seen if not s[1].startswith('/v2/')]
    assert len(redirected) == 1
    assert redirected[0][2] == (f'Basic {ENCODED}' if keeps_auth else None)
    assert ('GET', '/v2/team/app/manifests/v1', f'Basic {ENCODED}') in registry.seen


def _basic_challenge(rsps: responses.RequestsMock, url: str) -> None:
    rsps.add('HEAD', url, status=401, headers={'WWW-Authenticate': 'Basic realm="r"'})


def _asking_lookup(asked: list[str]) -> Callable[[str], Auth]:
    def lookup(host: str) -> Auth:
        asked.append(host)
        return Auth(TEST_USER, TEST_PASSWORD)
    return lookup


@pytest.mark.parametrize('insecure', [False, True])
def test_plain_http_carries_credentials_only_to_insecure_registries(insecure: bool) -> None:
    asked: list[str] = []
    options = Options(
        {'docker.io': 'http://mirror.example'}, frozenset({'mirror.example'} if insecure else ()),
        _asking_lookup(asked),
    )
    manifest = 'http://mirror.example/v2/library/python/manifests/3'
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _basic_challenge(rsps, 'http://mirror.example/v2/')
        if insecure:
            rsps.add('HEAD', manifest, status=200, headers={'Docker-Content-Digest': 'sha256:' + 'a' * 64},
                     match=[responses.matchers.header_matcher({'Authorization': f'Basic {ENCODED}'})])
        _basic_challenge(rsps, manifest)
        client = Client(Http(5.0, options.insecure), options)
        if insecure:
            assert client.digest(reference.parse('python:3')) == 'sha256:' + 'a' * 64
        else:
            with pytest.raises(RegistryError, match=r'^access denied by mirror.example \(not logged in'):
                client.digest(reference.parse('python:3'))
        sent = [c.request.headers.get('Authorization') for c in rsps.calls]
    assert asked == (['mirror.example'] if insecure else [])
    assert sent == ([None, f'Basic {ENCODED}'] if insecure else [None, None, None])


def test_a_plain_http_token_realm_elsewhere_gets_no_credentials() -> None:
    asked: list[str] = []
    options = Options({}, frozenset({'reg.example:5000'}), _asking_lookup(asked))
    digest = 'sha256:' + 'b' * 64
    with responses.RequestsMock() as rsps:
        rsps.add('HEAD', 'http://reg.example:5000/v2/', status=401, headers={
            'WWW-Authenticate': 'Bearer realm="http://auth.example/token",service="reg"'})
        rsps.add('GET', 'http://auth.example/token', json={'token': 'anonymous-token'})
        rsps.add('HEAD', 'http://reg.example:5000/v2/team/app/manifests/v1', status=200,
                 headers={'Docker-Content-Digest': digest},
                 match=[responses.matchers.header_matcher({'Authorization': 'Bearer anonymous-token'})])
        client = Client(Http(5.0, options.insecure), options)
        assert client.digest(reference.parse('reg.example:5000/team/app:v1')) == digest
        token_request = rsps.calls[-2].request
    assert 'Authorization' not in token_request.headers
    # Looked up: plain HTTP to reg.example:5000 is allowed (a registrytoken may go there).
    assert asked == ['reg.example:5000']
