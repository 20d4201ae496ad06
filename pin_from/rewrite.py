"""Splicing tokens and writing files atomically. Nothing is re-serialised."""
from __future__ import annotations

import errno
import os
import stat
from typing import Iterable

from pin_from.errors import DockerfileError


def splice(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Replace each ``text[start:end]`` with its new value; other characters stay."""
    out = []
    pos = 0
    for start, end, new in sorted(edits):
        if start < pos:
            raise AssertionError('overlapping edits')
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return ''.join(out)


def read(path: str) -> bytes:
    try:
        with open(path, 'rb') as f:
            return f.read()
    except IsADirectoryError:
        raise DockerfileError('is a directory') from None
    except FileNotFoundError:
        raise DockerfileError('no such file') from None
    except OSError as e:
        raise DockerfileError(f'cannot read: {e.strerror}') from None


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Replace ``path``'s content with ``data`` via a temporary file + rename.

    A symlink is kept and its target is edited. The mode is kept. If the file
    changed since it was read (``expected``), nothing is written.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target) or '.'
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise DockerfileError('vanished before it could be written; left alone') from None
    if not stat.S_ISREG(st.st_mode):
        raise DockerfileError('is no longer a regular file; left alone')
    if not os.access(target, os.W_OK):
        raise DockerfileError('is not writable; left alone')
    import tempfile  # only when writing
    try:
        fd, tmp = tempfile.mkstemp(prefix='.pin-from-', dir=directory)
    except OSError as e:
        raise DockerfileError(f'cannot write next to it: {e.strerror}') from None
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            try:  # keep the owner too (possible as root); else the new owner is us
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass
        if read(target) != expected:
            raise DockerfileError('changed while pin-from ran; left alone')
        os.replace(tmp, target)
    except OSError as e:
        reason = 'disk full' if e.errno == errno.ENOSPC else e.strerror
        raise DockerfileError(f'cannot write: {reason}; left alone') from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
