"""Writing a file atomically: the new bytes land whole, or not at all."""
from __future__ import annotations

import errno
import os
import stat

from pin_from.errors import FileError
from pin_from.files.load import MAX_FILE
from pin_from.files.load import read_regular


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
        raise FileError('vanished before it could be written; left alone') from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError('is no longer a regular file; left alone')
    if not os.access(target, os.W_OK):
        raise FileError('is not writable; left alone')
    import tempfile  # only when writing
    try:
        fd, tmp = tempfile.mkstemp(prefix='.pin-from-', dir=directory)
    except OSError as e:
        raise FileError(f'cannot write next to it: {e.strerror}') from None
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
        if read_regular(target, MAX_FILE) != expected:
            raise FileError('changed while pin-from ran; left alone')
        os.replace(tmp, target)
    except OSError as e:
        reason = 'disk full' if e.errno == errno.ENOSPC else (e.strerror or str(e))
        raise FileError(f'cannot write: {reason}; left alone') from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
