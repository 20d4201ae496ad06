"""Registries that fail, throttle, hang or vanish: real registry, fault proxy in front.

Every case checks the message, the exit code, that files whose lookups failed
are untouched, and (where credentials are in play) that no secret is printed.
"""
from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from pin_from.registry import http as client
from pin_from.pin import main
from tests.faultproxy import Delay, FaultProxy, Reset, Status, Stop, self_signed
from tests.registry_server import TEST_CREDS, TEST_PASSWORD, RegistryServer, push_image

MANIFESTS = '/manifests/'
REAL_BACKOFF = client.RETRY_BACKOFF


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same retries, shorter waits (one test keeps the real backoff)."""
    monkeypatch.setattr(client, 'RETRY_BACKOFF', 0.01)


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[FaultProxy]:
    with FaultProxy(registry.host) as p:
        yield p


@pytest.fixture
def image(registry: RegistryServer, repo_factory: Callable[[], str]) -> Callable[[], tuple[str, str]]:
    """Push a new image; ``(repository, digest)`` of its tag ``v1``."""
    def make() -> tuple[str, str]:
        repo = repo_factory()
        return repo, push_image(registry.url, repo, 'v1', platforms=(('linux', 'amd64'),))
    return make


def dockerfile(tmp_path: Path, name: str, *refs: str) -> Path:
    path = tmp_path / name
    path.write_text(''.join(f'FROM {r}\n' for r in refs))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_500s_then_success_after_backoff(tmp_path, capsys, proxy, image, monkeypatch) -> None:
    monkeypatch.setattr(client, 'RETRY_BACKOFF', REAL_BACKOFF)
    repo, digest = image()
    proxy.add(Status(500), path=MANIFESTS, times=2)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    started = time.monotonic()
    rc, out, err = run(capsys, str(path))

    assert time.monotonic() - started >= 2 * REAL_BACKOFF  # waits 0, then 2 x backoff
    assert rc == 1  # changed
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1@{digest}\n'
    assert [s.action for s in proxy.seen(MANIFESTS)] == ['Status', 'Status', 'Pass']
    assert err == ''


def test_5xx_that_persist_fail_after_bounded_retries(tmp_path, capsys, proxy, image) -> None:
    repo, _ = image()
    proxy.add(Status(503), path=MANIFESTS)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    rc, out, err = run(capsys, str(path))

    assert rc == 3
    assert out == f'{path}:1: {proxy.host}/{repo}:v1: {proxy.host} answered HTTP 503\n'
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1\n'
    assert len(proxy.seen(MANIFESTS)) == 4  # the first try and 3 retries


def test_429_waits_for_retry_after(tmp_path, capsys, proxy, image) -> None:
    repo, digest = image()
    proxy.add(Status(429, {'Retry-After': '1'}), path=MANIFESTS, times=1)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    started = time.monotonic()
    rc, out, err = run(capsys, str(path))

    assert time.monotonic() - started >= 1.0
    assert rc == 1
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1@{digest}\n'
    assert [s.action for s in proxy.seen(MANIFESTS)] == ['Status', 'Pass']


def test_429_past_the_cap_fails_at_once_with_the_limit_and_advice(
        tmp_path, capsys, proxy, image,
) -> None:
    repo, _ = image()
    headers = {'Retry-After': '21600', 'ratelimit-remaining': '0;w=21600', 'ratelimit-limit': '100;w=21600'}
    proxy.add(Status(429, headers), path=MANIFESTS)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    started = time.monotonic()
    rc, out, err = run(capsys, str(path))

    assert time.monotonic() - started < 5
    assert rc == 3
    assert out == (
        f'{path}:1: {proxy.host}/{repo}:v1: rate limited by {proxy.host} (ratelimit-remaining: 0); '
        'it asks to wait 21600 s, more than pin-from waits (10 s); '
        'log in (docker login) or use --registry-mirror\n'
    )
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1\n'
    assert len(proxy.seen(MANIFESTS)) == 1


def test_connection_reset_is_retried(tmp_path, capsys, proxy, image) -> None:
    repo, digest = image()
    proxy.add(Reset(), path=MANIFESTS, times=1)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    rc, out, err = run(capsys, str(path))

    assert rc == 1
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1@{digest}\n'
    assert [s.action for s in proxy.seen(MANIFESTS)] == ['Reset', 'Pass']


def test_connection_reset_every_time(tmp_path, capsys, proxy, image) -> None:
    repo, _ = image()
    proxy.add(Reset(), path=MANIFESTS)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    rc, out, err = run(capsys, str(path))

    assert rc == 3
    assert out == f'{path}:1: {proxy.host}/{repo}:v1: {proxy.host} dropped the connection\n'
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1\n'


def test_slow_once_is_retried(tmp_path, capsys, proxy, image) -> None:
    repo, digest = image()
    proxy.add(Delay(3), path=MANIFESTS, times=1)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    rc, out, err = run(capsys, '--timeout', '0.5', str(path))

    assert rc == 1
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1@{digest}\n'


def test_slow_past_timeout(tmp_path, capsys, proxy, image) -> None:
    repo, _ = image()
    proxy.add(Delay(10), path=MANIFESTS)
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    started = time.monotonic()
    rc, out, err = run(capsys, '--timeout', '0.5', str(path))

    assert time.monotonic() - started < 5  # 3 tries of 0.5 s, plus backoff
    assert rc == 3
    assert out == f'{path}:1: {proxy.host}/{repo}:v1: {proxy.host} did not answer in time (--timeout)\n'
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1\n'


def test_registry_stops_mid_run(tmp_path, capsys, proxy, image) -> None:
    (first, digest), (second, _) = sorted([image(), image()])
    proxy.add(Stop(), path=f'{second}{MANIFESTS}')  # asked after the first (--jobs 1)
    good = dockerfile(tmp_path, 'good.Dockerfile', f'{proxy.host}/{first}:v1')
    bad = dockerfile(tmp_path, 'bad.Dockerfile', f'{proxy.host}/{second}:v1')
    mixed = dockerfile(tmp_path, 'mixed.Dockerfile', f'{proxy.host}/{first}:v1', f'{proxy.host}/{second}:v1')
    before = mixed.read_text()

    rc, out, err = run(capsys, '--jobs', '1', str(good), str(bad), str(mixed))

    assert rc == 3
    assert good.read_text() == f'FROM {proxy.host}/{first}:v1@{digest}\n'
    assert bad.read_text() == f'FROM {proxy.host}/{second}:v1\n'
    assert mixed.read_text() == before
    assert out.splitlines() == [
        f'{good}:1: pinned {proxy.host}/{first}:v1 -> {proxy.host}/{first}:v1@{digest}',
        f'{bad}:1: {proxy.host}/{second}:v1: cannot reach {proxy.host} (connection refused)',
        f'{mixed}:2: {proxy.host}/{second}:v1: cannot reach {proxy.host} (connection refused)',
    ]


def test_partial_failure_writes_only_files_that_fully_resolved(
        tmp_path, capsys, proxy, image,
) -> None:
    (ok, digest), (failing, _) = image(), image()
    proxy.add(Status(502), path=f'{failing}{MANIFESTS}')
    good = dockerfile(tmp_path, 'good.Dockerfile', f'{proxy.host}/{ok}:v1')
    missing = dockerfile(tmp_path, 'missing.Dockerfile', f'{proxy.host}/{ok}:v1', f'{proxy.host}/{ok}:no-such-tag')
    broken = dockerfile(tmp_path, 'broken.Dockerfile', f'{proxy.host}/{failing}:v1')

    rc, out, err = run(capsys, str(good), str(missing), str(broken))

    assert rc == 3
    assert good.read_text() == f'FROM {proxy.host}/{ok}:v1@{digest}\n'
    assert missing.read_text() == f'FROM {proxy.host}/{ok}:v1\nFROM {proxy.host}/{ok}:no-such-tag\n'
    assert broken.read_text() == f'FROM {proxy.host}/{failing}:v1\n'
    assert sorted(out.splitlines()) == sorted([
        f'{good}:1: pinned {proxy.host}/{ok}:v1 -> {proxy.host}/{ok}:v1@{digest}',
        f"{missing}:2: {proxy.host}/{ok}:no-such-tag: tag 'no-such-tag' not found in {proxy.host}/{ok}",
        f'{broken}:1: {proxy.host}/{failing}:v1: {proxy.host} answered HTTP 502',
    ])


def test_stale_answer_is_used_when_the_registry_is_gone(tmp_path, capsys, proxy, image) -> None:
    repo, digest = image()
    ref = f'{proxy.host}/{repo}:v1'
    first = dockerfile(tmp_path, 'first.Dockerfile', ref)
    assert run(capsys, str(first))[0] == 1  # fills the cache
    proxy.stop()
    second = dockerfile(tmp_path, 'second.Dockerfile', ref)

    rc, out, err = run(capsys, '--cache-ttl', '0', str(second))

    assert rc == 1  # changed
    assert second.read_text() == f'FROM {ref}@{digest}\n'
    assert err == f'pin-from: {ref}: cannot reach {proxy.host} (connection refused); using the cached answer\n'


def test_cold_cache_and_no_registry_is_an_error(tmp_path, capsys, proxy, image) -> None:
    repo, _ = image()
    proxy.stop()
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    rc, out, err = run(capsys, str(path))

    assert rc == 3
    assert out == f'{path}:1: {proxy.host}/{repo}:v1: cannot reach {proxy.host} (connection refused)\n'
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1\n'


# --- with credentials: failures never print them -----------------------------

def _login(host: str) -> None:
    auth = base64.b64encode(':'.join(TEST_CREDS).encode()).decode()
    config = Path(os.environ['DOCKER_CONFIG'], 'config.json')
    config.write_text(json.dumps({'auths': {host: {'auth': auth}}}))


@pytest.mark.parametrize('action', [Status(503), Reset(), Status(403), Status(401)])
def test_failures_behind_authentication_print_no_secret(
        tmp_path, capsys, auth_registry, unique_repo, action,
) -> None:
    push_image(auth_registry.url, unique_repo, 'v1', platforms=(('linux', 'amd64'),), auth=TEST_CREDS)
    with FaultProxy(auth_registry.host) as proxy:
        _login(proxy.host)
        proxy.add(action, path=MANIFESTS)
        path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{unique_repo}:v1')

        rc, out, err = run(capsys, str(path))

        seen = proxy.seen(MANIFESTS)
    expected = {
        'Reset': f'{proxy.host} dropped the connection',
        'Status': f'{proxy.host} answered HTTP 503' if action == Status(503) else
        f'access denied by {proxy.host} (not logged in? run docker login {proxy.host})',
    }[type(action).__name__]
    assert rc == 3
    assert out == f'{path}:1: {proxy.host}/{unique_repo}:v1: {expected}\n'
    assert path.read_text() == f'FROM {proxy.host}/{unique_repo}:v1\n'
    assert {s.authorization for s in seen} == {'Basic'}  # they were sent...
    encoded = base64.b64encode(':'.join(TEST_CREDS).encode()).decode()
    for secret in (TEST_PASSWORD, encoded):  # ...and never shown
        assert secret not in out + err


# --- TLS ---------------------------------------------------------------------

@pytest.fixture
def tls_proxy(tmp_path_factory, registry: RegistryServer) -> Iterator[tuple[FaultProxy, Path]]:
    cert, key = self_signed(tmp_path_factory.mktemp('tls'))
    with FaultProxy(registry.host, tls=(cert, key)) as p:
        yield p, cert


def test_untrusted_certificate_names_the_host_and_the_way_out(
        tmp_path, capsys, tls_proxy, image,
) -> None:
    proxy, _ = tls_proxy
    repo, _ = image()
    path = dockerfile(tmp_path, 'Dockerfile', f'{proxy.host}/{repo}:v1')

    rc, out, err = run(capsys, str(path))

    assert rc == 3
    assert out == (
        f'{path}:1: {proxy.host}/{repo}:v1: TLS error talking to {proxy.host}: certificate not trusted; '
        f'point REQUESTS_CA_BUNDLE at its CA certificate, or pass --insecure-registry {proxy.host}\n'
    )
    assert path.read_text() == f'FROM {proxy.host}/{repo}:v1\n'


def test_trusted_ca_bundle_or_insecure_registry_get_through(
        tmp_path, capsys, tls_proxy, image, monkeypatch,
) -> None:
    proxy, cert = tls_proxy
    repo, digest = image()
    one = dockerfile(tmp_path, 'one.Dockerfile', f'{proxy.host}/{repo}:v1')
    two = dockerfile(tmp_path, 'two.Dockerfile', f'{proxy.host}/{repo}:v1')

    assert run(capsys, '--insecure-registry', proxy.host, str(one))[0] == 1
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(cert))
    assert run(capsys, '--refresh', str(two))[0] == 1

    assert one.read_text() == two.read_text() == f'FROM {proxy.host}/{repo}:v1@{digest}\n'
    assert {s.action for s in proxy.seen()} == {'Pass'}
