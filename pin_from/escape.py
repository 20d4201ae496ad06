"""Untrusted text (from images, registries, files) made safe to show.

Three shapes, one rule: a character that could change what a reader sees
elsewhere (move the cursor, set a terminal title, reorder text, start a
Markdown heading, an HTML tag, a link or a mention) never passes through raw.

* :func:`terminal`: for lines printed to a terminal or a CI log. C0 and C1
  control characters, DEL, line/paragraph separators, lone surrogates and
  every format character (Unicode category Cf: the bidirectional overrides,
  isolates and marks, zero-width space and joiners, U+061C, the soft hyphen,
  tag characters; ``open\u200dssl`` must not render as ``openssl``) become
  visible ``\\xNN`` / ``\\uNNNN`` / ``\\UNNNNNNNN`` escapes; every other
  character, ordinary Unicode included, is kept.
* :func:`code_span`: a Markdown inline code span that no content can break
  out of, fit for a table cell; length-capped.
* :func:`markdown_text`: prose for Markdown (a report, a PR body): every
  Markdown-significant character backslash-escaped, ``@`` put in a code span
  so that no mention fires; length-capped.

Pure functions, no imports from the rest of pin-from.
"""
from __future__ import annotations

import re

ELLIPSIS = '…'
DEFAULT_LIMIT = 200
PIPE_STAND_IN = '¦'  # U+00A6: a "|" inside a table cell splits it even in a code span

# Unicode's format characters (category Cf, as of Unicode 15.1; escape_test
# checks it covers the running Python's unicodedata), as code point ranges
_FORMAT_RANGES = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_FORMAT = frozenset(c for lo, hi in _FORMAT_RANGES for c in range(lo, hi + 1))
_SEPARATORS = frozenset((0x2028, 0x2029))
_PUNCTUATION = frozenset('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')  # string.punctuation, without importing string
_BACKTICKS_RE = re.compile('`+')


def _unsafe(code: int) -> bool:
    return (
        code < 0x20 or 0x7F <= code <= 0x9F or code in _FORMAT or code in _SEPARATORS
        or 0xD800 <= code <= 0xDFFF
    )


def _escape_char(char: str) -> str:
    """``char`` itself, or its visible escape if it is unsafe on a terminal."""
    code = ord(char)
    if not _unsafe(code):
        return char
    if code < 0x100:
        return f'\\x{code:02x}'
    return f'\\u{code:04x}' if code < 0x10000 else f'\\U{code:08x}'


# The same set as _unsafe, as one pattern: clean text (nearly every line) is
# found clean by one C-level search, not a Python call per character.
_UNSAFE_RE = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff' + ''.join(
    f'{chr(lo)}-{chr(hi)}' for lo, hi in _FORMAT_RANGES) + ']')


def terminal(text: str) -> str:
    """``text`` with control, format (Cf) and separator characters escaped."""
    if text.isascii() and text.isprintable():  # nearly every line: nothing to look for
        return text
    if _UNSAFE_RE.search(text) is None:
        return text
    return _UNSAFE_RE.sub(lambda m: _escape_char(m.group()), text)


def file_name(path: str | None) -> str | None:
    """A file name as text any JSON or SARIF consumer accepts: itself when it is
    valid Unicode, else its bytes percent-encoded (a non-UTF-8 name holds lone
    surrogates, which UTF-8 cannot encode). SARIF URIs percent-encode every
    name by the same rule (:func:`uri_path`)."""
    if path is None or not _SURROGATE_RE.search(path):
        return path
    return uri_path(path)


def uri_path(path: str) -> str:
    """``path``'s bytes (as the OS has them) percent-encoded for a URI; ``/`` kept."""
    import os
    import urllib.parse
    return urllib.parse.quote(os.fsencode(path), safe='/')


_SURROGATE_RE = re.compile('[\ud800-\udfff]')


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, the last one ``…`` if it was cut."""
    return text if len(text) <= limit else text[:max(0, limit - 1)] + ELLIPSIS


def code_span(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` as one CommonMark/GFM inline code span that nothing breaks out of.

    Control characters (newlines included) are escaped as by :func:`terminal`,
    ``|`` becomes ``¦`` (a GFM table splits cells at a pipe even inside a code
    span), ``text`` is cut to ``limit`` characters (before escaping) with ``…``, and the
    fence is one backtick longer than the longest backtick run inside, padded
    with a space where CommonMark would otherwise eat one or merge backticks.
    """
    cut = _cut(text, limit)
    content = ''.join(PIPE_STAND_IN if c == '|' else _escape_char(c) for c in cut) or ' '
    runs = _BACKTICKS_RE.findall(content)
    fence = '`' * (max(map(len, runs), default=0) + 1)
    if content.startswith('`') or content.endswith('`') or (
            content.startswith(' ') and content.endswith(' ') and content.strip(' ')):
        content = f' {content} '
    return f'{fence}{content}{fence}'


def _markdown_char(char: str) -> str:
    if char == '@':
        return '`@`'  # a code element: GitHub never turns it into a mention
    if char in _PUNCTUATION:
        return '\\' + char  # CommonMark: any ASCII punctuation may be escaped
    return _escape_char(char)


def markdown_text(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` as inert Markdown prose (no markup, no HTML, no mention), capped.

    Every ASCII punctuation character is backslash-escaped (so ``# * _ [ ] < >
    | ` \\`` and list or heading markers render as themselves), ``@`` is shown
    in a code span, control characters are escaped as by :func:`terminal`,
    and ``text`` is cut to ``limit`` characters (before escaping) with ``…``.
    """
    return ''.join(map(_markdown_char, _cut(text, limit)))
