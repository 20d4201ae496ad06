"""Structured results: where a reference sits (line, columns), what a run
did with it (a status), and the versioned JSON document that ``--format json``
prints (schema: ``pin_from/schemas/results-v1.json``).

Pure functions over loaded files and scans; :class:`pin_from.render.output.Output`
collects the values and prints the document.
"""
from __future__ import annotations

import json
from typing import Iterable
from typing import Mapping
from typing import TYPE_CHECKING

from pin_from import __version__
from pin_from.escape import file_name
from pin_from.files import edit
from pin_from.render.output import Error
from pin_from.render.output import Json
from pin_from.render.output import Result
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

if TYPE_CHECKING:
    from pin_from.files.load import Loaded
    from pin_from.render.output import Output

SCHEMA_VERSION = 1
BOM = '\ufeff'
Columns = tuple[int, int]

# pin-from's statuses are edit.Status (decided by edit.decide); check-deprecated-tags adds supported,
# unsupported, deprecated, not-official.
SKIPPED = 'skipped'


def columns(text: str, start: int, end: int) -> Columns:
    """1-based columns of ``text[start:end]`` in its line, end exclusive, BOM not counted."""
    line_start = text.rfind('\n', 0, start) + 1
    bom = 1 if line_start == 0 and text.startswith(BOM) else 0
    return start - line_start + 1 - bom, end - line_start + 1 - bom


def skip_columns(text: str, skip: Skip) -> Columns | None:
    """Where a skip's text sits on its line, when it is written there as shown."""
    line_start = 0
    for _ in range(skip.line - 1):
        line_start = text.find('\n', line_start) + 1
        if line_start == 0:
            return None
    line_end = text.find('\n', line_start)
    found = text.find(skip.text, line_start, line_end if line_end >= 0 else len(text)) if skip.text else -1
    return None if found < 0 else columns(text, found, found + len(skip.text))


def skipped(loaded: Loaded, skip: Skip) -> Result:
    """A reference the scanner left alone (a build stage, ``scratch``, an ignore comment...)."""
    return Result(loaded.path, skip.line, skip_columns(loaded.text, skip), skip.text, None, None, SKIPPED, skip.reason)


def at_site(loaded: Loaded, site: Site, status: str, old: str | None, new: str | None,
            reason: str | None = None) -> Result:
    """A site's result: its line as the scanners count them (only ``\\n`` ends a line, as in
    the text output), its columns from its offsets."""
    cols = columns(loaded.text, site.start, site.end)
    return Result(loaded.path, site.line, cols, site.text, old, new, status, reason)


def decided(loaded: Loaded, decisions: Iterable[edit.Decision]) -> list[Result]:
    """What ``pin-from`` did (``--check``: would do) with every reference of a file: its
    decisions (:func:`pin_from.files.edit.decide`), formatted."""
    return [
        at_site(loaded, d.at, d.status, d.old, d.new, d.reason) if isinstance(d.at, Site) else skipped(loaded, d.at)
        for d in decisions
    ]


def _result(result: Result) -> dict[str, Json]:
    ret: dict[str, Json] = {
        'file': file_name(result.path),
        'line': result.line,
        'columns': None if result.columns is None else {'start': result.columns[0], 'end': result.columns[1]},
        'image': result.image,
        'old': result.old,
        'new': result.new,
        'status': result.status,
        'reason': result.reason,
    }
    if result.suggestions:
        ret['suggestions'] = list(result.suggestions)
    if result.notice is not None:
        ret['notice'] = result.notice
    if result.alternatives:
        ret['alternatives'] = list(result.alternatives)
    if result.lifecycles:
        ret['end_of_life'] = [dict(lc._asdict()) for lc in result.lifecycles]
    return ret


def _error(error: Error) -> dict[str, Json]:
    return {'file': file_name(error.path), 'line': error.line, 'message': error.message}


def ordered(results: list[Result]) -> list[Result]:
    """By file (in the order files were first met), then position."""
    first: dict[str, int] = {}
    for r in results:
        first.setdefault(r.path, len(first))
    return sorted(results, key=lambda r: (first[r.path], r.line or 0, r.columns or (0, 0)))


def document(out: Output, exit_code: int) -> dict[str, Json]:
    """The run as one JSON (``format == 'json'``) or SARIF document."""
    if out.format == 'sarif':
        from pin_from.render import sarif
        return sarif.log(out.prog, ordered(out.results), out.errors, out.notes, exit_code)
    return {
        'schema_version': SCHEMA_VERSION,
        'tool': {'name': 'pin-from', 'version': __version__},
        'hook': out.prog,
        'exit_code': exit_code,
        'results': [_result(r) for r in ordered(out.results)],
        'errors': [_error(e) for e in out.errors],
        'notes': list(out.notes),
    }


def dumps(document: Mapping[str, Json]) -> str:
    """ASCII JSON: every character from outside is escaped, safe on any terminal."""
    return json.dumps(document, indent=2, ensure_ascii=True)
