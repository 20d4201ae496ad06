"""One Dockerfile word read the way BuildKit reads it, with the source offset
of every character it yields.

BuildKit reads a reference in one of three ways, and so do we:

- :func:`shell_word`, its shell lexer (``shell.Lex.ProcessWord``): the FROM
  image and the defaults of global ``ARG``\\ s. Quotes are removed, the escape
  character (``\\`` or the ``# escape=`` one) escapes, ``$NAME`` expands;
- :func:`flag_word`, the parser's flag extraction (``extractBuilderFlags``):
  ``COPY --from=`` and ``RUN --mount=``. ``'`` and ``"`` quote, ``\\`` escapes;
- :func:`csv_fields`, Go's ``encoding/csv`` on a ``--mount`` value.

A :class:`Word` can be spliced as one span only when its value is written as
one run of literal characters (:meth:`Word.span`): the pinned suffix
(``:latest``, ``@sha256:<hex>``) then lands in the same quoting state as the
value's characters, where none of its characters is special, so the word
reads as the pinned reference and every other character stays.
"""
from __future__ import annotations

import unicodedata
from typing import NamedTuple

_SPECIAL_PARAMS = frozenset('@*#?-$!0')


class Word(NamedTuple):
    value: str  # the characters the word yields (expansions left out)
    offsets: tuple[int, ...]  # the source offset of each; -1 when unknown
    var: str  # the name when the whole word is one plain ``$NAME``/``${NAME}``
    expanded: bool  # the word expands a variable: its value is not all literal
    error: str  # why BuildKit refuses the word ('' when it reads it)

    def span(self) -> tuple[int, int] | None:
        """(start, end) of the value when written as one run of characters."""
        if not self.offsets or self.offsets[0] < 0:
            return None
        start = self.offsets[0]
        if self.offsets != tuple(range(start, start + len(self.offsets))):
            return None
        return start, start + len(self.offsets)


class _Refused(Exception):
    pass


def _is_name_char(ch: str) -> bool:
    return ch == '_' or ch.isalpha() or unicodedata.category(ch) == 'Nd'


class _Lexer:
    """A port of BuildKit's ``shellWord`` that records offsets, not values of
    variables (no environment: an expansion only marks the word)."""

    def __init__(self, text: str, start: int, escape: str) -> None:
        self.text, self.start, self.escape = text, start, escape
        self.pos = 0
        self.vars: list[str] = []
        self.plain = True  # every expansion is a plain $NAME or ${NAME}

    def at(self, i: int) -> int:
        return self.start + i if self.start >= 0 else -1

    def word(self) -> Word:
        try:
            chars = self.until('')
        except _Refused as e:
            return Word('', (), '', bool(self.vars), str(e))
        value = ''.join(c for c, _ in chars)
        whole = self.vars[0] if len(self.vars) == 1 and self.plain and not chars else ''
        return Word(value, tuple(o for _, o in chars), whole, bool(self.vars), '')

    def until(self, stop: str) -> list[tuple[str, int]]:
        """``processStopOn``: the characters up to ``stop`` ('' = the end)."""
        out: list[tuple[str, int]] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if stop and ch == stop:
                self.pos += 1
                return out
            if ch == '$':
                out.extend(self.dollar())
            elif ch == "'":
                out.extend(self.single())
            elif ch == '"':
                out.extend(self.double())
            else:
                self.pos += 1
                if ch == self.escape:
                    if self.pos == len(text):
                        break  # an escape at the end is dropped
                    ch = text[self.pos]
                    self.pos += 1
                out.append((ch, self.at(self.pos - 1)))
        if stop:
            raise _Refused(f'unexpected end of statement while looking for matching {stop}')
        return out

    def single(self) -> list[tuple[str, int]]:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise _Refused('unterminated single quote')
        out = [(self.text[i], self.at(i)) for i in range(self.pos + 1, end)]
        self.pos = end + 1
        return out

    def double(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        text = self.text
        self.pos += 1
        while True:
            if self.pos == len(text):
                raise _Refused('unterminated double quote')
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return out
            if ch == '$':
                out.extend(self.dollar())
                continue
            self.pos += 1
            if ch == self.escape and self.pos < len(text) and text[self.pos] in ('"', '$', self.escape):
                ch = text[self.pos]
                self.pos += 1
            out.append((ch, self.at(self.pos - 1)))

    def dollar(self) -> list[tuple[str, int]]:
        self.pos += 1
        if self.pos == len(self.text) or self.text[self.pos] != '{':
            name = self.name()
            if not name:
                return [('$', self.at(self.pos - 1))]  # a lone $ is literal
            self.expand(name, plain=_is_name_char(name[0]) and not name[0].isdigit())
            return []
        self.pos += 1
        if self.pos == len(self.text):
            raise _Refused("syntax error: missing '}'")
        if self.text[self.pos] in '{}:':
            raise _Refused('syntax error: bad substitution')
        name = self.name()
        self.modifier(name)
        return []

    def modifier(self, name: str) -> None:
        """After ``${name``: skip to the closing brace as BuildKit does."""
        ch = self.text[self.pos] if self.pos < len(self.text) else ''
        self.pos += 1
        if ch == '}':
            self.expand(name, plain=True)
            return
        self.expand(name, plain=False)
        if ch == ':':
            ch = self.text[self.pos] if self.pos < len(self.text) else ''
            self.pos += 1
            if ch not in ('+', '-', '?', '#', '%'):
                raise _Refused(f'unsupported modifier (:{ch}) in substitution')
        if ch in ('+', '-', '?', '#', '%'):
            self.until('}')
        elif ch == '/':
            if self.pos < len(self.text) and self.text[self.pos] == '/':
                self.pos += 1
            self.until('/')
            self.until('}')
        else:
            raise _Refused(f'unsupported modifier ({ch}) in substitution')

    def expand(self, name: str, plain: bool) -> None:
        self.vars.append(name)
        self.plain = self.plain and plain

    def name(self) -> str:
        """``processName``: digits, one special parameter, or a name."""
        text, start = self.text, self.pos
        if start < len(text) and unicodedata.category(text[start]) == 'Nd':
            while self.pos < len(text) and unicodedata.category(text[self.pos]) == 'Nd':
                self.pos += 1
            return text[start:self.pos]
        if start < len(text) and text[start] in _SPECIAL_PARAMS:
            self.pos += 1
            return text[start]
        while self.pos < len(text) and _is_name_char(text[self.pos]):
            self.pos += 1
        return text[start:self.pos]


def shell_word(text: str, start: int, escape: str) -> Word:
    """``text`` (at offset ``start``; -1 if unknown) as BuildKit's shell lexer
    reads it with the escape character ``escape``."""
    if _literal(text, escape):
        return _literal_word(text, start)
    return _Lexer(text, start, escape).word()


def _literal(text: str, escape: str) -> bool:
    """No quote, no escape and no ``$``: every reader keeps each character as it is (most words)."""
    return '$' not in text and "'" not in text and '"' not in text and escape not in text


def _literal_word(text: str, start: int) -> Word:
    offsets = tuple(range(start, start + len(text))) if start >= 0 else (-1,) * len(text)
    return Word(text, offsets, '', False, '')


def flag_word(text: str, start: int) -> Word:
    """One builder flag as ``extractBuilderFlags`` reads it: ``'`` and ``"``
    quote (an unclosed quote runs to the end), ``\\`` escapes the next byte."""
    if "'" not in text and '"' not in text and '\\' not in text:
        return _literal_word(text, start)
    out: list[tuple[str, int]] = []
    quote = ''
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if not quote and ch in '\'"' or quote and ch == quote:
            quote = '' if quote else ch
            pos += 1
            continue
        if ch == '\\':
            pos += 1
            if pos == len(text):
                break
            ch = text[pos]
        out.append((ch, start + pos if start >= 0 else -1))
        pos += 1
    return Word(''.join(c for c, _ in out), tuple(o for _, o in out), '', False, '')


def _quote_open(text: str, escape: str, escapes_in_single: bool) -> bool:
    if "'" not in text and '"' not in text:
        return False  # no quote to leave open (an escape only skips a character)
    quote = ''
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == escape and (escapes_in_single or quote != "'"):
            pos += 2
            continue
        if not quote and ch in '\'"' or quote and ch == quote:
            quote = '' if quote else ch
        pos += 1
    return bool(quote)


def flag_open(text: str) -> bool:
    """Whether a flag's quote is still open at the end of ``text`` (the flag
    parser: ``\\`` always escapes, whatever the escape directive says)."""
    return _quote_open(text, '\\', escapes_in_single=True)


def word_open(text: str, escape: str) -> bool:
    """Whether a quote is still open at the end of ``text``, as the parser
    splits ``ARG`` words (``parseWords``): the escape character escapes
    outside quotes and in double quotes."""
    return _quote_open(text, escape, escapes_in_single=False)


def csv_fields(word: Word) -> list[Word] | None:
    """The fields of a ``--mount`` value, as Go's ``encoding/csv`` reads one
    record; None when it refuses the value (a bare or stray ``"``)."""
    fields: list[Word] = []
    chars = list(zip(word.value, word.offsets))
    i = 0
    while True:
        field: list[tuple[str, int]] = []
        if i < len(chars) and chars[i][0] == '"':
            i += 1
            while True:
                if i == len(chars):
                    return None
                if chars[i][0] == '"':
                    if i + 1 < len(chars) and chars[i + 1][0] == '"':
                        field.append(chars[i])
                        i += 2
                        continue
                    i += 1
                    break
                field.append(chars[i])
                i += 1
            if i < len(chars) and chars[i][0] != ',':
                return None
        else:
            while i < len(chars) and chars[i][0] != ',':
                if chars[i][0] == '"':
                    return None
                field.append(chars[i])
                i += 1
        fields.append(Word(''.join(c for c, _ in field), tuple(o for _, o in field), '', False, ''))
        if i == len(chars):
            return fields
        i += 1  # the comma
