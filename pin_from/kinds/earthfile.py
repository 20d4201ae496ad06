"""Earthfiles: the images ``FROM`` and ``WITH DOCKER --pull`` pull, with offsets.

Earthly's syntax is the Dockerfile's line syntax (keywords, ``\\``
continuations, ``#`` comments, quotes), so the Dockerfile lexer's lines,
instructions and words are reused; what differs is what a reference is:

* ``FROM IMAGE`` (flags first) is pinned; ``FROM +target``,
  ``FROM ./dir+target``, ``FROM github.com/org/repo+target`` name Earthly
  targets (a ``+`` never appears in an image reference), and
  ``FROM DOCKERFILE`` builds one: left alone;
* ``WITH DOCKER --pull IMAGE`` pulls an image into the build: pinned;
  ``--load`` names what a target builds: left alone;
* ``SAVE IMAGE`` names an output, ``IMPORT`` and ``BUILD`` name Earthfiles:
  never pinned; ``$ARG`` values are left alone, as in Dockerfiles.
"""
from __future__ import annotations

from pin_from import reference
from pin_from.errors import InvalidReference
from pin_from.kinds.dockerfile import _instructions
from pin_from.kinds.dockerfile import _lines
from pin_from.kinds.dockerfile import _Token
from pin_from.kinds.shellword import shell_word
from pin_from.kinds.sites import Problem
from pin_from.kinds.sites import Scan
from pin_from.kinds.sites import Site
from pin_from.kinds.sites import Skip

IGNORED = 'under a "# pin-from: ignore" comment'
_VALUE_FLAGS = frozenset(('--platform', '--build-arg', '--secret'))  # FROM flags that take the next word


def scan(text: str) -> Scan:
    sites: list[Site] = []
    skips: list[Skip] = []
    problems: list[Problem] = []

    def image(tok: _Token, raw: str, start: int, kind: str, ignored: bool) -> None:
        word = shell_word(raw, start, '\\')
        shown = word.value if not (word.expanded or word.error) else raw
        if ignored:
            skips.append(Skip(tok.line, shown, IGNORED))
            return
        if word.error or word.expanded:
            skips.append(Skip(tok.line, raw, 'built from an ARG; never expanded into a literal'))
            return
        if '+' in word.value:
            skips.append(Skip(tok.line, word.value, 'an Earthly target, not an image'))
            return
        if word.value == 'scratch':
            skips.append(Skip(tok.line, word.value, 'scratch is not an image'))
            return
        try:
            ref = reference.parse(word.value)
        except InvalidReference as e:
            problems.append(Problem(tok.line, word.value, str(e)))
            return
        span = word.span()
        if span is None or tok.start < 0:
            skips.append(Skip(tok.line, word.value, 'quotes or escapes inside the reference, or a line continuation; '
                                                    'edit it by hand'))
            return
        sites.append(Site(tok.line, span[0], span[1], word.value, kind, ref))

    for ins in _instructions(_lines(text), 0, '\\'):
        tokens = list(ins.tokens)
        if ins.keyword == 'from':
            while tokens and tokens[0].text.startswith('--'):
                flag = tokens.pop(0).text
                if flag in _VALUE_FLAGS and tokens:  # ``--platform linux/amd64``
                    tokens.pop(0)
            if not tokens or tokens[0].text == 'DOCKERFILE':
                continue
            image(tokens[0], tokens[0].text, tokens[0].start, 'earthly-from', ins.ignored)
        elif ins.keyword == 'with' and tokens and tokens[0].text.upper() == 'DOCKER':
            rest = tokens[1:]
            for i, tok in enumerate(rest):
                if tok.text == '--pull' and i + 1 < len(rest):
                    nxt = rest[i + 1]
                    image(nxt, nxt.text, nxt.start, 'earthly-pull', ins.ignored)
                elif tok.text.startswith('--pull='):
                    image(tok, tok.text[7:], tok.start + 7 if tok.start >= 0 else -1, 'earthly-pull', ins.ignored)
    return Scan(tuple(sites), tuple(skips), tuple(problems))
