"""pin_from.support.notices stays linear on huge adversarial Markdown (notices come from the network).

Each of these took minutes to hours before the patterns were made linear (see the
commit message); a regression fails at the deadline instead of hanging the suite.
"""
from __future__ import annotations

import pytest

from pin_from.support.notices import parse_notice
from tests.deadline import deadline

MB = 1 << 20
LIMIT = 20
END = '\n\nThis image is deprecated. Use [other](https://hub.docker.com/_/other) instead.'

ADVERSARIAL = {
    'image openers without ]': '![' * (MB // 2),
    'link openers without ]': '[' * MB,
    'link with a megabyte of spaces': '[a](' + ' ' * MB + 'x',
    'links without )': '[a](https://hub.docker.com/_/' * (MB // 30),
    'link titles without )': '[a](x "t" ' * (MB // 10),
    'reference links without ]': '[a][' * (MB // 4),
    'autolinks without >': '<http:' * (MB // 6),
    'html tags without >': '<a' * (MB // 2),
    'strong openers without closer': '**a ' * (MB // 4),
    'underscore strong without closer': '__a ' * (MB // 4),
    'list items of links': '- [' * (MB // 3),
}


@pytest.mark.parametrize('markdown', ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_markdown_then_a_real_notice(markdown):
    with deadline(LIMIT):
        notice = parse_notice('x', markdown + END)
    assert notice.name == 'x' and 'other' in notice.alternatives


def test_megabyte_of_quote_markers():
    with deadline(LIMIT):
        notice = parse_notice('x', '>' * MB + ' This image is deprecated. Use other.')
    assert notice.first_sentence == 'This image is deprecated.'


def test_many_all_caps_prefixes():
    with deadline(LIMIT):
        notice = parse_notice('x', 'NOTE: ' * (MB // 6) + 'This image is deprecated.')
    assert notice.first_sentence == 'This image is deprecated.'


def test_strong_keeps_working_after_the_change():
    notice = parse_notice('x', '**Deprecated**: use __the `other/image:1` image__ instead.')
    assert notice.first_sentence == 'Deprecated: use the other/image:1 image instead.'
    assert notice.alternatives == ('other/image:1',)
    assert parse_notice('x', '**a **b** c.').first_sentence == '**a b c.'
