"""The one writer: every line a hook prints goes through :class:`Output`.

Lower layers never print; they return findings or hand notes to a
:class:`Notes` sink. Output holds a lock, so lines from worker threads never
run together, and escapes control characters, so text from a file or an
image cannot drive the terminal.
"""
from __future__ import annotations

import sys
import threading
from typing import Protocol
from typing import TextIO

from pin_from.escape import terminal


class Notes(Protocol):
    def note(self, text: str) -> None:
        """A run-level remark (stale answers, cache trouble): stderr."""


def where(path: str, line: int | None) -> str:
    return f'{path}:{line}' if line else path


class Output:
    def __init__(self, prog: str, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.prog = prog
        self._stdout = stdout
        self._stderr = stderr
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        """A result line (stdout): ``file:line: ...`` facts and findings."""
        self._write(self._stdout or sys.stdout, terminal(text))

    def at(self, path: str, line: int | None, text: str) -> None:
        self.line(f'{where(path, line)}: {text}')

    def note(self, text: str) -> None:
        self._write(self._stderr or sys.stderr, f'{self.prog}: {terminal(text)}')

    def _write(self, stream: TextIO, text: str) -> None:
        with self._lock:
            stream.write(text + '\n')
            stream.flush()
