"""The tests carry their own data: nothing is read from beside the repository."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.data import DATA, DOCS, OFFICIAL_IMAGES

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
# a path leaving the repository towards the sibling data directory: dot-dot then its name, the
# absolute path of the workplace's copy, or a pathlib parent chain joined with its name...
OUTSIDE = re.compile(
    r'\.\./' r'shared\b'
    r'|/work/' r'shared\b'
    r'|\.parents?(?:\[\d+\])?(?:\.parent)*\s*/\s*[\'"]' r'shared[\'"]'
)


def outside_references(source: str) -> list[int]:
    """Line numbers of ``source`` pointing at a shared directory outside the repository."""
    return [n for n, line in enumerate(source.splitlines(), 1) if OUTSIDE.search(line)]


NAME = 'sha' 'red'  # spelled apart, so this file's own vectors do not look like what they detect


@pytest.mark.parametrize('source, lines', [
    (f"OFFICIAL_IMAGES = Path(__file__).resolve().parents[1].parent / '{NAME}' / 'x'", [1]),
    (f'x = 1\nd = here.parent.parent / "{NAME}"', [2]),
    (f'See ``../{NAME}/docs/TESTING-NOTES.md``', [1]),
    (f"open('/work/{NAME}/official-images/README.md')", [1]),
    (f"real = tmp_path / '{NAME}' / 'base.Dockerfile'", []),  # a temp dir of the test's own
    ('assert entry.shared_tags == ()', []),
])
def test_outside_reference_detector(source, lines):
    assert outside_references(source) == lines


def test_no_test_module_reads_outside_the_repository():
    modules = [p for p in TESTS.rglob('*.py') if DATA not in p.parents]
    assert len(modules) > 15  # the glob found the suite
    found = {
        f'{p.relative_to(REPO)}:{n}': p.read_text().splitlines()[n - 1].strip()
        for p in modules if p != Path(__file__).resolve() for n in outside_references(p.read_text())
    }
    assert found == {}


def test_data_lives_inside_the_repository():
    for path in (OFFICIAL_IMAGES, DOCS):
        assert path.is_dir() and REPO in path.parents


@pytest.mark.parametrize('snapshot', ['current', '2023-06', '2021-06'])
def test_snapshot_is_complete(snapshot):
    """Each snapshot holds the number of library files its COMMIT file records."""
    commit = dict(
        line.split(': ', 1) for line in (OFFICIAL_IMAGES / snapshot / 'COMMIT').read_text().splitlines()
    )
    files = [p for p in (OFFICIAL_IMAGES / snapshot / 'library').iterdir() if p.is_file()]
    assert len(files) == int(commit['files'])
    assert re.fullmatch(r'[0-9a-f]{40}', commit['commit'])
    assert commit['commit'] in (OFFICIAL_IMAGES / 'README.md').read_text()


def test_docs_commit_is_recorded():
    commit = re.search(r'[0-9a-f]{40}', (DOCS / 'COMMIT').read_text())
    assert commit and commit.group() in (OFFICIAL_IMAGES / 'README.md').read_text()
