"""End-of-life verdicts (check-deprecated-tags --eol) over real endoflife.date product files and the real
official-images library, with a fixed "today" (2026-08-22, the day of both snapshots)."""
from __future__ import annotations

import datetime
import functools
import http.server
import json
import re
import threading
from pathlib import Path

import jsonschema
import pytest

from pin_from import check_deprecated_tags
from pin_from.errors import EolError
from pin_from.errors import UsageError
from pin_from.support import endoflife
from pin_from.support import eol
from pin_from.support import library
from pin_from.support.eol_check import TESTS_TODAY_ENV

from tests import endoflife_api
from tests.data import DOCS, OFFICIAL_IMAGES

EOL = endoflife_api.ENDOFLIFE
LIBRARY = OFFICIAL_IMAGES / 'current' / 'library'
TODAY = datetime.date(2026, 8, 22)
WINDOW = eol.Window(datetime.timedelta(days=90))
README = Path(__file__).resolve().parents[1] / 'README.md'
RESULTS_SCHEMA = json.loads((Path(check_deprecated_tags.__file__).parent / 'schemas' / 'results-v1.json').read_text())


@functools.cache
def data() -> endoflife.Data:
    return endoflife.load(str(EOL), None)


@functools.cache
def listed(image: str) -> tuple[str, ...]:
    path = LIBRARY / image
    return tuple(sorted(library.parse_library(image, path.read_text()).tags)) if path.exists() else ()


def official(name: str) -> bool:
    return (LIBRARY / name).is_file()


def index(d: endoflife.Data | None = None) -> eol.Index:
    return eol.Index(d or data(), official)


def verdicts(ref: str, today: datetime.date = TODAY, window: eol.Window = WINDOW) -> list[tuple]:
    image, tag = ref.split(':')
    judged = eol.judge(index(), image, tag, today, window, listed(image))
    return [(v.subject, v.cycle.title, v.status, v.suggestion) for v in judged.verdicts]


# --- the image's own cycle -------------------------------------------------------------------------------------

@pytest.mark.parametrize(('ref', 'expected'), (
    ('python:3.8', [('image', 'Python 3.8', 'end-of-life', 'python:3.14')]),
    ('python:3.9-slim', [('image', 'Python 3.9', 'end-of-life', 'python:3.14-slim')]),
    ('python:3.10', [('image', 'Python 3.10', 'near-end-of-life', 'python:3.14')]),  # 2026-10-31: 70 days
    ('python:3.10.4-slim', [('image', 'Python 3.10', 'near-end-of-life', 'python:3.14.7-slim')]),
    ('python:3.1', [('image', 'Python 3.1', 'end-of-life', 'python:3.14')]),  # 3.1 is a cycle of its own
    ('python:3.13-alpine', [('image', 'Python 3.13', 'supported', None)]),
    ('node:18-alpine', [('image', 'Node.js 18', 'end-of-life', 'node:26-alpine')]),
    ('node:22', [('image', 'Node.js 22', 'supported', None)]),
    ('node:20.11.1', [('image', 'Node.js 20', 'end-of-life', 'node:26.7.0')]),
    ('golang:1.22', [('image', 'Go 1.22', 'end-of-life', 'golang:1.27')]),
    ('golang:1.22.5-bookworm', [
        ('image', 'Go 1.22', 'end-of-life', 'golang:1.27.0-trixie'),
        ('base', 'Debian 12 (Bookworm)', 'end-of-life', 'golang:1.27.0-trixie'),
    ]),
    ('postgres:16', [('image', 'PostgreSQL 16', 'supported', None)]),
    ('postgres:14', [('image', 'PostgreSQL 14', 'near-end-of-life', 'postgres:18')]),  # 2026-11-12
    ('postgres:12.19-bookworm', [
        ('image', 'PostgreSQL 12', 'end-of-life', 'postgres:18.6-trixie'),
        ('base', 'Debian 12 (Bookworm)', 'end-of-life', 'postgres:18.6-trixie'),
    ]),
))
def test_the_image_cycle(ref, expected):
    assert verdicts(ref) == expected


@pytest.mark.parametrize('ref', (
    'python:3', 'python:latest', 'python:slim', 'node:lts', 'node:lts-alpine', 'node:current', 'golang:1',
    'postgres:9', 'python:3.15.0rc1', 'nginx:1.27', 'alpine:edge', 'debian:stable', 'ubuntu:rolling',
))
def test_tags_with_no_cycle_get_no_verdict(ref):
    image, tag = ref.split(':')
    judged = eol.judge(index(), image, tag, TODAY, WINDOW, listed(image))
    assert judged.verdicts == () and judged.why_none


def test_why_there_is_no_verdict():
    assert eol.judge(index(), 'python', '3', TODAY, WINDOW).why_none == 'the tag names no Python release cycle'
    assert eol.judge(index(), 'nginx', '1.27', TODAY, WINDOW).why_none == \
        "no endoflife.date product names the image 'nginx'"


def test_longest_cycle_name_first():
    """Python has cycles 3.1 and 3.10: 3.10.x is never read as 3.1."""
    python = next(p for p in data().products if p.name == 'python')
    assert {'3.1', '3.10'} <= {c.name for c in python.cycles}
    for tag in ('3.10', '3.10.4', '3.10.4-slim-bookworm'):
        (verdict, *_) = eol.judge(index(), 'python', tag, TODAY, WINDOW).verdicts
        assert verdict.cycle.name == '3.10'


# --- base systems and OS images ---------------------------------------------------------------------------------

@pytest.mark.parametrize(('ref', 'expected'), (
    ('python:3.12-bullseye', [
        ('image', 'Python 3.12', 'supported', None),
        ('base', 'Debian 11 (Bullseye)', 'end-of-life', 'python:3.12-trixie'),
    ]),
    ('python:3.13-slim-bookworm', [
        ('image', 'Python 3.13', 'supported', None),
        ('base', 'Debian 12 (Bookworm)', 'end-of-life', 'python:3.13-slim-trixie'),
    ]),
    ('python:bookworm', [('base', 'Debian 12 (Bookworm)', 'end-of-life', 'python:trixie')]),
    ('node:22-alpine3.20', [
        ('image', 'Node.js 22', 'supported', None),
        ('base', 'Alpine Linux 3.20', 'end-of-life', 'node:22-alpine3.24'),
    ]),
    ('golang:1.26-alpine3.21', [
        ('image', 'Go 1.26', 'supported', None),
        ('base', 'Alpine Linux 3.21', 'near-end-of-life', 'golang:1.26-alpine3.24'),  # 2026-11-01
    ]),
    ('eclipse-temurin:21-jdk-jammy', [('base', 'Ubuntu 22.04 (Jammy Jellyfish)', 'supported', None)]),
    ('eclipse-temurin:17-jdk-focal', [
        ('base', 'Ubuntu 20.04 (Focal Fossa)', 'end-of-life', 'eclipse-temurin:17-jdk-resolute'),
    ]),
    ('debian:bullseye', [('image', 'Debian 11 (Bullseye)', 'end-of-life', 'debian:trixie')]),
    ('debian:bullseye-slim', [('image', 'Debian 11 (Bullseye)', 'end-of-life', 'debian:trixie-slim')]),
    ('debian:13', [('image', 'Debian 13 (Trixie)', 'supported', None)]),
    ('ubuntu:20.04', [('image', 'Ubuntu 20.04 (Focal Fossa)', 'end-of-life', 'ubuntu:26.04')]),
    ('ubuntu:focal', [('image', 'Ubuntu 20.04 (Focal Fossa)', 'end-of-life', 'ubuntu:resolute')]),
    ('ubuntu:24.04', [('image', 'Ubuntu 24.04 (Noble Numbat)', 'supported', None)]),
    ('alpine:3.16', [('image', 'Alpine Linux 3.16', 'end-of-life', 'alpine:3.24')]),
    ('alpine:3.21.3', [('image', 'Alpine Linux 3.21', 'near-end-of-life', 'alpine:3.24.1')]),
))
def test_base_systems_and_os_images(ref, expected):
    assert verdicts(ref) == expected


def test_codenames_come_from_the_data():
    """No table: a codename the data gains is a base system the next day."""
    debian = next(p for p in data().products if p.name == 'debian')
    trixie = next(c for c in debian.cycles if c.name == '13')
    forky = trixie._replace(name='14', codename='Forky', released=TODAY, eol=TODAY + datetime.timedelta(days=30))
    changed = data()._replace(products=tuple(
        p._replace(cycles=(forky, *p.cycles)) if p.name == 'debian' else p for p in data().products
    ))
    judged = eol.judge(eol.Index(changed, official), 'python', '3.14-forky', TODAY, WINDOW)
    assert [(v.subject, v.cycle.title, v.status) for v in judged.verdicts] == [
        ('image', 'Python 3.14', 'supported'), ('base', 'Debian 14 (Forky)', 'near-end-of-life'),
    ]
    assert eol.judge(index(), 'python', '3.14-forky', TODAY, WINDOW).verdicts[1:] == ()


def test_only_official_operating_systems_are_base_systems():
    """Slackware's codename is 'stable'; Slackware is no official image, so '-stable' names no base system."""
    slackware = next(p for p in data().products if p.name == 'slackware')
    assert any(c.codename and c.codename.lower() == 'stable' for c in slackware.cycles)
    assert eol.judge(index(), 'python', '3.13-stable', TODAY, WINDOW).verdicts[1:] == ()
    everything = eol.Index(data(), lambda name: True)
    (_, base) = eol.judge(everything, 'python', '3.13-stable', TODAY, WINDOW).verdicts
    assert base.cycle.product == 'slackware'


def test_a_word_two_operating_systems_claim_names_neither():
    debian = next(p for p in data().products if p.name == 'debian')
    twin = debian._replace(name='debian-twin', aliases=(), cycles=debian.cycles[:3])
    both = data()._replace(products=data().products + (twin,))
    judged = eol.judge(eol.Index(both, lambda name: True), 'python', '3.13-bookworm', TODAY, WINDOW)
    assert [v.subject for v in judged.verdicts] == ['image']


def test_no_suggestion_when_none_is_listed():
    judged = eol.judge(index(), 'python', '3.8-slim-buster', TODAY, WINDOW, ('3.8-slim-buster', '3.14-slim'))
    assert [(v.subject, v.status, v.suggestion) for v in judged.verdicts] == [
        ('image', 'end-of-life', None), ('base', 'end-of-life', None),
    ]


def test_suggestions_skip_cycles_not_yet_released_and_date_stamps():
    judged = eol.judge(index(), 'ubuntu', 'jammy', TODAY, eol.Window(datetime.timedelta(days=400)), listed('ubuntu'))
    (verdict,) = judged.verdicts
    assert verdict.status == 'near-end-of-life' and verdict.suggestion == 'ubuntu:resolute'
    assert 'resolute-20260811.1' in listed('ubuntu')


def test_the_window_and_failing_within():
    ref = ('python', '3.10')
    assert eol.judge(index(), *ref, TODAY, eol.Window(datetime.timedelta(days=60))).verdicts[0].status == 'supported'
    ending = eol.judge(index(), *ref, TODAY, WINDOW).verdicts[0]
    assert (ending.status, ending.fails) == ('near-end-of-life', False)
    failing = eol.judge(index(), *ref, TODAY, eol.Window(WINDOW.warn, datetime.timedelta(days=71))).verdicts[0]
    assert (failing.status, failing.fails) == ('near-end-of-life', True)
    # the day itself: ended
    ended = eol.judge(index(), *ref, datetime.date(2026, 10, 31), WINDOW).verdicts[0]
    assert (ended.status, ended.fails) == ('end-of-life', True)
    assert eol.judge(index(), *ref, datetime.date(2026, 10, 30), WINDOW).verdicts[0].status == 'near-end-of-life'


def test_messages():
    ended, = eol.judge(index(), 'python', '3.8-slim', TODAY, WINDOW).verdicts
    assert eol.message('python:3.8-slim', ended, TODAY) == \
        'python:3.8-slim: Python 3.8 reached end of life on 2024-10-07'
    _, base = eol.judge(index(), 'python', '3.12-bullseye', TODAY, WINDOW).verdicts
    assert eol.message('python:3.12-bullseye', base, TODAY) == (
        'python:3.12-bullseye: its base system, Debian 11 (Bullseye), reached end of life on 2024-08-14 '
        '(extended support until 2026-08-31)'
    )
    ending, = eol.judge(index(), 'postgres', '14', TODAY, WINDOW).verdicts
    assert eol.message('postgres:14', ending, TODAY) == \
        'postgres:14: PostgreSQL 14 reaches end of life on 2026-11-12, in 82 days'


# --- reading the data -----------------------------------------------------------------------------------------

def _cycles(products) -> dict:
    return {(p.name, c.name): c for p in products for c in p.cycles}


def test_the_api_json_says_what_the_product_files_say(tmp_path):
    document = endoflife_api.full()
    jsonschema.Draft202012Validator(endoflife_api.schema('FullProductListResponse')).validate(document)
    (tmp_path / 'full.json').write_text(json.dumps(document))
    from_json = endoflife.load(str(tmp_path), None)
    assert _cycles(from_json.products) == _cycles(data().products)
    assert {p.name: (p.images, p.aliases, p.is_os) for p in from_json.products} == \
        {p.name: (p.images, p.aliases, p.is_os) for p in data().products}
    assert len(from_json.products) == len(list((EOL / 'products').glob('*.md')))
    assert endoflife.load(str(tmp_path / 'full.json'), None) == from_json


def test_products_that_cannot_matter_are_not_kept(tmp_path):
    products = {p.name: p for p in data().products}
    assert products['python'].images == ('python',)
    assert products['nodejs'].images == ('node',)
    assert products['alpine-linux'].aliases == ('alpine', 'alpinelinux') and products['alpine-linux'].is_os
    python = (EOL / 'products' / 'python.md').read_text()
    (tmp_path / 'python.md').write_text(python)
    (tmp_path / 'cpython.md').write_text(python.replace('pkg:docker/library/python', 'pkg:pypi/python'))
    assert [p.name for p in endoflife.load(str(tmp_path), None).products] == ['python']
