"""The pure core, table by table: text + scan + answers -> new text, with no registry and no I/O.

One row per rule of the README's "What gets pinned" table, plus the rules of
re-pinning, failures and skips. Answers are fake digests keyed by tag.
"""
from __future__ import annotations

import pytest

from pin_from.kinds import dockerfile
from pin_from.files import edit
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Skip
from pin_from import reference
from pin_from.errors import RegistryError

A = 'sha256:' + 'a' * 64
B = 'sha256:' + 'b' * 64
C = 'sha256:' + 'c' * 64
TAGS = {'python:3.12-slim': A, 'python:latest': A, 'node:20': B, 'alpine:3': C, 'busybox:1': B,
        'docker/dockerfile:1': C, 'python:3.12': A}


def answers_for(text: str, update: bool = False) -> dict[reference.Reference, edit.Outcome]:
    ret: dict[reference.Reference, edit.Outcome] = {}
    for site in dockerfile.scan(text).sites:
        key = str(site.ref.tag_only())
        ret[site.ref] = TAGS.get(key, RegistryError(f'tag {site.ref.effective_tag!r} not found in docker.io'))
    return ret


def pin(text: str, update: bool = False) -> edit.Edit:
    return edit.plan(text, dockerfile.scan(text), answers_for(text, update), update)


@pytest.mark.parametrize(('before', 'after'), (
    # FROM python:3.12-slim AS build -> the index digest, the stage name kept
    ('FROM python:3.12-slim AS build\n', f'FROM python:3.12-slim@{A} AS build\n'),
    # FROM python -> :latest added, so the tag stays trackable
    ('FROM python\n', f'FROM python:latest@{A}\n'),
    # flags kept
    ('FROM --platform=$BUILDPLATFORM node:20\n', f'FROM --platform=$BUILDPLATFORM node:20@{B}\n'),
    # COPY --from and RUN --mount from= pinned the same way
    ('FROM node:20\nCOPY --from=alpine:3 /a /b\n', f'FROM node:20@{B}\nCOPY --from=alpine:3@{C} /a /b\n'),
    ('FROM node:20\nRUN --mount=type=bind,from=busybox:1,target=/bb true\n',
     f'FROM node:20@{B}\nRUN --mount=type=bind,from=busybox:1@{B},target=/bb true\n'),
    # the syntax directive
    ('# syntax=docker/dockerfile:1\nFROM node:20\n', f'# syntax=docker/dockerfile:1@{C}\nFROM node:20@{B}\n'),
    # an ARG default used as a whole FROM image
    ('ARG BASE=python:3.12\nFROM ${BASE}\n', f'ARG BASE=python:3.12@{A}\nFROM ${{BASE}}\n'),
    # left alone: scratch, stage names, numbered stages
    ('FROM scratch\n', 'FROM scratch\n'),
    ('FROM node:20 AS build\nFROM build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\n',
     f'FROM node:20@{B} AS build\nFROM build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\n'),
    # left alone: digest-only and already pinned references (no --update)
    (f'FROM python@{B}\n', f'FROM python@{B}\n'),
    (f'FROM python:3.12-slim@{B}\n', f'FROM python:3.12-slim@{B}\n'),
    # left alone: references composed from args
    ('ARG PY=3.12\nFROM python:${PY}-slim\n', 'ARG PY=3.12\nFROM python:${PY}-slim\n'),
    ('ARG REG=ghcr.io\nFROM ${REG}/app:1\n', 'ARG REG=ghcr.io\nFROM ${REG}/app:1\n'),
    # left alone: under a "# pin-from: ignore" comment line
    ('# pin-from: ignore\nFROM node:20\n', '# pin-from: ignore\nFROM node:20\n'),
    # an ARG also used another way is left alone
    ('ARG BASE=python:3.12\nFROM ${BASE}\nRUN echo $BASE\n', 'ARG BASE=python:3.12\nFROM ${BASE}\nRUN echo $BASE\n'),
))
def test_what_gets_pinned(before, after):
    result = pin(before)
    assert result.text == after
    assert result.failures == ()
    assert pin(after).text == after  # a second run changes nothing


@pytest.mark.parametrize(('before', 'after'), (
    ('FROM node:20\r\nRUN true\r\n', f'FROM node:20@{B}\r\nRUN true\r\n'),  # CRLF stays
    ('\ufeffFROM node:20\n', f'\ufeffFROM node:20@{B}\n'),  # a BOM stays
    ('# a comment\nfrom  node:20   as x\n', f'# a comment\nfrom  node:20@{B}   as x\n'),  # keyword case, spacing, comments
    ('FROM \\\n  node:20 \\\n  AS x\n', f'FROM \\\n  node:20@{B} \\\n  AS x\n'),  # continuations
    ('# escape=`\nFROM node:20 `\n  AS x\n', f'# escape=`\nFROM node:20@{B} `\n  AS x\n'),
))
def test_every_other_character_stays(before, after):
    assert pin(before).text == after


def test_update_re_pins_moved_tags_and_says_so():
    text = f'FROM node:20@{A}\nFROM node:20@{B}\nFROM python@{C}\n'
    result = pin(text, update=True)
    assert result.text == f'FROM node:20@{B}\nFROM node:20@{B}\nFROM python@{C}\n'
    assert result.changes == (edit.Change(1, f'node:20@{A}', f'node:20@{B}', True),)
    assert [s.reason for s in result.skipped] == ['digest-only reference; no tag to track']


def test_keep_holds_a_vetoed_move():
    text = f'FROM node:20@{A}\n'
    scan = dockerfile.scan(text)
    holds = {edit.Pin(reference.parse('node:20'), A): edit.Hold('held-by-platforms', 'not for linux/arm64')}
    assert edit.plan(text, scan, answers_for(text), True, edit.Moves(holds, {}, {})).text == text


def test_one_failure_leaves_the_whole_file_alone():
    text = 'FROM node:20\nFROM node:99\n'
    result = pin(text)
    assert result.text == text and result.changes == ()
    assert result.failures == (Problem(2, 'node:99', "tag '99' not found in docker.io"),)


def test_a_plain_run_reports_what_it_left_pinned():
    result = pin(f'FROM node:20@{A}\n')
    assert result.skipped == (Skip(1, f'node:20@{A}', 'already pinned (pin-from --update re-pins moved tags)'),)


def test_overlapping_edits_are_a_bug_not_a_silent_mess():
    with pytest.raises(AssertionError):
        edit.splice('abcdef', [(0, 3, 'x'), (2, 4, 'y')])
