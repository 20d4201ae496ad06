"""Lexing Dockerfiles down to the image references they pull, with offsets.

We follow BuildKit's parser: parser directives at the top (``# syntax=``,
``# escape=``), comment and blank lines removed inside ``\\`` continuations,
heredocs skipped, keywords case-insensitive. Each reference is read as
BuildKit reads it (:mod:`pin_from.kinds.shellword`: quotes removed, escapes
processed). Every site records the exact offsets of the reference in the
decoded text (inside its quotes), so a rewrite can splice it and leave every
other character alone. Nothing here writes.
"""
from __future__ import annotations

import re
from typing import Callable
from typing import NamedTuple

from pin_from import reference
from pin_from.errors import FileError
from pin_from.errors import InvalidReference
from pin_from.kinds.shellword import Word
from pin_from.kinds.shellword import csv_fields
from pin_from.kinds.shellword import flag_open
from pin_from.kinds.shellword import flag_word
from pin_from.kinds.shellword import shell_word
from pin_from.kinds.shellword import word_open
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

_DIRECTIVE_RE = re.compile(r'[ \t]*#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$')
_DIRECTIVE_NAMES = frozenset(('syntax', 'escape', 'check'))  # any other ends them
_COMMENT_RE = re.compile(r'[ \t]*#')
_WORD_RE = re.compile(r'\S+')
_IGNORE_RE = re.compile(r'[ \t]*#[ \t]*pin-from:[ \t]*ignore\b', re.I)
# BuildKit splits the line into shell words (quotes kept) and takes each word
# that is wholly ``[fd]<<[-]name`` as a heredoc; quotes in the name are removed.
_SHELL_WORD_RE = re.compile(r'''(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"|'[^']*')+''')
_HEREDOC_RE = re.compile(r'\d*<<(-?)([^<]+)')
_UNQUOTE_RE = re.compile(r'''\\(.)|["']''')
_ARG_USE_RE = re.compile(r'\$(?:\{([a-zA-Z_][a-zA-Z0-9_]*)[^}]*\}|([a-zA-Z_][a-zA-Z0-9_]*))')
_ARG_NAME_RE = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
_SPLICE_ONLY = ('quotes or escapes inside the reference; pin-from pins a reference written as one run of '
                'characters, quoted or not (e.g. "node:8.15")')
_HEREDOC_KEYWORDS = frozenset(('run', 'copy', 'add'))


class _Token(NamedTuple):
    text: str
    start: int  # offset in the file; -1 when the token spans a continuation
    line: int


class _Default(NamedTuple):
    """The default of a global ARG: the word as written and as BuildKit reads it."""

    token: _Token
    word: Word
    ignored: bool


class _Instruction(NamedTuple):
    keyword: str
    tokens: tuple[_Token, ...]
    line: int
    text: str  # the joined logical line, continuations removed
    ignored: bool


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, content without line ending) for each physical line.

    Only ``\n`` ends a line (and a ``\r`` before it is dropped), as in
    BuildKit; ``str.splitlines`` would also split on U+2028 and friends.
    """
    ret = []
    pos = 1 if text.startswith('\ufeff') else 0  # a BOM is not content
    while pos < len(text):
        end = text.find('\n', pos)
        if end == -1:
            end = len(text)
        ret.append((pos, text[pos:end].rstrip('\r')))
        pos = end + 1
    return ret


def _directives(
        lines: list[tuple[int, str]],
) -> tuple[dict[str, tuple[str, int, int]], int]:
    """Parser directives: name -> (value, offset, line); and lines used."""
    found: dict[str, tuple[str, int, int]] = {}
    i = 0
    for i, (offset, content) in enumerate(lines):
        m = _DIRECTIVE_RE.match(content)
        if m is None or m.group(1).lower() not in _DIRECTIVE_NAMES or m.group(1).lower() in found:
            return found, i
        found[m.group(1).lower()] = (m.group(2), offset + m.start(2), i + 1)
    return found, len(lines)


def _continues(content: str, escape: str) -> bool:
    """Ends with the escape char, itself not escaped (as BuildKit's regex)."""
    stripped = content.rstrip(' \t')
    return stripped.endswith(escape) and not stripped.endswith(escape * 2)


def _tokens(pieces: list[tuple[int, str, int]]) -> tuple[_Token, ...]:
    """Split joined pieces (offset, text, line) on whitespace, keeping offsets.

    A token that runs across a continuation gets the start -1: it cannot be
    spliced as one span.
    """
    ret: list[_Token] = []
    glued = False  # the previous piece ended inside a token
    for offset, piece, line in pieces:
        for m in _WORD_RE.finditer(piece):
            if glued and m.start() == 0 and ret:
                ret[-1] = _Token(ret[-1].text + m.group(), -1, ret[-1].line)
            else:
                ret.append(_Token(m.group(), offset + m.start(), line))
        if piece:
            glued = not piece[-1].isspace()
    return tuple(ret)


def _instructions(
        lines: list[tuple[int, str]], first: int, escape: str,
) -> list[_Instruction]:
    ret = []
    i = first
    while i < len(lines):
        offset, content = lines[i]
        if not content.strip() or _COMMENT_RE.match(content):
            i += 1
            continue
        ignored = i > 0 and bool(_IGNORE_RE.match(lines[i - 1][1]))
        start_line = i + 1
        pieces: list[tuple[int, str, int]] = []
        while True:
            offset, content = lines[i]
            if pieces and (not content.strip() or _COMMENT_RE.match(content)):
                i += 1  # removed inside a continuation, as BuildKit does
                if i == len(lines):
                    break
                continue
            if _continues(content, escape):
                cut = content.rstrip(' \t')[:-1]
                pieces.append((offset, cut, i + 1))
                i += 1
                if i == len(lines):
                    break
                continue
            pieces.append((offset, content, i + 1))
            i += 1
            break
        tokens = _tokens(pieces)
        if not tokens:
            continue
        joined = ''.join(p for _, p, _ in pieces)
        keyword = tokens[0].text.lower()
        if keyword in _HEREDOC_KEYWORDS or keyword == 'onbuild' and len(tokens) > 1 and (
                tokens[1].text.lower() in _HEREDOC_KEYWORDS
        ):
            i, bodies = _heredocs(lines, i, joined)
            joined += bodies
        ret.append(_Instruction(keyword, tokens[1:], start_line, joined, ignored))
    return ret


def _heredocs(lines: list[tuple[int, str]], i: int, joined: str) -> tuple[int, str]:
    """Skip the bodies of ``<<EOF`` heredocs; return them for arg-use checks."""
    bodies = []
    for shell_word in _SHELL_WORD_RE.findall(joined):
        m = _HEREDOC_RE.fullmatch(shell_word)
        if m is None:
            continue
        strip_tabs, word = m.group(1) == '-', _UNQUOTE_RE.sub(lambda q: q.group(1) or '', m.group(2))
        if not word:
            continue
        while i < len(lines):
            body = lines[i][1]
            i += 1
            if (body.lstrip('\t') if strip_tabs else body) == word:
                break
            bodies.append(body)
    return i, '\n' + '\n'.join(bodies)


def _regroup(tokens: tuple[_Token, ...], still_open: Callable[[str], bool]) -> list[_Token]:
    """Glue the whitespace-split tokens a quote holds together, as BuildKit
    splits flags and ARG words. A glued token has no single offset (-1): it
    holds whitespace, so it is never a reference anyway."""
    ret: list[_Token] = []
    for tok in tokens:
        if ret and still_open(ret[-1].text):
            ret[-1] = _Token(f'{ret[-1].text} {tok.text}', -1, ret[-1].line)
        else:
            ret.append(tok)
    return ret


def _flags(tokens: tuple[_Token, ...]) -> list[tuple[_Token, Word]]:
    """The builder flags: leading ``--`` tokens, each with its reading."""
    ret = []
    for tok in _regroup(tokens, flag_open):
        word = flag_word(tok.text, tok.start)
        if not tok.text.startswith('--') or word.value == '--':  # ``--`` ends the flags
            break
        ret.append((tok, word))
    return ret


def _tail(word: Word, n: int) -> Word:
    return word._replace(value=word.value[n:], offsets=word.offsets[n:])


class _Scanner:
    def __init__(self, text: str) -> None:
        self.sites: list[Site] = []
        self.skips: list[Skip] = []
        self.problems: list[Problem] = []
        lines = _lines(text)
        directives, first = _directives(lines)
        escape = directives.get('escape', ('\\', 0, 0))[0]
        if escape not in ('\\', '`'):
            raise FileError(f'invalid escape directive {escape!r}', 1)
        self.escape = escape
        if 'syntax' in directives:
            value, offset, line = directives['syntax']
            self._literal(value, offset, line, 'syntax')
        self.instructions = _instructions(lines, first, escape)
        self.global_args: dict[str, _Default | None] = {}
        self.stages: list[str] = []

    def scan(self) -> Scan:
        seen_from = False
        all_names = frozenset(
            ins.tokens[-1].text.lower() for ins in self.instructions
            if ins.keyword == 'from' and len(ins.tokens) >= 3 and
            ins.tokens[-2].text.lower() == 'as'
        )
        for ins in self.instructions:
            if ins.keyword == 'arg' and not seen_from:
                self._global_arg(ins)
            elif ins.keyword == 'from':
                seen_from = True
                self._from(ins)
            elif ins.keyword == 'copy':
                self._copy(ins, all_names)
            elif ins.keyword == 'run':
                self._run(ins, all_names)
        return Scan(tuple(self.sites), tuple(self.skips), tuple(self.problems))

    # one method per place a reference can sit

    def _global_arg(self, ins: _Instruction) -> None:
        for tok in _regroup(ins.tokens, lambda text: word_open(text, self.escape)):
            name, eq, raw = tok.text.partition('=')
            if not _ARG_NAME_RE.fullmatch(name):
                continue
            if name in self.global_args or not eq:
                self.global_args[name] = None  # redefined or no default
                continue
            start = tok.start + len(name) + 1 if tok.start >= 0 else -1
            value = _Token(raw, start, tok.line)
            self.global_args[name] = _Default(value, shell_word(raw, start, self.escape), ins.ignored)

    def _from(self, ins: _Instruction) -> None:
        args = list(ins.tokens)
        while args and args[0].text.startswith('--'):
            args.pop(0)
        line = ins.line
        if not args or (len(args) != 1 and (
                len(args) != 3 or args[1].text.lower() != 'as'
        )):
            self.problems.append(Problem(line, ins.text.strip(), 'malformed FROM instruction'))
            return
        image = args[0]
        word = shell_word(image.text, image.start, self.escape)
        if len(args) == 3:
            self.stages.append(args[2].text.lower())
        earlier = self.stages[:len(self.stages) - (len(args) == 3)]
        if ins.ignored:
            self.skips.append(Skip(image.line, _shown(image, word), 'under a "# pin-from: ignore" comment'))
        elif not word.expanded and not word.error and word.value.lower() in earlier:
            self.skips.append(Skip(image.line, word.value, 'an earlier build stage'))
        else:
            self._image(image, word, 'from', stage_names=frozenset())

    def _copy(self, ins: _Instruction, names: frozenset[str]) -> None:
        for tok, word in _flags(ins.tokens):
            if word.value.startswith('--from='):
                self._maybe_ignored(ins, tok, _tail(word, 7), 'copy', names)

    def _run(self, ins: _Instruction, names: frozenset[str]) -> None:
        for tok, word in _flags(ins.tokens):
            if not word.value.startswith('--mount='):
                continue
            fields = csv_fields(_tail(word, 8))
            if fields is None:
                self.skips.append(Skip(tok.line, word.value, 'BuildKit cannot read this --mount value (stray ")'))
                continue
            for field in fields:
                key, eq, _ = field.value.partition('=')
                if eq and key.lower() == 'from':
                    self._maybe_ignored(ins, tok, _tail(field, len(key) + 1), 'mount', names)

    def _maybe_ignored(
            self, ins: _Instruction, tok: _Token, word: Word, kind: str, names: frozenset[str],
    ) -> None:
        if ins.ignored:
            self.skips.append(Skip(tok.line, word.value, 'under a "# pin-from: ignore" comment'))
        else:
            self._image(tok, word, kind, stage_names=names)

    def _image(self, tok: _Token, word: Word, kind: str, stage_names: frozenset[str]) -> None:
        text = word.value
        if word.error:
            self._refused(tok, word)
        elif word.expanded or (kind != 'from' and '$' in text):
            self._arg_image(tok, word, kind)
        elif text.lower() in stage_names or (kind != 'from' and text.isdigit()):
            self.skips.append(Skip(tok.line, text, 'a build stage'))
        elif text == 'scratch':
            self.skips.append(Skip(tok.line, text, 'scratch is not an image'))
        else:
            self._word(tok, word, kind)

    def _refused(self, tok: _Token, word: Word) -> None:
        """A word BuildKit's lexer refuses: an unclosed quote is an error of
        the file; a malformed ``${...}`` is left alone like any expansion."""
        if word.expanded or '$' in tok.text:
            self.skips.append(Skip(tok.line, tok.text, 'composed from build args; never expanded into a literal'))
        else:
            self.problems.append(Problem(tok.line, tok.text, word.error))

    def _word(self, tok: _Token, word: Word, kind: str) -> None:
        """A literal reference: a site when written as one run of characters."""
        span = word.span()
        if span is not None:
            self._literal(word.value, span[0], tok.line, kind)
            return
        try:
            reference.parse(word.value)
        except InvalidReference as e:
            self.problems.append(Problem(tok.line, word.value, str(e)))  # BuildKit refuses it too
        else:
            reason = 'reference is split by a line continuation' if tok.start < 0 else _SPLICE_ONLY
            self.skips.append(Skip(tok.line, word.value, reason))

    def _arg_image(self, tok: _Token, word: Word, kind: str) -> None:
        shown = tok.text if kind == 'from' else word.value  # a flag token holds more than the word
        name = word.var if kind == 'from' else shell_word(word.value, -1, self.escape).var
        if not name:
            self.skips.append(Skip(tok.line, shown, 'composed from build args; never expanded into a literal'))
            return
        default = self.global_args.get(name)
        if kind != 'from' or default is None:
            self.skips.append(Skip(tok.line, shown, f'build arg {name} has no global default to pin'))
            return
        value, ignored = default.word, default.ignored
        other = self._other_use(name)
        if ignored:
            self.skips.append(Skip(default.token.line, _shown(default.token, value), 'under a "# pin-from: ignore" comment'))
        elif value.expanded or value.error:
            self.skips.append(Skip(tok.line, tok.text, f'default of build arg {name} is not a literal reference'))
        elif value.value == 'scratch':
            self.skips.append(Skip(tok.line, tok.text, f'build arg {name} defaults to scratch, which is not an image'))
        elif other:
            self.skips.append(Skip(
                default.token.line, value.value,
                f'build arg {name} is also used another way on line {other}; pinning its default would change that',
            ))
        elif all(s.start != (value.span() or (-1, -1))[0] for s in self.sites):
            self._word(default.token, value, 'arg')  # once, however many FROMs use it

    def _other_use(self, name: str) -> int:
        """First line using ``$name`` other than as a whole FROM image."""
        for ins in self.instructions:
            if ins.keyword == 'arg':
                continue  # declarations (``ARG BASE``) do not use the value
            uses = sum(1 for m in _ARG_USE_RE.finditer(ins.text) if (m.group(1) or m.group(2)) == name)
            if ins.keyword == 'from':
                uses -= sum(
                    1 for t in ins.tokens
                    if not t.text.startswith('--') and shell_word(t.text, -1, self.escape).var == name
                )
            if uses > 0:
                return ins.line
        return 0

    def _literal(self, text: str, start: int, line: int, kind: str) -> None:
        try:
            ref = reference.parse(text)
        except InvalidReference as e:
            self.problems.append(Problem(line, text, str(e)))
        else:
            self.sites.append(Site(line, start, start + len(text), text, kind, ref))


def _shown(tok: _Token, word: Word) -> str:
    """What a message shows: the reference as BuildKit reads it, or the word
    as written when it has expansions or cannot be read."""
    return tok.text if word.expanded or word.error else word.value


def scan(text: str) -> Scan:
    """All image references in a decoded Dockerfile, skips and problems."""
    return _Scanner(text).scan()
