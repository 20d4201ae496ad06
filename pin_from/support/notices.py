"""docker-library/docs ``<name>/deprecated.md`` notices, reduced to one line.

Pure parsing of the Markdown the caller passes; never raises on odd input.
"""
from __future__ import annotations

import re
from typing import NamedTuple


class Notice(NamedTuple):
    """A deprecation notice: its first sentence and the replacements it names."""

    name: str
    first_sentence: str  # plain text, '' if the notice has no prose
    alternatives: tuple[str, ...]  # image names (or project names), in order


# The notices come from the network: every pattern here runs in linear time on
# any input.  A pattern that scans to a closing delimiter excludes its own
# opening character from the scan ([^[\]], [^<>...]), so a scan stops where the
# next candidate match starts; whitespace runs are matched one way only.
_COMMENT_RE = re.compile(r'<!--.*?(?:-->|\Z)', re.DOTALL)
_IMAGE_RE = re.compile(r'!\[([^[\]]*)\]\([^)[]*\)')
_LINK_RE = re.compile(
    r'\[([^[\]]*)\]\(\s*(?!\s)<?([^)\s>[]*)>?(?:\s+"[^"]*")?\s*\)',
)
_REF_LINK_RE = re.compile(r'\[([^[\]]+)\]\[[^[\]]*\]')
_AUTOLINK_RE = re.compile(r'<((?:https?|mailto):[^<>\s]+)>')
_HTML_TAG_RE = re.compile(r'</?[A-Za-z][^<>]*>')
_CODE_RE = re.compile(r'`+([^`]*)`+')
# content up to the next same delimiter only: "**a **b**" -> "**a b"
_STRONG_RE = re.compile(r'(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1')
_EM_STAR_RE = re.compile(r'\*(?=\S)([^*]+?)(?<=\S)\*')
_EM_UNDER_RE = re.compile(r'(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)')
_HEADING_RE = re.compile(r'\s{0,3}#{1,6}(?:\s|$)')
_ITEM_RE = re.compile(r'\s*(?:[-*+]|\d{1,9}[.)])\s+')
_FENCE_RE = re.compile(r'\s{0,3}(?:```|~~~)')
_QUOTES_RE = re.compile(r'(?:\s*>\s?)*')
_URL_ONLY_RE = re.compile(r'<?https?://\S+>?')
_SENTENCE_END_RE = re.compile(r'[.!?](?=\s+[^a-z\s]|\s*$)')
_PREFIX_RE = re.compile(
    r'(?:(?:\*\*|__)[^*_\na-z]{2,40}(?:\*\*|__)|[A-Z][A-Z ]{2,30}:)\s*[:.!-]*\s*',
)
_LEADING_SYMBOLS_RE = re.compile(r'^[^\w"\'(\[`*_]+')
_HUB_RE = re.compile(
    r'https?://(?:registry\.)?hub\.docker\.com/'
    r'(?:_/([a-z0-9][a-z0-9._-]*)|r/([a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*))',
)
_LEAD_RE = re.compile(r'(?:\[([^\]]*)\]\(([^)]*)\)|`+([^`]+)`+)')
_SENTENCE_SPLIT_RE = re.compile(r'(?<=[.!?])\s+')
_TRIGGER_RE = re.compile(
    r'\b(?:use|migrate|switch|instead|alternatives?|replacements?)\b', re.I,
)
_IMAGE_NAME_RE = re.compile(
    r'[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)*(?::\w[\w.-]*)?',
)


def parse_notice(name: str, markdown: str) -> Notice:
    """Parse ``<name>/deprecated.md``: first prose sentence and alternatives."""
    blocks = _blocks(_COMMENT_RE.sub('', markdown))
    return Notice(name, _first_sentence(blocks), _alternatives(name, blocks))


class _Block(NamedTuple):
    kind: str  # 'heading', 'item' or 'paragraph'
    text: str  # Markdown, markers and quote prefixes removed, one line


def _blocks(markdown: str) -> list[_Block]:
    """Headings, paragraphs and list items, in order; code blocks dropped."""
    blocks: list[_Block] = []
    current: list[str] = []
    kind = 'paragraph'

    def flush() -> None:
        if current:
            blocks.append(_Block(kind, ' '.join(current)))
            current.clear()

    fence = ''
    for raw in markdown.splitlines():
        line = raw
        if fence or _FENCE_RE.match(line):  # code blocks are not prose
            marker = line.strip()[:3]
            if not fence:
                flush()
                fence = marker
            elif marker == fence:
                fence = ''
            continue
        if (quotes := _QUOTES_RE.match(line)) is not None:  # always matches
            line = line[quotes.end():]
        if not line.strip():
            flush()
            kind = 'paragraph'
        elif _HEADING_RE.match(line):
            flush()
            blocks.append(_Block('heading', line.strip().lstrip('#').strip()))
            kind = 'paragraph'
        elif (item := _ITEM_RE.match(line)) is not None:
            flush()
            kind = 'item'
            current.append(line[item.end():].strip())
        else:
            current.append(line.strip())
    flush()
    return blocks


def _plain(markdown: str) -> str:
    """Markdown inline syntax to plain text, whitespace collapsed."""
    text = _IMAGE_RE.sub(r'\1', markdown)
    text = _LINK_RE.sub(r'\1', text)
    text = _REF_LINK_RE.sub(r'\1', text)
    text = _AUTOLINK_RE.sub(r'\1', text)
    text = _HTML_TAG_RE.sub('', text)
    text = _CODE_RE.sub(r'\1', text)
    text = _STRONG_RE.sub(r'\2', text)
    text = _EM_STAR_RE.sub(r'\1', text)
    text = _EM_UNDER_RE.sub(r'\1', text)
    return ' '.join(text.split())


def _first_sentence(blocks: list[_Block]) -> str:
    """The first sentence of the first block with prose (not a heading/URL)."""
    for block in blocks:
        if block.kind == 'heading' or _URL_ONLY_RE.fullmatch(block.text):
            continue
        text = _LEADING_SYMBOLS_RE.sub('', block.text, count=1)
        start = 0
        while (prefix := _PREFIX_RE.match(text, start)) and prefix.end() < len(text):
            start = prefix.end()
        text = text[start:]
        text = _LEADING_SYMBOLS_RE.sub('', _plain(text), count=1)
        if not any(ch.isalpha() for ch in text):
            continue
        end = _SENTENCE_END_RE.search(text)
        return text[:end.end()] if end else text
    return ''


def _alternatives(name: str, blocks: list[_Block]) -> tuple[str, ...]:
    """Replacements the notice names, in order, without duplicates.

    Docker Hub links anywhere (``hub.docker.com/_/x`` -> ``x``,
    ``/r/ns/x`` -> ``ns/x``); a list item that starts with a link or code
    (its text); links and image-like code spans in a sentence that says use,
    migrate, switch, instead, alternative(s) or replacement(s).
    """
    found: list[str] = []
    for kind, text in blocks:
        if kind == 'heading':
            continue
        for link in _LINK_RE.finditer(text):
            if hub := _HUB_RE.match(link.group(2)):
                found.append(hub.group(1) or hub.group(2))
        lead = _LEAD_RE.match(text) if kind == 'item' else None
        if lead and not _HUB_RE.match(lead.group(2) or ''):
            found.append(_plain(lead.group(1) or lead.group(3) or ''))
        for sentence in _SENTENCE_SPLIT_RE.split(text):
            if _TRIGGER_RE.search(_plain(sentence)):
                found.extend(_named_in(sentence))
    own = {name, f'library/{name}'}
    return tuple(dict.fromkeys(alt for alt in found if alt and alt not in own))


def _named_in(sentence: str) -> list[str]:
    """Link texts (non-Hub links) and image-like code spans of a sentence."""
    names = [
        _plain(link.group(1)) for link in _LINK_RE.finditer(sentence)
        if not _HUB_RE.match(link.group(2))
    ]
    names += [
        code for match in _CODE_RE.finditer(_LINK_RE.sub('', sentence))
        if _IMAGE_NAME_RE.fullmatch(code := match.group(1).strip())
        and (':' in code or '/' in code)
    ]
    return names
