"""pin_from.support.library stays linear on huge adversarial files (they come from the network).

Before the fix each of these took from minutes to hours (see the measurements in the
commit message); a regression fails at the deadline instead of hanging the suite.
"""
from __future__ import annotations

import pytest

from pin_from.errors import LibraryError
from pin_from.support.library import parse_library
from tests.deadline import deadline

MB = 1 << 20
COMMIT = 'GitRepo: https://example.com/r.git\nGitCommit: ' + 'a' * 40 + '\n'
LIMIT = 20


def test_maintainer_with_megabytes_of_spaces_is_rejected():
    text = 'Maintainers: Jane' + ' ' * (8 * MB) + 'Doe\n'
    with deadline(LIMIT), pytest.raises(LibraryError, match='invalid Maintainers'):
        parse_library('x', text)


def test_maintainer_with_megabytes_of_spaces_before_the_handle_is_valid():
    maintainer = 'Jane' + ' ' * (4 * MB) + '<j@example.com>' + '\t' * MB + '(@jane)'
    text = f'Maintainers: {maintainer}\n\nTags: a\n' + COMMIT
    with deadline(LIMIT):
        library = parse_library('x', text)
    assert library.tags == {'a'} and library.maintainers == (maintainer,)


def test_maintainers_with_megabytes_of_space_separated_words():
    text = 'Maintainers: ' + 'a ' * (2 * MB) + '(@b\n'
    with deadline(LIMIT), pytest.raises(LibraryError, match='invalid Maintainers'):
        parse_library('x', text)


def test_megabytes_of_continuation_lines():
    text = 'Maintainers: A (@a)\n' + ' , B (@b)\n' * (MB // 2) + '\nTags: a\n' + COMMIT
    with deadline(LIMIT):
        library = parse_library('x', text)
    assert len(library.maintainers) == MB // 2 + 1


def test_many_entries_merged_into_one_build():
    count = 100_000  # about 3 MB
    text = 'Maintainers: A (@a)\n' + COMMIT + ''.join(
        f'\nTags: t{i}\nSharedTags: s{i}, s\n' for i in range(count)
    )
    with deadline(LIMIT):
        library = parse_library('x', text)
    (entry,) = library.entries
    assert len(entry.tags) == count and len(entry.shared_tags) == count + 1


def test_many_maintainers_inherited_by_many_entries():
    count = 100_000  # 2 MB of maintainers, 1.4 MB of entries
    text = 'Maintainers: ' + ', '.join(f'M (@m{i})' for i in range(count)) + '\n' + COMMIT
    text += ''.join(f'\nTags: t{i}\nDirectory: d{i}\n' for i in range(count))
    with deadline(LIMIT):
        library = parse_library('x', text)
    assert len(library.entries) == count
    assert library.entries[-1].maintainers == library.maintainers
    assert len(library.maintainers) == count


def test_legacy_file_with_many_maintainers_and_entries():
    text = ''.join(f'# maintainer: M (@m{i})\n' for i in range(100_000))
    text += ''.join(f't{i}: https://example.com/r.git@v{i}\n' for i in range(100_000))
    with deadline(LIMIT):
        library = parse_library('x', text)
    assert library.legacy and len(library.entries) == 100_000
    assert len(library.entries[0].maintainers) == 100_000
