"""The one writer: every line a hook prints goes through :class:`Output`.

Lower layers never print; they return findings or hand notes to the hook's
``Output.note`` (a ``Callable[[str], None]``: a run-level remark, stderr). Output holds a lock, so lines from worker threads never
run together, and escapes control characters, so text from a file or an
image cannot drive the terminal.

With ``--format json`` (or ``sarif``) nothing but one document reaches
stdout: per-reference :class:`Result` values, file-level errors and notes are
collected, and :meth:`Output.finish` prints them at the end (see
``pin_from/schemas/results-v1.json``). Notes and errors still go to stderr.
"""
from __future__ import annotations

import sys
import _thread  # a lock without importing threading on every run
from typing import NamedTuple
from typing import Sequence
from typing import TextIO
from typing import Union

from pin_from.escape import terminal

FORMATS = ('text', 'json', 'sarif')
Json = Union[None, bool, int, str, list['Json'], dict[str, 'Json']]  # a document's values


class Result(NamedTuple):
    """What a run says about one reference (or a skip), for JSON and SARIF.

    ``columns`` are 1-based, in characters (Unicode code points) of the line,
    the end exclusive: ``line_text[start - 1:end - 1]`` is ``image``. A BOM is
    not a column. ``old``/``new``: for ``pin-from`` the digest before and
    after; for ``check-deprecated-tags`` the tag and the first suggested one.
    """

    path: str
    line: int | None
    columns: tuple[int, int] | None
    image: str
    old: str | None
    new: str | None
    status: str
    reason: str | None = None
    suggestions: tuple[str, ...] = ()
    notice: str | None = None
    alternatives: tuple[str, ...] = ()
    lifecycles: tuple[Lifecycle, ...] = ()


class Lifecycle(NamedTuple):
    """An end-of-life verdict on a reference (``check-deprecated-tags --eol``), ready to print."""

    subject: str  # image (its own release cycle) or base (the base system's, from a tag suffix)
    product: str  # the endoflife.date product: python, debian
    cycle: str  # its release cycle: 3.12, 11
    title: str  # Python 3.12, Debian 11 (Bullseye)
    eol: str | None  # the end-of-life date (YYYY-MM-DD), when known
    status: str  # end-of-life, near-end-of-life, supported
    level: str  # error (fails the run), warning, none
    message: str
    suggestion: str | None  # image:tag to move to


class Error(NamedTuple):
    """Something that kept the run from a complete answer, outside any one reference."""

    path: str | None
    line: int | None
    message: str


def where(path: str, line: int | None) -> str:
    return f'{path}:{line}' if line else path


class Output:
    def __init__(
            self, prog: str, stdout: TextIO | None = None, stderr: TextIO | None = None,
            format: str = 'text',  # noqa: A002 (the option's name)
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f'unknown output format {format!r}')
        self.prog = prog
        self.format = format
        self._stdout = stdout
        self._stderr = stderr
        self._lock = _thread.allocate_lock()
        self.results: list[Result] = []
        self.errors: list[Error] = []
        self.notes: list[str] = []
        self._last: TextIO | None = None  # the stream written to last
        self.history: list[str] | None = None  # when a list: every line written, '' for one on stderr
        self.printed = 0  # lines written, to either stream: a run that said nothing may be recorded as steady

    @property
    def structured(self) -> bool:
        """True for json and sarif: stdout carries one document, at the end."""
        return self.format != 'text'

    def line(self, text: str) -> None:
        """A result line (stdout): ``file:line: ...`` facts and findings.

        Structured: a note (stderr and the document's ``notes``)."""
        if self.structured:
            self.note(text)
            return
        self._write(self._stdout or sys.stdout, terminal(text))

    def at(self, path: str, line: int | None, text: str) -> None:
        """A line about a file. Structured: an ``errors`` entry (and stderr)."""
        if self.structured:
            with self._lock:
                self.errors.append(Error(path, line, text))
            self._write(self._stderr or sys.stderr, f'{self.prog}: {terminal(where(path, line))}: {terminal(text)}')
            return
        self.line(f'{where(path, line)}: {text}')

    def error(self, text: str) -> None:
        """A run-level error (stderr); an ``errors`` entry with no file."""
        with self._lock:
            self.errors.append(Error(None, None, text))
        self._write(self._stderr or sys.stderr, f'{self.prog}: {terminal(text)}')

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)
        self._write(self._stderr or sys.stderr, f'{self.prog}: {terminal(text)}')

    def result(self, result: Result, lines: Sequence[str] = ()) -> None:
        """Text: ``lines`` (the first as ``file:line: ...``). Structured: ``result``."""
        if self.structured:
            with self._lock:
                self.results.append(result)
            return
        for i, text in enumerate(lines):
            self.line(f'{where(result.path, result.line)}: {text}' if i == 0 else text)

    def said(self, path: str, line: int | None, text: str) -> None:
        """A text-mode line about a reference whose :class:`Result` was given apart."""
        if not self.structured:
            self.at(path, line, text)

    def said_more(self, text: str) -> None:
        """A text-mode continuation line (indented, no location) of a line given by :meth:`said`."""
        if not self.structured:
            self._write(self._stdout or sys.stdout, terminal(text))

    def finish(self, document: str) -> None:
        """Structured: print the one document (nothing in text mode)."""
        if self.structured:
            self._write(self._stdout or sys.stdout, document)

    def _write(self, stream: TextIO, text: str) -> None:
        """One line. A stream is flushed when the other one is written to (the two keep their
        order on a terminal or in a CI log), not after every line: a run of a thousand lines
        is one write, not a thousand (the interpreter flushes at exit)."""
        with self._lock:
            self.printed += 1
            if self.history is not None:
                self.history.append(text if stream is (self._stdout or sys.stdout) else '')
            if self._last is not None and self._last is not stream:
                self._last.flush()
            self._last = stream
            stream.write(text + '\n')
            if stream is sys.stderr or stream is sys.__stderr__:
                stream.flush()  # unbuffered as ever: a note is seen when it is said
