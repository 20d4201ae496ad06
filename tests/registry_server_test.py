"""The test registry helpers are real: skopeo and plain HTTP agree with them."""
from __future__ import annotations

import base64
import json
import os
import socket
from pathlib import Path
from typing import Callable

import requests

from tests.registry_server import (
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    TEST_CREDS,
    RegistryServer,
    delete_tag,
    free_port,
    head_manifest,
    htpasswd_line,
    push_image,
    skopeo_digest,
)


def _manifest(server: RegistryServer, repo: str, ref: str) -> requests.Response:
    return requests.get(
        f'{server.url}/v2/{repo}/manifests/{ref}',
        headers={'Accept': MANIFEST_ACCEPT}, timeout=10,
    )


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', port))


def test_htpasswd_line_is_bcrypt() -> None:
    user, _, hashed = htpasswd_line('alice', 'pw').partition(':')
    assert user == 'alice'
    assert hashed.startswith('$2b$04$')


def test_isolated_env(isolated_env: Path) -> None:
    assert os.environ['DOCKER_CONFIG'].startswith(str(isolated_env))
    assert os.listdir(os.environ['DOCKER_CONFIG']) == []
    assert os.environ['HOME'].startswith(str(isolated_env))
    assert os.environ['PIN_FROM_CACHE_DIR'].startswith(str(isolated_env))
    assert 'REGISTRY_AUTH_FILE' not in os.environ


def test_push_index_matches_skopeo_and_head(
        registry: RegistryServer, unique_repo: str,
) -> None:
    digest = push_image(registry.url, unique_repo, 'v1')

    assert skopeo_digest(registry.host, f'{unique_repo}:v1') == digest
    resp = requests.head(
        f'{registry.url}/v2/{unique_repo}/manifests/v1',
        headers={'Accept': MANIFEST_ACCEPT}, timeout=10,
    )
    assert resp.status_code == 200
    assert resp.headers['Docker-Content-Digest'] == digest
    assert resp.headers['Content-Type'] == OCI_INDEX


def test_index_lists_platforms_with_valid_configs(
        registry: RegistryServer, unique_repo: str,
) -> None:
    push_image(
        registry.url, unique_repo, 'v1',
        platforms=(('linux', 'amd64'), ('linux', 'arm', 'v7')),
        env={'PYTHON_VERSION': '3.12.1'}, labels={'a': 'b'}, layers=2,
    )

    index = _manifest(registry, unique_repo, 'v1').json()
    platforms = [m['platform'] for m in index['manifests']]
    assert platforms == [
        {'os': 'linux', 'architecture': 'amd64'},
        {'os': 'linux', 'architecture': 'arm', 'variant': 'v7'},
    ]
    child = _manifest(registry, unique_repo, index['manifests'][1]['digest'])
    assert len(child.json()['layers']) == 2
    config_digest = child.json()['config']['digest']
    config = requests.get(
        f'{registry.url}/v2/{unique_repo}/blobs/{config_digest}', timeout=10,
    ).json()
    assert config['architecture'] == 'arm'
    assert config['variant'] == 'v7'
    assert config['config']['Env'] == ['PYTHON_VERSION=3.12.1']
    assert config['config']['Labels'] == {'a': 'b'}
    assert len(config['rootfs']['diff_ids']) == 2


def test_single_platform_is_a_plain_manifest(
        registry: RegistryServer, unique_repo: str,
) -> None:
    digest = push_image(
        registry.url, unique_repo, 'v1', platforms=(('linux', 'amd64'),),
    )

    resp = head_manifest(registry.url, unique_repo, 'v1')
    assert resp.headers['Content-Type'] == OCI_MANIFEST
    assert resp.headers['Docker-Content-Digest'] == digest
    assert skopeo_digest(registry.host, f'{unique_repo}:v1') == digest


def test_seed_moves_the_tag_and_same_seed_does_not(
        registry: RegistryServer, unique_repo: str,
) -> None:
    first = push_image(registry.url, unique_repo, 'v1', seed='a')
    again = push_image(registry.url, unique_repo, 'v1', seed='a')
    moved = push_image(registry.url, unique_repo, 'v1', seed='b')

    assert again == first
    assert moved != first
    assert head_manifest(
        registry.url, unique_repo, 'v1',
    ).headers['Docker-Content-Digest'] == moved
    assert skopeo_digest(registry.host, f'{unique_repo}:v1') == moved


def test_delete_tag_makes_head_404(
        registry: RegistryServer, unique_repo: str,
) -> None:
    digest = push_image(registry.url, unique_repo, 'v1')

    delete_tag(registry.url, unique_repo, digest)

    assert head_manifest(registry.url, unique_repo, 'v1').status_code == 404


def test_requests_log_sees_heads(
        registry: RegistryServer, unique_repo: str,
) -> None:
    push_image(registry.url, unique_repo, 'v1')
    before = len(registry.requests_log())

    head_manifest(registry.url, unique_repo, 'v1')
    head_manifest(registry.url, unique_repo, 'missing')
    requests.get(f'{registry.url}/not-a-route', timeout=10)

    assert registry.requests_log(since=before) == [
        {'method': 'HEAD', 'uri': f'/v2/{unique_repo}/manifests/v1', 'status': 200},
        {
            'method': 'HEAD', 'uri': f'/v2/{unique_repo}/manifests/missing',
            'status': 404,
        },
        {'method': 'GET', 'uri': '/not-a-route', 'status': 404},
    ]


def test_token_registry_wants_a_bearer_token(
        token_registry: RegistryServer, unique_repo: str,
) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    digest = push_image(token_registry.url, unique_repo, 'v1')
    url = f'{token_registry.url}/v2/{unique_repo}/manifests/v1'

    anonymous = requests.head(url, headers={'Accept': MANIFEST_ACCEPT}, timeout=10)
    assert anonymous.status_code == 401
    challenge = anonymous.headers['WWW-Authenticate']
    assert challenge.startswith(f'Bearer realm="{tokens.realm}"')
    assert f'service="{tokens.service}"' in challenge
    assert f'scope="repository:{unique_repo}:pull"' in challenge

    tokens.reset_requests()
    body = requests.get(
        tokens.realm,
        params={'service': tokens.service, 'scope': f'repository:{unique_repo}:pull'},
        timeout=10,
    ).json()
    assert body['token'] == body['access_token']
    authorized = requests.head(
        url, timeout=10, headers={
            'Accept': MANIFEST_ACCEPT, 'Authorization': f"Bearer {body['token']}",
        },
    )
    assert authorized.status_code == 200
    assert authorized.headers['Docker-Content-Digest'] == digest
    assert [r.query['scope'] for r in tokens.token_requests()] == [
        [f'repository:{unique_repo}:pull'],
    ]
    assert skopeo_digest(token_registry.host, f'{unique_repo}:v1') == digest


def test_token_for_another_repository_is_refused(
        token_registry: RegistryServer, repo_factory: Callable[[], str],
) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    repo, other = repo_factory(), repo_factory()
    push_image(token_registry.url, repo, 'v1')
    token = tokens.make_token(
        [{'type': 'repository', 'name': other, 'actions': ['pull']}],
    )

    resp = requests.head(
        f'{token_registry.url}/v2/{repo}/manifests/v1', timeout=10,
        headers={'Accept': MANIFEST_ACCEPT, 'Authorization': f'Bearer {token}'},
    )

    assert resp.status_code == 401


def test_htpasswd_registry(auth_registry: RegistryServer, unique_repo: str) -> None:
    digest = push_image(auth_registry.url, unique_repo, 'v1', auth=TEST_CREDS)
    url = f'{auth_registry.url}/v2/{unique_repo}/manifests/v1'

    anonymous = requests.head(url, headers={'Accept': MANIFEST_ACCEPT}, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers['WWW-Authenticate'] == 'Basic realm="test"'
    wrong = requests.head(
        url, headers={'Accept': MANIFEST_ACCEPT}, timeout=10,
        auth=('alice', 'wrong'),
    )
    assert wrong.status_code == 401
    good = head_manifest(auth_registry.url, unique_repo, 'v1', auth=TEST_CREDS)
    assert good.headers['Docker-Content-Digest'] == digest
    assert skopeo_digest(auth_registry.host, f'{unique_repo}:v1', TEST_CREDS) == digest


def test_token_server_with_users(
        token_auth_registry: RegistryServer, unique_repo: str,
) -> None:
    tokens = token_auth_registry.token_server
    assert tokens is not None
    digest = push_image(token_auth_registry.url, unique_repo, 'v1', auth=TEST_CREDS)
    params = {'service': tokens.service, 'scope': f'repository:{unique_repo}:pull'}
    tokens.reset_requests()

    anonymous = requests.get(tokens.realm, params=params, timeout=10)
    wrong = requests.get(
        tokens.realm, params=params, auth=('alice', 'nope'), timeout=10,
    )
    good = requests.get(tokens.realm, params=params, auth=TEST_CREDS, timeout=10)

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert good.status_code == 200
    seen = tokens.token_requests()
    assert [(r.has_authorization, r.user, r.status) for r in seen] == [
        (False, None, 401), (True, None, 401), (True, 'alice', 200),
    ]
    assert 's3cret-pass' not in repr(seen)
    assert 'nope' not in repr(seen)
    assert head_manifest(
        token_auth_registry.url, unique_repo, 'v1', auth=TEST_CREDS,
    ).headers['Docker-Content-Digest'] == digest
    assert skopeo_digest(
        token_auth_registry.host, f'{unique_repo}:v1', TEST_CREDS,
    ) == digest


def test_token_claims(token_registry: RegistryServer) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    token = tokens.make_token(
        [{'type': 'repository', 'name': 'library/python', 'actions': ['pull']}],
    )

    header, claims = (
        json.loads(_b64decode(part)) for part in token.split('.')[:2]
    )

    assert header['alg'] == 'RS256' and len(header['x5c']) == 1
    assert claims['iss'] == tokens.issuer
    assert claims['aud'] == tokens.service
    assert claims['nbf'] <= claims['iat'] < claims['exp']
    assert claims['access'][0]['name'] == 'library/python'


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + '=' * (-len(part) % 4))
