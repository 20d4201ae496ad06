"""check-deprecated-tags on the real official-images data, by directory and over HTTP."""
from __future__ import annotations

import functools
import http.server
import threading

import pytest

from pin_from.support import library
from pin_from.check_deprecated_tags import main
from pin_from.support import snapshot

from tests.data import DOCS, OFFICIAL_IMAGES


class _Server(http.server.ThreadingHTTPServer):
    requests: list[tuple[str, str | None]]
    status: int
    url: str


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get('If-Modified-Since')))
        if self.server.status != 200:
            self.send_error(self.server.status)
            return
        super().do_GET()


@pytest.fixture
def http_data():
    """OFFICIAL_IMAGES served over HTTP (Last-Modified + If-Modified-Since -> 304)."""
    server = _Server(
        ('127.0.0.1', 0), functools.partial(_Handler, directory=str(OFFICIAL_IMAGES)),
    )
    server.requests = []
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f'http://127.0.0.1:{server.server_address[1]}'
    yield server
    server.shutdown()
    server.server_close()


def check(path, snapshot='current', *extra):
    return main([
        '--library-url', str(OFFICIAL_IMAGES / snapshot / 'library'), '--docs-url', str(DOCS),
        *extra, str(path),
    ])


def all_tags(snapshot):
    for f in sorted((OFFICIAL_IMAGES / snapshot / 'library').iterdir()):
        yield from (f'{f.name}:{t}' for t in sorted(library.parse_library(f.name, f.read_text()).tags))


@pytest.mark.parametrize('snapshot', ('2021-06', '2023-06', 'current'))
def test_every_listed_tag_is_accepted(snapshot, tmp_path, capsys):
    refs = list(all_tags(snapshot))
    assert len(refs) > 5000
    path = tmp_path / 'Dockerfile'
    path.write_text(''.join(f'FROM {r}\n' for r in refs))
    assert check(path, snapshot) == 0, capsys.readouterr().out[:2000]
    assert capsys.readouterr().out == ''


@pytest.mark.parametrize(
    ('ref', 'supported_in'),
    (
        ('openjdk:11-jre-slim-buster', {'2021-06'}),
        ('python:3.7', {'2021-06', '2023-06'}),  # via SharedTags
        ('python:3.7-slim', {'2021-06', '2023-06'}),
        ('golang:1.16', {'2021-06'}),
        ('node:16', {'2021-06', '2023-06'}),
        ('debian:buster', {'2021-06', '2023-06'}),
        ('centos:7', {'2021-06', '2023-06'}),  # gone with its file since
        ('python:3.13-slim', {'current'}),
        ('python', {'2021-06', '2023-06', 'current'}),  # latest
        ('docker.io/library/python:3.12', {'current'}),  # only rc tags in 2023-06
        ('index.docker.io/library/debian:bookworm', {'2023-06', 'current'}),
        ('library/node:22', {'current'}),
        ('thrift:0.12', {'2021-06'}),  # legacy line-based format
    ),
)
def test_known_examples_across_snapshots(ref, supported_in, tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {ref}@sha256:{"a" * 64}\n' if ref == 'python:3.7' else f'FROM {ref}\n')
    for snapshot in ('2021-06', '2023-06', 'current'):
        expected = 0 if snapshot in supported_in else 1
        assert check(path, snapshot) == expected, (snapshot, capsys.readouterr().out)
        out = capsys.readouterr().out
        assert (out == '') is (expected == 0)
        if expected:
            assert out.startswith(f'{path}:1: ')


def test_finding_messages_and_suggestions(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.7-slim\nFROM centos:7\nFROM notary:server\nFROM openjdk:11-jre-slim-buster\n')
    assert check(path) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}:1: python:3.7-slim is no longer supported by the official image 'python'"
    assert lines[1].startswith('    supported tags of the same variant: 3.')
    assert all(t.strip().endswith('-slim') for t in lines[1].split(':', 1)[1].split(','))
    assert lines[2] == f"{path}:2: centos:7: 'centos' is no longer an official image (library/centos is gone)"
    assert lines[3] == f"{path}:3: notary:server: the official image 'notary' is deprecated; no tag is supported"
    assert lines[4].startswith('    notice: ')
    openjdk = lines.index(f"{path}:4: openjdk:11-jre-slim-buster is no longer supported by the official image 'openjdk'")
    rest = '\n'.join(lines[openjdk:])
    assert 'notice: ' in rest and 'deprecated' in rest
    assert 'alternatives: ' in rest and 'eclipse-temurin' in rest


def test_emptied_library_file_is_deprecated(tmp_path, capsys):
    lib = tmp_path / 'library'
    lib.mkdir()
    (lib / 'centos').write_text((OFFICIAL_IMAGES / 'extras' / 'library-edge-cases' / 'centos@a2d9200ba4').read_text())
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM centos:7\n')
    assert main(['--library-url', str(lib), '--docs-url', str(DOCS), str(path)]) == 1
    assert 'deprecated; no tag is supported' in capsys.readouterr().out


def test_out_of_scope_passes_and_verbose_says_why(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text(
        'ARG PY=3.7\nARG OLD=python:3.7\n'
        'FROM ghcr.io/library/python:3.7\nFROM bitnami/python:3.7\n'
        f'FROM python@sha256:{"b" * 64}\nFROM python:${{PY}}\nFROM scratch\nFROM $OLD\n',
    )
    assert check(path, 'current', '-v') == 1
    out = capsys.readouterr().out
    assert f'{path}:3: skipped ghcr.io/library/python:3.7: not an official image' in out
    assert f'{path}:4: skipped bitnami/python:3.7: not an official image' in out
    assert f'{path}:5: skipped python@sha256:' in out and 'no tag to judge' in out
    assert f'{path}:6: skipped python:${{PY}}: composed from build args' in out
    # a global ARG default that is a complete reference is judged
    assert f"{path}:2: python:3.7 is no longer supported by the official image 'python'" in out


def test_malformed_library_file_is_an_error_naming_it(tmp_path, capsys):
    lib = tmp_path / 'library'
    lib.mkdir()
    (lib / 'python').write_text('Tags: 1\nGitRepo: x\n')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:1\n')
    assert main(['--library-url', str(lib), '--docs-url', str(DOCS), str(path)]) == 3
    out = capsys.readouterr().out
    assert out.startswith(f'{path}:1: python:1: library/python: ')
    assert len(out.splitlines()) == 1


def test_http_source_caches_revalidates_and_survives_outage(http_data, tmp_path, capsys):
    url = f'{http_data.url}/current/library/'
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13-slim\nFROM python:3.7\nFROM centos:7\n')
    args = ['--library-url', url, '--docs-url', f'{http_data.url}/extras/docs/', str(path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert f"{path}:2: python:3.7 is no longer supported by the official image 'python'" in out
    assert "'centos' is no longer an official image" in out  # HTTP 404 is a finding, not an error
    fetched = sorted(p for p, _ in http_data.requests)
    assert fetched == ['/current/library/centos', '/current/library/python', '/extras/docs/centos/deprecated.md',
                       '/extras/docs/python/deprecated.md']

    http_data.requests.clear()
    assert main(args) == 1  # fresh cache: no request at all
    assert http_data.requests == []

    assert main(['--library-ttl', '0', *args]) == 1  # stale: revalidated
    revalidated = [p for p, ims in http_data.requests if ims]
    assert '/current/library/python' in revalidated
    capsys.readouterr()

    http_data.shutdown()
    http_data.server_close()
    assert main(['--library-ttl', '0', *args]) == 1
    captured = capsys.readouterr()
    assert "python:3.7 is no longer supported" in captured.out
    assert 'cannot reach 127.0.0.1' in captured.err and 'using the cached answer' in captured.err


def test_unreachable_with_cold_cache_is_one_line_with_the_cause_and_the_ways_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(snapshot, 'load', lambda *a, **k: None)  # the path without the shipped snapshot
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\nFROM node:22\nFROM alpine:3.20\n')
    assert main(['--library-url', 'http://127.0.0.1:9/library/', '--timeout', '2', str(path)]) == 3
    out, err = capsys.readouterr()
    assert out == ''  # not one line per reference
    assert err.count('\n') == 1
    assert err.startswith(
        'check-deprecated-tags: cannot read the official-images library: http://127.0.0.1:9/library/',
    )
    assert ': cannot reach 127.0.0.1:9 (connection refused). Ways out: --library-url DIR or PIN_FROM_LIBRARY_URL=DIR' in err
    assert 'a warmed cache with --offline' in err and 'SKIP=check-deprecated-tags' in err


def test_library_answering_403_is_an_error_per_reference_not_a_stale_copy(http_data, tmp_path, capsys):
    url = f'{http_data.url}/current/library/'
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    assert main(['--library-url', url, str(path)]) == 0  # cached
    http_data.status = 403
    assert main(['--library-ttl', '0', '--library-url', url, str(path)]) == 3
    out, err = capsys.readouterr()
    assert out == f'{path}:1: python:3.13: {url}python answered HTTP 403\n'
    assert 'using the cached' not in err


@pytest.mark.parametrize('make', ('missing', 'repo root', 'empty', 'other files'))
def test_a_library_dir_that_is_not_one_is_a_clear_error(tmp_path, capsys, make):
    base = tmp_path / 'official-images'
    if make != 'missing':
        base.mkdir()
    if make == 'repo root':
        (base / 'library').mkdir()
        (base / 'library' / 'python').write_text((OFFICIAL_IMAGES / 'current' / 'library' / 'python').read_text())
        (base / 'README.md').write_text('# official-images\n')
    if make == 'other files':
        (base / 'notes.txt').write_text('hello\n')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    assert main(['--library-url', str(base), str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == '' and err.count('\n') == 1
    assert err.startswith(f'check-deprecated-tags: error: --library-url {base}: ')
    expected = {
        'missing': 'no such directory',
        'repo root': f'this looks like the repository root; pass {base / "library"}',
        'empty': 'holds no official-images library files',
        'other files': 'holds no official-images library files',
    }[make]
    assert expected in err


def test_a_docs_dir_that_does_not_exist_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    args = ['--library-url', str(OFFICIAL_IMAGES / 'current' / 'library'), '--docs-url', str(tmp_path / 'nope'), str(path)]
    assert main(args) == 2
    assert f'--docs-url {tmp_path / "nope"}: no such directory' in capsys.readouterr().err


def test_offline(http_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(snapshot, 'load', lambda *a, **k: None)  # the path without the shipped snapshot
    url = f'{http_data.url}/current/library/'
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    assert main(['--offline', '--library-url', url, str(path)]) == 3
    assert 'python: not in the cache and --offline was given' in capsys.readouterr().out
    assert http_data.requests == []
    assert main(['--library-url', url, str(path)]) == 0
    http_data.requests.clear()
    assert main(['--offline', '--library-ttl', '0', '--library-url', url, str(path)]) == 0
    assert http_data.requests == []


def test_env_variables_choose_the_sources(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('PIN_FROM_LIBRARY_URL', str(OFFICIAL_IMAGES / '2021-06' / 'library'))
    monkeypatch.setenv('PIN_FROM_DOCS_URL', str(DOCS))
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM openjdk:11-jre-slim-buster\n')
    assert main([str(path)]) == 0


def test_a_partial_library_directory_is_said_and_gives_no_false_gone(tmp_path, capsys):
    """examples/official-images/library holds 4 files: golang and nginx are not gone, just not there."""
    from pathlib import Path
    examples = Path(__file__).resolve().parents[1] / 'examples' / 'official-images'
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM golang:1.22\nFROM python:2.7\nFROM openjdk:8\nFROM nginx:1.27\n')
    assert main(['--library-url', str(examples / 'library'), '--docs-url', str(examples / 'docs'), str(path)]) == 1
    out, err = capsys.readouterr()
    assert f'{path}:1: golang:1.22: warning: library/golang is not in the (partial) library directory: not judged' in out
    assert f'{path}:4: nginx:1.27: warning: library/nginx is not in the (partial) library directory' in out
    assert "python:2.7 is no longer supported by the official image 'python'" in out
    assert "openjdk:8: 'openjdk' is no longer an official image" in out  # its notice says it is gone
    assert 'no longer an official image' not in out.replace("'openjdk' is no longer an official image", '')
    assert err.count('it looks partial') == 1
