"""The official-images snapshot shipped in the package (``official_images/``: library files and
deprecation notices, Apache-2.0, with their commit and date; see its README.md).

Used only when the source cannot be reached and nothing is cached: by
:class:`pin_from.support.libraries.Libraries` for ``library/<name>`` and by the
notices of ``check-deprecated-tags``. The run says so once, with the
snapshot's age; past :data:`MAX_AGE_DAYS` its findings are warnings, never
failures (a tag released since may be missing from it).
"""
from __future__ import annotations

import os
import re
import time
from typing import NamedTuple

ROOT = os.path.join(os.path.dirname(__file__), 'official_images')
MAX_AGE_DAYS = 90
_DATE_RE = re.compile(r'^commit_date: (\d{4})-(\d\d)-(\d\d)T', re.M)
_NAME_RE = re.compile(r'[a-z0-9][a-z0-9._-]*')


class Snapshot(NamedTuple):
    root: str
    date: str  # YYYY-MM-DD, the library commit's date
    taken: float  # that date as a POSIX time (UTC midnight)

    def age_days(self, now: float | None = None) -> int:
        return max(0, int(((time.time() if now is None else now) - self.taken) // 86400))

    def old(self, now: float | None = None) -> bool:
        return self.age_days(now) > MAX_AGE_DAYS

    def library(self, name: str) -> str | None:
        """``library/<name>`` as shipped, or None when the snapshot has no such file."""
        return self._read('library', name) if _NAME_RE.fullmatch(name) else None

    def notice(self, name: str) -> str | None:
        """``<name>/deprecated.md`` as shipped, or None."""
        return self._read('docs', name, 'deprecated.md') if _NAME_RE.fullmatch(name) else None

    def describe(self, now: float | None = None) -> str:
        age = self.age_days(now)
        text = f'the official-images snapshot shipped with pin-from ({self.date}, {age} day{"s" * (age != 1)} old)'
        if self.old(now):
            text += f'; older than {MAX_AGE_DAYS} days, so its findings are warnings, not failures'
        return text

    def _read(self, *parts: str) -> str | None:
        try:
            with open(os.path.join(self.root, *parts), encoding='utf-8') as f:
                return f.read(8 * 1024 * 1024)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None


def load(root: str = ROOT) -> Snapshot | None:
    """The shipped snapshot, or None when the package was installed without it."""
    try:
        with open(os.path.join(root, 'COMMIT'), encoding='utf-8') as f:
            m = _DATE_RE.search(f.read(4096))
    except OSError:
        return None
    if m is None:
        return None
    import calendar
    year, month, day = (int(g) for g in m.groups())
    return Snapshot(root, f'{m.group(1)}-{m.group(2)}-{m.group(3)}', float(calendar.timegm((year, month, day, 0, 0, 0))))
