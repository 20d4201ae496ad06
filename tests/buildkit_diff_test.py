"""Differential tests against BuildKit's own Dockerfile parser.

The PyPI package ``dockerfile`` wraps the official Go parser
(github.com/moby/buildkit/frontend/dockerfile/parser). For hand-written and
generated files we check that:

- our instructions start on the lines BuildKit reports, with the same words;
- the base image of every FROM we find (pinnable site or deliberate skip) is
  ``value[0]`` of BuildKit's FROM, and each base sits inside that FROM;
- after pinning, BuildKit parses the output to the same instructions, on the
  same lines, whose only change is the suffixes we inserted;
- read the way BuildKit reads words (quotes, escapes, global ARGs: see
  tests/buildkit_shell.py), the pinned file pulls exactly the pinned form of
  every site and, unchanged, every reference we left alone.

Where BuildKit and pin-from legitimately differ, the difference is pinned by
an explicit test at the bottom of this file rather than by loosening the
comparison.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pin_from.kinds import dockerfile as lexer
from pin_from.files import edit
from pin_from.kinds import shellword
from tests import buildkit_shell
from tests.dockerfile_property_test import PROFILE
from tests.dockerfile_property_test import fake_digest
from tests.dockerfile_property_test import dockerfiles
from tests.dockerfile_property_test import edits_for

import dockerfile as buildkit  # noqa: E402 -- BuildKit's parser (test extra); never skipped

_WHOLE_ARG_RE = re.compile(r'\$(?:\{([a-zA-Z_][a-zA-Z0-9_]*)\}|([a-zA-Z_][a-zA-Z0-9_]*))')


def _words(cmd) -> list[str]:
    """The words of an instruction's (joined) first line, heredoc bodies left out."""
    return cmd.original.partition('\n')[0].split()


def assert_same_as_buildkit(text: str) -> None:
    commands = buildkit.parse_string(text)
    scan = lexer.scan(text)
    assert scan.problems == ()

    # Instructions: same start lines, keywords and words.
    ours = lexer._Scanner(text).instructions
    assert [(i.line, i.keyword) for i in ours] == [(c.start_line, c.cmd.lower()) for c in commands]
    for ins, cmd in zip(ours, commands):
        assert [ins.keyword.upper()] + [t.text for t in ins.tokens] == [cmd.cmd.upper()] + _words(cmd)[1:]

    # FROM bases: every FROM BuildKit sees is a site or a skip of ours, on its lines.
    bases = [(s.line, s.text) for s in scan.sites if s.kind == 'from'] + [(k.line, k.text) for k in scan.skips]
    escape = lexer._Scanner(text).escape
    defaults = buildkit_shell.meta_args(commands, escape)
    froms = [c for c in commands if c.cmd.lower() == 'from']
    for cmd in froms:
        base = cmd.value[0]
        here = [t for line, t in bases if cmd.start_line <= line <= cmd.end_line]
        m = _WHOLE_ARG_RE.fullmatch(base.replace('"', ''))  # $B, "$B", "${B}"
        if not here and m is not None:  # FROM $BASE: the ARG's default is the site (or skip)
            default = defaults[m.group(1) or m.group(2)]
            if default == 'scratch':  # BuildKit expands, then builds FROM scratch
                assert not any(s.kind == 'arg' and s.text == default for s in scan.sites)
            assert any(s.kind == 'arg' and s.text == default for s in scan.sites) or any(
                k.text == default for k in scan.skips
            )
            continue
        # a skip of a composed word shows it as written; anything else as BuildKit reads it
        assert here in ([base], [buildkit_shell.process_word(base, {}, escape)]), (cmd, here)
    # ... and each of our FROM sites is the base of one of BuildKit's FROMs.
    for site in scan.sites:
        if site.kind == 'from':
            assert any(
                c.start_line <= site.line <= c.end_line and
                buildkit_shell.process_word(c.value[0], defaults, escape) == site.text for c in froms
            )
        elif site.kind == 'arg':
            assert site.text in defaults.values()

    # After pinning: the same instructions; only the inserted suffixes differ.
    edits = edits_for(text)
    pinned = edit.splice(text, edits)
    after = buildkit.parse_string(pinned)
    suffixes = {new[end - start:] for start, end, new in edits}
    in_commands = sum(1 for s in scan.sites if s.kind != 'syntax' and s.ref.digest is None)
    assert sum(c.original.count(suf) for c in after for suf in suffixes) == in_commands
    assert len(after) == len(commands)
    for old, new in zip(commands, after):
        assert _strip(new, suffixes) == old
        _assert_only_references_changed(old, new)
    assert_buildkit_pulls_the_pinned_references(text, pinned)


def assert_buildkit_pulls_the_pinned_references(text: str, pinned: str) -> None:
    """Each reference BuildKit pulls from ``text`` is, in ``pinned``, the pinned
    form of our site if we found one there, else the same reference."""
    scan = lexer.scan(text)
    pins = {
        s.text: edit.pinned_text(s, fake_digest(s.text))
        for s in scan.sites if s.kind != 'syntax' and s.ref.digest is None
    }
    left = {k.text for k in scan.skips}  # the same reference may be both pinned and left alone
    before = buildkit_shell.images(text)
    after = buildkit_shell.images(pinned)
    assert set(pins) <= set(before)
    assert len(after) == len(before)
    for old, new in zip(before, after):
        assert new == pins.get(old, old) or (old in left and new == old), (old, new)


def _assert_only_references_changed(old, new) -> None:
    """In BuildKit's own reading, a changed word is a reference's place."""
    keyword = old.cmd.lower()
    for i, (a, b) in enumerate(zip(old.value, new.value)):
        if a != b:
            assert (keyword, i) == ('from', 0) or keyword == 'arg', (old, new)
    for a, b in zip(old.flags, new.flags):
        if a != b:
            assert (keyword, a[:7]) in (('copy', '--from='), ('run', '--mount')), (old, new)


def _strip(cmd, suffixes: set[str]):
    def strip(s: str) -> str:
        for suf in suffixes:
            s = s.replace(suf, '')
        return s
    return cmd._replace(
        original=strip(cmd.original),
        flags=tuple(strip(f) for f in cmd.flags),
        value=tuple(strip(v) for v in cmd.value),
    )


D = 'sha256:' + 'c' * 64

HAND_WRITTEN = {
    'plain': 'FROM python:3.12-slim AS build\nRUN make\nFROM build\n',
    'keyword case': 'from python:3 as b\nFrOm B\ncopy --from=b /a /b\n',
    'flags': 'FROM --platform=$BUILDPLATFORM --foo=bar golang:1.22 AS b\nFROM --platform=linux/arm64 alpine\n',
    'continuation with comments': 'FROM \\\n# a comment\n\n  # another \\\n python:3 \\\n  AS \\\n  b\nRUN x\n',
    'continuation splits a token': 'FROM pyth\\\non:3\n',
    'continuation trailing blanks': 'FROM a \\ \t\n AS b\nRUN echo \\  \n  hi\n',
    'continuation at eof': 'FROM a \\',
    'lone escape line': 'FROM a\n\\\nRUN x\n',
    'escape directive': '# escape=`\nFROM `\n  python:3 `\n  AS b\nRUN dir C:\\\nFROM b\n',
    'escape directive spacing': '#\tescape\t=\t`\nFROM a `\n AS b\n',
    'directive case': '# ESCAPE=`\n# Syntax = docker/dockerfile:1.7\nFROM a `\n AS b\n',
    'directive leading whitespace': '  # escape=`\nFROM a `\n AS b\n',
    'unknown directive ends the directives': '# foo=bar\n# escape=`\nRUN echo \\\nFROM evil:1\nFROM a\n',
    'underscore name is no directive': '# foo_bar=1\n# escape=`\nRUN echo \\\nFROM evil:1\nFROM a\n',
    'empty escape directive is a comment': '# escape=\nFROM a \\\n AS b\n',
    'blank line ends the directives': '\n# escape=`\nFROM a\nRUN echo `\nFROM b\n',
    'directive after an instruction': 'FROM a\n# escape=`\nRUN echo \\\n  x\n',
    'syntax with bom': '\ufeff# syntax=docker/dockerfile:1\nFROM a\n',
    'bom': '\ufeffFROM python:3\nRUN x\n',
    'bom and escape': '\ufeff# escape=`\nFROM a `\n AS b\n',
    'crlf': 'FROM python:3\r\nRUN a \\\r\n  b\r\nFROM node:20 AS n\r\n',
    'crlf continuation comment': 'FROM \\\r\n# c\r\n\r\n python:3\r\n',
    'only newline ends a line': 'FROM a\nRUN echo "\x0c"\nFROM b\n',
    'cr in the middle': 'FROM a\rAS b\n',
    'escaped escape at end of line': 'FROM a\nRUN echo \\\\\nFROM b\n',
    'escaped backtick at end of line': '# escape=`\nFROM a\nRUN echo ``\nFROM b\n',
    'escaped escape then continuation': 'RUN echo \\\\ \\\nFROM x\nFROM a\n',
    'stage names': 'FROM a AS Build\nFROM build AS two\nCOPY --from=BUILD /a /b\nCOPY --from=0 /a /b\nFROM two\n',
    'copy from image': 'FROM a\nCOPY --link --from=alpine:3 --chown=1:1 /x /y\n',
    'copy from quoted': 'FROM a\nCOPY --from="alpine:3" /x /y\nCOPY --from=\'busybox\' /x /y\n',
    'copy flag continued': 'FROM a\nCOPY \\\n --from=b:1 /a /b\n',
    'flags end at --': 'FROM a\nCOPY -- --from=b:1 /a\nRUN -- --mount=from=c:1 true\n',
    'copy json': 'FROM a\nCOPY ["--from=b:1", "/a", "/b"]\nCOPY --chmod=755 ["/a", "/b"]\n',
    'mounts': 'FROM a\nRUN --network=none --mount=type=bind,from=b:1,target=/b --mount=from=c true\n',
    'mount from quoted': 'FROM a\nRUN --mount=type=bind,from="b:1" true\n',
    'arg': 'ARG BASE=python:3.12\nARG B2="node:20" V=1\nFROM ${BASE}\nFROM $B2 AS n\n',
    'arg used elsewhere': 'ARG B=python:3\nFROM $B\nRUN echo $B\n',
    'arg scratch': 'ARG B=scratch\nFROM $B\n',
    'arg composed': 'ARG PY=3\nFROM python:${PY}-slim\n',
    'pinned and digest-only': f'FROM python:3@{D}\nFROM python@{D}\n',
    'registry with port': 'FROM localhost:5000/team/app:1.2\nFROM [::1]:5000/app\n',
    'scratch': 'FROM scratch\nCOPY x /\n',
    'heredoc': 'FROM a\nRUN <<EOF\nFROM evil:1\nEOF\nFROM b\n',
    'heredoc two': 'FROM a\nRUN cat <<EOF <<-EOT\nFROM x\nEOF\n\tFROM y\n\tEOT\nFROM b\n',
    'heredoc quoted name': 'FROM a\nRUN <<"EOF" bash\nFROM x\nEOF\nFROM b\n',
    'heredoc copy': 'FROM a\nCOPY --from=b:1 <<EOF /x\nFROM x\nEOF\nFROM c\n',
    'heredoc fd': 'FROM a\nRUN cat 3<<EOF\nFROM x\nEOF\nFROM b\n',
    'heredoc crlf': 'FROM a\r\nRUN <<EOF\r\nFROM x\r\nEOF\r\nFROM b\r\n',
    'heredoc after continuation': 'FROM a\nRUN \\\n# c\n<<EOF\nFROM x\nEOF\nFROM b\n',
    'heredoc name with dash': 'FROM a\nRUN <<E-F\nFROM x\nE-F\nFROM b\n',
    'heredoc name with quotes inside': 'FROM a\nRUN cat <<EOF"x y"\nFROM x\nEOFx y\nFROM b\n',
    'heredoc in onbuild': 'FROM a\nONBUILD RUN <<EOF\nFROM evil:1\nEOF\nFROM b\n',
    'quoted heredoc marker': 'FROM a\nRUN echo "<<EOF" \'<<EOF\'\nFROM b\n',
    'here-string': 'FROM a\nRUN cat <<<"hello" > f\nFROM b\n',
    'heredoc marker glued to a word': 'FROM a\nRUN echo x<<EOF\nFROM b\n',
    'escaped heredoc marker': 'FROM a\nRUN cat \\<<EOF\nFROM b\n',
    'json run': 'FROM a\nRUN ["cat", "<<EOF"]\nFROM b\n',
    'env heredoc-looking': 'FROM a\nENV x=<<EOF\nFROM b\n',
    'comment mentions FROM': 'FROM a\n# FROM evil:1\n  # FROM evil:2\nRUN echo FROM evil:3\n',
    'tabs': 'FROM\ta\tAS\tb\n',
    'indented': '  FROM   python:3   as   x  \n\tRUN x\n',
    # quotes and escapes (issue 10, item 4): BuildKit removes them and builds
    'quoted from': 'FROM "node:8.15"\nFROM \'alpine:3.20\' AS base\nFROM ""python:3\nFROM "busybox"\'\'\n',
    'quoted from with flag': 'FROM --platform="linux/amd64" "python:3" AS b\n',
    'quotes or escapes inside': 'FROM node:"8.15"\nFROM "node":8\nFROM no\\de:8\nFROM a\nCOPY --from=b:"1" / /\n',
    'quoted escape directive': '# escape=`\nFROM "mcr.microsoft.com/windows/servercore:ltsc2022" `\n  AS base\nFROM no`de:8\n',
    'quoted flags': 'FROM a\nCOPY --chown="app user" --from="busybox:1.37" /x /y\n'
                    'RUN --mount="type=bind,from=b:1" --mount=\'from=c:2\' true\n',
    'quoted arg': 'ARG BASE="python:3.12" V="a BASE2=b" B2=""node:20\nFROM "$BASE"\nFROM ${B2}\n',
    'quoted arg split': 'ARG B=python:"3"\nFROM $B\n',
    'quoted stage and scratch': 'FROM a AS build\nFROM "build"\nCOPY --from="build" / /\nFROM "scratch"\n',
}


@pytest.mark.parametrize('text', HAND_WRITTEN.values(), ids=HAND_WRITTEN.keys())
def test_hand_written_files_agree_with_buildkit(text):
    assert_same_as_buildkit(text)


@PROFILE
@given(dockerfiles())
def test_generated_files_agree_with_buildkit(doc):
    assert_same_as_buildkit(doc.text)
    # BuildKit, reading quotes and escapes its way, pulls exactly what we placed,
    # pinned where we made it a site.
    assert sorted(buildkit_shell.images(doc.text)) == sorted(before for before, _ in doc.images)
    assert sorted(buildkit_shell.images(doc.pinned)) == sorted(after for _, after in doc.images)


# --- legitimate differences, pinned down ------------------------------------

def _bases(text: str) -> list[tuple[int, str]]:
    scan = lexer.scan(text)
    return [(s.line, s.text) for s in scan.sites] + [(k.line, k.text) for k in scan.skips]


def test_duplicate_directive_buildkit_refuses_we_keep_the_first():
    # BuildKit refuses the file ("only one escape parser directive can be
    # used"), so it cannot be built; we read the second line as a comment.
    text = '# escape=`\n# escape=\\\nFROM a `\n AS b\n'
    with pytest.raises(buildkit.GoParseError, match='only one escape'):
        buildkit.parse_string(text)
    assert _bases(text) == [(3, 'a')]


def test_check_directive_is_known_to_newer_buildkit():
    # BuildKit >= 0.14 (Dockerfile 1.8) knows "# check=", so directives go on
    # after it; the parser in the `dockerfile` package predates it and stops.
    # We follow current BuildKit: the escape directive after it counts.
    text = '# check=skip=all\n# escape=`\nFROM a `\n AS b\n'
    (first, second) = buildkit.parse_string(text)
    assert (first.cmd, first.value) == ('FROM', ('a', '`'))
    assert second.cmd == 'AS'
    assert lexer._Scanner(text).instructions[0].tokens[-1].text == 'b'
    assert _bases(text) == [(3, 'a')]


def test_unicode_whitespace_only_splits_for_us():
    # BuildKit splits words on ASCII whitespace only, so a no-break space
    # glues words together and the FROM has two arguments: BuildKit rejects
    # it at build time ("FROM requires either one or three arguments"). We
    # split on any whitespace and see "a AS b"; the file was unbuildable
    # either way, and pinning "a" leaves it exactly as unbuildable.
    text = 'FROM a\xa0AS b\n'
    (cmd,) = buildkit.parse_string(text)
    assert cmd.value == ('a\xa0AS', 'b')
    assert _bases(text) == [(1, 'a')]


def test_onbuild_flags_are_not_pinned():
    # BuildKit parses ONBUILD COPY --from=image (it runs in child images);
    # we leave triggers alone: a missed pin, never a damaged line.
    text = 'FROM a\nONBUILD COPY --from=b:1 /a /b\nONBUILD RUN --mount=from=c:1 true\n'
    commands = buildkit.parse_string(text)
    assert [c.cmd for c in commands] == ['FROM', 'ONBUILD', 'ONBUILD']
    assert _bases(text) == [(1, 'a')]


@pytest.mark.parametrize(
    'text',
    (
        'FROM a\nRUN <<EOF\nFROM x\n',  # unterminated heredoc
        'FROM a\nRUN cat <<EOF;\nFROM x\nEOF\nFROM b\n',  # heredoc named "EOF;"
    ),
)
def test_files_buildkit_refuses_do_not_crash_us(text):
    with pytest.raises(buildkit.GoParseError):
        buildkit.parse_string(text)
    lexer.scan(text)  # no exception; what we find does not matter here


# --- the oracle's word reader, and ours, against BuildKit's own expectations ---

@pytest.mark.parametrize(
    ('word', 'env', 'expected'),
    (
        # from TestProcessWithMatches in moby/buildkit frontend/dockerfile/shell/lex_test.go
        ('x ${FOO}', {'FOO': 'y'}, 'x y'),
        ('${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', {'FOO': 'xxx', 'BAR': ''}, 'xxx  ccc'),
        ('${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', {'FOO': 'xxx', 'BAR': ''}, 'xxx bbb ccc'),
        ('${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', {'FOO': 'xxx', 'BAR': ''}, 'aaa  '),
        # lex.go's quote rules (the sh man page it cites)
        ('"node:8.15"', {}, 'node:8.15'),
        ("'a\\b'", {}, 'a\\b'),  # nothing escapes in single quotes
        ('"a\\b"', {}, 'a\\b'),  # in double quotes only " $ and the escape are escaped
        ('"a\\"b\\$"', {}, 'a"b$'),
        ('a\\b\\', {}, 'ab'),  # outside quotes the escape escapes; at the end it is dropped
        ("'$X'", {'X': '1'}, '$X'),
        ('"$X"x', {'X': '1'}, '1x'),
        ('a$', {}, 'a$'),
    ),
)
def test_oracle_reads_words_as_buildkit(word, env, expected):
    assert buildkit_shell.process_word(word, env) == expected


_WORD_CHARS = st.sampled_from(['a', 'b', ':', '1', '"', "'", '\\', '`', ' ', '$'])


@PROFILE
@given(st.lists(_WORD_CHARS, max_size=12).map(''.join), st.sampled_from(['\\', '`']))
def test_shellword_agrees_with_the_oracle(word, escape):
    """Two readers written apart: pin_from.kinds.shellword (offsets, no values of
    variables) and the oracle (values) read every word the same way."""
    ours = shellword.shell_word(word, 0, escape)
    try:
        theirs = buildkit_shell.process_word(word, {}, escape)
    except buildkit_shell.LexError:
        assert ours.error
        return
    assert not ours.error
    if not ours.expanded:
        assert ours.value == theirs
    for ch, offset in zip(ours.value, ours.offsets):
        assert word[offset] == ch  # each character comes from where we say


@PROFILE
@given(st.lists(st.sampled_from(['a', ':', '"', "'", '\\', '`', '$', ',', '=']), max_size=12).map(''.join))
def test_flag_reader_agrees_with_buildkits_parser(value):
    """``flag_word`` reads a flag exactly as BuildKit's parser unquotes it."""
    (cmd,) = buildkit.parse_string(f'COPY --from={value}')
    assert cmd.flags == (shellword.flag_word(f'--from={value}', 0).value,)
