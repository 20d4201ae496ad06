"""JSON with comments and trailing commas (JSONC, as VS Code and the Dev
Container CLI read it), parsed into values that keep their offsets.

Only reads: a string node records where its text sits between the quotes
and whether that text is its value exactly (no escapes), so a pin can
splice it and leave every other byte alone. Comments (``//``, ``/* */``)
are kept as spans, for ``// pin-from: ignore``.
"""
from __future__ import annotations

import re
from typing import NamedTuple
from typing import Union

from pin_from.errors import PinFromError
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip
from pin_from.kinds import comments

MAX_DEPTH = 200


class JsonError(PinFromError):
    """Not JSONC: the offset and why."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Str(NamedTuple):
    value: str
    start: int  # the opening quote
    end: int  # after the closing quote
    plain: bool  # the text between the quotes is the value (no escapes)


class Obj(NamedTuple):
    pairs: tuple[tuple[Str, 'Value'], ...]
    start: int

    def get(self, key: str) -> Value | None:
        """The last value of ``key`` (JSON.parse keeps the last of duplicates)."""
        pair = self.pair(key)
        return pair[1] if pair else None

    def pair(self, key: str) -> tuple[Str, Value] | None:
        found = None
        for pair in self.pairs:
            if pair[0].value == key:
                found = pair
        return found


class Arr(NamedTuple):
    items: tuple['Value', ...]
    start: int


class Other(NamedTuple):
    """A number, true, false or null, as written."""

    text: str
    start: int


Value = Union[Str, Obj, Arr, Other]

_WS_RE = re.compile(r'(?:[ \t\r\n\ufeff]+|//[^\n]*|/\*.*?\*/)*', re.S)
_STRING_RE = re.compile(r'"((?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"')
_OTHER_RE = re.compile(r'-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null')


def parse(text: str) -> Value:
    parser = _Parser(text)
    value = parser.value(0)
    parser.skip()
    if parser.pos != len(text):
        raise JsonError('unexpected text after the value', parser.pos)
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        m = _WS_RE.match(self.text, self.pos)
        self.pos = m.end() if m else self.pos
        if self.text.startswith('/*', self.pos):
            raise JsonError('unterminated comment', self.pos)

    def value(self, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise JsonError('nested too deeply', self.pos)
        self.skip()
        ch = self.text[self.pos:self.pos + 1]
        if ch == '{':
            return self.obj(depth)
        if ch == '[':
            return self.arr(depth)
        if ch == '"':
            return self.string()
        m = _OTHER_RE.match(self.text, self.pos)
        if m is None:
            raise JsonError('expected a value' if ch else 'unexpected end of file', self.pos)
        self.pos = m.end()
        return Other(m.group(), m.start())

    def string(self) -> Str:
        m = _STRING_RE.match(self.text, self.pos)
        if m is None:
            raise JsonError('invalid string', self.pos)
        self.pos = m.end()
        raw = m.group(1)
        if '\\' not in raw:
            return Str(raw, m.start(), m.end(), True)
        import json  # the escapes as JSON reads them (surrogate pairs too); only for escaped strings
        value: str = json.loads(m.group())
        return Str(value, m.start(), m.end(), False)

    def expect(self, ch: str) -> None:
        self.skip()
        if not self.text.startswith(ch, self.pos):
            raise JsonError(f'expected {ch!r}', self.pos)
        self.pos += 1

    def obj(self, depth: int) -> Obj:
        start = self.pos
        self.pos += 1
        pairs: list[tuple[Str, Value]] = []
        while True:
            self.skip()
            if self.text.startswith('}', self.pos):
                self.pos += 1
                return Obj(tuple(pairs), start)
            if pairs:
                self.expect(',')
                self.skip()
                if self.text.startswith('}', self.pos):  # a trailing comma
                    self.pos += 1
                    return Obj(tuple(pairs), start)
            if not self.text.startswith('"', self.pos):
                raise JsonError('expected a string key', self.pos)
            key = self.string()
            self.expect(':')
            pairs.append((key, self.value(depth + 1)))

    def arr(self, depth: int) -> Arr:
        start = self.pos
        self.pos += 1
        items: list[Value] = []
        while True:
            self.skip()
            if self.text.startswith(']', self.pos):
                self.pos += 1
                return Arr(tuple(items), start)
            if items:
                self.expect(',')
                self.skip()
                if self.text.startswith(']', self.pos):
                    self.pos += 1
                    return Arr(tuple(items), start)
            items.append(self.value(depth + 1))


_IGNORE = comments.ignore_comment('//')


line_of = comments.line_of


def ignored(text: str, start: int, end: int) -> bool:
    """A ``// pin-from: ignore`` comment after the value on its line, or alone on the line above."""
    return comments.ignored(_IGNORE, text, start, end)


def image(
        text: str, node: Value | None, kind: str, scheme: str = '', key: Str | None = None,
) -> Site | Skip | Problem | None:
    """A JSON string naming an image: a site, or why it is left alone (None: no
    string there, or one without ``scheme``). A ``// pin-from: ignore`` comment
    may sit above its ``key`` or its value, or after the value on its line."""
    from pin_from import reference
    from pin_from.errors import InvalidReference
    if node is None or isinstance(node, Other) and node.text == 'null':
        return None
    start = node.start
    line = line_of(text, start)
    if not isinstance(node, Str):
        return Skip(line, text[start:start + 40].split('\n')[0], 'not a string')
    if scheme and not node.value.startswith(scheme):
        return None
    value = node.value[len(scheme):]
    reason = (
        'written with escapes; edit it by hand' if not node.plain else
        'under a "// pin-from: ignore" comment' if ignored(text, node.start, node.end) or (
            key is not None and ignored(text, key.start, key.start)) else
        'built from a variable, known only when it is expanded' if '$' in value else
        'an empty value' if not value else
        'scratch is not an image' if value == 'scratch' else ''
    )
    if reason:
        return Skip(line, value, reason)
    try:
        ref = reference.parse(value)
    except InvalidReference as e:
        return Problem(line, value, str(e))
    begin = node.start + 1 + len(scheme)
    return Site(line, begin, begin + len(value), value, kind, ref)


def collect(found: list[Site | Skip | Problem | None]) -> Scan:
    return Scan(
        tuple(sorted((f for f in found if isinstance(f, Site)), key=lambda s: s.start)),
        tuple(f for f in found if isinstance(f, Skip)),
        tuple(f for f in found if isinstance(f, Problem)),
    )


def unparsable(text: str, e: JsonError) -> Scan:
    line = line_of(text, e.offset)
    return Scan((), (), (Problem(line, '', f'not valid JSON (with comments): {e}'),))
