"""Symlinks never lead pin-from out of the repository (issue 18, item 15).

A compose.yaml linking to a file outside the repository was rewritten, and a
link to /proc/self/environ printed environment text in a parse error. Such a
link is now refused before a byte is read (and never written through), and a
problem in a file reached through a symlink quotes none of its text.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pin_from import pin
from tests.registry_server import push_image


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / 'repo'
    (repo / '.git').mkdir(parents=True)
    return repo


def test_a_link_to_a_file_outside_the_repository_is_neither_read_nor_written(
        registry, unique_repo, tmp_path, capsys):
    push_image(registry.url, unique_repo, 'v1')
    outside = tmp_path / 'outside' / 'compose.yaml'
    outside.parent.mkdir()
    original = f'services:\n  app:\n    image: {registry.host}/{unique_repo}:v1\n'
    outside.write_text(original)
    link = _repo(tmp_path) / 'compose.yaml'
    link.symlink_to(outside)
    assert pin.main([str(link)]) == 3
    assert outside.read_text() == original
    assert capsys.readouterr().out == f'{link}: is a symlink to a file outside the repository; not read, left alone\n'


def test_a_link_inside_the_repository_is_pinned_through(registry, unique_repo, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    repo = _repo(tmp_path)
    (repo / 'deploy').mkdir()
    real = repo / 'deploy' / 'compose.yaml'
    real.write_text(f'services:\n  app:\n    image: {registry.host}/{unique_repo}:v1\n')
    link = repo / 'compose.yaml'
    link.symlink_to('deploy/compose.yaml')
    assert pin.main([str(link)]) == 1
    assert link.is_symlink() and f'{unique_repo}:v1@{digest}' in real.read_text()


def test_a_link_through_a_linked_directory_is_checked_too(tmp_path, capsys):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'Dockerfile').write_text('FROM busybox:1\n')
    repo = _repo(tmp_path)
    (repo / 'sub').symlink_to(outside)
    assert pin.main(['--offline', str(repo / 'sub' / 'Dockerfile')]) == 3
    assert 'is a symlink to a file outside the repository' in capsys.readouterr().out


def test_outside_a_repository_a_link_may_not_leave_its_directory(tmp_path, capsys):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    (tmp_path / 'b' / 'Dockerfile').write_text('FROM busybox:1\n')
    (tmp_path / 'a' / 'Dockerfile').symlink_to(tmp_path / 'b' / 'Dockerfile')
    assert pin.main(['--offline', str(tmp_path / 'a' / 'Dockerfile')]) == 3
    assert 'is a symlink to a file outside its directory' in capsys.readouterr().out


def test_a_link_to_proc_self_environ_prints_no_environment(tmp_path):
    repo = _repo(tmp_path)
    (repo / 'compose.yaml').symlink_to('/proc/self/environ')
    env = {**os.environ, 'PIN_FROM_TEST_SECRET': 'hunter2-do-not-print'}
    script = str(Path(sys.executable).parent / 'pin-from')
    proc = subprocess.run([script, '--offline', 'compose.yaml'], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3
    assert 'hunter2' not in proc.stdout + proc.stderr and 'PATH=' not in proc.stdout + proc.stderr
    assert 'is a symlink to a file outside the repository' in proc.stdout


def test_a_problem_in_a_linked_file_quotes_none_of_its_text(tmp_path, capsys):
    repo = _repo(tmp_path)
    real = repo / 'docker-compose.yml'
    real.write_text('services:\n  app:\n    image: [secret-token-abc\n')
    (repo / 'compose.yaml').symlink_to('docker-compose.yml')
    assert pin.main(['--offline', str(repo / 'compose.yaml')]) == 3
    out = capsys.readouterr().out
    assert out.startswith(f'{repo / "compose.yaml"}:') and 'not valid YAML' in out
    assert 'secret-token' not in out
    assert pin.main(['--offline', str(real)]) == 3  # the file itself, not a link: quoted as usual
    assert 'secret-token' in capsys.readouterr().out
