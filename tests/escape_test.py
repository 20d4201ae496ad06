"""pin_from.escape: tables of inputs, and CommonMark rendering as the oracle.

markdown-it-py is a CommonMark-compliant renderer (with GFM tables enabled
here); what it renders is what a pull-request page shows, minus GitHub's own
mention pass, which never looks inside code elements.
"""
from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from pin_from.escape import code_span
from pin_from.escape import ELLIPSIS
from pin_from.escape import markdown_text
from pin_from.escape import terminal

FORGED = (
    'ok\n\n## Approved by security team\n\n<img src="https://t.example/p.gif">'
    ' [click](javascript:alert(1)) @everyone | x ` `` ```'
)


def render(markdown: str) -> str:
    return MarkdownIt('commonmark').enable('table').render(markdown)


def codes(html: str) -> list[str]:
    return re.findall(r'<code>(.*?)</code>', html, re.S)


# --- terminal ------------------------------------------------------------------

@pytest.mark.parametrize(
    ('text', 'shown'),
    (
        ('python:3.12-slim', 'python:3.12-slim'),
        ('FROM \x1b]0;pwned\x07python:3', 'FROM \\x1b]0;pwned\\x07python:3'),
        ('a\nb\rc\td\x00', 'a\\x0ab\\x0dc\\x09d\\x00'),
        ('del\x7f c1\x9b[2J', 'del\\x7f c1\\x9b[2J'),
        ('abc\u202edcba', 'abc\\u202edcba'),
        ('\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d', '\\u2066\\u2067\\u2068\\u2069\\u202a\\u202b\\u202c\\u202d'),
        ('line\u2028sep\u2029', 'line\\u2028sep\\u2029'),
        ('bad\udcffbyte', 'bad\\udcffbyte'),  # surrogateescape'd file names print, escaped
        ('déjà vu 日本 ⚠ \u00a0', 'déjà vu 日本 ⚠ \u00a0'),  # ordinary Unicode is kept
        ('C:\\path', 'C:\\path'),
        ('', ''),
    ),
)
def test_terminal(text: str, shown: str) -> None:
    assert terminal(text) == shown


@pytest.mark.parametrize('code', (*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)))
def test_terminal_leaves_no_unsafe_character(code: int) -> None:
    out = terminal(f'a{chr(code)}b')
    assert out.isprintable() and out.encode('ascii')


# --- code_span -----------------------------------------------------------------

@pytest.mark.parametrize(
    ('text', 'span'),
    (
        ('3.12.7', '`3.12.7`'),
        ('a`b', '``a`b``'),
        ('``x', '``` ``x ```'),
        ('x`', '`` x` ``'),
        (' padded ', '`  padded  `'),
        ('   ', '`   `'),
        ('', '` `'),
        ('a|b', '`a¦b`'),
        ('a\nb', '`a\\x0ab`'),
        ('x' * 10, '`' + 'x' * 4 + ELLIPSIS + '`'),
    ),
)
def test_code_span(text: str, span: str) -> None:
    limit = 5 if text == 'x' * 10 else 200
    assert code_span(text, limit) == span


@pytest.mark.parametrize(
    'text',
    (
        'plain', 'a`b', '``x', 'x`', ' padded ', '   ', 'a|b', '<b>bold</b>', '&amp; &lt;',
        'a\\`b', '*not em*', '[x](javascript:alert(1))', ' ` ', '`', '``', '\\',
    ),
)
def test_code_span_renders_the_text_exactly(text: str) -> None:
    html = render(f'before {code_span(text)} after')
    assert codes(html) == [
        text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
        .replace('|', '¦'),
    ]
    assert html.startswith('<p>before <code>') and html.endswith('</code> after</p>\n')


def test_a_forged_value_stays_one_code_element() -> None:
    html = render(f'- Labels: `note` added: {code_span(FORGED, 1000)}\n')
    assert '<h2' not in html and '<img' not in html and '<a ' not in html
    assert len(codes(html)) == 2 and '@everyone' in codes(html)[1]
    assert html.count('<li>') == 1


def test_a_forged_value_keeps_a_table_row_whole() -> None:
    row = f'| {code_span("a | b")} | {code_span(FORGED, 1000)} | `x` |'
    html = render('| one | two | three |\n|---|---|---|\n' + row + '\n')
    assert html.count('<td>') == 3
    assert '<h2' not in html and '<img' not in html


def test_code_span_caps_the_length_before_escaping() -> None:
    span = code_span('A' * 10_000)
    assert span == '`' + 'A' * 199 + ELLIPSIS + '`'
    assert len(code_span('\x1b' * 10_000)) <= 200 * 4 + 2


# --- markdown_text -------------------------------------------------------------

@pytest.mark.parametrize(
    ('text', 'markdown'),
    (
        ('Debian 12', 'Debian 12'),
        ('## x', '\\#\\# x'),
        ('a*b_c', 'a\\*b\\_c'),
        ('<img>', '\\<img\\>'),
        ('[a](b)', '\\[a\\]\\(b\\)'),
        ('a|b', 'a\\|b'),
        ('a`b', 'a\\`b'),
        ('a\\b', 'a\\\\b'),
        ('@everyone', '`@`everyone'),
        ('a\nb', 'a\\x0ab'),
        ('x' * 10, 'x' * 4 + ELLIPSIS),
    ),
)
def test_markdown_text(text: str, markdown: str) -> None:
    limit = 5 if text == 'x' * 10 else 200
    assert markdown_text(text, limit) == markdown


@pytest.mark.parametrize(
    'text',
    ('## Approved', '- item', '1. item', '> quote', '---', '===', '+ x', '<b>x</b>', 'a_b_c', '~~x~~', '&amp;', '`x`'),
)
def test_markdown_text_renders_as_the_text(text: str) -> None:
    html = render(markdown_text(text))
    shown = text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    assert html == f'<p>{shown}</p>\n'


def test_markdown_text_of_the_forged_value() -> None:
    html = render(f'- Note: {markdown_text(FORGED, 1000)}\n')
    assert '<h2' not in html and '<img' not in html and '<a ' not in html and '<em>' not in html
    assert '<code>@</code>everyone' in html
    assert html.count('<li>') == 1


def test_markdown_text_keeps_a_table_row_whole() -> None:
    cell = markdown_text('x \\| y | z')
    html = render(f'| a | b |\n|---|---|\n| {cell} | {markdown_text(FORGED)} |\n')
    assert html.count('<td>') == 2


def test_every_format_character_is_escaped_everywhere() -> None:
    """Unicode category Cf renders as nothing (issue 18, item 10): 'open<ZWJ>ssl' must not read 'openssl'."""
    import sys
    import unicodedata
    format_chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == 'Cf']
    assert len(format_chars) > 150
    text = 'a'.join(format_chars)
    for shown in (terminal(text), code_span(text, limit=10_000), markdown_text(text, limit=10_000)):
        assert not [c for c in shown if unicodedata.category(c) == 'Cf']
    assert terminal('open\u200dssl') == 'open\\u200dssl'
    assert terminal('\U000e0041') == '\\U000e0041'
