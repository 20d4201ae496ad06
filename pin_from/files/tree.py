"""A directory given as a file argument: the files under it.

Inside a git work tree, the tracked files (``git ls-files``: nothing ignored,
nothing generated, nothing in ``.git``); elsewhere, every file under it except
in hidden directories (``.venv``, ``.tox``, ``.git``; ``.github`` stays: its
workflows are a kind). Symbolic links are not followed. The kinds are chosen
by the caller (:mod:`pin_from.kinds`); this only lists.
"""
from __future__ import annotations

import os
from typing import NamedTuple

GIT_TIMEOUT = 60.0
_KEPT_HIDDEN = frozenset({'.github', '.gitlab', '.circleci', '.devcontainer', '.tekton', '.woodpecker'})


class Listing(NamedTuple):
    files: list[str]  # under the directory, joined to it, sorted
    how: str  # 'tracked by git' or 'hidden directories left out'


def is_directory(path: str) -> bool:
    try:
        return os.path.isdir(path)
    except (OSError, ValueError):
        return False


def list_files(directory: str) -> Listing:
    tracked = _git_files(directory)
    if tracked is not None:
        return Listing(tracked, 'files tracked by git')
    return Listing(_walk(directory), 'hidden directories left out')


def _join(directory: str, name: str) -> str:
    return name if directory in ('', '.') else os.path.join(directory, name)


def _git_files(directory: str) -> list[str] | None:
    """The files git tracks under ``directory``, or None outside a work tree (or without git)."""
    import subprocess  # here: it imports threading, which a steady run of files never needs
    try:
        proc = subprocess.run(
            ('git', '-c', 'core.quotepath=off', 'ls-files', '-z', '--cached', '--', '.'),
            cwd=directory, capture_output=True, timeout=GIT_TIMEOUT, check=False,
            env={**os.environ, 'GIT_OPTIONAL_LOCKS': '0'},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:  # not a work tree (or inside .git)
        return None
    names = [os.fsdecode(n) for n in proc.stdout.split(b'\0') if n]
    ret = []
    for name in dict.fromkeys(names):  # a conflicted file is listed once per stage
        path = _join(directory, name)
        if os.path.isfile(path) and not os.path.islink(path):  # not deleted, not a submodule, not a link
            ret.append(path)
    return sorted(ret)


def _walk(directory: str) -> list[str]:
    ret = []
    for root, dirs, names in os.walk(directory, onerror=None, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') or d in _KEPT_HIDDEN)
        for name in names:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                ret.append(os.path.normpath(path) if directory not in ('.', '') else os.path.relpath(path))
    return sorted(ret)
