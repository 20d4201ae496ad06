"""pin_from.explain.markdown: the Markdown sections, end to end from the test data."""
from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import pytest

from pin_from.explain.attestations import SLSA, Attestations, Package, Provenance, parse_provenance, parse_sbom
from pin_from.explain.markdown import Sides, VulnsUnknown, compare_link, render, vulnerabilities
from pin_from.registry.http import Http
from pin_from.explain.osv import ApiSource, DirectorySource, http_calls
from tests.registry_server import free_port

DATA = Path(__file__).parent / 'data'
ATT = DATA / 'attestations'


def _sides() -> Sides:
    old = Attestations(
        parse_sbom((ATT / 'sbom-old.spdx.json').read_bytes()),
        parse_provenance((ATT / 'provenance-old.v0.2.json').read_bytes(), SLSA[0]), (),
    )
    new = Attestations(
        parse_sbom((ATT / 'sbom-new.spdx.json').read_bytes()),
        parse_provenance((ATT / 'provenance-new.v1.json').read_bytes(), SLSA[1]), (),
    )
    return Sides(old, new)


EXPECTED = textwrap.dedent('''\
    **Vulnerabilities**

    1 known before, 0 after: 1 fixed, 0 introduced

    Fixed by this update:

    - `DSA-3029-1` (`CVE-2014-3616`) in `nginx` `1.2.1-2.2+wheezy2` fixed in `1.2.1-2.2+wheezy3`

    **Packages**

    4 upgraded, 1 added, 1 removed

    - `libc6` `2.13-38+deb7u3` → `2.13-38+deb7u4`
    - `nginx-common` `1.2.1-2.2+wheezy2` → `1.2.1-2.2+wheezy3`
    - `nginx-light` `1.2.1-2.2+wheezy2` → `1.2.1-2.2+wheezy3`
    - `requests` `2.31.0` → `2.32.0`

    <details><summary>All package changes</summary>

    - `libc6` `2.13-38+deb7u3` → `2.13-38+deb7u4` (upgraded)
    - `nginx-common` `1.2.1-2.2+wheezy2` → `1.2.1-2.2+wheezy3` (upgraded)
    - `nginx-light` `1.2.1-2.2+wheezy2` → `1.2.1-2.2+wheezy3` (upgraded)
    - `requests` `2.31.0` → `2.32.0` (upgraded)
    - `libssl1.0.0` `1.0.1e-2+deb7u12` (added)
    - `libgdbm3` `1.8.3-11` (removed)

    </details>

    **Source**

    - unverified provenance: what whoever pushed these images claims about their source (no signature verified it)
    - old: `https://github.com/nginxinc/docker-nginx` at `0f3f4e3b0c1f1f4e1a6d2b1c9e8f7a6b5c4d3e2f` built `2014-09-01T10:00:00.000000000Z`
    - new: `https://github.com/nginxinc/docker-nginx` at `9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b` built `2014-09-21T10:00:00.000000000Z`
    - compare: https://github.com/nginxinc/docker-nginx/compare/0f3f4e3b0c1f1f4e1a6d2b1c9e8f7a6b5c4d3e2f...9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b
''')


def test_end_to_end_from_statements_and_an_osv_directory():
    sides = _sides()
    assert render(sides, vulnerabilities(sides, DirectorySource(DATA / 'osv'))) == EXPECTED


def test_swapping_old_and_new_turns_fixed_into_introduced():
    sides = _sides()
    text = render(Sides(sides.new, sides.old), vulnerabilities(Sides(sides.new, sides.old), DirectorySource(DATA / 'osv')))
    assert '0 known before, 1 after: 0 fixed, 1 introduced' in text
    assert 'Introduced:\n\n- `DSA-3029-1`' in text
    assert '0 upgraded, 4 downgraded, 1 added, 1 removed' in text


def _section(text: str, title: str) -> str:
    return text.split(f'**{title}**\n\n', 1)[1].split('\n\n', 1)[0].rstrip('\n')


def test_an_image_without_attestations_is_one_line_not_three_sections():
    nothing = Attestations(None, None, ('no attestations on this image',))
    text = render(Sides(nothing, _sides().new), None)
    assert text == 'No attestations on the old image: packages, source and vulnerabilities unknown.\n'
    assert render(Sides(nothing, nothing), None).startswith('No attestations on either image: ')


def test_missing_data_is_one_line_per_section_and_osv_unconfigured_is_not_a_section():
    no_sbom = Attestations(None, _sides().old.provenance, ('no SBOM attestation',))
    text = render(Sides(no_sbom, _sides().new), None)
    assert _section(text, 'Packages') == 'old image: no SBOM attestation'
    assert '**Vulnerabilities**' not in text and 'OSV not configured' not in text  # the report says it once
    assert text.index('**Packages**') < text.index('**Source**')


def test_an_sbom_over_the_cap_says_so():
    big = Attestations(None, _sides().new.provenance, ('SBOM too large (over 50 MB)',))
    sides = Sides(_sides().old, big)
    text = render(sides, vulnerabilities(sides, DirectorySource(DATA / 'osv')))
    assert _section(text, 'Packages') == 'new image: SBOM too large (over 50 MB)'
    assert _section(text, 'Vulnerabilities') == 'new image: SBOM too large (over 50 MB)'
    assert 'compare: https://github.com/' in _section(text, 'Source') + text


def test_a_down_osv_server_is_its_one_line():
    sides = _sides()
    with contextlib.closing(Http(timeout=2)) as http:
        source = ApiSource(f'http://127.0.0.1:{free_port()}', http_calls(http))
        outcome = vulnerabilities(sides, source)
    assert isinstance(outcome, VulnsUnknown) and outcome.text.startswith('OSV unreachable: `http://127.0.0.1:')
    assert _section(render(sides, outcome), 'Vulnerabilities') == outcome.text
    assert '\n' not in outcome.text


def test_an_unreadable_osv_directory_is_its_one_line(tmp_path):
    outcome = vulnerabilities(_sides(), DirectorySource(tmp_path / 'missing'))
    assert outcome == VulnsUnknown(f'OSV unreadable: `{tmp_path / "missing"}: no such OSV directory or zip`')


def test_only_the_first_20_upgrades_are_in_the_body():
    old = tuple(Package(f'p{i:02}', '1.0', f'pkg:pypi/p{i:02}@1.0') for i in range(25))
    new = tuple(Package(f'p{i:02}', '2.0', f'pkg:pypi/p{i:02}@2.0') for i in range(25))
    text = render(Sides(Attestations(old, None, ()), Attestations(new, None, ())), None)
    body, details = text.split('<details>', 1)
    assert body.count(' → ') == 20 and '- … and 5 more' in body
    assert details.count('(upgraded)') == 25


def test_values_are_capped_code_spans():
    long = Package('x' * 200, '1', None)
    text = render(Sides(Attestations((long,), None, ()), Attestations((), None, ())), None)
    assert '- `' + 'x' * 119 + '…` `1` (removed)' in text


def test_hostile_package_names_cannot_break_out():
    evil = Package('a`</details><img src=x>\n# owned', '1', None)
    text = render(Sides(Attestations((evil,), None, ()), Attestations((), None, ())), None)
    assert '\n# owned' not in text
    assert '``a`</details><img src=x>\\x0a# owned``' in text


@pytest.mark.parametrize('old, new, expected', [
    ('https://github.com/o/r', 'https://github.com/o/r.git#refs/heads/main', 'https://github.com/o/r/compare/abc1234...def5678'),
    ('git@github.com:o/r.git', 'https://github.com/o/r', 'https://github.com/o/r/compare/abc1234...def5678'),
    ('https://github.com/o/r', 'https://github.com/o/other', None),
    ('https://gitlab.com/o/r', 'https://gitlab.com/o/r', None),
    ('https://github.com/o/r/../../x', 'https://github.com/o/r/../../x', None),
    ('https://github.com/o/..', 'https://github.com/o/..', None),
    # a homoglyph owner (Cyrillic і): \w would take it, a link would look like nginxinc's (issue 18, item 9)
    ('https://github.com/ng\u0456nxinc/docker-nginx', 'https://github.com/ng\u0456nxinc/docker-nginx', None),
    ('https://github.com/nginxinc/d\u043ecker-nginx', 'https://github.com/nginxinc/d\u043ecker-nginx', None),
])
def test_compare_link(old, new, expected):
    assert compare_link(Provenance(old, 'abc1234', None), Provenance(new, 'def5678', None)) == expected


def test_no_compare_link_without_two_commits():
    assert compare_link(Provenance('https://github.com/o/r', None, None),
                        Provenance('https://github.com/o/r', 'def5678', None)) is None
    assert compare_link(Provenance('https://github.com/o/r', 'x; rm', None),
                        Provenance('https://github.com/o/r', 'def5678', None)) is None
