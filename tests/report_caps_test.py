"""The --update report fits a pull-request body: vulnerabilities first, every list capped, the whole
under 60,000 characters, and it says what it left out (GitHub cuts a PR body at 65,536)."""
from __future__ import annotations

from pin_from.explain import report
from pin_from.explain.attestations import Attestations, Package, Provenance
from pin_from.explain.markdown import Explanation, Sides
from pin_from.explain.osv import Finding, VulnDiff
from pin_from.reference import parse

OLD = 'sha256:' + 'a' * 64
NEW = 'sha256:' + 'b' * 64
PROVENANCE = Provenance('https://github.com/org/app', 'c' * 40, None)


def _move(name, locations, explained=None):
    return report.Move(parse(f'{name}:1'), OLD, NEW, tuple(locations), ('Layers: 1 added, 1 removed (3 now)',),
                       None, explained)


def _explained(packages: int, vulns: int) -> Explanation:
    old = tuple(Package(f'pkg-{i:05d}-{"x" * 60}', '1.0', None) for i in range(packages))
    new = tuple(Package(p.name, '2.0', None) for p in old)
    found = tuple(Finding(f'CVE-2026-{i:05d}', (), 'HIGH', 'openssl', '3.0.1', '3.0.2') for i in range(vulns))
    return Explanation(Sides(Attestations(old, PROVENANCE, ()), Attestations(new, PROVENANCE, ())),
                       VulnDiff((), found, 0, vulns))


def test_the_file_list_of_an_image_is_capped_and_counted():
    move = _move('python', [f'svc{i}/Dockerfile:1' for i in range(1402)])
    text = report.markdown([move], 'linux/amd64')
    row = next(line for line in text.splitlines() if line.startswith('| `python:1` |'))
    assert row.count('Dockerfile:1`') == report.WHERE_FILES
    assert row.endswith(' and 1,392 more files |')
    assert len(text) < 5_000


def test_a_huge_update_fits_under_60000_characters_and_says_what_it_left_out():
    moves = [_move(f'img{i}', [f'd{j}/Dockerfile:1' for j in range(50)], _explained(3_000, 120)) for i in range(40)]
    text = report.markdown(moves, 'linux/amd64', [f'held{i}@sha256:{"d" * 64}: waiting; kept' for i in range(500)])
    assert len(text) < report.MAX_REPORT
    assert text.count('| `img') == 40 and text.count('- Digest: ') == 40  # every image keeps its row and facts
    assert text.splitlines()[-1].startswith('_Left out to keep this report under 60,000 characters')
    assert "40 images' package changes" in text.splitlines()[-1]
    # vulnerabilities are taken before any image's packages
    assert text.count('**Vulnerabilities**') > 0 and text.count('**Packages**') == 0


def test_each_list_of_one_image_is_capped_and_vulnerabilities_come_first():
    text = report.markdown([_move('img', ['Dockerfile:1'], _explained(3_000, 120))], 'linux/amd64')
    assert len(text) < report.MAX_REPORT
    assert text.index('**Vulnerabilities**') < text.index('**Packages**') < text.index('**Source**')
    assert '- … and 70 more (left out: at most 50 listed)' in text  # 120 introduced, 50 listed
    assert '- … and 2,800 more package changes (left out: at most 200 listed)' in text
    assert 'Left out to keep' not in text


def test_a_report_that_fits_says_nothing_was_left_out():
    text = report.markdown([_move('python', ['Dockerfile:1'], _explained(3, 1))], 'linux/amd64')
    assert 'Left out' not in text and 'more files' not in text


def test_one_source_heading_holds_the_official_images_entry():
    source = report.Source('library/python', 'https://github.com/docker-library/python', 'e' * 40, '3.12/slim', None)
    move = _move('python', ['Dockerfile:1'], _explained(3, 0))._replace(source=source)
    text = report.markdown([move], 'linux/amd64')
    assert '- Source:' not in text and text.count('**Source**') == 1
    section = text.split('**Source**\n\n', 1)[1]
    assert section.startswith('- `library/python`: `https://github.com/docker-library/python` at `eeeeeeeeeeee`')


def test_check_says_would_re_pin():
    assert 'pin-from would re-pin 1 moved tag.' in report.markdown([_move('python', ['D:1'])], 'x', check=True)
    assert 'pin-from re-pinned 1 moved tag.' in report.markdown([_move('python', ['D:1'])], 'x')


def test_the_terminal_summary_is_plain_text():
    move = _move('python', ['Dockerfile:1'])._replace(details=('Environment: `A` `1` → `2`; `B` ``x`y`` added',))
    lines = report.summary([move])
    assert lines[1] == '    Environment: A 1 → 2; B x`y added'


def test_created_is_said_only_when_it_changed():
    from pin_from.registry.changes import Facts
    old = Facts(OLD, (), 'sha256:' + '1' * 64, '2026-01-01T00:00:00Z', 10, ('l1',), {}, {})
    same = old._replace(digest=NEW, manifest='sha256:' + '2' * 64, layers=('l2',))
    assert not [line for line in report.describe(old, same, 'linux/amd64') if line.startswith('Created')]
    later = same._replace(created='2026-02-01T00:00:00Z')
    assert 'Created: `2026-01-01T00:00:00Z` → `2026-02-01T00:00:00Z`' in report.describe(old, later, 'linux/amd64')


def test_update_check_report_says_would_re_pin(hub, tmp_path):
    old = hub.push('node', '24', seed='a')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM node:24@{old}\n')
    hub.push('node', '24', seed='b')
    out = tmp_path / 'r.md'
    assert hub.main('--update', '--check', '--report', out, path) == 1
    assert path.read_text() == f'FROM node:24@{old}\n'
    assert 'pin-from would re-pin 1 moved tag.' in out.read_text()
