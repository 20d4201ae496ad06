"""The file-system fault matrix: ``write_atomic`` and ``pin-from`` itself.

No registry: ``pin-from --offline`` with a cache filled beforehand. Each test
says what it proves; where a fault is simulated (monkeypatching), it proves
pin-from's handling of that error, not that the OS raises it.
"""
from __future__ import annotations

import contextlib
import errno
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Callable
from typing import Iterator

import diskcache  # type: ignore[import-untyped]
import pytest

import pin_from
import pin_from.registry.resolve
from pin_from import reference
from pin_from.files import rewrite
from pin_from.registry.cache import Cache
from pin_from.errors import FileError
from pin_from.pin import main
from pin_from.registry.cache import TAGS_FILE
from pin_from.registry.resolve import tag_key

D_PY = 'sha256:' + '1' * 64
D_ALPINE = 'sha256:' + '2' * 64
SOURCE = 'FROM python:3.12\r\nRUN make\r\nFROM alpine AS final\r\n'
PINNED = f'FROM python:3.12@{D_PY}\r\nRUN make\r\nFROM alpine:latest@{D_ALPINE} AS final\r\n'
REPO_ROOT = str(Path(pin_from.__file__).resolve().parent.parent)


def fill_cache(directory: Path) -> Path:
    cache = Cache(str(directory))
    cache.store_tags({
        tag_key(reference.parse('python:3.12')): D_PY,
        tag_key(reference.parse('alpine')): D_ALPINE,
    })
    cache.close()
    return directory


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return fill_cache(tmp_path / 'cache')


@pytest.fixture
def dockerfile(tmp_path: Path) -> Path:
    path = tmp_path / 'src' / 'Dockerfile'
    path.parent.mkdir()
    path.write_bytes(SOURCE.encode())
    return path


def pin(cache_dir: Path, *paths: Path | str) -> int:
    return main(['--offline', '--cache-dir', str(cache_dir), *map(str, paths)])


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith('.pin-from-'))


# --- the normal path, for reference -----------------------------------------

def test_pins_then_is_a_no_op(cache_dir, dockerfile, capsys):
    assert pin(cache_dir, dockerfile) == 1
    assert dockerfile.read_bytes() == PINNED.encode()  # CRLF kept
    assert capsys.readouterr().out == (
        f'{dockerfile}:1: pinned python:3.12 -> python:3.12@{D_PY}\n'
        f'{dockerfile}:3: pinned alpine -> alpine:latest@{D_ALPINE}\n'
    )
    assert pin(cache_dir, dockerfile) == 0
    assert dockerfile.read_bytes() == PINNED.encode()
    assert capsys.readouterr().out == ''
    assert leftovers(dockerfile.parent) == []


@pytest.mark.parametrize('mode', (0o640, 0o600, 0o755, 0o664))
def test_mode_is_kept(cache_dir, dockerfile, mode):
    dockerfile.chmod(mode)
    assert pin(cache_dir, dockerfile) == 1
    assert stat.S_IMODE(dockerfile.stat().st_mode) == mode
    assert dockerfile.read_bytes() == PINNED.encode()


@pytest.mark.parametrize('relative', (True, False))
def test_symlink_is_kept_and_its_target_edited(cache_dir, tmp_path, relative):
    (tmp_path / '.git').mkdir()  # a link may lead anywhere inside its repository (issue 18, item 15)
    real = tmp_path / 'common' / 'base.Dockerfile'
    real.parent.mkdir()
    real.write_bytes(SOURCE.encode())
    link = tmp_path / 'app' / 'Dockerfile'
    link.parent.mkdir()
    target = os.path.relpath(real, link.parent) if relative else str(real)
    link.symlink_to(target)

    assert pin(cache_dir, link) == 1
    assert link.is_symlink()
    assert os.readlink(link) == target
    assert real.read_bytes() == PINNED.encode()
    assert leftovers(real.parent) == leftovers(link.parent) == []


# --- files that cannot be read ---------------------------------------------

def test_missing_file(cache_dir, tmp_path, capsys):
    path = tmp_path / 'nope' / 'Dockerfile'
    assert pin(cache_dir, path) == 3
    assert capsys.readouterr().out == f'{path}: no such file\n'
    assert not path.exists()


def test_directory_instead_of_a_file(cache_dir, tmp_path, capsys):
    """A directory is a directory argument (the files of known kinds under it), whatever its name."""
    path = tmp_path / 'Dockerfile'
    path.mkdir()
    assert pin(cache_dir, path) == 0
    assert capsys.readouterr().out == ''
    assert path.is_dir() and list(path.iterdir()) == []


def test_non_utf8_is_left_alone_and_others_still_pinned(cache_dir, dockerfile, tmp_path, capsys):
    bad = tmp_path / 'latin1.Dockerfile'
    data = b'FROM python:3.12\nRUN echo caf\xe9\n'
    bad.write_bytes(data)
    assert pin(cache_dir, bad, dockerfile) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f'{bad}:2: not valid UTF-8'
    assert bad.read_bytes() == data
    assert dockerfile.read_bytes() == PINNED.encode()


# --- the file changes under us ----------------------------------------------

def _before_write(monkeypatch, action: Callable[[Path], None]) -> None:
    """Run ``action`` after pin-from read the file, before write_atomic starts."""
    real = rewrite.write_atomic

    def wrapped(path, data, expected):
        action(Path(path))
        return real(path, data, expected)
    monkeypatch.setattr(rewrite, 'write_atomic', wrapped)


def _after_temp_written(monkeypatch, action: Callable[[Path], None], path: Path) -> None:
    """Run ``action`` once the temporary file is written (at its fsync)."""
    real = os.fsync

    def fsync(fd):
        real(fd)
        action(path)
    monkeypatch.setattr(os, 'fsync', fsync)


def _edit(path: Path) -> None:
    path.write_bytes(b'FROM node:20\n')


def _remove(path: Path) -> None:
    path.unlink()


def _make_dir(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize('window', ('before write', 'after temp file'))
@pytest.mark.parametrize(
    ('action', 'message', 'check'),
    (
        (_edit, 'changed while pin-from ran; left alone', lambda p: p.read_bytes() == b'FROM node:20\n'),
        (_remove, None, lambda p: not p.exists()),
        (_make_dir, None, lambda p: p.is_dir() and list(p.iterdir()) == []),
    ),
    ids=('edited', 'vanished', 'replaced by a directory'),
)
def test_file_changing_between_read_and_write_is_left_alone(
        cache_dir, dockerfile, monkeypatch, capsys, window, action, message, check,
):
    if window == 'before write':
        _before_write(monkeypatch, action)
    else:
        _after_temp_written(monkeypatch, action, dockerfile)
    assert pin(cache_dir, dockerfile) == 3
    out = capsys.readouterr().out.splitlines()
    expected = message or {
        (_remove, 'before write'): 'vanished before it could be written; left alone',
        (_remove, 'after temp file'): 'no such file',
        (_make_dir, 'before write'): 'is no longer a regular file; left alone',
        (_make_dir, 'after temp file'): 'is a directory',
    }[action, window]
    assert out[-1] == f'{dockerfile}: {expected}'
    assert check(dockerfile)  # the newer state is what is left
    assert leftovers(dockerfile.parent) == []


def test_file_replaced_by_a_directory_at_the_rename(cache_dir, dockerfile, monkeypatch, capsys):
    """The last window: after the check, before os.replace. The rename fails."""
    real = os.replace

    def replace(src, dst):
        _make_dir(Path(dst))
        return real(src, dst)
    monkeypatch.setattr(os, 'replace', replace)
    assert pin(cache_dir, dockerfile) == 3
    assert capsys.readouterr().out.splitlines()[-1] == f'{dockerfile}: cannot write: Is a directory; left alone'
    assert dockerfile.is_dir() and list(dockerfile.iterdir()) == []
    assert leftovers(dockerfile.parent) == []


# --- disk full, write errors -----------------------------------------------

class _FullFile:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, f) -> None:
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.f, name)


@pytest.mark.parametrize('where', ('write', 'fsync'))
def test_disk_full_leaves_the_original_and_no_temp_file(cache_dir, dockerfile, monkeypatch, capsys, where):
    if where == 'write':
        real = os.fdopen
        monkeypatch.setattr(os, 'fdopen', lambda fd, *a, **k: _FullFile(real(fd, *a, **k)))
    else:
        def fsync(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(os, 'fsync', fsync)
    assert pin(cache_dir, dockerfile) == 3
    assert capsys.readouterr().out.splitlines()[-1] == f'{dockerfile}: cannot write: disk full; left alone'
    assert dockerfile.read_bytes() == SOURCE.encode()
    assert leftovers(dockerfile.parent) == []


def test_rename_refused_cleans_up(cache_dir, dockerfile, monkeypatch, capsys):
    """Simulated: os.replace raising PermissionError (as root, a read-only
    directory would not make it fail). Proves the message and the cleanup."""
    def replace(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    monkeypatch.setattr(os, 'replace', replace)
    assert pin(cache_dir, dockerfile) == 3
    assert capsys.readouterr().out.splitlines()[-1] == f'{dockerfile}: cannot write: Permission denied; left alone'
    assert dockerfile.read_bytes() == SOURCE.encode()
    assert leftovers(dockerfile.parent) == []


# --- real permissions: as an unprivileged user -------------------------------

def _preload() -> None:
    """Import, as root, every module pin-from's code imports anywhere (its imports are lazy):
    a child that has dropped to ``nobody`` cannot read a checkout only root can enter (a fresh
    ``mktemp -d``), so it must import nothing."""
    import ast
    import importlib
    root = Path(pin_from.__file__).parent
    names = set()
    for source in root.rglob('*.py'):
        for node in ast.walk(ast.parse(source.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f'{node.module}.{alias.name}' for alias in node.names)
    for name in sorted(names):
        try:
            importlib.import_module(name)
        except ImportError:  # an attribute (from x import y), or an optional dependency
            pass


def _unprivileged(fn: Callable[[], int]) -> tuple[int, str]:
    """Run ``fn`` as ``nobody`` in a forked child when we are root (root
    ignores file permissions), else directly: (exit code, its output). The
    child must import nothing (see :func:`_preload`): a late import is exit 98."""
    if os.geteuid() != 0:
        out = _Capture()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            return fn(), ''.join(out.parts)
    _preload()
    nobody = pwd.getpwnam('nobody')
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (child)
        code = 99
        with os.fdopen(write, 'w') as f:
            try:
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                before = set(sys.modules)
                with contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
                    code = fn()
                late = sorted(set(sys.modules) - before)
                if late:
                    print(f'imported after dropping privileges: {", ".join(late)}', file=f)
                    code = 98
            except BaseException:
                traceback.print_exc(file=f)
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        output = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


class _Capture:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    def flush(self) -> None:
        pass


@pytest.fixture
def shared_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory ``nobody`` can reach (pytest's tmp_path is root-only)."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    d = Path(tempfile.mkdtemp(prefix='pin-from-perm-'))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for p in d.rglob('*'):  # let root remove what nobody made read-only
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(d)


def _give_to_nobody(*paths: Path) -> None:
    if os.geteuid() != 0:
        return
    nobody = pwd.getpwnam('nobody')
    for path in paths:
        for p in [path, *(path.rglob('*') if path.is_dir() else ())]:
            os.chown(p, nobody.pw_uid, nobody.pw_gid)


def test_read_only_directory_for_real(shared_dir):
    """Real EACCES: the file is writable, its directory is not (no temp file)."""
    cache = fill_cache(shared_dir / 'cache')
    ro = shared_dir / 'ro'
    ro.mkdir()
    path = ro / 'Dockerfile'
    path.write_bytes(SOURCE.encode())
    _give_to_nobody(cache, ro)
    ro.chmod(0o555)
    code, out = _unprivileged(lambda: pin(cache, path))
    assert code == 3
    assert out.splitlines()[-1] == f'{path}: cannot write next to it: Permission denied'
    assert path.read_bytes() == SOURCE.encode()
    assert leftovers(ro) == []


def test_read_only_file_for_real(shared_dir):
    """Real permissions: a 0444 file in a writable directory is not replaced."""
    cache = fill_cache(shared_dir / 'cache')
    d = shared_dir / 'rw'
    d.mkdir()
    path = d / 'Dockerfile'
    path.write_bytes(SOURCE.encode())
    _give_to_nobody(cache, d)
    path.chmod(0o444)
    code, out = _unprivileged(lambda: pin(cache, path))
    assert code == 3
    assert out.splitlines()[-1] == f'{path}: is not writable; left alone'
    assert path.read_bytes() == SOURCE.encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert leftovers(d) == []


@pytest.mark.skipif(os.geteuid() != 0, reason='documents what happens as root')
def test_read_only_file_as_root_is_pinned_like_any_editor_would(cache_dir, dockerfile):
    """As root, os.access(W_OK) is True for a 0444 file: it is pinned, and
    stays 0444 (what `sed -i` or an editor run as root would do too)."""
    dockerfile.chmod(0o444)
    assert pin(cache_dir, dockerfile) == 1
    assert dockerfile.read_bytes() == PINNED.encode()
    assert stat.S_IMODE(dockerfile.stat().st_mode) == 0o444


# --- write_atomic on its own ------------------------------------------------

def test_write_atomic_refuses_when_content_differs(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'now\n')
    with pytest.raises(FileError, match='changed while pin-from ran'):
        rewrite.write_atomic(str(path), b'new\n', expected=b'then\n')
    assert path.read_bytes() == b'now\n'
    assert leftovers(tmp_path) == []


def test_write_atomic_replaces_in_one_rename(tmp_path, monkeypatch):
    """Readers see the old or the new bytes, never a partial file: the only
    write to the path itself is a rename of a complete, fsynced temp file."""
    path = tmp_path / 'f'
    path.write_bytes(b'old\n')
    renames = []
    real = os.replace

    def replace(src, dst):
        assert Path(src).read_bytes() == b'new\n'
        assert Path(dst).read_bytes() == b'old\n'
        renames.append((Path(src).parent, Path(dst)))
        return real(src, dst)
    monkeypatch.setattr(os, 'replace', replace)
    rewrite.write_atomic(str(path), b'new\n', expected=b'old\n')
    assert renames == [(tmp_path, path)]
    assert path.read_bytes() == b'new\n'


# --- two pin-from processes at once -----------------------------------------

def test_two_processes_on_the_same_files_and_cache(cache_dir, tmp_path):
    files = [tmp_path / f'{i}.Dockerfile' for i in range(12)]
    env = {**os.environ, 'PYTHONPATH': REPO_ROOT}
    allowed = (': pinned ', ': changed while pin-from ran; left alone')
    for _ in range(4):
        for f in files:
            f.write_bytes(SOURCE.encode())
        cmd = [sys.executable, '-m', 'pin_from.pin', '--offline', '--cache-dir', str(cache_dir), *map(str, files)]
        procs = [
            subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        results = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, results):
            assert proc.returncode in (0, 1, 3)  # 3: a file another run just wrote is left alone
            assert err == ''
            assert all(any(a in line for a in allowed) for line in out.splitlines()), out
        for f in files:
            data = f.read_bytes()
            assert data == PINNED.encode()
            assert data.count(b'@sha256:') == 2
        assert leftovers(tmp_path) == []


# --- a broken cache ---------------------------------------------------------

def _garbage_tags(directory: Path) -> None:
    directory.mkdir()
    (directory / TAGS_FILE).write_bytes(b'this is not JSON\x00\xff' * 200)


def _truncated_tags(directory: Path) -> None:
    fill_cache(directory)
    data = (directory / TAGS_FILE).read_bytes()
    (directory / TAGS_FILE).write_bytes(data[:len(data) // 2])


def _wrong_shape(directory: Path) -> None:
    directory.mkdir()
    (directory / TAGS_FILE).write_text('{"version": 1, "tags": [1, 2, 3]}')


def _a_file(directory: Path) -> None:
    directory.write_bytes(b'not a directory')


@pytest.mark.parametrize(
    'breakage', (_garbage_tags, _truncated_tags, _wrong_shape, _a_file),
    ids=('garbage', 'truncated', 'wrong shape', 'a file'),
)
def test_broken_cache_is_reported_once_and_bypassed(tmp_path, capsys, breakage):
    cache = tmp_path / 'cache'
    breakage(cache)
    files = []
    for i in range(2):
        f = tmp_path / f'{i}.Dockerfile'
        f.write_bytes(SOURCE.encode())
        files.append(f)
    assert pin(cache, *files) == 3
    captured = capsys.readouterr()
    assert captured.err.count(f'pin-from: cache directory {cache} ') == 1
    assert 'Traceback' not in captured.err + captured.out
    # Bypassed: the run went on as with an empty cache (offline: every lookup misses).
    assert captured.out.count('not in the cache and --offline was given') == 4
    assert all(f.read_bytes() == SOURCE.encode() for f in files)


def _garbage_db(directory: Path) -> None:
    directory.mkdir()
    (directory / diskcache.core.DBNAME).write_bytes(b'this is not a database\x00' * 200)


def _corrupt_pages(directory: Path) -> None:
    cache = Cache(str(directory))
    cache.set('manifests:sha256:x', '{}')
    cache.close()
    db = directory / diskcache.core.DBNAME
    data = bytearray(db.read_bytes())
    data[100:] = b'\xff' * (len(data) - 100)  # keep the header, wreck the pages
    db.write_bytes(bytes(data))


@pytest.mark.parametrize('breakage', (_garbage_db, _corrupt_pages), ids=('garbage', 'pages'))
def test_broken_content_store_is_reported_once_and_bypassed(tmp_path, capsys, breakage):
    """The diskcache part (manifests, blobs, library files) degrades the same way."""
    directory = tmp_path / 'cache'
    breakage(directory)
    notes: list[str] = []
    cache = Cache(str(directory), notes.append)
    assert cache.get('manifests:sha256:x', lambda v: True) is None
    cache.set('manifests:sha256:y', '{}')
    assert cache.get('manifests:sha256:y', lambda v: True) is None  # bypassed, not half-working
    assert len(notes) == 1 and notes[0].startswith(f'cache directory {directory} '), notes


@pytest.mark.skipif(os.geteuid() != 0, reason='only root can give a file away')
def test_owner_is_kept_when_root_rewrites_someone_elses_file(tmp_path):
    from pin_from.files.rewrite import write_atomic
    path = tmp_path / 'Dockerfile'
    path.write_bytes(b'FROM a\n')
    os.chown(path, 65534, 65534)
    write_atomic(str(path), b'FROM a@x\n', b'FROM a\n')
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert path.read_bytes() == b'FROM a@x\n'


# --- many files: written together, said in file order -------------------------------------------

def test_many_files_are_written_together_and_said_in_order(cache_dir, tmp_path, monkeypatch, capsys):
    """Writes of a run start together in a few threads (their fsyncs overlap); each is awaited in
    file order, so a failure is said where a one-at-a-time run would say it."""
    from pin_from.files import rewrite
    paths = [tmp_path / f'{i}.Dockerfile' for i in range(6)]
    for path in paths:
        path.write_bytes(SOURCE.encode())
    threads = set()
    real = rewrite.write_atomic

    def write_atomic(path, data, expected):
        import threading
        threads.add(threading.current_thread().name)
        if path.endswith('3.Dockerfile'):
            raise FileError('cannot write: disk full; left alone')
        return real(path, data, expected)
    monkeypatch.setattr(rewrite, 'write_atomic', write_atomic)
    assert pin(cache_dir, *paths) == 3
    lines = capsys.readouterr().out.splitlines()
    names = [line.split(':', 1)[0] for line in lines]
    assert [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n] == [str(p) for p in paths]
    errors = [i for i, line in enumerate(lines) if 'disk full' in line]
    assert [lines[i] for i in errors] == [f'{paths[3]}: cannot write: disk full; left alone']
    assert names[errors[0] - 1] == str(paths[3]) and names[errors[0] + 1] == str(paths[4])
    assert paths[3].read_bytes() == SOURCE.encode()
    assert all(p.read_bytes() != SOURCE.encode() for p in paths if p != paths[3])
    assert threads and 'MainThread' not in threads


def test_a_file_named_twice_is_written_once_then_found_changed(cache_dir, tmp_path, capsys):
    dockerfile = tmp_path / 'Dockerfile'
    dockerfile.write_bytes(SOURCE.encode())
    other = tmp_path / 'other.Dockerfile'
    other.write_bytes(SOURCE.encode())
    link = tmp_path / 'link.Dockerfile'
    link.symlink_to('Dockerfile')
    assert pin(cache_dir, dockerfile, other, link) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f'{link}: changed while pin-from ran; left alone'
    assert dockerfile.read_bytes() == other.read_bytes() != SOURCE.encode()
    assert leftovers(tmp_path) == []
