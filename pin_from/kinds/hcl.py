"""HCL (HashiCorp configuration language) read just far enough to find string
literals with their exact offsets: bake files and Terraform.

No Python HCL parser keeps the offsets of string literals (python-hcl2 gives
values, and line numbers of blocks at most), and a pin must splice the
literal's text and leave every other byte alone, so this is a small lexer
of HCL's native syntax (comments ``#``, ``//``, ``/* */``; quoted templates
with escapes and ``${ }``/``%{ }`` sequences nested to any depth; heredocs
``<<EOT``/``<<-EOT``) and a parser of bodies (attributes, blocks with
labels) and of the expressions an image sits in: literals, object and tuple
constructors, function calls, heredocs. Anything else is skipped whole, so
a construct this reader does not model can hide an image, never invent one.
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
_IDENT_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_-]*')
_NUMBER_RE = re.compile(r'\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')
_HEREDOC_RE = re.compile(r'<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n')
_SPACE_RE = re.compile(r'[ \t\r\ufeff]+')
_IGNORE = comments.ignore_comment('#', '//')
_OPERATORS = ('==', '!=', '<=', '>=', '&&', '||', '=>', '...', '<<')


class HclError(PinFromError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Token(NamedTuple):
    kind: str  # ident, number, string, heredoc, punct, newline
    start: int
    end: int
    text: str  # ident/punct: as written; string/heredoc: the content as written
    inner: tuple[int, int] = (0, 0)  # string/heredoc: the content's offsets
    literal: bool = False  # string/heredoc: no ${ }, %{ } or escape inside


class Str(NamedTuple):
    token: Token

    @property
    def value(self) -> str:
        return self.token.text


class Obj(NamedTuple):
    items: tuple[tuple[str, Token, 'Expr'], ...]  # (key as text, its first token, value)


class Tup(NamedTuple):
    items: tuple['Expr', ...]


class Call(NamedTuple):
    name: str
    args: tuple['Expr', ...]


class Heredoc(NamedTuple):
    token: Token


class Other(NamedTuple):
    start: int


Expr = Union[Str, Obj, Tup, Call, Heredoc, Other]


class Attribute(NamedTuple):
    name: str
    key: Token
    value: Expr


class Block(NamedTuple):
    type: str
    labels: tuple[str, ...]
    key: Token
    body: 'Body'


class Body(NamedTuple):
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]

    def get(self, name: str) -> Expr | None:
        found = None
        for a in self.attributes:
            if a.name == name:
                found = a.value
        return found


# --- lexer ---------------------------------------------------------------------

class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        pos = self.lex(0, None)
        assert pos == len(self.text)
        return self.tokens

    def lex(self, pos: int, closing: str | None, depth: int = 0) -> int:
        """Tokens from ``pos``; inside a template sequence, up to its ``}`` (returned past it)."""
        text = self.text
        braces = 0
        while pos < len(text):
            ch = text[pos]
            m = _SPACE_RE.match(text, pos)
            if m:
                pos = m.end()
                continue
            if ch == '\n':
                self.tokens.append(Token('newline', pos, pos + 1, '\n'))
                pos += 1
            elif ch == '#' or text.startswith('//', pos):
                end = text.find('\n', pos)
                pos = len(text) if end < 0 else end
            elif text.startswith('/*', pos):
                end = text.find('*/', pos + 2)
                if end < 0:
                    raise HclError('unterminated comment', pos)
                self.tokens.extend(Token('newline', i, i + 1, '\n') for i in range(pos, end) if text[i] == '\n')
                pos = end + 2
            elif ch == '"':
                pos = self.string(pos, depth)
            elif text.startswith('<<', pos) and _HEREDOC_RE.match(text, pos):
                pos = self.heredoc(pos, depth)
            elif _IDENT_RE.match(text, pos):
                m = _IDENT_RE.match(text, pos)
                assert m is not None
                self.tokens.append(Token('ident', pos, m.end(), m.group()))
                pos = m.end()
            elif _NUMBER_RE.match(text, pos):
                m = _NUMBER_RE.match(text, pos)
                assert m is not None
                self.tokens.append(Token('number', pos, m.end(), m.group()))
                pos = m.end()
            else:
                op = next((o for o in _OPERATORS if text.startswith(o, pos)), ch)
                if closing is not None and op == '}' and braces == 0:
                    return pos + 1
                braces += {'{': 1, '}': -1}.get(op, 0)
                self.tokens.append(Token('punct', pos, pos + len(op), op))
                pos += len(op)
        if closing is not None:
            raise HclError('unterminated template sequence', pos)
        return pos

    def sequence(self, pos: int, depth: int) -> int:
        """A ``${ ... }`` or ``%{ ... }`` inside a template: its tokens are not kept."""
        if depth > MAX_DEPTH:
            raise HclError('nested too deeply', pos)
        saved = self.tokens
        self.tokens = []
        try:
            return self.lex(pos + 2, '}', depth + 1)
        finally:
            self.tokens = saved

    def string(self, start: int, depth: int) -> int:
        text = self.text
        pos = start + 1
        literal = True
        while True:
            if pos >= len(text) or text[pos] == '\n':
                raise HclError('unterminated string', start)
            ch = text[pos]
            if ch == '"':
                break
            if ch == '\\':
                literal = False
                pos += 2
            elif text.startswith(('$${', '%%{'), pos):
                literal = False
                pos += 3
            elif text.startswith(('${', '%{'), pos):
                literal = False
                pos = self.sequence(pos, depth)
            else:
                pos += 1
        self.tokens.append(Token('string', start, pos + 1, text[start + 1:pos], (start + 1, pos), literal))
        return pos + 1

    def heredoc(self, start: int, depth: int) -> int:
        text = self.text
        m = _HEREDOC_RE.match(text, start)
        assert m is not None
        marker = m.group(2)
        body = pos = m.end()
        literal = True
        while pos <= len(text):
            end = text.find('\n', pos)
            end = len(text) if end < 0 else end
            if text[pos:end].strip() == marker:
                self.tokens.append(Token('heredoc', start, end, text[body:pos], (body, pos), literal))
                return end
            i = pos
            while i < end:  # template sequences may span lines: follow them
                if text.startswith(('$${', '%%{'), i):
                    literal, i = False, i + 3
                elif text.startswith(('${', '%{'), i):
                    literal = False
                    i = self.sequence(i, depth)
                    end = max(end, text.find('\n', i) if text.find('\n', i) >= 0 else len(text))
                else:
                    i += 1
            pos = end + 1
        raise HclError(f'unterminated heredoc <<{marker}', start)


# --- parser --------------------------------------------------------------------

_CLOSE = {'(': ')', '[': ']', '{': '}'}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, skip_newlines: bool = False) -> Token | None:
        if skip_newlines:
            while self.pos < len(self.tokens) and self.tokens[self.pos].kind == 'newline':
                self.pos += 1
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def body(self, depth: int, closing: bool) -> Body:
        if depth > MAX_DEPTH:
            raise HclError('nested too deeply', 0)
        attributes: list[Attribute] = []
        blocks: list[Block] = []
        while True:
            tok = self.peek(skip_newlines=True)
            if tok is None:
                if closing:
                    raise HclError("expected '}'", len(self.tokens) and self.tokens[-1].end)
                return Body(tuple(attributes), tuple(blocks))
            if tok.kind == 'punct' and tok.text == '}' and closing:
                self.take()
                return Body(tuple(attributes), tuple(blocks))
            if tok.kind != 'ident':
                raise HclError(f'expected an attribute or a block, found {tok.text!r}', tok.start)
            self.take()
            nxt = self.peek()
            if nxt is not None and nxt.kind == 'punct' and nxt.text == '=':
                self.take()
                attributes.append(Attribute(tok.text, tok, self.expr(depth + 1)))
                continue
            labels = []
            while nxt is not None and nxt.kind in ('string', 'ident'):
                labels.append(self.take().text)
                nxt = self.peek()
            if nxt is None or nxt.kind != 'punct' or nxt.text != '{':
                raise HclError(f'expected "=" or "{{" after {tok.text!r}', tok.start)
            self.take()
            blocks.append(Block(tok.text, tuple(labels), tok, self.body(depth + 1, True)))

    def expr(self, depth: int, inside: bool = False) -> Expr:
        """One expression; ``inside`` a bracket, newlines do not end it."""
        if depth > MAX_DEPTH:
            raise HclError('nested too deeply', 0)
        tok = self.peek(skip_newlines=inside)
        if tok is None:
            raise HclError('expected an expression', self.tokens[-1].end if self.tokens else 0)
        start = self.pos
        ret: Expr
        if tok.kind == 'string':
            self.take()
            ret = Str(tok)
        elif tok.kind == 'heredoc':
            self.take()
            ret = Heredoc(tok)
        elif tok.kind == 'punct' and tok.text == '{':
            self.take()
            ret = self.obj(depth)
        elif tok.kind == 'punct' and tok.text == '[':
            self.take()
            ret = self.tup(depth)
        elif tok.kind == 'ident' and self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1].text == '(':
            self.pos += 2
            ret = self.call(tok.text, depth)
        else:
            ret = Other(tok.start)
        if not self.at_end(inside):  # more follows (an operator, an index): not modelled
            self.pos = start
            self.skip(inside)
            return Other(tok.start)
        return ret

    def at_end(self, inside: bool) -> bool:
        tok = self.peek(skip_newlines=False)
        if tok is None or tok.kind == 'newline':
            return True
        return tok.kind == 'punct' and tok.text in (',', ')', ']', '}', '=', ':') if inside else False

    def skip(self, inside: bool) -> None:
        """Past an expression not modelled: to its end at this nesting level."""
        stack: list[str] = []
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            if not stack and (tok.kind == 'newline' or tok.kind == 'punct' and (
                    tok.text in (')', ']', '}') or inside and tok.text in (',', '=', ':'))):
                return
            if tok.kind == 'punct' and tok.text in _CLOSE:
                stack.append(_CLOSE[tok.text])
            elif tok.kind == 'punct' and stack and tok.text == stack[-1]:
                stack.pop()
            self.pos += 1

    def obj(self, depth: int) -> Expr:
        items: list[tuple[str, Token, Expr]] = []
        start = self.tokens[self.pos - 1].start
        while True:
            tok = self.peek(skip_newlines=True)
            if tok is None:
                raise HclError("expected '}'", start)
            if tok.kind == 'punct' and tok.text == '}':
                self.take()
                return Obj(tuple(items))
            if tok.kind == 'punct' and tok.text == ',':
                self.take()
                continue
            if tok.kind == 'ident' and tok.text == 'for':  # a for expression
                self.skip(True)
                self.take()
                return Other(start)
            key = self.expr(depth + 1, inside=True)
            sep = self.peek(skip_newlines=True)
            if sep is None or sep.kind != 'punct' or sep.text not in ('=', ':'):
                if sep is not None and sep.kind == 'punct' and sep.text in (')', ']'):
                    raise HclError(f'unexpected {sep.text!r} in an object', sep.start)
                self.skip(True)  # not an item this reader models (a line continued after an operator)
                continue
            self.take()
            name = key.token.text if isinstance(key, Str) else tok.text if tok.kind == 'ident' else ''
            items.append((name, tok, self.expr(depth + 1, inside=True)))

    def tup(self, depth: int) -> Expr:
        items: list[Expr] = []
        start = self.tokens[self.pos - 1].start
        tok = self.peek(skip_newlines=True)
        if tok is not None and tok.kind == 'ident' and tok.text == 'for':
            self.skip(True)
            self.take()
            return Other(start)
        while True:
            tok = self.peek(skip_newlines=True)
            if tok is None:
                raise HclError("expected ']'", start)
            if tok.kind == 'punct' and tok.text == ']':
                self.take()
                return Tup(tuple(items))
            if tok.kind == 'punct' and tok.text == ',':
                self.take()
                continue
            items.append(self.expr(depth + 1, inside=True))

    def call(self, name: str, depth: int) -> Expr:
        args: list[Expr] = []
        while True:
            tok = self.peek(skip_newlines=True)
            if tok is None:
                raise HclError("expected ')'", 0)
            if tok.kind == 'punct' and tok.text == ')':
                self.take()
                return Call(name, tuple(args))
            if tok.kind == 'punct' and tok.text in (',', '...'):
                self.take()
                continue
            args.append(self.expr(depth + 1, inside=True))


def parse(text: str) -> Body:
    return _Parser(_Lexer(text).run()).body(0, False)


line_of = comments.line_of


def ignored(text: str, start: int, end: int) -> bool:
    """A ``# pin-from: ignore`` comment after the value on its line, or alone on the line above."""
    return comments.ignored(_IGNORE, text, start, end)


def image(
        text: str, expr: Expr | None, kind: str, scheme: str = '', key: Token | None = None,
) -> Site | Skip | Problem | None:
    """An HCL expression naming an image: a site when it is a literal string
    (no ``${ }``, no escapes), or why it is left alone; None when there is no
    string there, or one without ``scheme``."""
    from pin_from import reference
    from pin_from.errors import InvalidReference
    if expr is None:
        return None
    if not isinstance(expr, Str):
        if isinstance(expr, Other):
            return None  # a reference to another value (docker_image.x.image_id), a variable: not a literal
        start = expr.token.start if isinstance(expr, Heredoc) else 0
        return Skip(line_of(text, start), '', 'not a string')
    tok = expr.token
    line = line_of(text, tok.start)
    if scheme and not tok.text.startswith(scheme):
        return None
    value = tok.text[len(scheme):]
    reason = (
        'an interpolation (${...}), known only when it is evaluated' if '${' in value or '%{' in value else
        'written with escapes; edit it by hand' if not tok.literal else
        'under a "# pin-from: ignore" comment' if ignored(text, tok.start, tok.end) or (
            key is not None and ignored(text, key.start, key.start)) else
        'an empty value' if not value else
        'scratch is not an image' if value == 'scratch' else ''
    )
    if reason:
        return Skip(line, value, reason)
    try:
        ref = reference.parse(value)
    except InvalidReference as e:
        return Problem(line, value, str(e))
    begin = tok.inner[0] + len(scheme)
    return Site(line, begin, begin + len(value), value, kind, ref)


def embedded(text: str, start: int, found: Scan, kind: str) -> Scan:
    """A scan of ``text[start:...]`` (a Dockerfile or JSON inside a string) moved to the file's offsets."""
    shift = text.count('\n', 0, start)
    return Scan(
        tuple(s._replace(start=s.start + start, end=s.end + start, line=s.line + shift,
                         kind=f'{kind}-{s.kind}') for s in found.sites),
        tuple(s._replace(line=s.line + shift) for s in found.skips),
        tuple(p._replace(line=p.line + shift) for p in found.problems),
    )


def collect(found: list[Site | Skip | Problem | None], scans: list[Scan] = []) -> Scan:  # noqa: B006 -- read only
    sites = [f for f in found if isinstance(f, Site)] + [s for scan in scans for s in scan.sites]
    return Scan(
        tuple(sorted(sites, key=lambda s: s.start)),
        tuple(sorted([f for f in found if isinstance(f, Skip)] + [s for scan in scans for s in scan.skips],
                     key=lambda s: s.line)),
        tuple(sorted([f for f in found if isinstance(f, Problem)] + [p for scan in scans for p in scan.problems],
                     key=lambda p: p.line)),
    )


def unparsable(text: str, e: HclError) -> Scan:
    return Scan((), (), (Problem(line_of(text, e.offset), '', f'not valid HCL: {e}'),))
