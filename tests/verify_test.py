"""pin-from --verify against the real registry: missing digests, moved tags, platform pins."""
from __future__ import annotations

import json

import pytest
import requests

from pin_from.pin import main
from tests.registry_server import delete_tag
from tests.registry_server import push_image

AMD64 = ('linux', 'amd64')
ARM64 = ('linux', 'arm64')


@pytest.fixture
def image(registry, repo_factory):
    def push(tag='v1', **kwargs):
        repo = repo_factory()
        return repo, push_image(registry.url, repo, tag, **kwargs)
    return push


def platform_digests(registry, repo, digest):
    resp = requests.get(f'{registry.url}/v2/{repo}/manifests/{digest}', headers={
        'Accept': 'application/vnd.oci.image.index.v1+json'}, timeout=10)
    return {f'{m["platform"]["os"]}/{m["platform"]["architecture"]}': m['digest'] for m in resp.json()['manifests']}


def test_a_current_pin_verifies(registry, image, tmp_path, capsys):
    repo, digest = image(platforms=(AMD64,))
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{digest}\n')
    assert main(['--verify', '--check', '-v', str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f'{path}:1: {registry.host}/{repo}:v1@{digest}: exists, and is what {registry.host}/{repo}:v1 names' in out


def test_a_deleted_manifest_is_an_error_that_says_what_to_do(registry, image, tmp_path, capsys):
    repo, old = image(platforms=(AMD64,), seed='1')
    new = push_image(registry.url, repo, 'v1', platforms=(AMD64,), seed='2')
    delete_tag(registry.url, repo, old)  # garbage: the tag lives on at the new digest
    path = tmp_path / 'Dockerfile'
    content = f'FROM {registry.host}/{repo}:v1@{old}\n'
    path.write_text(content)
    assert main(['--verify', '--check', str(path)]) == 3
    assert capsys.readouterr().out == (
        f'{path}:1: {registry.host}/{repo}:v1@{old}: {old} no longer exists in {registry.host}/{repo}; '
        'run pin-from --update to re-pin it to what its tag names today\n'
    )
    assert path.read_text() == content
    assert main(['--update', str(path)]) == 1  # the way out works
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{new}\n'
    assert main(['--verify', '--check', str(path)]) == 0


def test_a_hand_edited_pin_to_an_unrelated_digest_is_a_warning(registry, image, tmp_path, capsys):
    repo, _ = image(platforms=(AMD64,), seed='1')
    other_repo, other = image(platforms=(AMD64,), seed='other')
    push_image(registry.url, repo, 'elsewhere', platforms=(AMD64,), seed='other')  # exists in repo, under another tag
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{other}\n')
    assert main(['--verify', '--check', str(path)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert out == (
        f'{path}:1: {registry.host}/{repo}:v1@{other}: warning: {registry.host}/{repo}:v1 names another image today '
        '(it moved, or this pin was never its); pin-from --update re-pins it\n'
    )


def test_a_digest_missing_from_its_repository_is_an_error(registry, image, tmp_path, capsys):
    repo, _ = image(platforms=(AMD64,), seed='1')
    _, elsewhere = image(platforms=(AMD64,), seed='not-in-repo')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{elsewhere}\n')
    assert main(['--verify', '--check', str(path)]) == 3
    assert 'no longer exists in' in capsys.readouterr().out


def test_a_platform_pin_verifies_as_one(registry, image, tmp_path, capsys):
    repo, index = image(platforms=(AMD64, ARM64))
    arm = platform_digests(registry, repo, index)['linux/arm64']
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{arm}\n')
    assert main(['--verify', '--check', '-v', str(path)]) == 0
    assert 'a platform pin (one platform of what' in capsys.readouterr().out


def test_existence_answers_are_cached_with_the_ttl(registry, image, tmp_path):
    repo, digest = image(platforms=(AMD64,))
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{digest}\n')
    assert main(['--verify', '--check', str(path)]) == 0
    mark = len(registry.requests_log())
    assert main(['--verify', '--check', str(path)]) == 0
    heads = [r for r in registry.requests_log(since=mark) if r['method'] == 'HEAD' and digest in r['uri']]
    assert heads == []
    assert main(['--verify', '--check', '--cache-ttl', '0', str(path)]) == 0
    heads = [r for r in registry.requests_log(since=mark) if r['method'] == 'HEAD' and digest in r['uri']]
    assert len(heads) == 1
    json.dumps(heads)  # plain data
