"""One decision per site: every status and every reason of the closed set, from one function (edit.decide)."""
from __future__ import annotations

from typing import get_args

import pytest

from pin_from import reference
from pin_from.errors import RegistryError
from pin_from.files import edit
from pin_from.kinds import dockerfile

A = 'sha256:' + 'a' * 64
B = 'sha256:' + 'b' * 64
C = 'sha256:' + 'c' * 64
NODE = reference.parse('node:20')
LOST = RegistryError("tag '99' not found in docker.io")


def holds(why):
    return {edit.Pin(NODE, A): edit.Hold(why, f'{why} in words')}


# (text, answers by tag, update, moves, check) -> (status, why, old, new, reason) of the last site or skip
ROWS = [
    ('FROM node:20\n', {'node:20': B}, False, edit.NO_MOVES, False, ('pinned', 'pinned', None, B, None)),
    ('FROM node:20\n', {'node:20': B}, False, edit.NO_MOVES, True, ('would-pin', 'pinned', None, B, None)),
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.NO_MOVES, False, ('re-pinned', 're-pinned', A, B, None)),
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.NO_MOVES, True, ('would-re-pin', 're-pinned', A, B, None)),
    (f'FROM node:20@{A}\n', {'node:20': A}, True, edit.NO_MOVES, False, ('unchanged', 'unchanged', A, A, None)),
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.Moves(holds('held-by-platforms'), {}, {}), False,
     ('unchanged', 'held-by-platforms', A, A, 'held-by-platforms in words')),
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.Moves(holds('held-by-min-age'), {}, {}), False,
     ('unchanged', 'held-by-min-age', A, A, 'held-by-min-age in words')),
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.Moves(holds('platform-pin-kept'), {}, {}), False,
     ('unchanged', 'platform-pin-kept', A, A, 'platform-pin-kept in words')),
    # a platform pin whose platform moved: re-pinned to that platform's new manifest, not the index
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.Moves({}, {edit.Pin(NODE, A): C}, {}), False,
     ('re-pinned', 're-pinned', A, C, None)),
    (f'FROM node@{A}\n', {}, True, edit.NO_MOVES, False,
     ('skipped', 'digest-only', A, None, 'digest-only reference; no tag to track')),
    (f'FROM node:20@{A}\n', {}, False, edit.NO_MOVES, False,
     ('skipped', 'already-pinned', A, None, 'already pinned (pin-from --update re-pins moved tags)')),
    ('FROM scratch\n', {}, False, edit.NO_MOVES, False, ('skipped', 'scanner', None, None, 'scratch is not an image')),
    ('FROM node:99\nFROM node:20\n', {'node:20': B, 'node:99': LOST}, False, edit.NO_MOVES, False,
     ('skipped', 'file-failed', None, None, 'the file is left untouched: another reference in it failed')),
    ('FROM node:99\n', {'node:99': LOST}, False, edit.NO_MOVES, False, ('error', 'error', None, None, str(LOST))),
    # the new image cannot be read: an error, never a pin
    (f'FROM node:20@{A}\n', {'node:20': B}, True, edit.Moves({}, {}, {edit.Pin(NODE, B): LOST}), False,
     ('error', 'error', A, None, str(LOST))),
]


def _decide(text, tags, update, moves, check):
    scan = dockerfile.scan(text)
    answers = {s.ref: tags[str(s.ref.tag_only())] for s in scan.sites if edit.wanted(s, update)}
    return edit.decide(scan, answers, update, moves, check)


@pytest.mark.parametrize(('text', 'tags', 'update', 'moves', 'check', 'expected'), ROWS)
def test_one_decision_per_site(text, tags, update, moves, check, expected):
    last = _decide(text, tags, update, moves, check)[-1]
    assert (last.status, last.why, last.old, last.new, last.reason) == expected


def test_the_table_covers_every_status_and_reason():
    statuses = {row[-1][0] for row in ROWS}
    whys = {row[-1][1] for row in ROWS}
    assert statuses == set(get_args(edit.Status))
    assert whys == set(get_args(edit.Why))


def test_the_new_text_is_made_from_the_decisions():
    text = f'FROM node:20@{A}\nFROM node:20\n'
    result = edit.plan(text, dockerfile.scan(text), {reference.parse(f'node:20@{A}'): B, NODE: B}, True,
                       edit.Moves(holds('held-by-min-age'), {}, {}))
    assert result.text == f'FROM node:20@{A}\nFROM node:20@{B}\n'  # the hold keeps one, the other is pinned
    assert [d.why for d in result.decisions] == ['held-by-min-age', 'pinned']
