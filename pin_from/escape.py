"""Text from outside, made safe for a terminal or a Markdown report."""
from __future__ import annotations

import re

_CONTROL_RE = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]')


def _escaped(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f'\\x{c:02x}' if c < 0x100 else f'\\u{c:04x}'


def terminal(text: str) -> str:
    """Control characters (and bidi overrides) shown as escapes; tab kept."""
    return _CONTROL_RE.sub(_escaped, text)


_RUN_RE = re.compile('`+')
_MD_SPECIAL_RE = re.compile(r'([\\`*_\[\]<>#|@!~&])')
MAX_VALUE = 200


def _capped(text: str, limit: int) -> str:
    text = terminal(text.replace('\r', ' ').replace('\n', ' ').replace('\t', ' '))
    return text if len(text) <= limit else text[:limit - 1] + '…'


def code_span(text: str, limit: int = MAX_VALUE) -> str:
    """A Markdown code span nothing can break out of, fit for a table cell."""
    text = _capped(text, limit).replace('|', '\\|')
    longest = max((len(m.group()) for m in _RUN_RE.finditer(text)), default=0)
    fence = '`' * (longest + 1)
    pad = ' ' if text.startswith(('`', ' ')) or text.endswith(('`', ' ')) or not text.strip() else ''
    return f'{fence}{pad}{text}{pad}{fence}'


def markdown_text(text: str, limit: int = MAX_VALUE) -> str:
    """Prose from outside as literal Markdown text: no markup, links, HTML or mentions."""
    return _MD_SPECIAL_RE.sub(r'\\\1', _capped(text, limit))
