"""Writing a file atomically: the new bytes land whole, or not at all."""
from __future__ import annotations

import errno
import os
import stat

from pin_from.errors import FileError
from pin_from.files.load import MAX_FILE
from pin_from.files.load import read_regular
from pin_from.files.load import through_symlink


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Replace ``path``'s content with ``data`` via a temporary file + rename.

    A symlink is kept and its target is edited, when that target is inside
    the repository (see :func:`pin_from.files.load.through_symlink`; checked
    again here, in case the link moved). The mode is kept. If the file
    changed since it was read (``expected``), nothing is written.
    """
    target = os.path.realpath(path) if through_symlink(path) else path
    directory = os.path.dirname(target) or '.'
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise FileError('vanished before it could be written; left alone') from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError('is no longer a regular file; left alone')
    if not os.access(target, os.W_OK):
        raise FileError('is not writable; left alone')
    try:
        fd, tmp = _temporary(directory)
    except OSError as e:
        raise FileError(f'cannot write next to it: {e.strerror}') from None
    try:
        _land(fd, tmp, target, data, stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid), expected)
    except OSError as e:
        reason = 'disk full' if e.errno == errno.ENOSPC else (e.strerror or str(e))
        raise FileError(f'cannot write: {reason}; left alone') from None


def write_text(path: str, text: str) -> None:
    """A file pin-from makes (the ``--update`` report), atomically: a new file gets mode 0644. A device
    or a pipe (``/dev/stdout``) is written in place: it must never be replaced by a file. OSError on failure."""
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return
    fd, tmp = _temporary(os.path.dirname(os.path.abspath(path)))
    _land(fd, tmp, path, text.encode('utf-8'), 0o644, None, None)


def _temporary(directory: str) -> tuple[int, str]:
    import tempfile  # only when writing
    return tempfile.mkstemp(prefix='.pin-from-', dir=directory)


def _land(
        fd: int, tmp: str, target: str, data: bytes, mode: int, owner: tuple[int, int] | None,
        expected: bytes | None,
) -> None:
    """The one atomic write: ``data`` into the temporary file ``tmp`` (open as ``fd``), flushed to disk,
    its mode (and owner) set, then renamed over ``target``, unless ``target`` no longer holds
    ``expected``. The temporary file never stays behind."""
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if owner is not None and owner != (os.getuid(), os.getgid()):
            try:  # keep the owner too (possible as root); else the new owner is us
                os.chown(tmp, *owner)
            except OSError:
                pass
        if expected is not None and read_regular(target, MAX_FILE) != expected:
            raise FileError('changed while pin-from ran; left alone')
        os.replace(tmp, target)
        tmp = ''
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
