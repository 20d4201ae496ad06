"""pin_from.support.library against the spec (LIBRARY-FORMAT.md) and real snapshots."""
from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from pin_from.errors import LibraryError
from pin_from.support.library import Library, is_date_stamped, parse_library, suggest
from tests.data import OFFICIAL_IMAGES

SNAPSHOTS = ('2021-06', '2023-06', 'current')


def library_files(snapshot: str) -> list[Path]:
    if snapshot == 'edge-cases':
        directory = OFFICIAL_IMAGES / 'extras' / 'library-edge-cases'
        return sorted(p for p in directory.iterdir() if '@' in p.name)
    return sorted((OFFICIAL_IMAGES / snapshot / 'library').iterdir())


def load(snapshot: str, name: str) -> Library:
    return parse_library(name, (OFFICIAL_IMAGES / snapshot / 'library' / name).read_text())


def load_all(snapshot: str) -> dict[str, Library]:
    return {
        p.name.partition('@')[0]: parse_library(p.name.partition('@')[0], p.read_text())
        for p in library_files(snapshot)
    }


def listed_tags(text: str) -> set[str]:
    """Independent oracle: tags on ``Tags:``/``SharedTags:`` lines, or legacy lines."""
    lines = [line.strip() for line in text.splitlines()]
    if any(line.startswith('# maintainer: ') for line in lines):
        return {
            line.partition(':')[0].strip() for line in lines
            if line and not line.startswith('#')
        }
    return {
        tag.strip()
        for line in text.splitlines() if line.startswith(('Tags:', 'SharedTags:'))
        for tag in line.partition(':')[2].split(',')
    }


# --- every real file -------------------------------------------------------------


@pytest.mark.parametrize('snapshot', (*SNAPSHOTS, 'edge-cases'))
def test_every_file_parses_to_exactly_its_listed_tags(snapshot):
    files = library_files(snapshot)
    assert len(files) >= 4
    for path in files:
        name = path.name.partition('@')[0]
        text = path.read_text()
        library = parse_library(name, text)
        assert library.name == name
        assert library.tags == listed_tags(text), name
        for entry in library.entries:
            assert entry.tags, name
            assert library.entry_for(entry.tags[0]) == entry


@pytest.mark.parametrize('snapshot, files', [
    ('2021-06', 151), ('2023-06', 145), ('current', 144),
])
def test_snapshot_file_counts(snapshot, files):
    assert len(library_files(snapshot)) == files


def test_current_snapshot_counts_match_the_spec():
    libraries = load_all('current')
    pairs = sum(len(lib.tags) for lib in libraries.values())
    shared_only = sum(
        len(lib.tags - {t for e in lib.entries for t in e.tags})
        for lib in libraries.values()
    )
    assert (pairs, shared_only) == (9849, 375)
    with_shared = {n for n, lib in libraries.items() if any(e.shared_tags for e in lib.entries)}
    assert len(with_shared) == 15
    assert {'openjdk', 'python', 'golang'} <= with_shared


@pytest.mark.parametrize('snapshot, deprecated', [
    ('current', {'clefos', 'gazebo', 'mongo-express', 'notary', 'php-zendserver', 'plone', 'unit'}),
    ('2021-06', {'opensuse', 'sentry', 'swarm'}),
    ('2023-06', set()),
    ('edge-cases', {'adminer', 'centos', 'sl'}),
])
def test_zero_entry_files_are_deprecated(snapshot, deprecated):
    libraries = load_all(snapshot)
    assert {n for n, lib in libraries.items() if lib.is_deprecated} == deprecated
    for name in deprecated:
        assert libraries[name].tags == frozenset()
        assert libraries[name].entry_for('latest') is None


@pytest.mark.parametrize('snapshot', SNAPSHOTS)
def test_parsing_a_whole_snapshot_is_fast(snapshot):
    texts = [(p.name, p.read_text()) for p in library_files(snapshot)]
    best = float('inf')
    for _ in range(3):
        start = time.perf_counter()
        for name, text in texts:
            parse_library(name, text)
        best = min(best, time.perf_counter() - start)
    assert best < 0.3


# --- known examples --------------------------------------------------------------

# how: 'tags' (in some entry's Tags), 'shared-tags' (only via SharedTags), None (absent)
KNOWN = [
    ('2021-06', 'openjdk', '11-jre-slim-buster', 'tags'),
    ('2023-06', 'openjdk', '11-jre-slim-buster', None),
    ('current', 'openjdk', '11-jre-slim-buster', None),
    ('2021-06', 'python', '3.7', 'shared-tags'),
    ('2023-06', 'python', '3.7', 'shared-tags'),
    ('current', 'python', '3.7', None),
    ('2021-06', 'python', '3.7-slim', 'tags'),
    ('current', 'python', '3.7-slim', None),
    ('current', 'python', '3.14', 'shared-tags'),
    ('current', 'python', 'latest', 'shared-tags'),
    ('current', 'python', '3.14-slim', 'tags'),
    ('2021-06', 'golang', '1.16', 'shared-tags'),
    ('current', 'golang', '1.16', None),
    ('2023-06', 'node', '16', 'tags'),
    ('current', 'node', '16', None),
    ('2023-06', 'debian', 'buster', 'tags'),
    ('current', 'debian', 'buster', None),
    ('current', 'debian', 'trixie', 'tags'),
    ('current', 'debian', 'Trixie', None),
    ('current', 'mongo-express', 'latest', None),
    ('2021-06', 'thrift', '0.12', 'tags'),
    ('2021-06', 'sourcemage', '0.62', 'tags'),
]


@pytest.mark.parametrize('snapshot, image, tag, how', KNOWN)
def test_known_tags(snapshot, image, tag, how):
    library = load(snapshot, image)
    in_tags = any(tag in e.tags for e in library.entries)
    in_shared = any(tag in e.shared_tags for e in library.entries)
    assert (tag in library.tags) == (how is not None)
    assert in_tags == (how == 'tags')
    assert in_shared == (how == 'shared-tags')
    entry = library.entry_for(tag)
    if how is None:
        assert entry is None
    else:
        assert entry is not None
        assert tag in (entry.tags if how == 'tags' else entry.shared_tags)


def test_shared_tag_resolves_to_first_entry_listing_it():
    library = load('current', 'python')
    entry = library.entry_for('3.14')
    assert entry is not None
    assert entry.tags[0] == '3.14.7-trixie'
    windows = [e for e in library.entries if '3.14' in e.shared_tags]
    assert len(windows) == 3
    assert {a for e in windows for a in e.architectures} >= {'amd64', 'windows-amd64'}


def test_entry_fields_after_inheritance():
    library = load('current', 'python')
    entry = library.entry_for('3.14-windowsservercore-ltsc2022')
    assert entry is not None
    assert entry.architectures == ('windows-amd64',)
    assert entry.constraints == ('windowsservercore-ltsc2022',)
    assert entry.git_repo == 'https://github.com/docker-library/python.git'
    assert entry.git_fetch == 'refs/heads/master'
    assert len(entry.git_commit) == 40
    assert entry.directory == '3.14/windows/windowsservercore-ltsc2022'
    assert entry.file == 'Dockerfile'
    assert entry.maintainers == library.maintainers
    assert len(library.maintainers) == 2


def test_thrift_legacy_file():
    library = load('2021-06', 'thrift')
    assert library.legacy
    assert library.tags == {
        '0.9', '0.9.3', '0.10', '0.10.0', '0.11', '0.11.0', '0.12', '0.12.0', 'latest',
    }
    assert len(library.entries) == 4  # lines with the same build are merged
    latest = library.entry_for('latest')
    assert latest is not None
    assert latest.tags == ('0.12', '0.12.0', 'latest')
    assert latest.git_repo == 'git://github.com/ahawkins/docker-thrift'
    assert latest.git_commit == 'd7e73876549d205898b1922bcbf69e74ef11c288'
    assert latest.git_fetch == 'refs/heads/*'
    assert latest.directory == '0.12'
    assert library.maintainers == ('Adam Hawkins <hi@ahawkins.me> (@ahawkins)',)


def test_sourcemage_legacy_file():
    library = load('2021-06', 'sourcemage')
    assert library.legacy
    assert library.tags == {'latest', '0.62'}
    assert len(library.entries) == 1
    assert library.entries[0].directory == 'stable'


def test_other_files_are_not_legacy():
    assert not any(lib.legacy for lib in load_all('current').values())


@pytest.mark.parametrize('name, maintainers', [
    ('centos', ('The CentOS Project <cloud-ops@centos.org> (@CentOS)',)),
    ('sl', ('Deleted Image D: (@docker-library-bot)',)),
])
def test_emptied_edge_cases(name, maintainers):
    library = load_all('edge-cases')[name]
    assert library.is_deprecated
    assert library.maintainers == maintainers
    assert library.tags == frozenset()


def test_mono_was_deleted_with_entries():
    library = load_all('edge-cases')['mono']
    assert not library.is_deprecated
    assert {'latest', '6.12', '6.10-slim'} <= library.tags
    assert len(library.tags) == 16


# --- the spec's examples and rules ------------------------------------------------

GLOBAL = (
    '# this is a comment and will be ignored\n'
    'Maintainers: John Smith <jsmith@example.com> (@example-jsmith),\n'
    '             Anne Smith <asmith@example.com> (@example-asmith)\n'
    'GitRepo: https://github.com/example/docker-example.git\n'
    'GitCommit: deadbeefdeadbeefdeadbeefdeadbeefdeadbeef\n'
)
VALID = GLOBAL + (
    '\n'
    'Tags: 1.2.3-bookworm, 1.2-bookworm, 1-bookworm, bookworm\n'
    'SharedTags: 1.2.3, 1.2, 1, latest\n'
    'Directory: 1/bookworm\n'
    'Architectures: amd64, arm64v8\n'
    '\n'
    'Tags: 1.2.3-windowsservercore-ltsc2022, 1.2-windowsservercore-ltsc2022\n'
    'SharedTags: 1.2.3, 1.2, 1, latest\n'
    'Architectures: windows-amd64\n'
    'Directory: 1/windows/windowsservercore-ltsc2022\n'
    'Constraints: windowsservercore-ltsc2022\n'
)
COMMIT = 'GitCommit: ' + 'ab' * 20


def parse(text: str) -> Library:
    return parse_library('example', text)


def test_spec_valid_example():
    library = parse(VALID)
    assert len(library.tags) == 10
    assert len(library.entries) == 2
    linux, windows = library.entries
    assert linux.architectures == ('amd64', 'arm64v8')
    assert windows.constraints == ('windowsservercore-ltsc2022',)
    assert linux.constraints == ()
    assert library.entry_for('latest') == linux
    assert library.entry_for('1.2-windowsservercore-ltsc2022') == windows
    assert linux.git_commit == 'deadbeef' * 5
    assert linux.directory == '1/bookworm'
    assert len(linux.maintainers) == 2
    assert not library.is_deprecated


NEGATIVE = [
    ('inline comment', GLOBAL + '\nTags: 1.0 # old\n', 'invalid (Shared)Tags'),
    ('tag conflicting with shared tag',
     GLOBAL + '\nTags: a\nSharedTags: 1.2.3\n\nTags: 1.2.3\nDirectory: x\n',
     'conflicting with a shared tag'),
    ('global Tags', GLOBAL + 'Tags: a\n', 'global Tags not permitted'),
    ('missing comma at line break', GLOBAL + '\nTags: a, b\n c\n', 'invalid (Shared)Tags'),
    ('trailing comma', GLOBAL + '\nTags: a,\n', 'invalid (Shared)Tags'),
    ('short commit', GLOBAL + '\nTags: a\nGitCommit: deadbeef\n', 'invalid GitCommit'),
    ('no Maintainers',
     'GitRepo: https://x\n' + COMMIT + '\n\nTags: a\n', 'missing Maintainers'),
]


@pytest.mark.parametrize('text, reason', [(t, r) for _, t, r in NEGATIVE],
                         ids=[n for n, _, _ in NEGATIVE])
def test_spec_negative_fixtures(text, reason):
    with pytest.raises(LibraryError) as info:
        parse(text)
    message = str(info.value)
    assert message.startswith('library/example: ')
    assert reason in message
    assert '\n' not in message.replace('\\n', '')


MORE_INVALID = [
    ('empty file', '', 'empty'),
    ('only comments', '# a\n  # b\n', 'empty'),
    ('garbage', 'hello world\n', 'has no ":"'),
    ('no colon in entry', GLOBAL + '\nTags: a\njunk\n', 'has no ":"'),
    ('missing Tags', GLOBAL + '\nDirectory: x\n', 'missing Tags'),
    ('tags key is case-sensitive', GLOBAL + '\ntags: a\n', 'missing Tags'),
    ('commented-out entry only', GLOBAL + '\n#Tags: a\nDirectory: x\n', 'missing Tags'),
    ('missing GitRepo',
     'Maintainers: A (@a)\n' + COMMIT + '\n\nTags: a\n', 'missing one of GitRepo'),
    ('bad GitFetch', GLOBAL + '\nTags: a\nGitFetch: main\n', 'invalid GitFetch'),
    ('GitFetch with wildcard', GLOBAL + '\nTags: a\nGitFetch: refs/heads/*\n', 'invalid GitFetch'),
    ('bad maintainer', 'Maintainers: John\nGitRepo: x\n', 'invalid Maintainers'),
    ('bad entry maintainer', GLOBAL + '\nTags: a\nMaintainers: nobody\n', 'invalid Maintainers'),
    ('unknown arch', GLOBAL + '\nTags: a\nArchitectures: amd64, sparc\n', 'invalid Architectures'),
    ('tag starts with dot', GLOBAL + '\nTags: .a\n', 'invalid (Shared)Tags'),
    ('tag starts with dash', GLOBAL + '\nTags: -a\n', 'invalid (Shared)Tags'),
    ('tag too long', GLOBAL + '\nTags: ' + 'a' * 129 + '\n', 'invalid (Shared)Tags'),
    ('non-ASCII tag', GLOBAL + '\nTags: caf\u00e9\n', 'invalid (Shared)Tags'),
    ('tag with colon', GLOBAL + '\nTags: a:b\n', 'invalid (Shared)Tags'),
    ('empty shared tag', GLOBAL + '\nTags: a\nSharedTags:\n', 'invalid (Shared)Tags'),
    ('duplicate tag across entries',
     GLOBAL + '\nTags: a\n\nTags: a\nDirectory: x\n', 'duplicate tag'),
    ('duplicate tag in entry', GLOBAL + '\nTags: a, b, a\n', 'duplicate tag'),
    ('shared tag equal to own tag', GLOBAL + '\nTags: a\nSharedTags: a\n', 'in SharedTags'),
    ('shared tag equal to earlier tag',
     GLOBAL + '\nTags: a\n\nTags: b\nSharedTags: a\nDirectory: x\n', 'conflicting shared tag'),
]


@pytest.mark.parametrize('text, reason', [(t, r) for _, t, r in MORE_INVALID],
                         ids=[n for n, _, _ in MORE_INVALID])
def test_invalid_files(text, reason):
    with pytest.raises(LibraryError) as info:
        parse(text)
    assert str(info.value).startswith('library/example: ')
    assert reason in str(info.value)


def test_longest_valid_tag():
    assert parse(GLOBAL + '\nTags: ' + 'a' * 128 + '\n').tags == {'a' * 128}


def test_short_commit_was_valid_only_in_legacy_line_format():
    library = parse('# maintainer: A (@a)\nx: https://r@deadbeef\n')
    assert library.legacy
    assert library.entries[0].git_commit == 'deadbeef'


def test_comments_inside_a_paragraph_do_not_split_it():
    library = parse(GLOBAL + '\nTags: a\n# between\n   # indented\nDirectory: d\n')
    assert len(library.entries) == 1
    assert library.entries[0].directory == 'd'


def test_commented_out_entry_is_not_an_entry():
    library = parse(GLOBAL + '\n#Tags: old\n#Directory: x\n\nTags: new\n')
    assert library.tags == {'new'}


def test_whitespace_only_line_continues_the_paragraph():
    # '  ' is a continuation line, so both halves are one paragraph: last key wins
    library = parse(GLOBAL + '\nTags: a\nDirectory: one\n  \nTags: b\n')
    assert library.tags == {'b'}
    assert library.entries[0].directory == 'one\n\n'  # strings are not trimmed


def test_many_blank_lines_and_whitespace_paragraphs_are_ignored():
    library = parse('\n\n' + GLOBAL + '\n\n\n \n\nTags: a\n\n\n')
    assert library.tags == {'a'}


def test_repeated_key_last_value_wins():
    assert parse(GLOBAL + '\nTags: a\nTags: b\n').tags == {'b'}


def test_crlf_and_missing_final_newline():
    library = parse((GLOBAL + '\nTags: a, b\nDirectory: d').replace('\n', '\r\n'))
    assert library.tags == {'a', 'b'}
    assert library.entries[0].directory == 'd'
    assert parse(GLOBAL + '\nTags: a').tags == {'a'}


def test_key_spacing_and_tab_continuations():
    text = (
        'Maintainers : A (@a),\n\tB <b@example.com> (@b)\nGitRepo:x\n' + COMMIT +
        '\n\nTags:   a ,b\t\n'
    )
    library = parse(text)
    assert library.tags == {'a', 'b'}
    assert library.maintainers == ('A (@a)', 'B <b@example.com> (@b)')


def test_continuation_with_comma_at_line_break():
    library = parse(GLOBAL + '\nTags: a,\n b,\n\tc\n')
    assert library.entries[0].tags == ('a', 'b', 'c')


def test_defaults():
    entry = parse('Maintainers: A (@a)\nGitRepo: r\n' + COMMIT + '\n\nTags: a\n').entries[0]
    assert (entry.architectures, entry.git_fetch, entry.directory, entry.file) == (
        ('amd64',), 'refs/heads/master', '.', 'Dockerfile',
    )
    assert (entry.builder, entry.constraints, entry.shared_tags, entry.arch_values) == (
        '', (), (), (),
    )


def test_inheritance_replace_versus_append():
    text = (
        'Maintainers: A (@a)\nGitRepo: r\n' + COMMIT + '\n'
        'SharedTags: latest\nArchitectures: s390x, amd64\nConstraints: c1\n'
        'arm64v8-GitCommit: ' + 'cd' * 20 + '\nBuilder: buildkit\nFile: Containerfile\n'
        '\nTags: a\nSharedTags: x, x, y\nArchitectures: i386, arm64v8, i386\n'
        'Maintainers: B (@b)\nConstraints: c2\nDirectory: ./1//2/../3/\n'
        '\nTags: b\nGitFetch: refs/tags/v1\namd64-Directory: a/./b\nDirectory: /\n'
    )
    first, second = parse(text).entries
    assert first.shared_tags == ('x', 'y')  # replaced (not appended), deduplicated
    assert second.shared_tags == ('latest',)  # inherited
    assert first.architectures == ('arm64v8', 'i386')  # replaced, deduplicated, sorted
    assert second.architectures == ('amd64', 's390x')
    assert first.maintainers == ('A (@a)', 'B (@b)')  # appended
    assert first.constraints == ('c1', 'c2')  # appended
    assert second.constraints == ('c1',)
    assert first.directory == '1/3'
    assert second.directory == '/'
    assert (first.builder, first.file) == ('buildkit', 'Containerfile')
    assert first.arch_values == (('arm64v8-GitCommit', 'cd' * 20),)
    assert second.arch_values == (
        ('amd64-Directory', 'a/b'), ('arm64v8-GitCommit', 'cd' * 20),
    )
    assert second.git_fetch == 'refs/tags/v1'


def test_shared_tags_may_repeat_across_entries():
    text = GLOBAL + '\nTags: a\nSharedTags: s\n\nTags: b\nSharedTags: s\nDirectory: x\n'
    library = parse(text)
    assert library.tags == {'a', 'b', 's'}
    assert library.entry_for('s') == library.entries[0]


def test_same_build_artifacts_are_merged():
    text = GLOBAL + (
        '\nTags: 1.5.3\nSharedTags: 1.5.3-debian, 1.5-debian\nDirectory: 1.5\n'
        '\nTags: 1.5\nSharedTags: 1.5-debian\nDirectory: 1.5/\n'
        '\nTags: 1.6\nDirectory: 1.6\n'
    )
    library = parse(text)
    assert len(library.entries) == 2
    assert library.entries[0].tags == ('1.5.3', '1.5')
    assert library.entries[0].shared_tags == ('1.5.3-debian', '1.5-debian')


def test_line_based_format():
    text = (
        '\n# maintainer: InfoSiftr <github@infosiftr.com> (@infosiftr)\n'
        '# maintainer: John Smith <jsmith@example.com> (@example-jsmith)\n\n'
        '# first set\na: b@c d\ne: b@c d\n\n # second set\nf: g@h\ni: g@h j\n'
    )
    library = parse(text)
    assert library.legacy
    assert [e.tags for e in library.entries] == [('a', 'e'), ('f',), ('i',)]
    first, second, third = library.entries
    assert (first.git_repo, first.git_commit, first.git_fetch, first.directory) == (
        'b', 'c', 'refs/heads/*', 'd',
    )
    assert (second.git_fetch, second.git_commit, second.directory) == (
        'refs/tags/h', 'FETCH_HEAD', '.',
    )
    assert third.directory == 'j'
    assert len(library.maintainers) == 2


@pytest.mark.parametrize('text', [
    '# maintainer: A (@a)\nx y\n',  # no ':' in either format
    '# maintainer: A (@a)\nx: no-at-sign\n',
    '# maintainer: nobody\nx: r@c\n',
    '# maintainer: A (@a)\nx: r@c\nx: r@d\n',
    '# maintainer: A (@a)\n.x: r@c\n',
])
def test_when_both_formats_fail_the_2822_reason_is_reported(text):
    with pytest.raises(LibraryError) as info:
        parse(text)
    assert str(info.value).startswith('library/example: ')
    assert 'missing Maintainers' in str(info.value) or 'has no ":"' in str(info.value)


def test_line_based_without_maintainer_is_rejected():
    with pytest.raises(LibraryError, match='^library/example: '):
        parse('x: r@c\n')


def test_library_is_immutable():
    library = parse(VALID)
    with pytest.raises(AttributeError):
        library.tags = frozenset()  # type: ignore[misc]
    assert isinstance(library.entries, tuple)
    assert isinstance(library.entries[0].tags, tuple)
    assert hash(library.entries[0])


# --- fuzz: malformed input is a LibraryError, never another exception ------------


def _mutations(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        pos = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == 1:
            chars.insert(pos, rng.choice(':,#\n \t\r@.-_a1\x00\u00e9\u2028\ufeff'))
        elif op == 2:
            chars[pos:pos] = list(rng.choice(['\n\n', '\nTags: x\n', ' .\n', '#', ': ']))
        elif op == 3 and chars:
            lines = ''.join(chars).split('\n')
            rng.shuffle(lines)
            chars = list('\n'.join(lines))
        else:
            chars = chars[:pos]
    return ''.join(chars)


def test_fuzz_never_crashes():
    rng = random.Random(20260821)
    seeds = [VALID, (OFFICIAL_IMAGES / '2021-06' / 'library' / 'thrift').read_text(),
             (OFFICIAL_IMAGES / 'current' / 'library' / 'mongo-express').read_text(),
             (OFFICIAL_IMAGES / 'current' / 'library' / 'busybox').read_text()]
    outcomes = {'ok': 0, 'error': 0}
    for i in range(1500):
        if i % 10 == 0:
            text = ''.join(rng.choice('Tags:, \n\t#@abc.-\r') for _ in range(rng.randrange(60)))
        else:
            text = _mutations(rng, rng.choice(seeds))
        try:
            library = parse(text)
        except LibraryError as err:
            assert str(err).startswith('library/example: ')
            outcomes['error'] += 1
        else:
            assert all(isinstance(t, str) for t in library.tags)
            outcomes['ok'] += 1
    assert outcomes['ok'] > 50 and outcomes['error'] > 50


# --- suggestions -----------------------------------------------------------------

SUGGEST = [
    ('current', 'python', '3.7-slim', ['3.14-slim', '3.13-slim', '3.12-slim', '3.11-slim', '3.10-slim']),
    ('current', 'python', '3.7', ['3.14', '3.13', '3.12', '3.11', '3.10']),
    ('current', 'python', '3.7-slim-buster', ['3.14-slim', '3.13-slim', '3.12-slim', '3.11-slim', '3.10-slim']),
    ('current', 'python', '3.7-alpine3.12', ['3.14-alpine', '3.13-alpine', '3.12-alpine', '3.11-alpine', '3.10-alpine']),
    ('current', 'python', '3.7-windowsservercore-1809', ['3.14-windowsservercore', '3.13-windowsservercore']),
    ('current', 'node', '16', ['26', '24', '22']),
    ('current', 'node', '14-alpine3.12', ['26-alpine', '24-alpine', '22-alpine']),
    ('current', 'debian', 'buster', ['trixie', 'bookworm', 'bullseye']),
    ('current', 'debian', 'buster-slim', ['trixie-slim', 'bookworm-slim', 'bullseye-slim']),
    ('current', 'debian', 'buster-backports', ['trixie-backports', 'bookworm-backports']),
    ('current', 'ubuntu', 'bionic', ['stonking', 'resolute', 'noble', 'jammy']),
    ('current', 'ubuntu', '18.04', ['26.10', '26.04', '24.04', '22.04']),
    ('current', 'golang', '1.16-alpine', ['1.27-alpine', '1.26-alpine']),
    ('2023-06', 'python', '3.6-slim', ['3.11-slim', '3.10-slim', '3.9-slim', '3.8-slim', '3.7-slim']),
    ('2023-06', 'node', '14', ['20', '19', '18', '16']),
]


@pytest.mark.parametrize('snapshot, image, tag, expected_start', SUGGEST)
def test_suggest(snapshot, image, tag, expected_start):
    library = load(snapshot, image)
    assert tag not in library.tags
    got = suggest(library, tag)
    assert got[:len(expected_start)] == expected_start
    assert len(got) <= 5
    assert set(got) <= library.tags
    assert suggest(library, tag) == got


def test_suggest_for_openjdk_that_only_lists_early_access():
    library = load('current', 'openjdk')
    got = suggest(library, '11-jre-slim-buster')
    assert got
    assert set(got) <= library.tags


def test_suggest_limit_and_deprecated():
    library = load('current', 'python')
    assert suggest(library, '3.7-slim', limit=2) == ['3.14-slim', '3.13-slim']
    assert suggest(library, '3.7-slim', limit=0) == []
    assert len(suggest(library, '3.7-slim', limit=100)) > 5
    assert suggest(load('current', 'plone'), 'latest') == []


def test_suggest_never_offers_the_tag_itself():
    library = load('current', 'python')
    assert '3.13-slim' not in suggest(library, '3.13-slim')
    assert suggest(library, '3.13-slim')[0] == '3.14-slim'


# (snapshot, image, tag, expected start of the suggestions); each library lists date-stamped tags
SUGGEST_DATED = [
    ('current', 'alpine', '3.12', ['3.24', '3.23', '3.22', '3.21', '3']),  # not 20260805
    ('current', 'alpine', '20230329', ['20260805', '3', '3.24']),  # dated: dated ones stay
    ('current', 'debian', 'buster', ['trixie', 'bookworm', 'bullseye', 'experimental', '13']),
    ('current', 'debian', 'buster-slim', ['trixie-slim', 'bookworm-slim', 'bullseye-slim']),
    ('current', 'ubuntu', 'bionic', ['stonking', 'resolute', 'noble', 'jammy', 'devel']),
    ('current', 'ubuntu', 'jammy-20240101', ['jammy', 'jammy-20260810']),
    ('current', 'rockylinux', '8', ['9', '9.3', '8.9']),  # not 9.3.20231119
    ('current', 'rockylinux', '8-minimal', ['9-minimal', '9.3-minimal', '8.9-minimal']),
    ('current', 'amazonlinux', '2018.03', ['2023', '2']),  # not 2023.12.20260817.0
    ('current', 'golang', 'tip-20240101', ['tip', 'tip-20260815']),
    ('2023-06', 'alpine', '3.12', ['3.18', '3.17', '3.16', '3.15', '3']),  # not 20230329
    ('2023-06', 'ubuntu', 'bionic', ['mantic', 'lunar', 'kinetic', 'jammy', 'focal']),
]


@pytest.mark.parametrize('snapshot, image, tag, expected_start', SUGGEST_DATED)
def test_suggest_leaves_out_date_stamped_tags(snapshot, image, tag, expected_start):
    library = load(snapshot, image)
    assert any(is_date_stamped(t) for t in library.tags)
    got = suggest(library, tag, limit=100)
    assert got[:len(expected_start)] == expected_start
    if not is_date_stamped(tag):
        assert [t for t in got if is_date_stamped(t)] == []
    else:
        assert any(is_date_stamped(t) for t in got)


@pytest.mark.parametrize('tag, dated', [
    ('20260805', True), ('bookworm-20260803', True), ('bookworm-20260803-slim', True),
    ('3.20-20260805', True), ('resolute-20260811.1', True), ('9.3.20231119', True),
    ('2023.12.20260817.0', True), ('base-20260816.0.574111', True), ('tip-20260815', True),
    ('3.12', False), ('2023', False), ('windowsservercore-ltsc2022', False), ('10.0.20348.4052', False),
    ('20261305', False), ('120260805', False), ('bookworm', False), ('1.26.7', False),
])
def test_is_date_stamped(tag, dated):
    assert is_date_stamped(tag) == dated


def test_error_messages_are_one_short_line():
    for text in ['x' * 10000, GLOBAL + '\nTags: ' + 'a\r' * 5000 + '\n',
                 GLOBAL + '\nTags: a\nArchitectures: ' + 'q' * 5000 + '\n']:
        with pytest.raises(LibraryError) as info:
            parse(text)
        message = str(info.value)
        assert '\n' not in message and '\r' not in message
        assert len(message) < 300
