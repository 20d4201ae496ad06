"""The steady path's per-file steps: exact reads without a cap-sized buffer, kinds by name."""
from __future__ import annotations

import pytest

from pin_from.files import load as files
from pin_from import kinds
from pin_from.errors import FileError


@pytest.mark.parametrize('size', (0, 1, 4095, 4096, 100_000))
def test_read_regular_reads_exactly_the_file(tmp_path, size):
    path = tmp_path / 'Dockerfile'
    path.write_bytes(bytes(range(256)) * (size // 256) + b'x' * (size % 256))
    assert files.read_regular(str(path), 1 << 20) == path.read_bytes()


def test_read_regular_still_refuses_more_than_the_cap(tmp_path):
    path = tmp_path / 'Dockerfile'
    path.write_bytes(b'a' * (2 * 1024 * 1024 + 1))
    with pytest.raises(FileError, match='larger than 2 MiB'):
        files.read_regular(str(path), 2 * 1024 * 1024)
    assert len(files.read_regular(str(path), 3 * 1024 * 1024)) == 2 * 1024 * 1024 + 1


def test_read_regular_reads_a_file_that_says_it_is_empty():
    data = files.read_regular('/proc/self/status', 1 << 20)  # st_size 0, content not
    assert data.startswith(b'Name:')


@pytest.mark.parametrize(
    ('path', 'kind'),
    (
        ('Dockerfile', 'dockerfile'),
        ('svc/Containerfile', 'dockerfile'),
        ('compose.yaml', 'compose'),
        ('a/docker-compose.prod.YML', 'compose'),
        ('k8s/deploy.yaml', 'kubernetes'),
        ('.github/workflows/ci.yml', 'workflow'),
        ('x/action.yaml', 'action'),
        ('.gitlab-ci.yml', 'gitlab-ci'),
        ('compose.yaml/', 'compose'),  # as before: the name of a path with a trailing slash
        ('deploy.yaml/.', 'kubernetes'),
        ('composer.yaml.bak', None),  # no known kind: never read
    ),
)
def test_kinds_by_name(path, kind):
    assert kinds.kind_for(path) == kind


def test_a_run_without_mirror_options_does_not_import_the_registry_client(tmp_path):
    import subprocess
    import sys
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM python:3.12@sha256:{"c" * 64}\n')
    code = ('import sys; from pin_from import pin; rc = pin.main(["--cache-dir", sys.argv[1], sys.argv[2]]);'
            'print(rc, "pin_from.registry.client" in sys.modules, "yaml" in sys.modules)')
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'cache'), str(path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    assert out.split() == ['0', 'False', 'False']


def test_a_steady_run_imports_none_of_the_heavy_modules(tmp_path):
    """OpenSSL (hashlib), shutil/bz2/lzma (argparse's terminal width), threading, dataclasses,
    sockets, HTTP, YAML and the library-file sources stay out of a run whose files are all known clean. (pathlib is left out
    of the list: the editable dev install's finder imports it; the benchmark checks a regular one.)"""
    import subprocess
    import sys
    path = tmp_path / 'compose.yaml'
    path.write_text('services:\n  db:\n    image: postgres:16@sha256:' + 'a' * 64 + '\n')
    dockerfile = tmp_path / 'Dockerfile'
    dockerfile.write_text('FROM python:3.12@sha256:' + 'b' * 64 + '\n')
    code = (
        'import sys\n'
        'from pin_from.pin import main\n'
        f'main(["--cache-dir", {str(tmp_path / "c")!r}, {str(path)!r}, {str(dockerfile)!r}])\n'
        f'rc = main(["--cache-dir", {str(tmp_path / "c")!r}, {str(path)!r}, {str(dockerfile)!r}])\n'
        'heavy = ("hashlib", "_hashlib", "shutil", "bz2", "lzma", "threading", "dataclasses",\n'
        '         "socket", "requests", "urllib3", "diskcache", "sqlite3", "yaml",\n'
        '         "pin_from.support.sources", "pin_from.support.libraries")  # library files: not read\n'
        'print(rc, sorted(m for m in heavy if m in sys.modules))\n'
    )
    # the first main() scans (and may import the scanners); a fresh process for the steady one:
    subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True)
    steady = code.split('\n', 2)[0] + '\nfrom pin_from.pin import main\n' + '\n'.join(code.split('\n')[3:])
    proc = subprocess.run([sys.executable, '-c', steady], check=True, capture_output=True, text=True)
    assert proc.stdout.strip() == '0 []', proc.stdout + proc.stderr
