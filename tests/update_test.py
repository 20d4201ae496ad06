"""pin-from --update: re-pin moved tags and report what changed (real registry)."""
from __future__ import annotations

import pytest

from pin_from.pin import main
from tests.data import OFFICIAL_IMAGES

AMD64 = ('linux', 'amd64')
ARM64 = ('linux', 'arm64')


def test_moved_tag_is_repinned_with_a_report(hub, tmp_path, capsys):
    old = hub.push('python', '3.12-slim', env={'PYTHON_VERSION': '3.12.6', 'LANG': 'C.UTF-8'}, layers=1, seed='a')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM python:3.12-slim@{old} AS base\nRUN true\n')
    assert hub.main('--update', '--check', path) == 0  # nothing moved yet

    new = hub.push('python', '3.12-slim', env={'PYTHON_VERSION': '3.12.7', 'LANG': 'C.UTF-8'}, layers=2, seed='b')
    assert new != old and new == hub.skopeo('python', '3.12-slim')
    assert hub.main('--update', '--check', path) == 1
    assert path.read_text() == f'FROM python:3.12-slim@{old} AS base\nRUN true\n'
    capsys.readouterr()

    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, path) == 1
    assert path.read_text() == f'FROM python:3.12-slim@{new} AS base\nRUN true\n'
    out = capsys.readouterr().out
    assert f'{path}:1: re-pinned python:3.12-slim@{old} -> python:3.12-slim@{new}' in out
    text = report.read_text()
    assert old in text and new in text
    assert '`PYTHON_VERSION` `3.12.6` → `3.12.7`' in text
    assert 'LANG' not in text  # unchanged variables are not noise
    assert 'Layers: 2 added, 1 removed (2 now)' in text
    assert 'Size (linux/amd64, compressed):' in text
    assert 'Created: ' not in text  # both images give the same created time: no "X → X" line
    # the official-images entry that builds python:3.12-slim today, with a link to its commit
    assert '[docker-library/python@' in text and 'https://github.com/docker-library/python/commit/' in text

    assert hub.main('--update', path) == 0  # a second run changes nothing
    assert hub.main('--update', '--check', path) == 0
    assert path.read_text() == f'FROM python:3.12-slim@{new} AS base\nRUN true\n'


def test_summary_on_stdout_without_report(hub, tmp_path, capsys):
    old = hub.push('node', '24', env={'NODE_VERSION': '24.1.0'}, seed='a')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM node:24@{old}\n')
    hub.push('node', '24', env={'NODE_VERSION': '24.2.0'}, seed='b')
    assert hub.main('--update', path) == 1
    out = capsys.readouterr().out
    assert f'node:24: {old[:19]} -> ' in out
    assert 'Environment: NODE_VERSION 24.1.0 → 24.2.0' in out  # plain text, not Markdown
    assert '`' not in out


def test_index_that_only_gained_a_platform(hub, tmp_path, capsys):
    old = hub.push('debian', 'trixie', platforms=(AMD64, ARM64), seed='same')
    new = hub.push('debian', 'trixie', platforms=(AMD64, ARM64, ('linux', 'riscv64')), seed='same')
    assert old != new
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM debian:trixie@{old}\n')

    # with --platform: only linux/amd64 matters, and its manifest did not change
    assert hub.main('--update', '--platform', 'linux/amd64', '-v', path) == 0
    assert path.read_text() == f'FROM debian:trixie@{old}\n'
    assert 'but not for linux/amd64; kept' in capsys.readouterr().out

    # without: any move re-pins, and the report says what moved
    report = tmp_path / 'r.md'
    assert hub.main('--update', '--report', report, path) == 1
    assert path.read_text() == f'FROM debian:trixie@{new}\n'
    text = report.read_text()
    assert 'Platforms: added linux/riscv64' in text
    assert 'linux/amd64: unchanged' in text


def test_platform_filter_repins_when_that_platform_changed(hub, tmp_path):
    old = hub.push('debian', 'bookworm', platforms=(AMD64, ARM64), seed='1')
    new = hub.push('debian', 'bookworm', platforms=(AMD64, ARM64), seed='2')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM debian:bookworm@{old}\n')
    assert hub.main('--update', '--platform', 'linux/arm64', path) == 1
    assert path.read_text() == f'FROM debian:bookworm@{new}\n'


def test_deleted_tag_is_an_error_and_file_untouched(hub, tmp_path, capsys):
    old = hub.push('alpine', '3.19', seed='x')
    path = tmp_path / 'Dockerfile'
    content = f'FROM alpine:3.19@{old}\n'
    path.write_text(content)
    hub.delete('alpine', old)
    assert hub.main('--update', path) == 3
    assert path.read_text() == content
    mirror = hub.mirror.split('=', 1)[1].split('://', 1)[1].split('/', 1)[0]
    assert capsys.readouterr().out == (
        f"{path}:1: alpine:3.19@{old}: tag '3.19' not found in docker.io/library/alpine (via {mirror})\n")


def test_moves_in_several_files_are_resolved_once(hub, registry, tmp_path):
    old = hub.push('golang', '1.25', seed='1')
    files = []
    for i in range(4):
        path = tmp_path / f'{i}.Dockerfile'
        path.write_text(f'FROM golang:1.25@{old} AS build\nFROM golang:1.25\n')
        files.append(path)
    new = hub.push('golang', '1.25', seed='2')
    mark = len(registry.requests_log())
    report = tmp_path / 'r.md'
    assert hub.main('--update', '--report', report, *files) == 1
    for path in files:
        assert path.read_text() == f'FROM golang:1.25@{new} AS build\nFROM golang:1.25@{new}\n'
    tag_heads = [r for r in registry.requests_log(since=mark) if r['method'] == 'HEAD' and r['uri'].endswith('/manifests/1.25')]
    assert len(tag_heads) == 1
    text = report.read_text()
    assert text.count('### `golang:1.25`') == 1
    assert all(f'`{p}:1`' in text for p in files)


def test_update_ignores_fresh_cache(hub, tmp_path):
    old = hub.push('busybox', '1.37', seed='1')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM busybox:1.37\n')
    assert hub.main(path) == 1  # pins, caching the answer for 6 h
    assert path.read_text() == f'FROM busybox:1.37@{old}\n'
    new = hub.push('busybox', '1.37', seed='2')
    assert hub.main('--update', path) == 1
    assert path.read_text() == f'FROM busybox:1.37@{new}\n'


def test_bad_platform_is_one_line_error(hub, tmp_path, capsys):
    old = hub.push('busybox', '1.36', seed='1')
    hub.push('busybox', '1.36', seed='2')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM busybox:1.36@{old}\n')
    with pytest.raises(SystemExit) as exit_:
        hub.main('--update', '--platform', 'amd64', path)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == "pin-from: error: argument --platform: 'amd64': expected OS/ARCH[/VARIANT]\n"
    assert path.read_text() == f'FROM busybox:1.36@{old}\n'


def test_old_digest_gone_from_the_registry(hub, tmp_path):
    old = hub.push('redis', '8', seed='1', env={'REDIS_VERSION': '8.0.1'})
    new = hub.push('redis', '8', seed='2', env={'REDIS_VERSION': '8.0.2'})
    hub.delete('redis', old)  # the tag lives on at the new digest
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM redis:8@{old}\n')
    report = tmp_path / 'r.md'
    assert hub.main('--update', '--report', report, path) == 1
    assert path.read_text() == f'FROM redis:8@{new}\n'
    assert 'the old digest is no longer available from the registry' in report.read_text()


def test_update_never_moves_a_pin_back_from_a_stale_cached_answer(hub, registry, tmp_path, capsys):
    """Issue 10.2: D1 cached, the file already says D2, the registry is gone: an error, not D1."""
    d1 = hub.push('node', '20', seed='1')
    cache = tmp_path / 'cache-a'
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM node:20\n')
    assert hub.main('--cache-dir', cache, path) == 1  # pins D1, caching it
    d2 = hub.push('node', '20', seed='2')
    path.write_text(f'FROM node:20@{d2}\n')  # moved on, by hand or by another run
    registry_host = hub.mirror.split('=', 1)[1].split('://', 1)[1].split('/', 1)[0]
    capsys.readouterr()
    down = ['--registry-mirror', 'docker.io=http://127.0.0.1:9/x', '--library-url', str(OFFICIAL_IMAGES / 'current' / 'library')]
    for extra in ([], ['--check']):
        assert main([*down, '--cache-dir', str(cache), '--update', *extra, str(path)]) == 3
        assert path.read_text() == f'FROM node:20@{d2}\n'
        out, err = capsys.readouterr()
        assert out == f'{path}:1: node:20@{d2}: cannot reach 127.0.0.1:9 (connection refused)\n'
        assert 'cached' not in err and d1 not in out + err
    assert registry_host  # the real registry stayed up: only the mirror was unreachable


def test_report_says_when_the_library_cannot_be_read(hub, tmp_path):
    old = hub.push('python', '3.13', seed='1')
    hub.push('python', '3.13', seed='2')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM python:3.13@{old}\n')
    report = tmp_path / 'r.md'
    args = ['--registry-mirror', hub.mirror, '--update', '--report', str(report), str(path)]
    assert main(['--library-url', 'http://127.0.0.1:9/library/', '--timeout', '2', *args]) == 1
    source = [line for line in report.read_text().splitlines() if line.startswith('- Source:')]
    assert source == [
        '- Source: the official-images library could not be read '
        '(http://127.0.0.1:9/library/python: cannot reach 127.0.0.1:9 (connection refused))',
    ]


def test_a_platform_new_in_the_image_is_shown_as_added(hub, tmp_path):
    s390x = ('linux', 's390x')
    old = hub.push('redis', '7', platforms=(ARM64, s390x), seed='1')
    hub.push('redis', '7', platforms=(ARM64, s390x, AMD64), seed='1')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM redis:7@{old}\n')
    report = tmp_path / 'r.md'
    assert hub.main('--update', '--report', report, path) == 1
    text = report.read_text()
    assert '- linux/amd64: added in the new image (not in the old one; nothing to compare)' in text
    assert 'Created: `?`' not in text and '0 B →' not in text


@pytest.mark.parametrize('flag', (['--report', 'r.md'], ['--platform', 'linux/amd64'], ['--library-url', '.']))
def test_update_only_options_need_update(tmp_path, capsys, flag):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    assert main([*flag, str(path)]) == 2
    assert capsys.readouterr().err == f'pin-from: error: {flag[0]} needs --update\n'
    assert path.read_text() == 'FROM python:3.13\n'
