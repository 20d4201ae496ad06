"""``check-deprecated-tags --format sarif``: SARIF 2.1.0 for GitHub code scanning.

One rule per kind of finding (``unsupported-tag``, ``deprecated-image``,
``not-official``, and with ``--eol`` ``end-of-life``, ``near-end-of-life``,
``base-end-of-life``, ``base-near-end-of-life``); each finding is a result at the reference's line and
columns (Unicode code points, ``run.columnKind``), its file relative to the
working directory (the repository root under pre-commit and in CI) under
``%SRCROOT%``. Errors and notes become the invocation's notifications;
``executionSuccessful`` is false when the exit code is 3.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from import __version__
from pin_from.escape import terminal
from pin_from.escape import uri_path
from pin_from.render.output import Error
from pin_from.render.output import Lifecycle
from pin_from.render.output import Result

if TYPE_CHECKING:
    from pin_from.render.output import Json

SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json'
INFORMATION_URI = 'https://example.com/pin-from'  # the project's home, as in the README
SRCROOT = '%SRCROOT%'
FAILED = 3


class Rule(NamedTuple):
    id: str
    status: str  # the check-deprecated-tags status it reports
    name: str
    short: str
    help: str


RULES = (
    Rule(
        'unsupported-tag', 'unsupported', 'UnsupportedTag',
        'Official-image tag no longer supported',
        'The tag is not listed in any entry of docker-library/official-images library/<name>: it gets no '
        'rebuilds and no security fixes. Move to a supported tag; the message lists the supported tags of the '
        'same variant.',
    ),
    Rule(
        'deprecated-image', 'deprecated', 'DeprecatedImage',
        'Deprecated official image',
        'library/<name> in docker-library/official-images has no entries: the official image is deprecated and '
        'no tag of it is supported. The message quotes the deprecation notice and its alternatives.',
    ),
    Rule(
        'not-official', 'not-official', 'NotOfficial',
        'Image is no longer an official image',
        'docker-library/official-images has no library/<name> file: the image is no longer an official image, '
        'and Docker Hub may remove it. Move to a maintained image.',
    ),
    Rule(
        'end-of-life', 'eol:image:end-of-life', 'EndOfLife',
        'Release cycle past its end of life',
        'The release cycle the tag names (Python 3.8, Node.js 18) has reached its end of life on endoflife.date: '
        'no more fixes upstream, even while the image is still built. The message names a supported tag of the '
        'same variant.',
    ),
    Rule(
        'near-end-of-life', 'eol:image:near-end-of-life', 'NearEndOfLife',
        'Release cycle near its end of life',
        'The release cycle the tag names reaches its end of life on endoflife.date within the warning window '
        '(--eol-warn). Plan the move; the message names a supported tag of the same variant.',
    ),
    Rule(
        'base-end-of-life', 'eol:base:end-of-life', 'BaseEndOfLife',
        'Base system past its end of life',
        'The base system the tag names in its suffix (bullseye, focal, alpine3.18) has reached its end of life '
        'on endoflife.date. The message names a tag of the same variant on a supported base system.',
    ),
    Rule(
        'base-near-end-of-life', 'eol:base:near-end-of-life', 'BaseNearEndOfLife',
        'Base system near its end of life',
        'The base system the tag names in its suffix reaches its end of life on endoflife.date within the '
        'warning window (--eol-warn).',
    ),
)
_BY_STATUS = {r.status: i for i, r in enumerate(RULES)}


def uri(path: str) -> tuple[str, str | None]:
    """The file as a URI reference: relative to the working directory (under
    ``%SRCROOT%``) when it is inside it, else an absolute ``file:`` URI."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return 'file://' + uri_path(Path(absolute).as_posix()), None
    return uri_path(Path(relative).as_posix()), SRCROOT


def _location(path: str | None, line: int | None, columns: tuple[int, int] | None) -> dict[str, Json]:
    ref, base = uri(path or '.')
    artifact: dict[str, Json] = {'uri': ref}
    if base is not None:
        artifact['uriBaseId'] = base
    physical: dict[str, Json] = {'artifactLocation': artifact}
    if line:
        region: dict[str, Json] = {'startLine': line}
        if columns is not None:
            region.update(startColumn=columns[0], endColumn=columns[1])
        physical['region'] = region
    return {'physicalLocation': physical}


def message(result: Result) -> str:
    """The finding, the suggested tags and the notice, one sentence each."""
    first = result.reason or result.image
    parts = [first if first.endswith('.') else f'{first}.']
    if result.suggestions:
        parts.append(f'Supported tags of the same variant: {", ".join(result.suggestions)}.')
    if result.notice:
        parts.append(f'Notice: {result.notice}')
    if result.alternatives:
        parts.append(f'Alternatives: {", ".join(result.alternatives)}.')
    return terminal(' '.join(parts))


def _result(result: Result) -> dict[str, Json]:
    index = _BY_STATUS[result.status]
    properties: dict[str, Json] = {'image': result.image, 'suggestions': list(result.suggestions)}
    return {
        'ruleId': RULES[index].id,
        'ruleIndex': index,
        'level': 'error',
        'message': {'text': message(result)},
        'locations': [_location(result.path, result.line, result.columns)],
        'properties': properties,
    }


def _lifecycle(result: Result, lifecycle: Lifecycle) -> dict[str, Json]:
    index = _BY_STATUS[f'eol:{lifecycle.subject}:{lifecycle.status}']
    text = lifecycle.message + '.'
    if lifecycle.suggestion:
        text += f' Suggestion: {lifecycle.suggestion}.'
    properties: dict[str, Json] = {
        'image': result.image, 'product': lifecycle.product, 'cycle': lifecycle.cycle, 'eol': lifecycle.eol,
        'suggestion': lifecycle.suggestion,
    }
    return {
        'ruleId': RULES[index].id,
        'ruleIndex': index,
        'level': lifecycle.level,
        'message': {'text': terminal(text)},
        'locations': [_location(result.path, result.line, result.columns)],
        'properties': properties,
    }


def _results(results: Sequence[Result]) -> list[Json]:
    """The library's finding on each reference, then its end-of-life verdicts worth a word."""
    found: list[Json] = []
    for result in results:
        if result.status in _BY_STATUS:
            found.append(_result(result))
        found += [_lifecycle(result, lc) for lc in result.lifecycles if lc.level != 'none']
    return found


def _rule(rule: Rule) -> dict[str, Json]:
    return {
        'id': rule.id,
        'name': rule.name,
        'shortDescription': {'text': rule.short},
        'fullDescription': {'text': rule.help},
        'help': {'text': rule.help, 'markdown': rule.help.replace('library/<name>', '`library/<name>`')},
        'helpUri': INFORMATION_URI,
        'defaultConfiguration': {'level': 'warning' if rule.status.endswith(':near-end-of-life') else 'error'},
        'properties': {'tags': ['maintainability', 'containers']},
    }


def _notifications(results: Sequence[Result], errors: Sequence[Error], notes: Sequence[str]) -> list[Json]:
    ret: list[Json] = [
        {'level': 'error', 'message': {'text': terminal(f'{r.image}: {r.reason}')},
         'locations': [_location(r.path, r.line, r.columns)]}
        for r in results if r.status == 'error'
    ]
    for e in errors:
        entry: dict[str, Json] = {'level': 'error', 'message': {'text': terminal(e.message)}}
        if e.path is not None:
            entry['locations'] = [_location(e.path, e.line, None)]
        ret.append(entry)
    ret += [{'level': 'note', 'message': {'text': terminal(n)}} for n in notes]
    return ret


def log(
        prog: str, results: Sequence[Result], errors: Sequence[Error], notes: Sequence[str], exit_code: int,
) -> dict[str, Json]:
    """The SARIF log of one run of ``prog``."""
    driver: dict[str, Json] = {
        'name': 'pin-from',
        'fullName': f'pin-from {prog}',
        'version': __version__,
        'semanticVersion': __version__,
        'informationUri': INFORMATION_URI,
        'rules': [_rule(r) for r in RULES],
    }
    invocation: dict[str, Json] = {
        'executionSuccessful': exit_code != FAILED,
        'exitCode': exit_code,
        'toolExecutionNotifications': _notifications(results, errors, notes),
    }
    run: dict[str, Json] = {
        'tool': {'driver': driver},
        'invocations': [invocation],
        'columnKind': 'unicodeCodePoints',
        'results': _results(results),
    }
    return {'$schema': SCHEMA, 'version': '2.1.0', 'runs': [run]}
