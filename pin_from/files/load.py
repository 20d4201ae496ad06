"""One way in for a file: read, decode, choose the scanner, scan (through the memo).

Only regular files are read (a FIFO or a device given as a file is refused
before a byte is read), at most :data:`MAX_FILE` bytes. Text must be UTF-8 (a
BOM stays, as U+FEFF, so it round-trips). A file reached through a symlink
is read only when its target stays inside the repository (the work tree
holding the path; outside one, the working directory or the path's own
directory): a link to a file
outside, or to ``/proc/self/environ``, is refused before a byte is read, and
is never written. Problems in a file reached through a symlink quote none of
its text. What a file holds comes back as a
:class:`Loaded` value, and what is wrong with it as :class:`Finding` values:
nothing here prints.
"""
from __future__ import annotations

import errno
import functools
import os
import stat
from typing import AbstractSet
from typing import Callable
from typing import Iterator
from typing import Mapping
from typing import NamedTuple
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from import kinds
from pin_from import steady
from pin_from.errors import FileError
from pin_from.kinds.sites import Scan

if TYPE_CHECKING:
    from pin_from.files.memo import Memo

MAX_FILE = steady.MAX_FILE  # 8 MiB: the steady record reads by the same cap
NO_KIND = f'skipped: its name is not one of a known kind ({", ".join(kinds.KINDS)}); not read'


class Missing(FileError):
    """No file at that path."""


class Loaded(NamedTuple):
    path: str
    data: bytes
    text: str
    scan: Scan
    kind: str
    linked: bool = False  # reached through a symlink: its problems quote no text


class Finding(NamedTuple):
    """One line of output about a file: ``path:line: text``."""

    path: str
    line: int | None
    text: str
    error: bool  # False: a -v remark (a skip)


class Batch(NamedTuple):
    files: list[Loaded]  # readable, with no problems
    findings: list[Finding]  # in file order
    clean: list[str] = []  # (memo runs) read, nothing to say, nothing to pin: their steady keys (not their bytes)

    @property
    def failed(self) -> bool:
        return any(f.error for f in self.findings)


def read_regular(path: str, cap: int, what: str = 'file') -> bytes:
    """The bytes of a regular file (symlinks followed), at most ``cap`` of them."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0))
    except FileNotFoundError:
        raise Missing('no such file') from None
    except IsADirectoryError:
        raise FileError('is a directory') from None
    except OSError as e:
        raise FileError(_os_reason(e, 'cannot read')) from None
    st = os.fstat(fd)
    mode = st.st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise FileError('is a directory')
        raise FileError(f'is not a regular {what} (a pipe, socket or device); not read')
    try:
        data = _read_fd(fd, min(st.st_size, cap) + 1, cap + 1)
    except OSError as e:
        raise FileError(_os_reason(e, 'cannot read')) from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise FileError(f'is larger than {cap // (1024 * 1024)} MiB; not read')
    return data


def _read_fd(fd: int, expected: int, limit: int) -> bytes:
    """Up to ``limit`` bytes; the first read asks for the file's size plus one (a
    buffer of the cap's size would cost 8 MiB per file), then on until EOF, in
    case the file grew or says size 0 (``/proc``). Plain ``os.read``: no file
    object per file on a steady run of thousands."""
    chunks = [os.read(fd, expected)]
    total = len(chunks[0])
    while chunks[-1] and total < limit and total >= expected:
        chunks.append(os.read(fd, min(limit - total, 1024 * 1024)))
        total += len(chunks[-1])
    return b''.join(chunks)


@functools.lru_cache(maxsize=16384)
def _is_real(directory: str) -> bool:
    """No component of the absolute, normalised ``directory`` is a symlink: what
    ``realpath(directory) == directory`` says, with one lstat per directory of a
    run (cached: a thousand files in a thousand folders share their parents)."""
    parent = os.path.dirname(directory)
    if parent == directory:
        return True
    return _is_real(parent) and not os.path.islink(directory)


@functools.lru_cache(maxsize=1024)
def _root(directory: str) -> str:
    """The work tree holding ``directory`` (the nearest parent with ``.git``), else ``directory``."""
    here = directory
    while not os.path.lexists(os.path.join(here, '.git')):
        parent = os.path.dirname(here)
        if parent == here:
            return directory
        here = parent
    return here


def through_symlink(path: str) -> bool:
    """Whether ``path`` is reached through a symlink (of the file or a directory
    on its way); :class:`FileError` if its target leaves the repository (outside
    one: the working directory, for a path under it, else the path's own
    directory). One lstat per file, one per directory of the run."""
    absolute = os.path.abspath(path)
    directory = os.path.dirname(absolute)
    if _is_real(directory) and not os.path.islink(absolute):
        return False
    root = _root(directory)
    where = 'the repository'
    if not os.path.lexists(os.path.join(root, '.git')):  # no repository: the working directory, else its own
        cwd = os.getcwd()
        root, where = (cwd, 'the working directory') if absolute.startswith(cwd.rstrip(os.sep) + os.sep) else (
            directory, 'its directory')
    real_root = os.path.realpath(root)
    if not os.path.realpath(absolute).startswith(real_root.rstrip(os.sep) + os.sep):
        raise FileError(f'is a symlink to a file outside {where}; not read, left alone')
    return True


def _os_reason(e: OSError, verb: str) -> str:
    if e.errno == errno.ENOSPC:
        return f'{verb}: disk full'
    return f'{verb}: {e.strerror or e}'


def decode(data: bytes) -> str:
    """Strict UTF-8 (a BOM stays as U+FEFF so it round-trips)."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        line = data.count(b'\n', 0, e.start) + 1
        raise FileError('not valid UTF-8', line) from None


def load(path: str, data: bytes | None = None, kind: str | None = None) -> Loaded:
    """Read (unless ``data`` is given), decode and scan one file as ``kind``
    (by default, the kind its name says). Raises FileError."""
    linked = through_symlink(path)
    if data is None:
        data = read_regular(path, MAX_FILE)
    text = decode(data)
    if kind is None:
        kind = kinds.kind_for(path)
        if kind is None:
            raise FileError(NO_KIND)
    return Loaded(path, data, text, kinds.KINDS[kind].scan(text), kind, linked)


def load_memoised(path: str, memo: Memo, kind: str, data: bytes | None = None) -> Loaded:
    """The file, with only the sites that still need pinning when the memo knows its content
    (its bytes, if already read, as ``data``)."""
    from pin_from.files.memo import from_rows
    linked = through_symlink(path)
    if data is None:
        data = read_regular(path, MAX_FILE)
    found = memo.recall(kind, data)
    if found == []:  # known clean: it was scanned (so decoded) before; nothing to pin
        return Loaded(path, data, '', Scan((), (), ()), kind, linked)
    if found is not None:
        text = decode(data)
        scan = from_rows(found, text)
        if scan is not None:
            return Loaded(path, data, text, scan, kind, linked)
    loaded = load(path, data, kind)
    memo.remember(kind, data, loaded.scan)
    return loaded


def findings(loaded: Loaded, verbose: bool) -> list[Finding]:
    """A file's problems (errors) and, with -v, its skips."""
    ret = [Finding(loaded.path, p.line, f'{p.text}: {p.reason}' if p.text and not loaded.linked else p.reason, True)
           for p in loaded.scan.problems]
    if verbose:
        ret += [Finding(loaded.path, s.line, f'skipped {s.text}: {s.reason}', False) for s in loaded.scan.skips]
    return ret


def _expand(
        paths: Sequence[str], verbose: bool, only: AbstractSet[str] | None, overrides: kinds.Overrides,
        said: list[Finding],
) -> Iterator[tuple[str, str | None]]:
    """Each path with its kind; a directory's files instead of it (with -v, a
    line naming the kinds chosen there; files of no known kind are said one by one)."""
    from pin_from.files import tree
    seen: set[str] = set()
    for path in paths:
        if not tree.is_directory(path):
            if path not in seen:
                seen.add(path)
                yield path, kinds.kind_for(path, overrides)
            continue
        listing = tree.list_files(path)
        chosen = [(f, kinds.kind_for(f, overrides)) for f in listing.files if f not in seen]
        if verbose:
            found = sorted({k for _, k in chosen if k is not None and (only is None or k in only)})
            count = sum(1 for _, k in chosen if k is not None and (only is None or k in only))
            said.append(Finding(path, None, (
                f'directory: {count} file{"s" * (count != 1)} of kind {", ".join(found) or "(none)"} '
                f'({listing.how})'), False))
        for f, kind in chosen:
            seen.add(f)
            if kind is not None or verbose:  # unknown kinds under a directory only matter to -v
                yield f, kind


def load_all(
        paths: Sequence[str], verbose: bool, memo: Memo | None = None,
        only: AbstractSet[str] | None = None, overrides: kinds.Overrides = (),
        preread: Mapping[str, bytes] | None = None, found: Callable[[Loaded], None] | None = None,
) -> Batch:
    """Every file of a known kind (of the kinds in ``only``), scanned; with a
    ``memo``, only files that need pinning are kept (unchanged, pinned files are
    known clean without being lexed, and listed in ``clean``; ``preread``: bytes
    already read, by name). A file of no known kind is not read. ``found`` is told
    of each file kept, as soon as it is scanned."""
    batch = Batch([], [], [])
    preread = preread or {}
    for path, kind in _expand(paths, verbose, only, overrides, batch.findings):
        if kind is None and not os.path.lexists(path):
            batch.findings.append(Finding(path, None, 'no such file', True))  # a named file must be there
            continue
        if kind is None or (only is not None and kind not in only):
            if verbose:
                why = NO_KIND if kind is None else f'skipped: a {kind} file, not in --kinds'
                batch.findings.append(Finding(path, None, why, False))
            continue
        try:
            loaded = (load_memoised(path, memo, kind, preread.get(path)) if memo is not None
                      else load(path, kind=kind))
        except FileError as e:
            batch.findings.append(Finding(path, e.line, str(e), True))
            continue
        problems = findings(loaded, verbose)
        batch.findings.extend(problems)
        if loaded.scan.problems:
            continue  # a file with a problem is never written
        if memo is None or loaded.scan.sites:
            batch.files.append(loaded)
            if found is not None:
                found(loaded)
        elif not problems:
            batch.clean.append(steady.key(path, loaded.data))
    return batch
