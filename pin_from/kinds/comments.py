"""``pin-from: ignore`` comments and line numbers for the formats read by offset (HCL, JSONC)."""
from __future__ import annotations

import re
from typing import NamedTuple


class Ignore(NamedTuple):
    """How a format writes the comment: alone on the line above a value, or after it on its line."""

    before: re.Pattern[str]
    after: re.Pattern[str]


def ignore_comment(*line_comments: str) -> Ignore:
    """The patterns for a format whose line comments start with ``line_comments`` (``/*`` also
    counts after a value)."""
    opener = '|'.join(map(re.escape, line_comments))
    return Ignore(
        re.compile(rf'[ \t]*(?:{opener})[ \t]*pin-from:[ \t]*ignore\b', re.I),
        re.compile(rf'(?:{opener}|/\*)[ \t]*pin-from:[ \t]*ignore\b', re.I),
    )


def line_of(text: str, offset: int) -> int:
    return text.count('\n', 0, offset) + 1


def ignored(comment: Ignore, text: str, start: int, end: int) -> bool:
    """A comment after the value (``start``..``end``) on its line, or alone on the line above
    (after a BOM on the first line)."""
    line_end = text.find('\n', end)
    if comment.after.search(text, end, line_end if line_end >= 0 else len(text)):
        return True
    line_start = text.rfind('\n', 0, start) + 1
    if line_start == 0:
        return False
    before = text.rfind('\n', 0, line_start - 1) + 1
    return bool(comment.before.match(text, before + (text[before:before + 1] == '\ufeff')))
