"""What a scan of any file kind returns: reference sites with exact offsets,
skips with reasons, and problems with lines.

Every scanner (the Dockerfile lexer, the YAML kinds) returns a :class:`Scan`;
the pin, check and update paths work only with these values.
"""
from __future__ import annotations

from typing import NamedTuple

from pin_from.reference import Reference


class Site(NamedTuple):
    """A literal image reference written in the file, with its offsets.

    ``text`` is exactly ``source[start:end]`` (the reference as written, with no
    quotes or escapes inside it), and ``ref`` is its parse. ``kind`` says where
    it sits: for Dockerfiles ``from``, ``copy`` (``COPY --from``), ``mount``
    (``RUN --mount=...,from=``), ``syntax`` (the parser directive) or ``arg``
    (the default of a global ``ARG`` used as a whole ``FROM`` image).

    ``form`` is for a reference written in parts (a Helm ``digest:`` key, a
    kustomize ``newTag``): then ``text`` is the whole reference the parts
    make, ``source[start:end]`` is the one part a pin rewrites, and ``form``
    says what it becomes (``{digest}``, ``{tag}@{digest}``). Empty: the span
    holds ``text`` and becomes ``text@digest``.
    """

    line: int
    start: int
    end: int
    text: str
    kind: str
    ref: Reference
    form: str = ''


class Skip(NamedTuple):
    """A reference left alone on purpose, and why (shown under -v)."""

    line: int
    text: str
    reason: str


class Problem(NamedTuple):
    """A reference that cannot be handled: an error for the whole file."""

    line: int
    text: str
    reason: str


class Scan(NamedTuple):
    sites: tuple[Site, ...]
    skips: tuple[Skip, ...]
    problems: tuple[Problem, ...]
