"""Property-based tests: the lexer finds exactly the references we placed, and
pinning changes nothing but those tokens.

Dockerfiles are generated piece by piece by :func:`dockerfiles`, which records
where every pinnable reference went (line, offset, kind) and what it must
become. No registry: the "digest" of a reference is the sha256 of its text.

Examples per test: ``PIN_FROM_HYPOTHESIS_EXAMPLES`` (default 200, what CI
runs); raise it locally, e.g. ``PIN_FROM_HYPOTHESIS_EXAMPLES=5000``.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import NamedTuple

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from pin_from.kinds import dockerfile
from pin_from.files import load as files
from pin_from.files import edit
from pin_from.files.edit import pinned_text

EXAMPLES = int(os.environ.get('PIN_FROM_HYPOTHESIS_EXAMPLES', '200'))
settings.register_profile(
    'pin-from',
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
PROFILE = settings.get_profile('pin-from')

def fake_digest(text: str) -> str:
    """Deterministic stand-in for a registry: sha256 of the reference text."""
    return 'sha256:' + hashlib.sha256(text.encode()).hexdigest()


# --- references ------------------------------------------------------------

class Ref(NamedTuple):
    text: str
    tagged: bool
    digested: bool

    @property
    def pinned(self) -> str:
        """What pin-from must turn this token into (itself if it has a digest)."""
        if self.digested:
            return self.text
        return f"{self.text}{'' if self.tagged else ':latest'}@{fake_digest(self.text)}"


_REGISTRIES = (
    '', '', '', 'docker.io/', 'index.docker.io/', 'ghcr.io/', 'localhost/',
    'localhost:5000/', '127.0.0.1:5000/', 'registry.example.com:8443/', '[::1]:5000/',
)
# Components never contain a "q": stage names all start with one, so a
# reference can never be mistaken for a stage (nor spell "scratch": too long).
_COMPONENT = st.from_regex(r'[a-pr-z][a-pr-z0-9]{0,5}(?:(?:[._]|__|-+)[a-pr-z0-9]{1,3})?', fullmatch=True)
_TAG = st.from_regex(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,9}', fullmatch=True) | st.just('latest')
_HEX = st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def refs(draw: st.DrawFn) -> Ref:
    name = draw(st.sampled_from(_REGISTRIES)) + '/'.join(
        draw(st.lists(_COMPONENT, min_size=1, max_size=3)),
    )
    shape = draw(st.sampled_from(('tag', 'tag', 'tag', 'bare', 'pinned', 'digest')))
    tagged = shape in ('tag', 'pinned')
    text = name + (f':{draw(_TAG)}' if tagged else '')
    digested = shape in ('pinned', 'digest')
    if digested:
        text += f'@sha256:{draw(_HEX)}'
    return Ref(text, tagged, digested)


# --- building a file and recording what went where ------------------------

class Placed:
    """A reference written into the file; a site unless ``active`` is False.

    ``prefix`` and ``suffix`` are written around it (quotes BuildKit removes:
    the site is the span between them); ``split`` is written inside it at
    ``cut`` (quotes or an escape BuildKit removes, which leave the reference
    one for BuildKit but not one run of characters: never a site).
    """

    def __init__(self, ref: Ref, kind: str, active: bool = True) -> None:
        self.ref = ref
        self.kind = kind
        self.active = active
        self.prefix = self.suffix = self.split = ''
        self.cut = 0

    def render(self, pinned: bool) -> str:
        text = self.ref.text
        if self.split:
            return text[:self.cut] + self.split + text[self.cut:]
        if pinned and self.active:
            text = self.ref.pinned
        return self.prefix + text + self.suffix


class Expected(NamedTuple):
    line: int
    kind: str
    text: str
    start: int


class Doc(NamedTuple):
    data: bytes  # the file as written to disk
    text: str  # decoded (a BOM stays as U+FEFF)
    sites: tuple[Expected, ...]
    pinned: str  # the text pin-from must produce
    images: tuple[tuple[str, str], ...]  # each image BuildKit pulls: before, after pinning
    escape: str
    eol: str


class _Arg:
    def __init__(self, name: str, placed: Placed | None, for_from: bool = True) -> None:
        self.name = name
        self.placed = placed  # None: no reference default (no default, scratch, ...)
        self.for_from = for_from  # False: FROM $NAME would name an image "1.2"
        self.in_from = 0  # how many FROMs use it
        self.other_use = False


class _Writer:
    def __init__(self, draw: st.DrawFn, escape: str, eol: str) -> None:
        self.draw = draw
        self.escape = escape
        self.eol = eol
        self.parts: list[str | Placed] = []
        self.stages: list[str] = []
        self.args: list[_Arg] = []

    def add(self, *parts: str | Placed) -> None:
        self.parts.extend(parts)

    def line(self, *parts: str | Placed) -> None:
        self.parts.extend(parts)
        self.parts.append(self.eol)

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.draw(st.sampled_from(options))

    def keyword(self, word: str) -> str:
        up = word.upper()
        return self.pick((up, up, word.lower(), word.capitalize(), up[0].lower() + up[1:]))

    def ref(self, kind: str) -> Placed:
        return Placed(self.draw(refs()), kind)

    def quoted(self, placed: Placed, escape: bool = True) -> Placed:
        """Write the reference the ways BuildKit reads the same: bare, in
        quotes, next to empty quotes, or cut by quotes or an escape."""
        form = self.pick(('bare', 'bare', 'bare', '"', "'", 'empty before', 'empty after', 'cut', 'cut'))
        if form in ('"', "'"):
            placed.prefix = placed.suffix = form
        elif form == 'empty before':
            placed.prefix = self.pick(('""', "''"))
        elif form == 'empty after':
            placed.prefix, placed.suffix = '"', self.pick(('"\'\'', '"""'))
        elif form == 'cut' and len(placed.ref.text) > 1:
            placed.cut = self.draw(st.integers(1, len(placed.ref.text) - 1))
            placed.split = self.pick(('""', "''", self.escape if escape else '""'))
            placed.active = False  # a -v skip: quotes or escapes inside the reference
        return placed

    def sep(self) -> None:
        """Whitespace between two tokens, or a line continuation (which may be
        followed by comment and blank lines, removed by the parser)."""
        if self.draw(st.integers(0, 3)):
            self.add(self.pick((' ', ' ', '  ', '\t', ' \t')))
            return
        before = self.pick(('', ' ', '\t'))
        after = self.pick(('', ' ', '  ', '\t'))
        if not before and not after:
            after = ' '
        self.line(before, self.escape, self.pick(('', '', ' ', ' \t')))
        for _ in range(self.draw(st.integers(0, 2))):
            self.line(self.pick((
                '# a comment', '  # indented comment', '#', '', '   ',
                '# FROM fake-in-comment:1', f'# a comment ending with the escape {self.escape}',
            )))
        self.add(after)

    def render(self, pinned: bool) -> tuple[str, tuple[Expected, ...]]:
        out: list[str] = []
        expected = []
        pos = line = 0
        for part in self.parts:
            if isinstance(part, Placed):
                text = part.render(pinned)
                if part.active:
                    expected.append(Expected(line + 1, part.kind, part.ref.text, pos + len(part.prefix)))
            else:
                text = part
            out.append(text)
            pos += len(text)
            line += text.count('\n')
        return ''.join(out), tuple(expected)


def _directives(w: _Writer) -> None:
    found: list[tuple[str, str | Placed]] = []
    if w.escape == '`' or w.draw(st.booleans()):
        found.append(('escape', w.escape))
    if w.draw(st.booleans()):
        found.append(('syntax', w.ref('syntax')))
    for name, value in w.draw(st.permutations(found)):
        w.line(
            w.pick(('', '', ' ')), '#', w.pick(('', ' ', '  ', '\t')), w.keyword(name),
            w.pick(('', ' ')), '=', w.pick(('', ' ')), value, w.pick(('', '', ' ')),
        )
    if w.draw(st.booleans()) and found:
        w.line(w.pick(('', '# ends the directives', '#')))


def _global_args(w: _Writer) -> None:
    for _ in range(w.draw(st.integers(0, 3))):
        defs: list[tuple[str, str | Placed, str]] = []
        for _ in range(w.draw(st.integers(1, 2))):
            name = f'BASE{len(w.args)}'
            shape = w.pick(('ref', 'ref', 'ref', 'quoted', 'single', 'version', 'none', 'scratch'))
            if shape in ('ref', 'quoted', 'single'):
                placed = w.ref('arg')
                if shape == 'ref':
                    w.quoted(placed)
                placed.active = False  # a site only once a FROM uses it
                quote = {'ref': '', 'quoted': '"', 'single': "'"}[shape]
                defs.append((f'{name}={quote}', placed, quote))
                w.args.append(_Arg(name, placed))
            elif shape == 'version':
                defs.append((f'VERSION{len(w.args)}=1.2', '', ''))
                w.args.append(_Arg(f'VERSION{len(w.args)}', None, for_from=False))
            elif shape == 'scratch':  # FROM $X with X=scratch is scratch
                defs.append((f'{name}=scratch', '', ''))
                w.args.append(_Arg(name, None))
            else:
                defs.append((name, '', ''))
                w.args.append(_Arg(name, None))
        w.add(w.keyword('ARG'))
        for head, value, quote in defs:
            w.add(' ', head, value, quote)
        w.line()


def _from(w: _Writer) -> None:
    w.add(w.pick(('', '', ' ', '\t')), w.keyword('FROM'))
    for flag in w.draw(st.lists(st.sampled_from((
            '--platform=$BUILDPLATFORM', '--platform=linux/amd64', '--platform=${TARGETPLATFORM}',
    )), max_size=2)):
        w.sep()
        w.add(flag)
    w.sep()
    choices = ['ref', 'ref', 'ref', 'scratch']
    if w.stages:
        choices.append('stage')
    usable = [a for a in w.args if a.for_from]
    if usable:
        choices.append('arg')
    choice = w.pick(choices)
    if choice == 'ref':
        w.add(w.quoted(w.ref('from')))
    elif choice == 'scratch':
        w.add('scratch')
    elif choice == 'stage':
        w.add(w.pick([s for s in w.stages] + [s.upper() for s in w.stages]))
    else:
        arg = w.draw(st.sampled_from(usable))
        arg.in_from += 1
        w.add(w.pick((f'${arg.name}', f'${{{arg.name}}}', f'"${arg.name}"', f'"${{{arg.name}}}"')))
    if w.draw(st.booleans()):
        w.sep()
        w.add(w.pick(('AS', 'as', 'As')))
        w.sep()
        name = f'q{len(w.stages)}' + w.pick(('', '-build', '.x', '_y'))
        w.add(name)
        w.stages.append(name)
    w.line(w.pick(('', '', ' ', '\t')))


def _body(w: _Writer) -> None:
    esc, other = w.escape, '`' if w.escape == '\\' else '\\'
    kind = w.pick((
        'run', 'run-cont', 'mount', 'copy', 'misc', 'comment', 'blank', 'heredoc',
        'other-escape', 'escaped-escape', 'quoted-heredoc', 'arg-use',
    ))
    if kind == 'run':
        w.line(w.keyword('RUN'), ' echo FROM fake-in-run:1')
    elif kind == 'run-cont':
        w.add(w.keyword('RUN'), ' echo a')
        w.sep()
        w.line('&& echo b')
    elif kind == 'mount':
        source: str | Placed = w.ref('mount')
        if w.draw(st.booleans()) and w.stages:
            source = w.pick(w.stages)
        quote = w.pick(('', '', '', '"', "'"))  # BuildKit unquotes a quoted value
        flags: list[str | Placed] = ['--mount=type=bind,from=', quote, source, quote, ',target=/m']
        if w.draw(st.booleans()):  # ... or the whole flag
            quote = w.pick(('"', "'"))
            flags = [f'--mount={quote}type=bind,from=', source, f',target=/m{quote}']
        if w.draw(st.booleans()):
            flags = ['--network=none ', *flags]
        w.line(w.keyword('RUN'), ' ', *flags, w.pick(('', ' --mount=type=cache,target=/c')), ' true')
    elif kind == 'copy':
        source = w.ref('copy')
        choice = w.draw(st.integers(0, 3))
        if choice == 0 and w.stages:
            source = w.pick(w.stages + [s.upper() for s in w.stages])
        elif choice == 1:
            source = w.pick(('0', '1'))
        quote = w.pick(('', '', '', '"', "'"))
        if isinstance(source, Placed) and not quote and w.draw(st.booleans()):
            w.quoted(source, escape=False)  # the flag parser's escape is always \\
        w.line(
            w.keyword('COPY'), w.pick(('', ' --link', ' --chown="app user"')), ' --from=', quote, source, quote,
            w.pick(('', ' --chown=1:1')), ' /a /b',
        )
    elif kind == 'misc':
        w.line(w.pick((
            'ENV IMAGE=python:3', 'LABEL from=fake-in-label:1', 'WORKDIR /from',
            'ENV FROM=x', 'USER 1000', 'EXPOSE 80',
        )))
    elif kind == 'comment':
        w.line(w.pick((
            '# a comment', '#FROM fake-in-comment:1', '  # indented', f'# escape={other}',
            '# syntax=fake/in-comment:1', f'# ends with the escape {esc}',
        )))
    elif kind == 'blank':
        w.line(w.pick(('', '  ', '\t')))
    elif kind == 'heredoc':
        head, end = w.draw(st.sampled_from((
            ('RUN <<EOF', 'EOF'), ('RUN cat <<-EOT', '\tEOT'), ('COPY <<EOF /dst', 'EOF'),
            ("RUN <<'END' bash", 'END'), ('ONBUILD RUN <<EOF', 'EOF'), ('RUN 3<<EOF cat', 'EOF'),
        )))
        w.line(head)
        w.line('FROM fake-in-heredoc:1')
        w.line(w.pick(('', 'COPY --from=fake-in-heredoc:2 / /', f'echo {esc}')))
        w.line(end)
    elif kind == 'other-escape':  # not a continuation: the next line stands alone
        w.line(w.keyword('RUN'), ' echo C:', other)
    elif kind == 'escaped-escape':  # an escaped escape ends no line either
        w.line(w.keyword('RUN'), ' echo x', esc, esc)
    elif kind == 'quoted-heredoc':  # quoted, so not a heredoc
        w.line(w.keyword('RUN'), w.pick((' echo "<<EOF"', " echo '<<EOF'", ' cat <<<"EOF"', ' echo x<<EOF')))
    elif kind == 'arg-use' and w.args:
        arg = w.draw(st.sampled_from(w.args))
        arg.other_use = True
        w.line(w.keyword('RUN'), f' echo ${arg.name}')


@st.composite
def dockerfiles(draw: st.DrawFn) -> Doc:
    escape = draw(st.sampled_from(('\\', '`')))
    eol = draw(st.sampled_from(('\n', '\r\n')))
    bom = draw(st.booleans())
    w = _Writer(draw, escape, eol)
    if bom:
        w.add('\ufeff')
    _directives(w)
    _global_args(w)
    for _ in range(draw(st.integers(1, 4))):
        _from(w)
        for _ in range(draw(st.integers(0, 4))):
            _body(w)
    if draw(st.booleans()) and w.parts[-1] == eol:
        w.parts.pop()  # no newline at the end of the file
    for arg in w.args:
        if arg.placed is not None:
            arg.placed.active = bool(arg.in_from) and not arg.other_use and not arg.placed.split
    text, sites = w.render(pinned=False)
    pinned, _ = w.render(pinned=True)
    images = [p for p in w.parts if isinstance(p, Placed) and p.kind in ('from', 'copy', 'mount')]
    images += [a.placed for a in w.args if a.placed is not None for _ in range(a.in_from)]
    pairs = tuple((p.ref.text, p.ref.pinned if p.active else p.ref.text) for p in images)
    return Doc(text.encode(), text, sites, pinned, pairs, escape, eol)


# --- what pin-from does, without a registry ------------------------------

def edits_for(text: str) -> list[tuple[int, int, str]]:
    """The edits ``pin-from`` makes (tags get digests; digests stay)."""
    scan = dockerfile.scan(text)
    assert scan.problems == ()
    return [
        (s.start, s.end, pinned_text(s, fake_digest(s.text)))
        for s in scan.sites if s.ref.digest is None
    ]


def pin(text: str) -> str:
    return edit.splice(text, edits_for(text))


# --- properties ---------------------------------------------------------

@PROFILE
@given(dockerfiles())
def test_scan_finds_exactly_the_placed_sites(doc):
    scan = dockerfile.scan(doc.text)
    assert scan.problems == ()
    found = sorted(Expected(s.line, s.kind, s.text, s.start) for s in scan.sites)
    assert found == sorted(doc.sites)
    for s in scan.sites:
        assert doc.text[s.start:s.end] == s.text
        assert s.end == s.start + len(s.text)


@PROFILE
@given(dockerfiles())
def test_pinning_changes_only_reference_tokens(doc):
    out = pin(doc.text)
    assert out == doc.pinned
    # Every changed token is old + @sha256:<64 hex> (or old + :latest@...).
    after = dockerfile.scan(out)
    assert after.problems == ()
    before = sorted(dockerfile.scan(doc.text).sites, key=lambda s: s.start)
    after_sites = sorted(after.sites, key=lambda s: s.start)
    assert [(s.line, s.kind) for s in after_sites] == [(s.line, s.kind) for s in before]
    for old, new in zip(before, after_sites):
        if old.ref.digest is not None:
            assert new.text == old.text
            continue
        suffix = new.text[len(old.text):]
        assert new.text.startswith(old.text)
        expected_tag = '' if old.ref.tag is not None else ':latest'
        assert re.fullmatch(re.escape(expected_tag) + r'@sha256:[0-9a-f]{64}', suffix)
    # Removing the inserted suffixes gives back the input, character for character.
    undone = edit.splice(out, [(new.start, new.end, old.text) for old, new in zip(before, after_sites)])
    assert undone == doc.text


@PROFILE
@given(dockerfiles())
def test_pinning_twice_changes_nothing(doc):
    once = pin(doc.text)
    assert edits_for(once) == []
    assert pin(once) == once


@PROFILE
@given(dockerfiles())
def test_bytes_round_trip(doc):
    """BOM and CRLF survive decode -> splice -> encode, byte for byte."""
    text = files.decode(doc.data)
    assert text == doc.text
    assert text.encode('utf-8') == doc.data
    out = pin(text).encode('utf-8')
    assert out.startswith(b'\xef\xbb\xbf') == doc.data.startswith(b'\xef\xbb\xbf')
    assert out.count(b'\r\n') == doc.data.count(b'\r\n')
    assert out.count(b'\n') == doc.data.count(b'\n')
    if doc.eol == '\r\n':  # no line ending was changed or added
        assert out.count(b'\n') == out.count(b'\r\n')
    assert files.decode(out) == doc.pinned


@PROFILE
@given(st.text(alphabet='ab:/.-_=@$`\\\'"{} \t\u00e9', max_size=24), st.integers(-1, 50), st.sampled_from('\\`'))
def test_a_literal_word_reads_as_the_lexer_reads_it(text, start, escape):
    """shell_word answers a word with no quote, escape or $ without the lexer: the same Word."""
    from pin_from.kinds import shellword
    assert shellword.shell_word(text, start, escape) == shellword._Lexer(text, start, escape).word()
