"""The pin-from hook end to end, against a real registry (tests/registry_server.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pin_from.pin import main
from tests.registry_server import push_image


def run(hub, *args):
    return main(['--registry-mirror', hub.mirror, *map(str, args)])


EVERY_RULE = '''\
# syntax=docker/dockerfile:1
ARG BASE=python:3.12-slim
ARG PY=3.12
FROM --platform=$BUILDPLATFORM ${{BASE}} AS build
RUN --mount=type=bind,from=busybox:1.36,target=/bb true
FROM python:${{PY}}-slim AS composed
FROM \\
  # a comment inside the continuation
  node:20 as Web
COPY --from=build /a /b
COPY --from=0 /a /b
COPY --from=alpine:3.20 /etc/os-release /
FROM web
FROM scratch
FROM python
# pin-from: ignore
FROM python:3.11
FROM python:3.12-slim@{pinned}
FROM python@{pinned}
FROM {local}/team/app:1.0
'''

EXPECTED = '''\
# syntax=docker/dockerfile:1@{dockerfile}
ARG BASE=python:3.12-slim@{slim}
ARG PY=3.12
FROM --platform=$BUILDPLATFORM ${{BASE}} AS build
RUN --mount=type=bind,from=busybox:1.36@{busybox},target=/bb true
FROM python:${{PY}}-slim AS composed
FROM \\
  # a comment inside the continuation
  node:20@{node} as Web
COPY --from=build /a /b
COPY --from=0 /a /b
COPY --from=alpine:3.20@{alpine} /etc/os-release /
FROM web
FROM scratch
FROM python:latest@{latest}
# pin-from: ignore
FROM python:3.11
FROM python:3.12-slim@{pinned}
FROM python@{pinned}
FROM {local}/team/app:1.0@{app}
'''


@pytest.fixture
def every_rule(hub, registry, tmp_path, repo_factory):
    local_repo = repo_factory()
    digests = {
        'dockerfile': hub.push('docker/dockerfile', '1'),
        'slim': hub.push('python', '3.12-slim', seed='slim'),
        'busybox': hub.push('busybox', '1.36', platforms=(('linux', 'amd64'),)),
        'node': hub.push('node', '20', seed='node'),
        'alpine': hub.push('alpine', '3.20', seed='alpine'),
        'latest': hub.push('python', 'latest', seed='latest'),
        'app': push_image(registry.url, f'{local_repo}/team/app', '1.0'),
        'pinned': 'sha256:' + '0' * 64,
    }
    fmt = {**digests, 'local': f'{registry.host}/{local_repo}'}
    path = tmp_path / 'Dockerfile'
    path.write_text(EVERY_RULE.format(**fmt))
    return path, EXPECTED.format(**fmt), digests


def test_every_rule_gives_exact_bytes_and_skopeo_digests(hub, registry, every_rule, capsys):
    path, expected, digests = every_rule
    assert run(hub, path) == 1
    assert path.read_text() == expected
    out = capsys.readouterr().out
    assert out.count('pinned ') == 7
    assert f'{path}:2: pinned python:3.12-slim -> python:3.12-slim@{digests["slim"]}' in out

    # skopeo, an independent client, agrees on every digest written
    assert digests['slim'] == hub.skopeo('python', '3.12-slim')
    assert digests['node'] == hub.skopeo('node', '20')
    assert digests['busybox'] == hub.skopeo('busybox', '1.36')

    assert run(hub, path) == 0  # a second run changes nothing
    assert path.read_text() == expected


def test_multi_arch_pins_the_index_not_a_platform(hub, tmp_path):
    digest = hub.push('python', '3.13', platforms=(('linux', 'amd64'), ('linux', 'arm64'), ('linux', 'arm', 'v7')))
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM --platform=linux/arm64 python:3.13\n')
    assert run(hub, path) == 1
    assert path.read_text() == f'FROM --platform=linux/arm64 python:3.13@{digest}\n'
    assert digest == hub.skopeo('python', '3.13')


def test_verbose_says_what_was_skipped(hub, every_rule, capsys):
    path, _, _ = every_rule
    assert main(['-v', '--registry-mirror', hub.mirror, str(path)]) == 1
    out = capsys.readouterr().out
    for line, token, why in (
            (6, 'python:${PY}-slim', 'composed from build args'),
            (10, 'build', 'a build stage'),
            (11, '0', 'a build stage'),
            (13, 'web', 'an earlier build stage'),
            (14, 'scratch', 'scratch'),
            (17, 'python:3.11', 'pin-from: ignore'),
            (18, 'python:3.12-slim@sha256:' + '0' * 64, 'already pinned'),
            (19, 'python@sha256:' + '0' * 64, 'digest-only'),
    ):
        assert f'{path}:{line}: skipped {token}: ' in out
        assert why in out.split(f'{path}:{line}: skipped {token}: ')[1].splitlines()[0]


def test_byte_fidelity_crlf_bom_mode(hub, tmp_path):
    digest = hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    original = b'\xef\xbb\xbf# Comment\r\nfrom  python:3.12  AS  x\r\n\r\nRUN echo \\\r\n  hi\r\n'
    path.write_bytes(original)
    os.chmod(path, 0o640)
    assert run(hub, path) == 1
    assert path.read_bytes() == original.replace(b'python:3.12', f'python:3.12@{digest}'.encode())
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.pin-from-')]


def test_check_writes_nothing_and_lists_changes(hub, tmp_path, capsys):
    digest = hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12\n')
    assert main(['--check', '--registry-mirror', hub.mirror, str(path)]) == 1
    assert path.read_text() == 'FROM python:3.12\n'
    assert f'would pin python:3.12 -> python:3.12@{digest}' in capsys.readouterr().out
    assert run(hub, path) == 1
    assert main(['--check', '--registry-mirror', hub.mirror, str(path)]) == 0


def test_unknown_tag_is_one_line_error_and_file_untouched(hub, tmp_path, capsys):
    good = hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    content = 'FROM python:3.12\nFROM python:3.99\n'
    path.write_text(content)
    other = tmp_path / 'Other.Dockerfile'
    other.write_text('FROM python:3.12\n')
    assert run(hub, path, other) == 3
    assert path.read_text() == content  # one failure: the whole file stays
    assert other.read_text() == f'FROM python:3.12@{good}\n'  # partial success is written
    out = capsys.readouterr().out
    assert f"{path}:2: python:3.99: tag '3.99' not found in " in out


@pytest.mark.parametrize(
    ('content', 'message'),
    (
        (b'FROM python:3\nRUN \xff\n', ':2: not valid UTF-8'),
        (b'FROM Python:3\n', ':1: Python:3: invalid reference'),
        (b'FROM\n', ':1: FROM: malformed FROM instruction'),
    ),
)
def test_bad_input_is_one_line_error(hub, tmp_path, capsys, content, message):
    path = tmp_path / 'Dockerfile'
    path.write_bytes(content)
    assert run(hub, path) == 3
    assert path.read_bytes() == content
    out = capsys.readouterr().out
    assert out == f'{path}{message}' + out[len(f'{path}{message}'):]
    assert len(out.strip().splitlines()) == 1


def test_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / 'nope')]) == 3
    assert capsys.readouterr().out == f'{tmp_path / "nope"}: no such file\n'


def test_each_reference_resolved_once_and_cached(hub, registry, tmp_path):
    hub.push('python', '3.12')
    hub.push('node', '20')
    files = []
    for i in range(5):
        path = tmp_path / f'{i}.Dockerfile'
        path.write_text('FROM python:3.12\nFROM node:20\nCOPY --from=python:3.12 / /\n')
        files.append(path)
    mark = len(registry.requests_log())
    assert run(hub, *files) == 1
    heads = [r for r in registry.requests_log(since=mark) if r['method'] == 'HEAD' and '/manifests/' in r['uri']]
    assert sorted(r['uri'].rsplit('/', 3)[-3] for r in heads) == ['node', 'python']
    assert not [r for r in registry.requests_log(since=mark) if r['method'] == 'GET']

    # a fresh cached answer makes no request at all
    for path in files:
        path.write_text('FROM python:3.12\n')
    mark = len(registry.requests_log())
    assert run(hub, *files) == 1
    assert registry.requests_log(since=mark) == []
    # --refresh asks again
    files[0].write_text('FROM python:3.12\n')
    assert main(['--refresh', '--registry-mirror', hub.mirror, str(files[0])]) == 1
    assert len(registry.requests_log(since=mark)) >= 1


def test_offline(hub, tmp_path, capsys):
    digest = hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12\nFROM python:3.13\n')
    assert main(['--offline', str(path)]) == 3
    assert path.read_text() == 'FROM python:3.12\nFROM python:3.13\n'
    out = capsys.readouterr().out
    assert f'{path}:1: python:3.12: not in the cache and --offline was given' in out
    assert f'{path}:2: python:3.13: not in the cache' in out

    path.write_text('FROM python:3.12\n')
    assert run(hub, path) == 1  # warms the cache
    path.write_text('FROM python:3.12\n')
    # offline: a mirror pointing nowhere proves no request is made
    assert main(['--offline', '--registry-mirror', 'docker.io=http://127.0.0.1:9', str(path)]) == 1
    assert path.read_text() == f'FROM python:3.12@{digest}\n'


def test_registry_down_is_an_error_and_file_untouched(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM 127.0.0.1:9/app:1\n')
    assert main(['--timeout', '2', str(path)]) == 3
    assert path.read_text() == 'FROM 127.0.0.1:9/app:1\n'
    assert capsys.readouterr().out == f'{path}:1: 127.0.0.1:9/app:1: cannot reach 127.0.0.1:9 (connection refused)\n'


def test_token_auth_flow_one_token_per_repository(token_registry, repo_factory, tmp_path):
    repo_a, repo_b = repo_factory(), repo_factory()
    da = push_image(token_registry.url, repo_a, '1')
    db = push_image(token_registry.url, repo_b, '2')
    push_image(token_registry.url, repo_b, '3')
    path = tmp_path / 'Dockerfile'
    host = token_registry.host
    path.write_text(f'FROM {host}/{repo_a}:1\nFROM {host}/{repo_b}:2\nFROM {host}/{repo_b}:3\n')
    tokens = token_registry.token_server
    tokens.reset_requests()
    assert main([str(path)]) == 1
    assert path.read_text().splitlines()[:2] == [f'FROM {host}/{repo_a}:1@{da}', f'FROM {host}/{repo_b}:2@{db}']
    scopes = sorted(r.query['scope'] for r in tokens.token_requests())
    assert scopes == sorted([[f'repository:{repo_a}:pull'], [f'repository:{repo_b}:pull']])  # '-100' < '-99'


def test_mirror_keeps_the_name_in_the_file(hub, registry, tmp_path):
    digest = hub.push('bitnami/redis', '7')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM docker.io/bitnami/redis:7\nFROM index.docker.io/bitnami/redis:7\n')
    env_mirror = {'PIN_FROM_REGISTRY_MIRRORS': hub.mirror}
    old = {k: os.environ.get(k) for k in env_mirror}
    os.environ.update(env_mirror)
    try:
        assert main([str(path)]) == 1
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert path.read_text() == (
        f'FROM docker.io/bitnami/redis:7@{digest}\nFROM index.docker.io/bitnami/redis:7@{digest}\n'
    )


def test_bad_mirror_spec_is_one_line(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3\n')
    assert main(['--registry-mirror', 'nonsense', str(path)]) == 2
    assert capsys.readouterr().err == "pin-from: error: --registry-mirror 'nonsense': expected SOURCE=TARGET\n"


def test_no_files_is_a_noop():
    assert main([]) == 0


def test_nothing_to_pin_makes_no_request(tmp_path, capsys):
    path: Path = tmp_path / 'Dockerfile'
    path.write_text('FROM scratch\nFROM python@sha256:' + 'a' * 64 + '\n')
    assert main(['--registry-mirror', 'docker.io=http://127.0.0.1:9', str(path)]) == 0
    assert capsys.readouterr().out == ''


QUOTED = '''\
ARG BASE="python:3.12"
FROM "node:8.15"
FROM 'alpine:3.20' AS base
COPY --from="busybox:1.37" /bin/busybox /busybox
RUN --mount="type=bind,from=busybox:1.37,target=/b" true
FROM "$BASE"
FROM node:"8.15"
'''


def test_quoted_references_are_pinned_inside_their_quotes(hub, tmp_path, capsys):
    # BuildKit removes the quotes and builds these; pin-from once failed the
    # whole file ("invalid tag"). The quotes stay, byte for byte.
    d = {
        'node': hub.push('node', '8.15', seed='node'),
        'alpine': hub.push('alpine', '3.20', seed='alpine'),
        'busybox': hub.push('busybox', '1.37', seed='busybox'),
        'python': hub.push('python', '3.12', seed='python'),
    }
    path = tmp_path / 'Dockerfile'
    path.write_bytes(QUOTED.encode())
    assert main(['-v', '--registry-mirror', hub.mirror, str(path)]) == 1
    assert path.read_bytes() == (
        f'ARG BASE="python:3.12@{d["python"]}"\n'
        f'FROM "node:8.15@{d["node"]}"\n'
        f"FROM 'alpine:3.20@{d['alpine']}' AS base\n"
        f'COPY --from="busybox:1.37@{d["busybox"]}" /bin/busybox /busybox\n'
        f'RUN --mount="type=bind,from=busybox:1.37@{d["busybox"]},target=/b" true\n'
        'FROM "$BASE"\n'
        'FROM node:"8.15"\n'
    ).encode()
    out = capsys.readouterr().out
    assert f'{path}:2: pinned node:8.15 -> node:8.15@{d["node"]}' in out
    assert f'{path}:7: skipped node:8.15: quotes or escapes inside the reference' in out
    assert d['node'] == hub.skopeo('node', '8.15')
    assert run(hub, path) == 0  # a second run changes nothing


def test_a_misspelt_image_names_the_repository_and_the_mirror_only_as_via(hub, tmp_path, capsys):
    hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM pyhton:3.12\nFROM python:3.99\n')
    assert run(hub, path) == 3
    mirror = hub.mirror.split('=', 1)[1].split('://', 1)[1].split('/', 1)[0]
    assert capsys.readouterr().out.splitlines() == [
        f'{path}:1: pyhton:3.12: repository docker.io/library/pyhton not found (via {mirror})',
        f"{path}:2: python:3.99: tag '3.99' not found in docker.io/library/python (via {mirror})",
    ]
    assert path.read_text() == 'FROM pyhton:3.12\nFROM python:3.99\n'


def test_without_a_mirror_a_missing_repository_names_its_registry(registry, tmp_path, capsys):
    from pin_from.pin import main
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/no/such-repo:1\n')
    assert main([str(path)]) == 3
    assert capsys.readouterr().out == (
        f'{path}:1: {registry.host}/no/such-repo:1: repository {registry.host}/no/such-repo not found\n')


def test_lookups_start_while_files_are_read_and_skip_files_with_problems(hub, registry, tmp_path, monkeypatch):
    """A cold run asks for a file's tags as soon as the file is scanned (its requests overlap the
    reading of the next files), once per tag; a file with a problem is never looked up."""
    from pin_from.files import load
    from pin_from.registry import resolve
    hub.push('python', '3.12')
    hub.push('node', '20')
    first = tmp_path / 'a.Dockerfile'
    first.write_text('FROM python:3.12\n')
    broken = tmp_path / 'b.Dockerfile'
    broken.write_text('FROM node:20\nFROM\n')  # a problem (a malformed FROM): never looked up
    last = tmp_path / 'c.Dockerfile'
    last.write_text('FROM python:3.12\n')
    started_before_last_read = []
    real_start, real_read = resolve.Resolver.start, load.read_regular

    def read_regular(path, *args, **kwargs):
        if path == str(last):
            started_before_last_read.extend(real_pending)
        return real_read(path, *args, **kwargs)
    real_pending: list[str] = []

    def start(self, refs):
        refs = list(refs)
        real_pending.extend(r.familiar_name for r in refs)
        return real_start(self, refs)
    monkeypatch.setattr(load, 'read_regular', read_regular)
    monkeypatch.setattr(resolve.Resolver, 'start', start)
    mark = len(registry.requests_log())
    assert run(hub, first, broken, last) == 3
    assert started_before_last_read == ['python']
    heads = [r for r in registry.requests_log(since=mark) if r['method'] == 'HEAD' and '/manifests/' in r['uri']]
    assert [r['uri'].rsplit('/', 3)[-3] for r in heads] == ['python']
    assert first.read_text() == last.read_text() and '@sha256:' in first.read_text()
    assert broken.read_text() == 'FROM node:20\nFROM\n'
