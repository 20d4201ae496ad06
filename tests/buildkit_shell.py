"""A test oracle: the image references BuildKit builds from, read its way.

``dockerfile`` (PyPI: BuildKit's own parser, compiled) gives the instructions,
their flags (already unquoted by the parser) and their raw words. What BuildKit
does next with the words lives in other Go packages, so it is ported here, on
purpose apart from ``pin_from.kinds.shellword`` (which tracks offsets and never
expands), straight from moby/buildkit:

- ``frontend/dockerfile/shell/lex.go`` (``ProcessWord``): the FROM image and
  the defaults of global ARGs (``buildMetaArgs``), with the escape directive's
  character;
- ``dockerfile2llb/convert.go``: FROM bases expanded with the global ARGs,
  earlier stages and ``scratch`` left out; ``COPY --from`` and
  ``RUN --mount=...,from=`` (``commands_runmount.go``: a CSV record) naming a
  stage or an index are not images.
"""
from __future__ import annotations

import csv
import unicodedata

import dockerfile as buildkit

from pin_from.kinds import dockerfile as lexer


class LexError(Exception):
    pass


class _Word:
    def __init__(self, text: str, env: dict[str, str], escape: str) -> None:
        self.text, self.env, self.escape, self.pos = text, env, escape, 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ''

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def stop_on(self, stop: str) -> str:  # processStopOn
        result = ''
        while self.peek():
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                return result
            if ch == '$':
                result += self.dollar()
            elif ch == "'":
                result += self.single()
            elif ch == '"':
                result += self.double()
            else:
                ch = self.next()
                if ch == self.escape:
                    ch = self.next()
                    if not ch:
                        break
                result += ch
        if stop:
            raise LexError(f'unexpected end of statement while looking for matching {stop}')
        return result

    def single(self) -> str:
        self.next()
        result = ''
        while True:
            ch = self.next()
            if not ch:
                raise LexError('unexpected end of statement while looking for matching single-quote')
            if ch == "'":
                return result
            result += ch

    def double(self) -> str:
        self.next()
        result = ''
        while True:
            ch = self.peek()
            if not ch:
                raise LexError('unexpected end of statement while looking for matching double-quote')
            if ch == '"':
                self.next()
                return result
            if ch == '$':
                result += self.dollar()
                continue
            ch = self.next()
            if ch == self.escape:
                if not self.peek():
                    continue
                if self.peek() in ('"', '$', self.escape):
                    ch = self.next()
            result += ch

    def dollar(self) -> str:
        self.next()
        if self.peek() != '{':
            name = self.name()
            return self.env.get(name, '') if name else '$'
        self.next()
        if not self.peek():
            raise LexError("syntax error: missing '}'")
        if self.peek() in '{}:':
            raise LexError('syntax error: bad substitution')
        name = self.name()
        ch = self.next()
        if ch == '}':
            return self.env.get(name, '')
        null_is_unset = ch == ':'
        if null_is_unset:
            ch = self.next()
        if ch not in ('-', '+'):
            raise LexError(f'modifier {ch!r} not ported')  # the generators use none
        word = self.stop_on('}')
        value = self.env.get(name)
        unset = value is None or (null_is_unset and value == '')
        if ch == '-':
            return word if unset else value or ''
        return '' if unset else word

    def name(self) -> str:
        start = self.pos
        if unicodedata.category(self.peek() or ' ') == 'Nd':
            while unicodedata.category(self.peek() or ' ') == 'Nd':
                self.next()
            return self.text[start:self.pos]
        if self.peek() and self.peek() in '@*#?-$!0':
            return self.next()
        while self.peek() and (self.peek().isalpha() or self.peek() == '_' or
                               unicodedata.category(self.peek()) == 'Nd'):
            self.next()
        return self.text[start:self.pos]


def process_word(word: str, env: dict[str, str], escape: str = '\\') -> str:
    """``shell.Lex.ProcessWord``: the word with quotes, escapes and ``$`` done."""
    return _Word(word, env, escape).stop_on('')


def meta_args(commands, escape: str) -> dict[str, str]:
    """The global ARGs with a default, each processed with those before it."""
    env: dict[str, str] = {}
    for cmd in commands:
        if cmd.cmd.lower() == 'from':
            break
        if cmd.cmd.lower() == 'arg':
            for word in cmd.value:
                name, eq, raw = word.partition('=')
                if eq:
                    env[name] = process_word(raw, env, escape)
    return env


def _flag(cmd, name: str) -> list[str]:
    prefix = f'--{name}='
    return [f[len(prefix):] for f in cmd.flags if f.startswith(prefix)]


def images(text: str) -> list[str]:
    """Every image reference BuildKit pulls for ``text`` (FROM bases, COPY
    --from and RUN --mount from= sources), in file order."""
    commands = buildkit.parse_string(text)
    escape = lexer._Scanner(text).escape
    env = meta_args(commands, escape)
    names = [c.value[2].lower() for c in commands if c.cmd.lower() == 'from' and len(c.value) == 3]
    earlier: list[str] = []
    ret = []
    for cmd in commands:
        keyword = cmd.cmd.lower()
        if keyword == 'from':
            base = process_word(cmd.value[0], env, escape)
            if base and base != 'scratch' and base.lower() not in earlier:
                ret.append(base)
            if len(cmd.value) == 3:
                earlier.append(cmd.value[2].lower())
            continue
        sources = []
        if keyword == 'copy':
            sources = _flag(cmd, 'from')
        elif keyword == 'run':
            for mount in _flag(cmd, 'mount'):
                (fields,) = list(csv.reader([mount]))
                sources += [f.partition('=')[2] for f in fields if f.partition('=')[0].lower() == 'from']
        ret += [s for s in sources if not s.isdigit() and s.lower() not in names and s != 'scratch']
    return ret
