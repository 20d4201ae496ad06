"""The command line as users meet it: entry points, versions, exit codes, and lines built from fields."""
from __future__ import annotations

import io
import subprocess
import sys
import threading

import pytest

from pin_from import check_deprecated_tags
from pin_from import pin
from pin_from.cli import VERSION
from pin_from.render.output import Output
from tests.registry_server import push_image
from tests.data import OFFICIAL_IMAGES


def test_python_dash_m_runs_the_pin_hook(tmp_path):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM scratch\n')
    proc = subprocess.run([sys.executable, '-m', 'pin_from', '-v', str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f'{path}:1: skipped scratch: scratch is not an image\n'
    usage = subprocess.run([sys.executable, '-m', 'pin_from', '--help'], capture_output=True, text=True)
    assert usage.stdout.startswith('usage: pin-from ') or usage.stdout.startswith('usage: __main__.py ')


@pytest.mark.parametrize(('main', 'prog'), ((pin.main, 'pin-from'), (check_deprecated_tags.main, 'check-deprecated-tags')))
def test_both_hooks_have_version(main, prog, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(['--version'])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f'{prog} {VERSION}\n'


def test_lines_are_built_from_fields_not_by_replacing_words(registry, unique_repo, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1', platforms=(('linux', 'amd64'),))
    folder = tmp_path / 'my pin dir'
    folder.mkdir()
    path = folder / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{unique_repo}:v1\n')
    assert pin.main(['--check', str(path)]) == 1
    ref = f'{registry.host}/{unique_repo}:v1'
    assert capsys.readouterr().out == f'{path}:1: would pin {ref} -> {ref}@{digest}\n'
    assert pin.main([str(path)]) == 1
    assert capsys.readouterr().out == f'{path}:1: pinned {ref} -> {ref}@{digest}\n'


def test_one_writer_never_runs_lines_together():
    stream = io.StringIO()
    out = Output('pin-from', stream, stream)

    def shout(n: int) -> None:
        for i in range(300):
            out.note(f'worker {n} says {i} ' + 'x' * 200)
    threads = [threading.Thread(target=shout, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 8 * 300
    assert all(line.startswith('pin-from: worker ') and line.endswith('x' * 200) for line in lines)


@pytest.mark.parametrize('target', ('ftp://mirror.example/x', 'mirror.example:99999', 'http://[::1'))
def test_a_bad_mirror_is_one_usage_line_at_start(tmp_path, capsys, target):
    paths = []
    for name in ('a', 'b', 'c'):
        paths.append(tmp_path / name)
        paths[-1].write_text('FROM python:3.13\nFROM node:22\n')
    assert pin.main(['--registry-mirror', f'docker.io={target}', *map(str, paths)]) == 2
    out, err = capsys.readouterr()
    assert out == '' and err.count('\n') == 1  # once, not once per reference
    assert err.startswith(f"pin-from: error: --registry-mirror 'docker.io={target}': ")


def test_findings_show_image_and_tag_without_the_digest(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.7-slim@sha256:' + 'a' * 64 + '\n')
    library = str(OFFICIAL_IMAGES / 'current' / 'library')
    assert check_deprecated_tags.main(['--library-url', library, '--docs-url', str(tmp_path), str(path)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"{path}:1: python:3.7-slim is no longer supported by the official image 'python'"


def test_exit_codes_tell_changed_from_failed(registry, unique_repo, tmp_path):
    push_image(registry.url, unique_repo, 'v1', platforms=(('linux', 'amd64'),))
    good = tmp_path / 'good.Dockerfile'
    good.write_text(f'FROM {registry.host}/{unique_repo}:v1\n')
    bad = tmp_path / 'bad.Dockerfile'
    bad.write_text(f'FROM {registry.host}/{unique_repo}:nope\n')
    assert pin.main(['--check', str(good)]) == 1  # would change
    assert pin.main(['--check', str(good), str(bad)]) == 3  # an error wins over a change
    assert pin.main([str(good)]) == 1
    assert pin.main([str(good)]) == 0  # nothing left to do
