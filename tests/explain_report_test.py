"""pin-from --update --report explains each move from the images' attestations
and OSV: images with BuildKit attestations pushed to the real registry."""
from __future__ import annotations

from pathlib import Path

import pytest

from pin_from.explain import attested
from pin_from.registry import http
from pin_from.pin import main
from tests.attested_images import SLSA_V02, SPDX, push_attested_image
from tests.explain_test import EXPECTED
from tests.registry_server import free_port, push_image

DATA = Path(__file__).parent / 'data'
ATT = DATA / 'attestations'
OSV = DATA / 'osv'
SLSA_V1 = 'https://slsa.dev/provenance/v1'
OLD = {SPDX: (ATT / 'sbom-old.spdx.json').read_bytes(), SLSA_V02: (ATT / 'provenance-old.v0.2.json').read_bytes()}
NEW = {SPDX: (ATT / 'sbom-new.spdx.json').read_bytes(), SLSA_V1: (ATT / 'provenance-new.v1.json').read_bytes()}

# What the report says about nginx:1.2 going from the old SBOM/provenance to the
# new ones, with DSA-3029-1 (tests/data/osv) fixed by nginx 1.2.1-2.2+wheezy3:
# the same text the pure renderer gives (tests/explain_test.py).
EXPLAINED = EXPECTED


@pytest.fixture
def hub(registry, repo_factory, tmp_path):
    prefix = repo_factory().replace('/', '-')
    library = Path(__file__).parents[1] / 'examples' / 'official-images' / 'library'  # no nginx, no redis

    class Hub:
        mirror = f'docker.io={registry.url}/{prefix}'

        def attested(self, name, tag, statements, seed):
            return push_attested_image(registry.url, f'{prefix}/library/{name}', tag, statements, seed=seed).index

        def plain(self, name, tag, seed, **kwargs):
            return push_image(registry.url, f'{prefix}/library/{name}', tag, seed=seed, **kwargs)

        def main(self, *args):
            extra = ['--library-url', str(library)] if '--update' in args else []
            return main(['--registry-mirror', self.mirror, '--cache-dir', str(tmp_path / 'cache'),
                         *extra, *map(str, args)])

    return Hub()


def _moved(hub, tmp_path, name='nginx', tag='1.2'):
    old = hub.attested(name, tag, OLD, seed='old')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {name}:{tag}@{old}\n')
    new = hub.attested(name, tag, NEW, seed='new')
    return path, old, new


def _image_section(report: str, image: str) -> str:
    return report.split(f'### `{image}`\n', 1)[1].split('\n### ', 1)[0]


def _explained(report: str, image: str) -> str:
    section = _image_section(report, image)
    return section[section.index('**Vulnerabilities**'):]


def _part(report: str, title: str) -> str:
    return report.split(f'**{title}**\n\n', 1)[1].split('\n\n', 1)[0].rstrip('\n')


def test_a_moved_attested_image_is_explained_exactly(hub, tmp_path, registry):
    path, old, new = _moved(hub, tmp_path)
    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, '--osv', OSV, path) == 1
    assert path.read_text() == f'FROM nginx:1.2@{new}\n'
    text = report.read_text()
    section = _image_section(text, 'nginx:1.2')
    assert section.startswith(f'\n- Digest: `{old}` → `{new}`\n')
    assert '- Layers: ' in section  # today's bullets come first, then the explanation
    assert _explained(text, 'nginx:1.2') == EXPLAINED


def test_the_text_summary_counts_packages_and_vulnerabilities(hub, tmp_path, capsys):
    path, old, new = _moved(hub, tmp_path)
    assert hub.main('--update', '--osv', OSV, path) == 1
    out = capsys.readouterr().out
    assert f'nginx:1.2: {old[:19]} -> {new[:19]} (1 place)\n' in out
    assert ('    packages: 4 upgraded, 1 added, 1 removed; vulnerabilities: 1 fixed, 0 introduced '
            '(1 known before, 0 after)\n') in out


def test_without_osv_the_report_says_so_once(hub, tmp_path, capsys):
    path, _, _ = _moved(hub, tmp_path)
    (tmp_path / 'b').mkdir()
    other, _, _ = _moved(hub, tmp_path / 'b', tag='1.3')
    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, path, other) == 1
    text = report.read_text()
    assert _part(text, 'Packages') == '4 upgraded, 1 added, 1 removed'
    assert text.count('OSV not configured') == 1 and '**Vulnerabilities**' not in text
    assert 'Vulnerabilities: OSV not configured (`--osv`).' in text.split('| image |')[0]


@pytest.mark.parametrize('platforms', [
    (('linux', 'amd64'), ('linux', 'arm64')),  # an index without attestation manifests
    (('linux', 'amd64'),),  # a single manifest: no index at all
])
def test_images_without_attestations_get_the_note(hub, tmp_path, platforms):
    old = hub.plain('redis', '8', seed='1', platforms=platforms)
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM redis:8@{old}\n')
    hub.plain('redis', '8', seed='2', platforms=platforms)
    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, '--osv', OSV, path) == 1
    text = report.read_text()
    section = _image_section(text, 'redis:8')
    assert section.rstrip('\n').endswith(
        '\n\nNo attestations on either image: packages, source and vulnerabilities unknown.')
    for title in ('Packages', 'Source', 'Vulnerabilities'):
        assert f'**{title}**' not in text


def test_an_sbom_over_the_cap_gets_the_note(hub, tmp_path, registry, monkeypatch):
    monkeypatch.setattr(attested, 'MAX_STATEMENT', 3_000)  # the SBOMs are ~6.9 kB, provenance ~1.7 kB
    path, _, _ = _moved(hub, tmp_path)
    mark = len(registry.requests_log())
    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, '--osv', OSV, path) == 1
    text = report.read_text()
    assert _part(text, 'Packages') == 'old image: SBOM too large (over 0.003 MB)'
    assert _part(text, 'Vulnerabilities') == 'old image: SBOM too large (over 0.003 MB)'
    assert '- compare: https://github.com/nginxinc/docker-nginx/compare/' in text  # provenance is under the cap
    blobs = [r['uri'] for r in registry.requests_log(since=mark) if '/blobs/' in r['uri']]
    sbom_digests = {_sha256(OLD[SPDX]), _sha256(NEW[SPDX])}
    assert not [b for b in blobs if b.rsplit('/', 1)[1] in sbom_digests]  # never downloaded


def test_an_unreachable_osv_api_gets_the_note(hub, tmp_path, monkeypatch):
    monkeypatch.setattr(http, 'RETRY_BACKOFF', 0.01)
    path, _, _ = _moved(hub, tmp_path)
    report = tmp_path / 'report.md'
    port = free_port()
    assert hub.main('--update', '--report', report, '--osv', f'http://127.0.0.1:{port}', path) == 1
    vulns = _part(report.read_text(), 'Vulnerabilities')
    assert vulns == (f'OSV unreachable: `http://127.0.0.1:{port}/v1/querybatch: '
                     f'cannot reach 127.0.0.1:{port} (connection refused)`')
    assert _part(report.read_text(), 'Packages') == '4 upgraded, 1 added, 1 removed'


def test_an_unmoved_reference_reads_no_attestation(hub, tmp_path, registry):
    old = hub.attested('nginx', '1.3', OLD, seed='same')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM nginx:1.3@{old}\n')
    mark = len(registry.requests_log())
    assert hub.main('--update', '--osv', OSV, path) == 0
    log = registry.requests_log(since=mark)
    assert [r['method'] for r in log if '/manifests/' in r['uri']] == ['HEAD']
    assert not [r for r in log if '/blobs/' in r['uri']]


def test_osv_needs_update(hub, tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM scratch\n')
    assert hub.main('--osv', OSV, path) == 2
    assert capsys.readouterr().err == 'pin-from: error: --osv needs --update\n'


def test_a_missing_osv_directory_is_a_usage_error(hub, tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM scratch\n')
    assert hub.main('--update', '--osv', tmp_path / 'nowhere', path) == 2
    assert capsys.readouterr().err == f'pin-from: error: --osv {tmp_path / "nowhere"}: no such OSV directory or zip\n'


def _sha256(data: bytes) -> str:
    import hashlib
    return 'sha256:' + hashlib.sha256(data).hexdigest()
