from __future__ import annotations

import pytest

from pin_from.kinds import dockerfile
from pin_from.files import load as files
from pin_from.errors import FileError

D = 'sha256:' + 'b' * 64


def sites(text):
    scan = dockerfile.scan(text)
    for s in scan.sites:  # offsets point at exactly the token
        assert text[s.start:s.end] == s.text
    return [(s.line, s.kind, s.text) for s in scan.sites]


def skips(text):
    return [(s.line, s.text) for s in dockerfile.scan(text).skips]


@pytest.mark.parametrize(
    ('text', 'expected'),
    (
        ('FROM python:3.12-slim AS build\n', [(1, 'from', 'python:3.12-slim')]),
        ('from python\n', [(1, 'from', 'python')]),
        ('FROM --platform=$BUILDPLATFORM --foo python:3\n', [(1, 'from', 'python:3')]),
        ('FROM \\\n  python:3 \\\n  AS b\n', [(2, 'from', 'python:3')]),
        ('FROM \\\n# comment\n\n  python:3\n', [(4, 'from', 'python:3')]),
        ('# escape=`\nFROM `\n  python:3\n', [(3, 'from', 'python:3')]),
        ('FROM python:3\r\nRUN x\r\nFROM node:20\r\n', [(1, 'from', 'python:3'), (3, 'from', 'node:20')]),
        ('\ufeffFROM python:3\n', [(1, 'from', 'python:3')]),
        ('\ufeff# syntax=docker/dockerfile:1\nFROM a\n', [(1, 'syntax', 'docker/dockerfile:1'), (2, 'from', 'a')]),
        ('#syntax = docker/dockerfile:1.7\n', [(1, 'syntax', 'docker/dockerfile:1.7')]),
        ('FROM a\n# syntax=docker/dockerfile:1\n', [(1, 'from', 'a')]),  # not a directive after an instruction
        ('FROM a AS b\nCOPY --from=alpine:3 /x /y\n', [(1, 'from', 'a'), (2, 'copy', 'alpine:3')]),
        ('FROM a\nRUN --mount=type=bind,from=busybox:1,target=/b true\n', [(1, 'from', 'a'), (2, 'mount', 'busybox:1')]),
        ('FROM a\nRUN --mount=from=busybox --network=none true\n', [(1, 'from', 'a'), (2, 'mount', 'busybox')]),
        ('ARG BASE=python:3.12\nFROM ${BASE}\n', [(1, 'arg', 'python:3.12')]),
        ('ARG BASE="python:3.12"\nFROM $BASE AS x\nFROM ${BASE}\n', [(1, 'arg', 'python:3.12')]),
        ('ARG A=1 BASE=node:20\nFROM $BASE\n', [(1, 'arg', 'node:20')]),
        ('ARG A=node:20 B=node:20\nFROM $A\nFROM $B\nFROM $A\n', [(1, 'arg', 'node:20'), (1, 'arg', 'node:20')]),
        (f'FROM python:3@{D}\n', [(1, 'from', f'python:3@{D}')]),
        ('FROM a\nRUN <<EOF\nFROM evil:1\nEOF\nFROM b\n', [(1, 'from', 'a'), (5, 'from', 'b')]),
        ('FROM a\nRUN <<-"EOT" bash\n\tFROM evil\n\tEOT\nFROM b\n', [(1, 'from', 'a'), (5, 'from', 'b')]),
        ('FROM localhost:5000/team/app:1.2\n', [(1, 'from', 'localhost:5000/team/app:1.2')]),
        ('  FROM   python:3   as   x  \n', [(1, 'from', 'python:3')]),
    ),
)
def test_sites(text, expected):
    assert sites(text) == expected


@pytest.mark.parametrize(
    ('text', 'expected'),
    (
        ('FROM scratch\n', [(1, 'scratch')]),
        ('FROM a AS build\nFROM BUILD\n', [(2, 'BUILD')]),
        ('FROM a AS build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\n', [(2, 'build'), (3, '0')]),
        ('FROM a\nCOPY --from=later /a /b\nFROM b AS later\n', [(2, 'later')]),
        ('# pin-from: ignore\nFROM python:3\n', [(2, 'python:3')]),
        ('#pin-from:ignore\nFROM a\nCOPY --from=b:1 . .\n', [(2, 'a')]),
        ('ARG PY=3\nFROM python:${PY}-slim\n', [(2, 'python:${PY}-slim')]),
        ('ARG REG=r.io\nFROM ${REG}/app:1\n', [(2, '${REG}/app:1')]),
        ('FROM $UNSET\n', [(1, '$UNSET')]),
        ('FROM a\nARG B=python:3\nFROM $B\n', [(3, '$B')]),  # not a global ARG
        ('ARG B=python:3\nFROM $B\nRUN echo $B\n', [(1, 'python:3')]),  # used another way
        ('ARG B=python:3\nFROM ${B}-slim\nFROM $B\n', [(2, '${B}-slim'), (1, 'python:3')]),
        ('ARG B=$OTHER\nFROM $B\n', [(2, '$B')]),
        ('# pin-from: ignore\nARG B=python:3\nFROM $B\n', [(2, 'python:3')]),
        ('FROM pyth\\\non:3\n', [(1, 'pyth\\\non:3'.replace('\\\n', ''))]),
        ('FROM a\nCOPY --from=$IMG /a /b\n', [(2, '$IMG')]),
    ),
)
def test_skips(text, expected):
    assert skips(text) == expected
    assert dockerfile.scan(text).problems == ()


@pytest.mark.parametrize(
    ('text', 'line', 'reason'),
    (
        ('FROM\n', 1, 'malformed FROM'),
        ('FROM a b\n', 1, 'malformed FROM'),
        ('FROM a AS\n', 1, 'malformed FROM'),
        ('FROM --platform=x\n', 1, 'malformed FROM'),
        ('RUN x\nFROM Python:3\n', 2, 'must be lowercase'),
        ('FROM a\nCOPY --from=UPPER:1 . .\n', 2, 'must be lowercase'),
        ('FROM a:b:c\n', 1, 'invalid reference format'),
    ),
)
def test_problems(text, line, reason):
    (problem,) = dockerfile.scan(text).problems
    assert problem.line == line
    assert reason in problem.reason


def test_decode_rejects_non_utf8_with_line():
    with pytest.raises(FileError) as excinfo:
        files.decode(b'FROM a\nRUN \xff\n')
    assert excinfo.value.line == 2
    assert 'UTF-8' in str(excinfo.value)


def test_decode_keeps_bom():
    assert files.decode(b'\xef\xbb\xbfFROM a\n').encode() == b'\xef\xbb\xbfFROM a\n'


def test_bad_escape_directive():
    with pytest.raises(FileError, match='escape'):
        dockerfile.scan('# escape=x\nFROM a\n')


def test_only_newline_ends_a_line():
    text = 'FROM a\nRUN echo "\u2028\x0c"\nFROM b\n'
    assert sites(text) == [(1, 'from', 'a'), (3, 'from', 'b')]


# --- quotes and escapes, read the way BuildKit reads them (issue 10, item 4) ---
# BuildKit runs the FROM image word and global ARG defaults through its shell
# lexer (quotes removed, escapes processed with the escape directive's
# character) and unquotes flag values; the site is the span inside the quotes.

@pytest.mark.parametrize(
    ('text', 'expected'),
    (
        ('FROM "node:8.15"\n', [(1, 'from', 'node:8.15', 6)]),
        ("FROM 'alpine:3.20' AS base\n", [(1, 'from', 'alpine:3.20', 6)]),
        ('FROM ""python:3\n', [(1, 'from', 'python:3', 7)]),
        ('FROM "python:3"\'\'\n', [(1, 'from', 'python:3', 6)]),
        ('FROM --platform="linux/amd64" "python:3" AS b\n', [(1, 'from', 'python:3', 31)]),
        ('FROM a\nCOPY --chown="app user" --from="busybox:1.37" /x /y\n', [(1, 'from', 'a', 5), (2, 'copy', 'busybox:1.37', 39)]),
        ('FROM a\nRUN --mount="type=bind,target=/b,from=busybox:1.37" true\n', [(1, 'from', 'a', 5), (2, 'mount', 'busybox:1.37', 45)]),
        ("FROM a\nRUN --mount='from=busybox:1.37' true\n", [(1, 'from', 'a', 5), (2, 'mount', 'busybox:1.37', 25)]),
        ('ARG BASE="python:3.12"\nFROM "$BASE"\n', [(1, 'arg', 'python:3.12', 10)]),
        ("ARG BASE='python:3.12'\nFROM \"${BASE}\" AS x\n", [(1, 'arg', 'python:3.12', 10)]),
        ('ARG BASE=""python:3.12\nFROM $BASE\n', [(1, 'arg', 'python:3.12', 11)]),
        ('ARG V="a BASE=b" BASE="python:3.12"\nFROM $BASE\n', [(1, 'arg', 'python:3.12', 23)]),
        ('# escape=`\nFROM "mcr.microsoft.com/windows/servercore:ltsc2022" `\n  AS base\n',
         [(2, 'from', 'mcr.microsoft.com/windows/servercore:ltsc2022', 17)]),
        ("# escape=`\nFROM 'python:3' `\n  AS b\n", [(2, 'from', 'python:3', 17)]),
    ),
)
def test_quoted_sites(text, expected):
    scan = dockerfile.scan(text)
    assert [(s.line, s.kind, s.text, s.start) for s in scan.sites if s.kind != 'syntax'] == expected
    for s in scan.sites:
        assert text[s.start:s.end] == s.text


@pytest.mark.parametrize(
    ('text', 'token', 'reason'),
    (
        ('FROM node:"8.15"\n', 'node:8.15', 'quotes or escapes inside'),
        ('FROM "node":8.15\n', 'node:8.15', 'quotes or escapes inside'),
        ('FROM no\\de:8\n', 'node:8', 'quotes or escapes inside'),
        ('# escape=`\nFROM no`de:8\n', 'node:8', 'quotes or escapes inside'),
        ('FROM a\nCOPY --from=busybox:"1.37" /x /y\n', 'busybox:1.37', 'quotes or escapes inside'),
        ('ARG B=python:"3"\nFROM $B\n', 'python:3', 'quotes or escapes inside'),
        ('FROM a AS build\nFROM "build"\n', 'build', 'an earlier build stage'),
        ('FROM "scratch"\n', 'scratch', 'scratch is not an image'),
        ('FROM a AS build\nRUN --mount="from=build" true\n', 'build', 'a build stage'),
        ('ARG B="python:3"\nFROM "${B}"\nRUN echo $B\n', 'python:3', 'also used another way'),
        ('FROM "python:3"\n# pin-from: ignore\nFROM "node:20"\n', 'node:20', 'pin-from: ignore'),
    ),
)
def test_quoted_skips(text, token, reason):
    scan = dockerfile.scan(text)
    assert scan.problems == ()
    (skip,) = [k for k in scan.skips if k.text == token]
    assert reason in skip.reason


@pytest.mark.parametrize(
    ('text', 'reason'),
    (
        ('FROM "node:8.15\n', 'unterminated'),
        ("FROM 'node:8.15\n", 'unterminated'),
        ("FROM '$BASE'\n", 'invalid reference'),
    ),
)
def test_quoted_problems(text, reason):
    (problem,) = dockerfile.scan(text).problems
    assert reason in problem.reason


@pytest.mark.parametrize(
    ('text', 'pinned'),
    (
        ('FROM "node:8.15"\n', f'FROM "node:8.15@{D}"\n'),
        ("FROM 'alpine' AS base\n", f"FROM 'alpine:latest@{D}' AS base\n"),
        ('FROM scratch\nRUN --mount="from=busybox:1.37" true\n', f'FROM scratch\nRUN --mount="from=busybox:1.37@{D}" true\n'),
        ('ARG BASE="python:3.12"\nFROM "$BASE"\n', f'ARG BASE="python:3.12@{D}"\nFROM "$BASE"\n'),
    ),
)
def test_quoted_pinning_keeps_the_quotes(text, pinned):
    from pin_from.files import edit
    scan = dockerfile.scan(text)
    answers = {s.ref: D for s in scan.sites}
    assert edit.plan(text, scan, answers).text == pinned
