"""The explain step ends in bounded time, whatever an SBOM or OSV holds (issue 18, items 7 and 8).

An SBOM of 25,000 apk versions of 500 characters ran past 120 s after the
Dockerfile was rewritten (univers is superlinear in a version's length), and
OSV matching cost versions x records, unmemoised (2,000 x 2,000 ran past 120 s).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pin_from.explain import osv, versions
from pin_from.explain.attestations import Package, parse_sbom
from pin_from.explain.osv import DirectorySource, OsvError, Query, findings, parse_record
from pin_from.explain.packages import diff_packages
from tests.attested_images import SPDX
from tests.explain_report_test import NEW, OLD, hub  # noqa: F401 -- the fixture
from tests.explain_report_test import _part


@pytest.fixture(autouse=True)
def fresh_versions():
    reset = getattr(versions, 'reset', lambda: None)  # the memos and the deadline are per run
    reset()
    yield
    reset()


def _sbom(versions_of: dict[str, str]) -> bytes:
    packages = [{'name': n, 'versionInfo': v, 'externalRefs': [
        {'referenceType': 'purl', 'referenceLocator': f'pkg:apk/alpine/{n}@{v}?distro=alpine-3.20'}]}
        for n, v in versions_of.items()]
    return json.dumps({'predicateType': SPDX, 'predicate': {'packages': packages}}).encode()


def test_an_sbom_of_very_long_versions_is_compared_without_ordering_them():
    long = '1.' * 250  # 500 characters: milliseconds each for univers
    old = parse_sbom(_sbom({f'p{i}': f'{long}{i}' for i in range(300)}))
    new = parse_sbom(_sbom({f'p{i}': f'{long}{i + 1}' for i in range(300)}))
    diff = diff_packages(old, new)
    assert len(diff.changed) == 300 and not diff.upgraded  # unordered: listed as changed, never guessed
    short = diff_packages([Package('a', '1.0-r0', 'pkg:apk/alpine/a@1.0-r0')],
                          [Package('a', '1.1-r0', 'pkg:apk/alpine/a@1.1-r0')])
    assert [c.name for c in short.upgraded] == ['a']


def test_past_the_deadline_a_move_still_gets_its_report_with_a_note(hub, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(versions, 'ORDER_SECONDS', 0.0)
    old = hub.attested('nginx', '1.2', OLD, seed='old')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM nginx:1.2@{old}\n')
    new = hub.attested('nginx', '1.2', NEW, seed='new')
    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, path) == 1
    assert path.read_text() == f'FROM nginx:1.2@{new}\n'
    packages = report.read_text().split('**Packages**\n\n', 1)[1].split('**Source**', 1)[0]
    assert "Explanation cut short: versions not ordered within the explain step's 0 s deadline" in packages
    assert _part(report.read_text(), 'Packages').startswith('0 upgraded')


def _record(i: int, name: str = 'openssl') -> osv.Advisory:
    record = parse_record({'id': f'A-{i}', 'affected': [{
        'package': {'ecosystem': 'Alpine:v3.20', 'name': name},
        'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}, {'fixed': f'3.{i}.0-r0'}]}],
    }]})
    assert record is not None
    return record


def test_osv_ranges_are_parsed_once_not_once_per_version(monkeypatch):
    calls: list[str] = []
    real = versions.BY_ECOSYSTEM['Alpine']

    def counting(text: str) -> versions.Version:
        calls.append(text)
        return real(text)
    monkeypatch.setitem(versions.BY_ECOSYSTEM, 'Alpine', counting)
    records = [_record(i) for i in range(100)]
    queries = [Query('Alpine:v3.20', 'openssl', f'3.{v}.1-r0') for v in range(100)]
    found = findings(queries, records)
    assert len(found) == 99  # A-i (i > 0) affects the versions below 3.i.0
    assert len(calls) <= 100 + 2 * 100  # univers parses each version once, each range's events once


def test_osv_matching_is_capped_in_total(monkeypatch):
    monkeypatch.setattr(osv, 'MAX_CHECKS', 1_000)
    records = [_record(i) for i in range(50)]
    queries = [Query('Alpine:v3.20', 'openssl', f'3.{v}.1-r0') for v in range(50)]  # 2,500 checks
    with pytest.raises(OsvError, match='over 1,000 version checks'):
        findings(queries, records)
    other = [Query('Alpine:v3.20', f'pkg{v}', '1.0-r0') for v in range(50)]  # no record names them: no checks
    assert findings(other, records) == {}


def test_an_osv_directory_is_capped_in_records_kept(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(osv, 'MAX_KEPT', 10)
    for i in range(11):
        (tmp_path / f'A-{i}.json').write_text(json.dumps({'id': f'A-{i}', 'affected': [{
            'package': {'ecosystem': 'Alpine:v3.20', 'name': 'openssl'},
            'ranges': [{'type': 'ECOSYSTEM', 'events': [{'introduced': '0'}]}]}]}))
    with pytest.raises(OsvError, match='over 10 records'):
        DirectorySource(tmp_path).candidates([Query('Alpine:v3.20', 'openssl', '1')])
