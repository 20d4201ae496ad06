"""Pins over time (issue 14): --min-age lets a moved tag settle; platform pins stay platform pins.

Against the real registry fixture. Time passes by ageing pin-from's own first
sightings in the cache (what a later run would find), never by sleeping.
"""
from __future__ import annotations

import datetime
import re

import pytest
import requests

from pin_from.registry.cache import _STORE_KEY
from pin_from.registry.cache import Cache
from pin_from.pin import main
from pin_from.registry.resolve import digest_key
from pin_from.reference import parse
from tests.registry_server import push_image

AMD64 = ('linux', 'amd64')
ARM64 = ('linux', 'arm64')
S390X = ('linux', 's390x')
HOUR = 3600.0


@pytest.fixture
def repo(registry, repo_factory):
    return repo_factory()


def platforms_of(registry, repo, digest):
    resp = requests.get(f'{registry.url}/v2/{repo}/manifests/{digest}',
                        headers={'Accept': 'application/vnd.oci.image.index.v1+json'}, timeout=10)
    return {f'{m["platform"]["os"]}/{m["platform"]["architecture"]}': m['digest'] for m in resp.json()['manifests']}


def age_sightings(cache_dir, ref_text, hours):
    """Make every recorded first sighting of ``ref_text``'s digests ``hours`` older."""
    cache = Cache(str(cache_dir))
    store = cache._open()
    ref = parse(ref_text)
    prefix = f'seen:{digest_key(ref, "")}'
    for key in list(store.iterkeys()):
        if isinstance(key, str) and key.startswith(_STORE_KEY + prefix):
            name = key[len(_STORE_KEY):]
            cache.set(name, cache.get(name, lambda v: True).value - hours * HOUR)
    cache.close()


def update(registry, cache, path, *extra):
    return main(['--cache-dir', str(cache), '--update', '-v', *map(str, extra), str(path)])


def test_an_index_gaining_architectures_settles_before_it_is_repinned(registry, repo, tmp_path, capsys):
    cache = tmp_path / 'cache'
    v1 = push_image(registry.url, repo, 'v1', platforms=(AMD64,), seed='s')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{v1}\n')
    assert update(registry, cache, path, '--min-age', '1d') == 0  # nothing moved; v1 is seen
    age_sightings(cache, f'{registry.host}/{repo}:v1', 72)  # the pin is three days old

    # step 2: the tag gains arm64. Its config created is 2024: a reproducible build's source date, older
    # than the image it replaces was first seen, so it cannot say when this one appeared.
    v2 = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='s')
    report = tmp_path / 'r.md'
    assert update(registry, cache, path, '--min-age', '1d', '--report', report) == 0
    out = capsys.readouterr().out
    assert f'moved to {v2} 0 h ago (by when pin-from first saw it); held by --min-age for 24 h more; kept' in out
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{v1}\n'
    assert '### Held back' in report.read_text() and 'No base image tag moved.' in report.read_text()

    # step 3: then s390x, a new digest: its own clock starts
    age_sightings(cache, f'{registry.host}/{repo}:v1', 20)
    v3 = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64, S390X), seed='s')
    assert update(registry, cache, path, '--min-age', '1d') == 0
    assert f'moved to {v3} 0 h ago' in capsys.readouterr().out

    # a day later the tag has settled: re-pinned to what it names now
    age_sightings(cache, f'{registry.host}/{repo}:v1', 25)
    assert update(registry, cache, path, '--min-age', '1d') == 1
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{v3}\n'


def test_an_index_created_annotation_is_the_first_evidence(registry, repo, tmp_path, capsys, monkeypatch):
    cache = tmp_path / 'cache'
    old = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='1')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{old}\n')
    assert update(registry, cache, path, '--min-age', '1d') == 0  # pin-from sees the pinned image
    age_sightings(cache, f'{registry.host}/{repo}:v1', 72)  # three days ago
    two_days_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)).strftime('%Y-%m-%dT%H:%M:%SZ')
    new = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='2',
                     annotations={'org.opencontainers.image.created': two_days_ago})
    assert update(registry, cache, path, '--min-age', '1d') == 1  # two days old by its annotation
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{new}\n'
    # -v names the evidence that let the move through
    out = capsys.readouterr().out
    assert re.search(rf"moved to {new} (?:48 h|2.0 d) ago \(by its index annotation\); old enough for --min-age 24 h", out), out
    monkeypatch.setenv('PIN_FROM_MIN_AGE', '1w')  # the env variable works too, and a week is more than two days
    path.write_text(f'FROM {registry.host}/{repo}:v1@{old}\n')
    assert update(registry, cache, path) == 0
    assert 'by its index annotation); held by --min-age' in capsys.readouterr().out


@pytest.mark.parametrize('value', ('1', '1y', '-1d', 'd'))
def test_a_bad_min_age_is_a_usage_error(tmp_path, capsys, value):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    with pytest.raises(SystemExit) as exit_:
        main(['--update', f'--min-age={value}', str(path)])
    assert exit_.value.code == 2
    assert 'argument --min-age' in capsys.readouterr().err


def test_a_platform_pin_stays_a_platform_pin(registry, repo, tmp_path, capsys):
    cache = tmp_path / 'cache'
    index = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='same')
    arm = platforms_of(registry, repo, index)['linux/arm64']
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{arm}\n')

    # another platform moves: the arm64 manifest is the same, so the pin stays
    push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64, S390X), seed='same')
    assert update(registry, cache, path) == 0
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{arm}\n'
    assert 'a platform pin (linux/arm64)' in capsys.readouterr().out

    # its own platform moves: re-pinned to arm64's new manifest, not to the index
    moved = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='rebuilt')
    new_arm = platforms_of(registry, repo, moved)['linux/arm64']
    assert update(registry, cache, path) == 1
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{new_arm}\n'
    assert main(['--cache-dir', str(cache), '--update', str(path)]) == 0  # and it stays so


def test_pin_platform_pins_new_references_to_that_platform(registry, repo, tmp_path, capsys):
    index = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64))
    arm = platforms_of(registry, repo, index)['linux/arm64']
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1\n')
    assert main(['--pin-platform', 'linux/arm64', str(path)]) == 1
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{arm}\n'
    other = tmp_path / 'Other.Dockerfile'
    other.write_text(f'FROM {registry.host}/{repo}:v1\n')
    assert main(['--pin-platform', 'linux/riscv64', str(other)]) == 3
    assert f'has no linux/riscv64 image' in capsys.readouterr().out
    assert other.read_text() == f'FROM {registry.host}/{repo}:v1\n'


def _json_results(capsys):
    import json
    return json.loads(capsys.readouterr().out)['results']


def test_each_hold_carries_its_own_reason_in_json(registry, repo_factory, tmp_path, capsys):
    """--format json gave every held move the --platform reason; a --min-age hold and a kept
    platform pin now say their own."""
    cache = tmp_path / 'cache'
    young_repo, platform_repo = repo_factory(), repo_factory()
    v1 = push_image(registry.url, young_repo, 'v1', platforms=(AMD64,), seed='y1')
    index = push_image(registry.url, platform_repo, 'v1', platforms=(AMD64, ARM64), seed='same')
    arm = platforms_of(registry, platform_repo, index)['linux/arm64']
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{young_repo}:v1@{v1}\nFROM {registry.host}/{platform_repo}:v1@{arm}\n')
    assert update(registry, cache, path, '--min-age', '1d') == 0  # nothing moved; v1 is seen
    v2 = push_image(registry.url, young_repo, 'v1', platforms=(AMD64,), seed='y2')
    push_image(registry.url, platform_repo, 'v1', platforms=(AMD64, ARM64, S390X), seed='same')
    capsys.readouterr()

    assert main(['--cache-dir', str(cache), '--update', '--min-age', '1d', '--format', 'json', str(path)]) == 0
    by_line = {r['line']: r for r in _json_results(capsys)}
    assert by_line[1]['status'] == 'unchanged' and by_line[1]['old'] == by_line[1]['new'] == v1
    assert by_line[1]['reason'].startswith(f'moved to {v2} 0 h ago')
    assert 'held by --min-age for 24 h more' in by_line[1]['reason']
    assert by_line[2]['status'] == 'unchanged' and by_line[2]['new'] == arm
    assert by_line[2]['reason'].startswith('a platform pin (linux/arm64)')
    assert 'none of the --platform platforms' not in by_line[1]['reason'] + by_line[2]['reason']


def _two_days_ago():
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)).strftime('%Y-%m-%dT%H:%M:%SZ')


@pytest.mark.parametrize('same_created', (True, False))
def test_a_past_created_is_no_evidence_when_the_pinned_image_was_never_seen(
        registry, repo, tmp_path, capsys, same_created):
    """A fresh CI cache (or pins made by plain runs): a created date two days old may be a source date.
    Held until pin-from has seen the new digest for the full age (issue 18, item 13)."""
    cache = tmp_path / 'cache'
    created = _two_days_ago()
    old = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='1',
                     annotations={'org.opencontainers.image.created': created})
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{old}\n')
    new = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='2',
                     annotations={'org.opencontainers.image.created': created if same_created else _two_days_ago()})
    assert update(registry, cache, path, '--min-age', '1d') == 0
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{old}\n'
    assert (f'moved to {new} 0 h ago (by when pin-from first saw it; it never saw the pinned image, so no '
            'created date can tell when this one appeared); held by --min-age for 24 h more') in capsys.readouterr().out
    age_sightings(cache, f'{registry.host}/{repo}:v1', 25)  # a day later, by pin-from's own sighting
    assert update(registry, cache, path, '--min-age', '1d') == 1
    assert path.read_text() == f'FROM {registry.host}/{repo}:v1@{new}\n'


@pytest.mark.parametrize('created', (
    '2024-13-01T00:00:00Z', '2024-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2024-01-01T00:00:00+99:99',
    '0001-01-01T00:00:00+23:59', '9999-12-31T23:59:59-23:59',
))
def test_an_invalid_created_is_unknown_not_a_crash(registry, repo, tmp_path, capsys, created):
    """Issue 18, item 5: these reached strptime and raised ValueError."""
    cache = tmp_path / 'cache'
    old = push_image(registry.url, repo, 'v1', platforms=(AMD64,), seed='1')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM {registry.host}/{repo}:v1@{old}\n')
    assert update(registry, cache, path, '--min-age', '1d') == 0
    age_sightings(cache, f'{registry.host}/{repo}:v1', 72)
    new = push_image(registry.url, repo, 'v1', platforms=(AMD64, ARM64), seed='2',
                     annotations={'org.opencontainers.image.created': created})
    report = tmp_path / 'r.md'
    assert update(registry, cache, path, '--min-age', '1d', '--report', report) == 0
    assert f'moved to {new} 0 h ago (by when pin-from first saw it); held' in capsys.readouterr().out
