from __future__ import annotations

import pytest

from pin_from import dockerfile
from pin_from import files
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
