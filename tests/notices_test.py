"""pin_from.support.notices against the real docker-library/docs deprecation notices."""
from __future__ import annotations

import random

import pytest

from pin_from.support.notices import Notice, parse_notice
from tests.data import DOCS


def notice(name: str) -> Notice:
    return parse_notice(name, (DOCS / name / 'deprecated.md').read_text())


NAMES = (
    'amazonlinux', 'clearlinux', 'clefos', 'emqx', 'liquibase', 'mongo-express',
    'nextcloud', 'notary', 'openjdk', 'php-zendserver', 'plone', 'rockylinux', 'unit',
)


def test_the_fixture_set_is_complete():
    found = {p.parent.name for p in DOCS.glob('*/deprecated.md')}
    assert found == set(NAMES)


@pytest.mark.parametrize('name', NAMES)
def test_every_real_notice_gives_one_plain_sentence(name):
    result = notice(name)
    assert result.name == name
    sentence = result.first_sentence
    assert sentence[:1].isupper()
    assert sentence.endswith('.')
    for markdown in ('](', '**', '`', '\n', '  ', '# ', '\u26a0'):
        assert markdown not in sentence
    assert 20 < len(sentence) < 300


FIRST_SENTENCES = {
    'openjdk': 'This image is officially deprecated and all users are recommended '
               'to find and use suitable replacements ASAP.',
    'clefos': 'With the EOL of CentOS 7 (June 30, 2024), this image/project is '
              'officially deprecated.',
    'mongo-express': 'This image is deprecated due to maintainer inactivity (last '
                     'updated Apr 2024; docker-library/official-images#16597).',
    'unit': 'As of October 2025, NGINX Unit is archived and unmaintained.',
    'notary': 'The upstream Notary project was archived as of July 30, 2025.',
    'nextcloud': 'This image is maintained by community volunteers and designed '
                 'for expert use.',  # after '# IMPORTANT NOTE' and the emoji
    'plone': 'Plone 4.x is no longer supported.',  # after '# ⚠️ DEPRECATION NOTICE ⚠️'
}


@pytest.mark.parametrize('name, sentence', FIRST_SENTENCES.items())
def test_first_sentence(name, sentence):
    assert notice(name).first_sentence == sentence


def test_clearlinux_skips_the_bare_url_and_the_quote_marker():
    assert notice('clearlinux').first_sentence.startswith(
        'Effective immediately [2025-07-18], Intel will no longer provide',
    )


def test_amazonlinux_strips_code_and_links():
    sentence = notice('amazonlinux').first_sentence
    assert sentence.startswith('The 1, 2018.03, and 2018.03.0.20231218.0 tags')
    assert '(December 31, 2023 / docker-library/official-images#22075,' in sentence
    assert sentence.endswith('December 18, 2023).')


ALTERNATIVES = {
    'openjdk': ('amazoncorretto', 'eclipse-temurin', 'ibm-semeru-runtimes',
                'ibmjava', 'sapmachine'),
    'emqx': ('emqx/emqx', 'emqx/emqx-enterprise'),
    'liquibase': ('liquibase/liquibase', 'liquibase/liquibase-secure'),
    'rockylinux': ('rockylinux/rockylinux',),
    'amazonlinux': ('amazonlinux:2023',),
    'plone': ('Plone Backend', 'Plone Frontend', 'ZEO Server'),
    'nextcloud': ('Nextcloud All-in-One docker container',),
    'clearlinux': (),
    'clefos': (),
    'mongo-express': (),
    'notary': (),
    'php-zendserver': (),
    'unit': (),
}


@pytest.mark.parametrize('name, alternatives', ALTERNATIVES.items())
def test_alternatives(name, alternatives):
    assert notice(name).alternatives == alternatives


def test_openjdk_notice():
    result = notice('openjdk')
    assert 'deprecated' in result.first_sentence.lower()
    assert 'eclipse-temurin' in result.alternatives
    assert 'openjdk' not in result.alternatives


@pytest.mark.parametrize('markdown, sentence, alternatives', [
    ('**DEPRECATION NOTICE**: This image is dead. Use `foo/bar` instead.',
     'This image is dead.', ('foo/bar',)),
    ('**DEPRECATED** This image is *gone*! Really.', 'This image is gone!', ()),
    ('DEPRECATION NOTICE: _This_ image is __old__.', 'This image is old.', ()),
    ('# Title\n\n> > Quoted, e.g. here. More', 'Quoted, e.g. here.', ()),
    ('Intro\nwraps here. Next one.', 'Intro wraps here.', ()),
    ('See [x](https://hub.docker.com/_/x) and [me](https://hub.docker.com/_/me/).',
     'See x and me.', ('x',)),
    ('No sentence end', 'No sentence end', ()),
    ('```\nUse `a/b` instead.\n```\nText.', 'Text.', ()),
    ('<!-- hidden. -->Shown <b>bold</b>.', 'Shown bold.', ()),
    ('Use these instead:\n\n1. [`a`](https://hub.docker.com/r/ns/a)\n2. `b/c` - fine\n'
     '* [Issue](https://example.com) is unrelated', 'Use these instead:',
     ('ns/a', 'b/c', 'Issue')),
    ('[text](https://github.com/x/y) starts a paragraph.', 'text starts a paragraph.', ()),
])
def test_synthetic_notices(markdown, sentence, alternatives):
    result = parse_notice('me', markdown)
    assert result.first_sentence == sentence
    assert result.alternatives == alternatives


@pytest.mark.parametrize('markdown', [
    '', '\n\n', '#', '# only a heading', '-', '* ', '>', '```', '<!--', '[', '[a](',
    '](', '**', '`', '``` unterminated\ntext', '\x00\u2028\ufeff', 'https://example.com',
    '[![img](x)](y)', '-\t[`x`](', '_' * 1000, '*a' * 500, '[' * 500 + ']' * 500,
])
def test_odd_markdown_never_raises(markdown):
    result = parse_notice('x', markdown)
    assert isinstance(result.first_sentence, str)
    assert isinstance(result.alternatives, tuple)


def test_fuzz_never_raises():
    rng = random.Random(7)
    seeds = [(DOCS / n / 'deprecated.md').read_text() for n in NAMES]
    alphabet = '[]()`*_#>-!<\n \t:/.abcAB1\u26a0'
    for _ in range(500):
        text = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 10)):
            pos = rng.randrange(len(text) + 1)
            if rng.random() < 0.5 and text:
                del text[min(pos, len(text) - 1)]
            else:
                text.insert(pos, rng.choice(alphabet))
        result = parse_notice('x', ''.join(text))
        assert '\n' not in result.first_sentence
        assert all(isinstance(a, str) and a for a in result.alternatives)
