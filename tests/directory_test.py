"""A directory as the file argument: the files of known kinds under it (tracked by git in a work tree)."""
from __future__ import annotations

import os
import subprocess

from tests.data import DOCS, OFFICIAL_IMAGES

GIT_ENV = {
    'GIT_AUTHOR_NAME': 'Test', 'GIT_AUTHOR_EMAIL': 't@example.com',
    'GIT_COMMITTER_NAME': 'Test', 'GIT_COMMITTER_EMAIL': 't@example.com', 'GIT_CONFIG_NOSYSTEM': '1',
}
COMPOSE = 'services:\n  web:\n    image: alpine:3.20\n'


def git(cwd, *args):
    subprocess.run(('git', *args), cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def tree(root):
    (root / 'app').mkdir(parents=True)
    (root / 'app' / 'Dockerfile').write_text('FROM alpine:3.20\n')
    (root / 'compose.yaml').write_text(COMPOSE)
    (root / 'README.md').write_text('FROM alpine:3.20\n')
    (root / '.venv').mkdir()
    (root / '.venv' / 'Dockerfile').write_text('FROM alpine:3.20\n')
    return root


def test_a_git_work_tree_gives_its_tracked_files_of_known_kinds(hub, tmp_path, capsys, monkeypatch):
    hub.push('alpine', '3.20')
    root = tree(tmp_path / 'repo')
    (root / '.gitignore').write_text('ignored.Dockerfile\n')
    git(root, 'init', '-q')
    git(root, 'add', 'app/Dockerfile', 'compose.yaml', 'README.md', '.gitignore')
    (root / 'untracked.Dockerfile').write_text('FROM alpine:3.20\n')
    (root / 'ignored.Dockerfile').write_text('FROM alpine:3.20\n')
    monkeypatch.chdir(root)

    assert hub.main('-v', '.') == 1

    assert (root / 'app' / 'Dockerfile').read_text().startswith('FROM alpine:3.20@sha256:')
    assert '@sha256:' in (root / 'compose.yaml').read_text()
    for untouched in ('README.md', 'untracked.Dockerfile', 'ignored.Dockerfile', '.venv/Dockerfile'):
        assert (root / untouched).read_text() == 'FROM alpine:3.20\n', untouched
    out = capsys.readouterr().out.splitlines()
    assert out[0] == '.: directory: 2 files of kind compose, dockerfile (files tracked by git)'
    assert 'README.md: skipped: its name is not one of a known kind (' in '\n'.join(out)
    assert any(line.startswith('app/Dockerfile:1: pinned alpine:3.20 -> ') for line in out)


def test_outside_git_the_tree_without_hidden_directories(hub, tmp_path, capsys):
    hub.push('alpine', '3.20')
    root = tree(tmp_path / 'plain')
    (root / '.github' / 'workflows').mkdir(parents=True)
    (root / '.github' / 'workflows' / 'ci.yml').write_text('on: push\njobs:\n  a:\n    container: alpine:3.20\n')

    assert hub.main(root) == 1

    assert (root / 'app' / 'Dockerfile').read_text().startswith('FROM alpine:3.20@sha256:')
    assert '@sha256:' in (root / 'compose.yaml').read_text()
    assert '@sha256:' in (root / '.github' / 'workflows' / 'ci.yml').read_text()  # workflows are a kind
    assert (root / '.venv' / 'Dockerfile').read_text() == 'FROM alpine:3.20\n'
    assert (root / 'README.md').read_text() == 'FROM alpine:3.20\n'
    assert f'{root / "app" / "Dockerfile"}:1: pinned alpine:3.20 -> ' in capsys.readouterr().out


def test_a_directory_and_a_file_in_it_are_read_once(hub, tmp_path, capsys):
    hub.push('alpine', '3.20')
    root = tree(tmp_path / 'plain')
    assert hub.main('--check', root, root / 'app' / 'Dockerfile') == 1
    out = capsys.readouterr().out
    assert out.count('app/Dockerfile:1: would pin') == 1


def test_check_deprecated_tags_takes_a_directory(tmp_path, capsys, monkeypatch):
    from pin_from.check_deprecated_tags import main
    root = tmp_path / 'repo'
    (root / 'svc').mkdir(parents=True)
    (root / 'svc' / 'Dockerfile').write_text('FROM python:2.7\n')
    (root / 'compose.yml').write_text('services:\n  db:\n    image: postgres:9.6\n')
    (root / 'NOTES.md').write_text('FROM python:2.7\n')
    git(root, 'init', '-q')
    git(root, 'add', '.')
    monkeypatch.chdir(root)
    status = main(['--library-url', str(OFFICIAL_IMAGES / 'current' / 'library'), '--docs-url', str(DOCS), '.'])
    out = capsys.readouterr().out
    assert status == 1, out
    assert 'svc/Dockerfile:1: python:2.7 is no longer supported' in out
    assert 'compose.yml:3: postgres:9.6 is no longer supported' in out
    assert 'NOTES.md' not in out
