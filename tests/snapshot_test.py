"""The official-images snapshot shipped in the package: verdicts when the source cannot be reached and
nothing is cached (pre-commit.ci, CI without network), said once per run with its age."""
from __future__ import annotations

import calendar
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pin_from.check_deprecated_tags import main
from pin_from.support import snapshot
from tests.registry_server import free_port

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / 'pin_from' / 'support' / 'official_images'


def _at(monkeypatch, year, month, day):
    when = float(calendar.timegm((year, month, day, 12, 0, 0)))
    monkeypatch.setattr(snapshot.time, 'time', lambda: when)


@pytest.fixture
def down():
    """A library and docs URL that nothing answers."""
    base = f'http://127.0.0.1:{free_port()}'
    return ['--library-url', f'{base}/library/', '--docs-url', f'{base}/docs/', '--timeout', '2']


@pytest.fixture
def dockerfile(tmp_path):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12-slim\nFROM python:2.7\nFROM plone:5\nFROM brandnewimage:1\n')
    return path


def test_unreachable_and_uncached_gives_verdicts_from_the_snapshot_with_one_note(
        down, dockerfile, capsys, monkeypatch):
    _at(monkeypatch, 2026, 9, 1)  # 11 days after the snapshot
    assert main([*down, str(dockerfile)]) == 1
    out, err = capsys.readouterr()
    assert f"{dockerfile}:2: python:2.7 is no longer supported by the official image 'python'" in out
    assert f"{dockerfile}:3: plone:5: the official image 'plone' is deprecated; no tag is supported" in out
    assert 'python:3.12-slim' not in out  # listed in the snapshot: supported
    assert '    notice: ' in out  # plone's deprecation notice, from the snapshot's docs
    assert (f'{dockerfile}:4: brandnewimage:1: warning: library/brandnewimage is not in the official-images '
            'snapshot of 2026-08-21: not judged') in out
    notes = [line for line in err.splitlines() if 'cannot read' in line]
    assert len(notes) == 2  # once for the library, once for the notices; never once per image
    assert err.count('snapshot shipped with pin-from') == 1  # its date and age: said once
    assert notes[0].startswith('check-deprecated-tags: cannot read the official-images library (')
    assert notes[0].endswith('using the official-images snapshot shipped with pin-from (2026-08-21, 11 days old)')
    assert notes[1].startswith('check-deprecated-tags: cannot read the deprecation notices (')
    assert notes[1].endswith('using the same snapshot')
    assert 'Ways out' not in err  # not an error: the snapshot answered


def test_a_snapshot_older_than_90_days_gives_warnings_never_a_failure(down, dockerfile, capsys, monkeypatch):
    _at(monkeypatch, 2026, 12, 1)
    assert main([*down, str(dockerfile)]) == 0
    out, err = capsys.readouterr()
    assert (f"{dockerfile}:2: warning: python:2.7 is no longer supported by the official image 'python' "
            '(by an official-images snapshot older than 90 days)') in out
    assert '102 days old); older than 90 days, so its findings are warnings, not failures' in err


def test_offline_with_an_empty_cache_uses_the_snapshot(dockerfile, capsys, monkeypatch):
    _at(monkeypatch, 2026, 9, 1)
    assert main(['--offline', str(dockerfile)]) == 1
    out, err = capsys.readouterr()
    assert 'python:2.7 is no longer supported' in out
    assert err.count('snapshot shipped with pin-from') == 1


def test_a_local_library_directory_never_falls_back(tmp_path, dockerfile, capsys):
    from tests.data import OFFICIAL_IMAGES
    assert main(['--library-url', str(OFFICIAL_IMAGES / 'current' / 'library'),
                 '--docs-url', str(tmp_path), str(dockerfile)]) == 1
    assert 'snapshot' not in capsys.readouterr().err


def test_the_snapshot_is_the_official_images_data_with_its_provenance():
    shipped = snapshot.load()
    assert shipped is not None and shipped.date == '2026-08-21'
    assert len(list((SHIPPED / 'library').iterdir())) == 144
    assert 'Apache License' in (SHIPPED / 'LICENSE').read_text() and 'Version 2.0' in (SHIPPED / 'LICENSE').read_text()
    readme = (SHIPPED / 'README.md').read_text()
    for commit in ('37079fb336f572a88700cf32e5e1f6be54a04e8f', 'c4a9ba41443427b2ec1d5c4cc01879076aa4a1eb'):
        assert commit in readme
    assert shipped.library('../COMMIT') is None and shipped.notice('../../COMMIT') is None  # names only


def test_the_wheel_ships_the_snapshot(tmp_path):
    """setup.cfg's package_data takes it into the wheel (built from the tracked files, without isolation)."""
    pytest.importorskip('wheel')
    src = tmp_path / 'src'
    files = subprocess.run(('git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'),
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split('\0')
    for name in filter(None, files):
        if (ROOT / name).is_file() and not name.startswith(('tests/', 'bench/', 'examples/')):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path / 'dist'
    subprocess.run((sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w', str(out),
                    str(src)), check=True, capture_output=True, env={**os.environ, 'PIP_NO_INDEX': '1'})
    (wheel,) = out.glob('pin_from-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f'pin_from/support/official_images/{p.relative_to(SHIPPED).as_posix()}'
               for p in SHIPPED.rglob('*') if p.is_file()}
    assert len(shipped) > 160 and shipped <= names
