"""Official-images ``library/<name>`` files, parsed as bashbrew does.

Pure parsing: the caller passes the text. The rules are those of bashbrew's
``manifest`` package (https://github.com/docker-library/bashbrew): RFC 2822
paragraphs, comment stripping, inheritance from the global paragraph, ``Tags``
vs ``SharedTags``, the legacy line-based format. A tag of the image is
supported iff it is in :attr:`Library.tags`.

Time is linear in the text, except that every entry copies what it inherits
from the global paragraph: a huge global SharedTags, Architectures,
Constraints or ``<arch>-*`` field times many entries is quadratic.
"""
from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from pin_from.errors import LibraryError

# Go's unicode.IsSpace (strings.TrimSpace and friends); str.strip() differs.
_GO_SPACE = (
    '\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006'
    '\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
)
_LIST_STRIP = '\n\r\t '
_TAG_RE = re.compile(r'\w[\w.-]{0,127}', re.ASCII)
_GO_S = '\t\n\f\r '  # Go's regexp \s
_MAINTAINER_PUNCT = frozenset('<>()')
_GIT_FETCH_RE = re.compile(r'refs/(heads|tags)/[^*?:]+')
_GIT_COMMIT_RE = re.compile(r'[0-9a-f]{40}|[0-9a-f]{64}')
_LEGACY_COMMIT_RE = re.compile(r'[0-9a-f]{1,64}')
_ARCH_SUFFIXES = (
    '-GitRepo', '-GitFetch', '-GitCommit', '-Directory', '-File', '-Builder',
)
SUPPORTED_ARCHES = frozenset((
    'amd64', 'arm32v5', 'arm32v6', 'arm32v7', 'arm64v8', 'i386', 'mips64le',
    'ppc64le', 'riscv64', 's390x', 'windows-amd64',
))
_LIST_FIELDS = {
    'Maintainers': 'maintainers', 'Tags': 'tags', 'SharedTags': 'shared_tags',
    'Architectures': 'architectures', 'Constraints': 'constraints',
}
_STRING_FIELDS = {
    'GitRepo': 'git_repo', 'GitFetch': 'git_fetch', 'GitCommit': 'git_commit',
    'Directory': 'directory', 'File': 'file', 'Builder': 'builder',
}
_LEGACY_FETCH = 'refs/heads/*'


class Entry(NamedTuple):
    """One image entry (one build), after inheriting the global paragraph."""

    tags: tuple[str, ...]
    shared_tags: tuple[str, ...]
    architectures: tuple[str, ...]
    git_repo: str
    git_fetch: str
    git_commit: str
    directory: str
    file: str
    builder: str
    constraints: tuple[str, ...]
    maintainers: tuple[str, ...]
    arch_values: tuple[tuple[str, str], ...]  # ('arm64v8-GitCommit', '…'), sorted


class Library(NamedTuple):
    """A parsed ``library/<name>`` file.

    ``tags`` is every tag in some entry's Tags or SharedTags: the supported set.
    """

    name: str
    entries: tuple[Entry, ...]
    tags: frozenset[str]
    maintainers: tuple[str, ...]
    legacy: bool  # parsed with the pre-2022 line-based format

    @property
    def is_deprecated(self) -> bool:
        """True when the file has only its global paragraph (no entries)."""
        return not self.entries

    def entry_for(self, tag: str) -> Entry | None:
        """The entry listing ``tag`` in Tags, else the first one in SharedTags."""
        if tag not in self.tags:
            return None
        for entry in self.entries:
            if tag in entry.tags:
                return entry
        for entry in self.entries:
            if tag in entry.shared_tags:
                return entry
        return None  # pragma: no cover - tags is built from the entries


@dataclasses.dataclass
class _Draft:
    """Mutable entry while decoding (bashbrew's Manifest2822Entry)."""

    # a tuple, shared with the global paragraph until an entry adds its own
    maintainers: tuple[str, ...] = ()
    tags: list[str] = dataclasses.field(default_factory=list)
    shared_tags: list[str] = dataclasses.field(default_factory=list)
    architectures: list[str] = dataclasses.field(
        default_factory=lambda: ['amd64'],
    )
    constraints: list[str] = dataclasses.field(default_factory=list)
    git_repo: str = ''
    git_fetch: str = 'refs/heads/master'
    git_commit: str = ''
    directory: str = '.'
    file: str = 'Dockerfile'
    builder: str = ''
    arch_values: dict[str, str] = dataclasses.field(default_factory=dict)

    def clone(self) -> _Draft:
        return _Draft(
            self.maintainers, list(self.tags), list(self.shared_tags),
            list(self.architectures), list(self.constraints), self.git_repo,
            self.git_fetch, self.git_commit, self.directory, self.file,
            self.builder, dict(self.arch_values),
        )


class _Invalid(Exception):
    """Internal: a reason the file is rejected (becomes LibraryError)."""


def _show(text: str, limit: int = 80) -> str:
    """``repr`` for a one-line message, shortened."""
    return repr(text if len(text) <= limit else text[:limit] + '…')


def parse_library(name: str, text: str) -> Library:
    """Parse ``library/<name>``; raise LibraryError on anything malformed.

    RFC 2822 is tried first, then the legacy line-based format; if both fail
    the RFC 2822 reason is reported (as bashbrew did).
    """
    try:
        return _parse_2822(name, text)
    except _Invalid as err:
        try:
            return _parse_line_based(name, text)
        except _Invalid:
            pass
        raise LibraryError(f'library/{name}: {err}') from None


# --- RFC 2822 ----------------------------------------------------------------


def _strip_comments(text: str) -> list[str]:
    """Lines (split on \\n only) minus whole-line ``#`` comments."""
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()  # text ended with \n: no further (empty) line
    return [
        line for line in lines if not line.lstrip(_GO_SPACE).startswith('#')
    ]


def _paragraphs(lines: list[str]) -> list[dict[str, str]]:
    """go-debian's ParagraphReader: non-empty paragraphs as key -> value."""
    paragraphs: list[dict[str, str]] = []
    values: dict[str, list[str]] = {}  # pieces, joined once: linear in size
    has_key = False
    last_key = ''
    for line in lines:
        if line == '' or line == '\r':
            if has_key:
                paragraphs.append(_joined(values))
            values, has_key, last_key = {}, False, ''
        elif line[0] in ' \t':
            part = line[1:].rstrip(_GO_SPACE)
            pieces = values.setdefault(last_key, [])
            if pieces and pieces[-1] and not pieces[-1].endswith('\n'):
                pieces.append('\n')
            pieces.append(('' if part == '.' else part) + '\n')
        else:
            key, colon, value = line.partition(':')
            if not colon:
                raise _Invalid(f'Bad line: {_show(line)} has no ":"')
            last_key = key.strip(_GO_SPACE)
            values[last_key] = [value.strip(_GO_SPACE)]
            has_key = True
    if has_key:
        paragraphs.append(_joined(values))
    return paragraphs


def _joined(values: dict[str, list[str]]) -> dict[str, str]:
    return {key: ''.join(pieces) for key, pieces in values.items()}


def _split_list(value: str) -> list[str]:
    return [
        item.strip(_LIST_STRIP) for item in value.strip(_LIST_STRIP).split(',')
    ]


def _decode(draft: _Draft, values: dict[str, str]) -> None:
    """Decode one paragraph onto ``draft`` (bashbrew's decoderWrapper)."""
    old_shared, old_arches = draft.shared_tags, draft.architectures
    draft.shared_tags, draft.architectures = [], []
    for key, value in values.items():
        if key == 'Maintainers':
            draft.maintainers += tuple(_split_list(value))
        elif key in _LIST_FIELDS:
            getattr(draft, _LIST_FIELDS[key]).extend(_split_list(value))
        elif key in _STRING_FIELDS:
            setattr(draft, _STRING_FIELDS[key], value)
        elif key.endswith(_ARCH_SUFFIXES):
            draft.arch_values[key] = value
    if not draft.shared_tags:
        draft.shared_tags = old_shared
    if not draft.architectures:
        draft.architectures = old_arches
    draft.architectures = sorted(set(draft.architectures))


def _valid_maintainer(maintainer: str) -> bool:
    """bashbrew's ``^([^\\s<>()][^<>()]*)(?:\\s+<([^\\s<>()]+)>)?\\s+[(]@([^\\s<>()]+)[)]$``.

    Checked by hand in linear time: the regex backtracks quadratically on a
    long run of spaces (``re`` has no possessive quantifiers before 3.11).
    """
    rest, handle = _split_last(maintainer, '(@', ')')
    if handle is None or not _is_word(handle):
        return False
    name = rest.rstrip(_GO_S)
    if len(name) == len(rest):  # no space before (@handle)
        return False
    if name.endswith('>'):
        before, email = _split_last(name, '<', '>')
        if email is None or not _is_word(email):
            return False
        name = before.rstrip(_GO_S)
        if len(name) == len(before):
            return False
    return bool(name) and name[0] not in _GO_S and _MAINTAINER_PUNCT.isdisjoint(name)


def _split_last(text: str, opener: str, closer: str) -> tuple[str, str | None]:
    """``text`` as (before, inside) for a trailing ``<opener>inside<closer>``."""
    start = text.rfind(opener[0])
    if not text.endswith(closer) or start < 0 or not text.startswith(opener, start):
        return text, None
    return text[:start], text[start + len(opener):-len(closer)]


def _is_word(text: str) -> bool:
    """``[^\\s<>()]+``."""
    return bool(text) and _MAINTAINER_PUNCT.isdisjoint(text) and not any(
        c in _GO_S for c in text
    )


def _check_maintainers(maintainers: Iterable[str]) -> None:
    bad = [m for m in maintainers if not _valid_maintainer(m)]
    if bad:
        raise _Invalid(
            f'invalid Maintainers: {_show(", ".join(bad))} (expected format '
            '"Full Name <contact-email-or-url> (@github-handle)")',
        )


def _parse_2822(name: str, text: str) -> Library:
    paragraphs = _paragraphs(_strip_comments(text))
    if not paragraphs:
        raise _Invalid('empty file (no Maintainers paragraph)')
    glob = _Draft()
    _decode(glob, paragraphs[0])
    if not glob.maintainers:
        raise _Invalid('missing Maintainers')
    _check_maintainers(glob.maintainers)
    if glob.tags:
        raise _Invalid('global Tags not permitted')
    manifest = _Manifest()
    for values in paragraphs[1:]:
        draft = glob.clone()
        _decode(draft, values)
        label = 'Tags ' + _show(', '.join(draft.tags))
        if not _GIT_FETCH_RE.fullmatch(draft.git_fetch):
            raise _Invalid(
                f'{label} has invalid GitFetch (must be "refs/heads/..."'
                f' or "refs/tags/..."): {_show(draft.git_fetch)}',
            )
        if not _GIT_COMMIT_RE.fullmatch(draft.git_commit):
            raise _Invalid(
                f'{label} has invalid GitCommit (must be a full commit '
                f'hash): {_show(draft.git_commit)}',
            )
        _add_entry(manifest, draft)
    return _freeze(name, glob, manifest.entries, legacy=False)


# --- shared entry validation (bashbrew AddEntry) -----------------------------


def _clean_path(path: str) -> str:
    """Go's path.Clean."""
    cleaned = posixpath.normpath(path)
    return '/' + cleaned.lstrip('/') if cleaned.startswith('//') else cleaned


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


_BuildKey = tuple[object, ...]


def _build_key(d: _Draft) -> _BuildKey:
    """bashbrew's SameBuildArtifacts, as a hashable key."""
    return (
        tuple(d.architectures), d.git_repo, d.git_fetch, d.git_commit,
        d.directory, d.file, d.builder, tuple(d.constraints),
        frozenset((k, v) for k, v in d.arch_values.items() if v),
    )


@dataclasses.dataclass
class _Manifest:
    """Entries added so far, with the indexes AddEntry's checks need."""

    entries: list[_Draft] = dataclasses.field(default_factory=list)
    # an entry per build, with the set of its SharedTags (merging stays linear)
    by_build: dict[_BuildKey, tuple[_Draft, set[str]]] = dataclasses.field(
        default_factory=dict,
    )
    tags: set[str] = dataclasses.field(default_factory=set)
    shared: set[str] = dataclasses.field(default_factory=set)
    checked: tuple[str, ...] = ()  # the Maintainers last validated


def _add_entry(manifest: _Manifest, draft: _Draft) -> None:
    """Validate ``draft`` against earlier entries and add (or merge) it."""
    if not draft.tags:
        raise _Invalid('missing Tags')
    label = 'Tags ' + _show(', '.join(draft.tags))
    if not (draft.git_repo and draft.git_fetch and draft.git_commit):
        raise _Invalid(
            f'{label} missing one of GitRepo, GitFetch, or GitCommit',
        )
    if draft.maintainers is not manifest.checked:  # inherited: checked once
        _check_maintainers(draft.maintainers)
        manifest.checked = draft.maintainers
    draft.shared_tags = _dedupe(draft.shared_tags)
    draft.directory = _clean_path(draft.directory)
    for key, value in draft.arch_values.items():
        if key.endswith('-Directory') and value:
            draft.arch_values[key] = _clean_path(value)
    everything = draft.tags + draft.shared_tags
    bad = [t for t in everything if not _TAG_RE.fullmatch(t)]
    if bad:
        raise _Invalid(f'{label} has invalid (Shared)Tags: {_show(bad[0])}')
    bad = [a for a in draft.architectures if a not in SUPPORTED_ARCHES]
    if bad:
        raise _Invalid(f'{label} has invalid Architectures: {_show(bad[0])}')
    _check_duplicates(manifest, draft, label)
    manifest.tags.update(draft.tags)
    manifest.shared.update(draft.shared_tags)
    build = _build_key(draft)
    existing = manifest.by_build.get(build)
    if existing is not None:
        target, shared = existing
        target.tags.extend(draft.tags)
        target.shared_tags.extend(t for t in draft.shared_tags if t not in shared)
        shared.update(draft.shared_tags)
        return
    manifest.by_build[build] = (draft, set(draft.shared_tags))
    manifest.entries.append(draft)


def _check_duplicates(manifest: _Manifest, draft: _Draft, label: str) -> None:
    seen: set[str] = set()
    for tag in draft.tags:
        if tag in manifest.tags:
            raise _Invalid(f'{label} includes duplicate tag: {_show(tag)}')
        if tag in manifest.shared:
            raise _Invalid(
                f'{label} includes tag conflicting with a shared tag: '
                f'{_show(tag)}',
            )
        if tag in seen:
            raise _Invalid(f'{label} includes duplicate tag: {_show(tag)}')
        seen.add(tag)
    for tag in draft.shared_tags:
        if tag in manifest.tags:
            raise _Invalid(
                f'{label} includes conflicting shared tag: {_show(tag)}',
            )
        if tag in seen:
            raise _Invalid(
                f'{label} includes duplicate tag: {_show(tag)} '
                '(in SharedTags)',
            )
        seen.add(tag)


def _freeze(
    name: str, glob: _Draft, drafts: list[_Draft], *, legacy: bool,
) -> Library:
    entries = tuple(
        Entry(
            tags=tuple(d.tags), shared_tags=tuple(d.shared_tags),
            architectures=tuple(d.architectures), git_repo=d.git_repo,
            git_fetch=d.git_fetch, git_commit=d.git_commit,
            directory=d.directory, file=d.file, builder=d.builder,
            constraints=tuple(d.constraints), maintainers=tuple(d.maintainers),
            arch_values=tuple(sorted(d.arch_values.items())),
        )
        for d in drafts
    )
    tags = frozenset(t for e in entries for t in e.tags + e.shared_tags)
    return Library(
        name=name, entries=entries, tags=tags,
        maintainers=tuple(glob.maintainers), legacy=legacy,
    )


# --- legacy line-based format (bashbrew before 2022-06) ----------------------


def _parse_line_based(name: str, text: str) -> Library:
    glob = _Draft(git_fetch=_LEGACY_FETCH)
    manifest = _Manifest()
    names: list[str] = []  # maintainers so far; an entry gets those above it
    for raw in text.split('\n'):
        line = raw.strip(_GO_SPACE)
        if not line:
            continue
        if line.startswith('#'):
            if line.startswith('# maintainer: '):
                maintainer = line[len('# maintainer: '):]
                _check_maintainers([maintainer])
                names.append(maintainer)
            continue
        if len(names) != len(glob.maintainers):
            glob.maintainers = tuple(names)
        _add_entry(manifest, _line_entry(line, glob))
    glob.maintainers = tuple(names)
    if not glob.maintainers:
        raise _Invalid('missing Maintainers')
    return _freeze(name, glob, manifest.entries, legacy=True)


def _line_entry(line: str, glob: _Draft) -> _Draft:
    """``<tag>: <GitRepo>@<commit-or-git-tag>[ <Directory>]``."""
    tag, colon, rest = line.partition(':')
    if not colon:
        raise _Invalid(f"manifest line missing ':': {_show(line)}")
    repo, at, rest = rest.partition('@')
    if not at:
        raise _Invalid(f"manifest line missing '@': {_show(line)}")
    commit, space, directory = rest.partition(' ')
    draft = glob.clone()
    draft.tags = [tag.strip(_GO_SPACE)]
    draft.git_repo = repo.strip(_GO_SPACE)
    draft.git_commit = commit.strip(_GO_SPACE)
    if space:
        draft.directory = directory.strip(_GO_SPACE)
    if not _LEGACY_COMMIT_RE.fullmatch(draft.git_commit):
        draft.git_fetch = 'refs/tags/' + draft.git_commit
        draft.git_commit = 'FETCH_HEAD'
    return draft


# --- suggestions -------------------------------------------------------------

_VERSION_RE = re.compile(r'v?\d+(?:\.\d+)*(?:[a-z]+\d*)?', re.ASCII)
_VERSION_PART_RE = re.compile(r'(\d*)(.*)', re.ASCII)
_TRAILING_NUMBER_RE = re.compile(r'[\d.]+$', re.ASCII)
# a YYYYMMDD build date: 20260805, bookworm-20260803-slim, 9.3.20231119
_DATE_STAMP_RE = re.compile(
    r'(?<![0-9])(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])',
)

_VersionKey = tuple[tuple[int, int, str], ...]
_Variant = tuple[str, ...]


class _TagInfo(NamedTuple):
    variant: _Variant  # dash-separated rest after the version prefix
    components: int  # 3.13.1 -> 3, no version prefix -> 0
    version: _VersionKey  # its own, else the newest version tag of its entry
    position: int  # in its entry's tag list


def suggest(library: Library, tag: str, limit: int = 5) -> list[str]:
    """Supported tags of ``library`` to offer instead of the unsupported ``tag``.

    Deterministic heuristic. A tag is a version prefix (``3.7``, ``16``,
    ``3.14.0rc1``: the part before the first ``-`` if numeric; may be absent)
    plus a *variant* (the rest: ``slim``, ``jre-slim-buster``; for ``buster``
    the whole tag). Candidates come from the first of these stages that finds
    any:

    1. the same variant (``3.7-slim`` -> ``3.14-slim``);
    2. the same variant with trailing numbers dropped (``alpine3.12`` ->
       ``alpine``, ``alpine3.23``; ``windowsservercore-1809`` ->
       ``windowsservercore``);
    3. the variant minus its last component (the codename), or the variant
       with exactly one component swapped (``jre-slim-buster`` ->
       ``jre-slim``, ``jre-slim-bookworm``; ``buster-slim`` -> ``trixie-slim``);
    4. shorter and shorter prefixes of the variant, alone or plus one
       component, down to the empty variant (bare versions, or bare codenames
       such as ``trixie`` for ``buster``).

    Ranking: as many version components as ``tag`` first (then fewer before
    more: ``3.13-slim`` before ``3.13.1-slim``), the closer variant first,
    newest version first (natural sort; an unversioned tag such as ``trixie``
    takes the newest version of its entry, else that of its first component:
    ``trixie-backports`` as ``trixie``), then the entry's own tag order.
    One tag per version comes first; the others follow.

    Date-stamped tags (``20260805``, ``bookworm-20260803``, ``9.3.20231119``)
    are left out unless ``tag`` is date-stamped itself: they name one build
    and stop being listed at the next one.
    """
    if limit <= 0:
        return []
    head = _split_version(tag)
    want, components = head[1], _components(head[0])
    infos = _tag_infos(library)
    infos.pop(tag, None)
    if not is_date_stamped(tag):
        infos = {t: i for t, i in infos.items() if not is_date_stamped(t)}
    for stage in _stages(want):
        found = [
            (candidate, extra) for candidate, info in infos.items()
            if (extra := stage(info.variant)) is not None
        ]
        if found:
            return _rank(found, infos, components)[:limit]
    return []


def is_date_stamped(tag: str) -> bool:
    """True for a tag naming a dated build (``jammy-20260810``, ``20260805``)."""
    return _DATE_STAMP_RE.search(tag) is not None


def _split_version(tag: str) -> tuple[str, _Variant]:
    head, dash, rest = tag.partition('-')
    if _VERSION_RE.fullmatch(head):
        return head, tuple(rest.split('-')) if dash else ()
    return '', tuple(tag.split('-'))


def _components(version: str) -> int:
    return len(version.split('.')) if version else 0


def _version_key(version: str) -> _VersionKey:
    """Natural sort key: 3.10 > 3.9, 3.15.0 > 3.15.0rc1."""
    key = []
    for part in version.lstrip('v').split('.'):
        match = _VERSION_PART_RE.fullmatch(part)
        digits, suffix = (match.group(1), match.group(2)) if match else ('', '')
        key.append((int(digits) if digits else -1, 0 if suffix else 1, suffix))
    return tuple(key)


def _stem(variant: _Variant) -> _Variant:
    stems = (_TRAILING_NUMBER_RE.sub('', part) for part in variant)
    return tuple(part for part in stems if part)


_Stage = Callable[[_Variant], 'int | None']


def _stages(want: _Variant) -> list[_Stage]:
    """Matchers, most exact first; each gives 0 (close) / 1 (looser) / None."""
    stages: list[_Stage] = [lambda v: 0 if v == want else None]
    stem = _stem(want)
    if stem != want:
        stages.append(
            lambda v: None if _stem(v) != stem else 0 if v == stem else 1,
        )
    if want:
        stages.append(functools.partial(_swapped, want))
    for size in range(len(want) - 2, -1, -1):
        stages.append(functools.partial(_near, want[:size]))
    return stages


def _swapped(want: _Variant, variant: _Variant) -> int | None:
    if variant == want[:-1]:
        return 0
    if len(variant) == len(want) and sum(
        a != b for a, b in zip(variant, want)
    ) == 1:
        return 1
    return _near(want[:-1], variant)


def _near(base: _Variant, variant: _Variant) -> int | None:
    if variant == base:
        return 0
    if len(variant) == len(base) + 1 and variant[:-1] == base:
        return 1
    return None


def _tag_infos(library: Library) -> dict[str, _TagInfo]:
    infos: dict[str, _TagInfo] = {}
    for entry in library.entries:
        tags = entry.tags + entry.shared_tags
        split = [_split_version(t) for t in tags]
        keys = [_version_key(version) for version, _ in split if version]
        newest = max(keys) if keys else ()
        for position, (tag, (version, variant)) in enumerate(zip(tags, split)):
            if tag not in infos:  # a shared tag keeps its first entry
                infos[tag] = _TagInfo(
                    variant, _components(version),
                    _version_key(version) if version else newest, position,
                )
    for tag, info in infos.items():  # trixie-backports: as trixie
        if not info.version and len(info.variant) > 1:
            head = infos.get(info.variant[0])
            if head is not None and head.version:
                infos[tag] = info._replace(version=head.version)
    return infos


def _rank(
    found: list[tuple[str, int]], infos: dict[str, _TagInfo], components: int,
) -> list[str]:
    found.sort(key=lambda f: (infos[f[0]].position, f[0]))
    found.sort(key=lambda f: infos[f[0]].version, reverse=True)
    found.sort(key=lambda f: (
        abs(infos[f[0]].components - components), f[1],
        infos[f[0]].components,
    ))
    first: list[str] = []
    rest: list[str] = []
    versions: set[_VersionKey] = set()
    for candidate, _extra in found:
        version = infos[candidate].version
        (rest if version in versions else first).append(candidate)
        versions.add(version)
    return first + rest
