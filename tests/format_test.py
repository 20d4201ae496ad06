"""--format json (both hooks) and --format sarif (check-deprecated-tags), against the
real registry fixture and real official-images files, validated against the schemas."""
from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import jsonschema
import pytest

from pin_from import check_deprecated_tags
from pin_from import pin
from pin_from.support import snapshot

DATA = Path(__file__).parent / 'data'
LIBRARY = DATA / 'official-images' / 'current' / 'library'
DOCS = DATA / 'official-images' / 'extras' / 'docs'
RESULTS_SCHEMA = json.loads((Path(pin.__file__).parent / 'schemas' / 'results-v1.json').read_text())
SARIF_SCHEMA = json.loads((DATA / 'sarif' / 'sarif-schema-2.1.0.json').read_text())
ZERO = 'sha256:' + '0' * 64


def results_document(capsys) -> dict:
    """stdout is exactly one JSON document, valid against results-v1.json."""
    out = capsys.readouterr().out
    document = json.loads(out)  # raises on anything but one document
    assert out == json.dumps(document, indent=2) + '\n'
    jsonschema.Draft202012Validator(RESULTS_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
    return document


def sarif_log(capsys) -> dict:
    out = capsys.readouterr().out
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    return log


def span_text(path: Path, result: dict) -> str:
    """The text at a result's line and columns, as a reader counts them (no BOM)."""
    line = path.read_text(encoding='utf-8-sig').split('\n')[result['line'] - 1]
    start, end = result['columns']['start'], result['columns']['end']
    return line[start - 1:end - 1]


def by_image(document: dict) -> dict[str, dict]:
    return {r['image']: r for r in document['results']}


DOCKERFILE = '''\
# syntax=docker/dockerfile:1
ARG BASE=python:3.12-slim
FROM ${{BASE}} AS build
RUN --mount=type=bind,from=busybox:1.36,target=/bb true
FROM python:${{PY}}-slim AS composed
COPY --from=build /a /b
FROM scratch
# pin-from: ignore
FROM python:3.11
FROM python:3.12-slim@{zero}
FROM python@{zero}
FROM --platform=linux/amd64   node:20 AS web
'''


def test_pin_check_json_lists_every_reference_with_status_and_span(hub, tmp_path, capsys):
    digests = {
        'dockerfile': hub.push('docker/dockerfile', '1'),
        'slim': hub.push('python', '3.12-slim', seed='slim'),
        'busybox': hub.push('busybox', '1.36', platforms=(('linux', 'amd64'),)),
        'node': hub.push('node', '20', seed='node'),
    }
    path = tmp_path / 'Dockerfile'
    path.write_text(DOCKERFILE.format(zero=ZERO))
    assert hub.main('--check', '--format', 'json', path) == 1
    document = results_document(capsys)
    assert path.read_text() == DOCKERFILE.format(zero=ZERO)  # --check writes nothing
    assert (document['schema_version'], document['hook'], document['exit_code']) == (1, 'pin-from', 1)
    assert document['tool']['name'] == 'pin-from' and document['errors'] == [] and document['notes'] == []

    results = by_image(document)
    for image, digest in (('docker/dockerfile:1', 'dockerfile'), ('python:3.12-slim', 'slim'),
                          ('busybox:1.36', 'busybox'), ('node:20', 'node')):
        assert results[image]['status'] == 'would-pin'
        assert (results[image]['old'], results[image]['new'], results[image]['reason']) == (None, digests[digest], None)
    assert results['node:20']['line'] == 12 and results['node:20']['columns'] == {'start': 31, 'end': 38}
    for image, why in (('python:${PY}-slim', 'composed from build args'), ('build', 'a build stage'),
                       ('scratch', 'scratch'), ('python:3.11', 'pin-from: ignore'),
                       (f'python:3.12-slim@{ZERO}', 'already pinned'), (f'python@{ZERO}', 'digest-only')):
        assert results[image]['status'] == 'skipped' and why in results[image]['reason'], image
        assert results[image]['new'] is None
    assert results[f'python:3.12-slim@{ZERO}']['old'] == ZERO
    assert len(document['results']) == 10
    for result in document['results']:
        assert span_text(path, result) == result['image'], result
    assert [r['line'] for r in document['results']] == sorted(r['line'] for r in document['results'])


def test_pin_json_then_update_json_pinned_unchanged_re_pinned(hub, tmp_path, capsys):
    first = hub.push('python', '3.12', seed='a')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12\n')
    assert hub.main('--format', 'json', path) == 1
    (result,) = results_document(capsys)['results']
    assert (result['status'], result['old'], result['new']) == ('pinned', None, first)
    assert path.read_text() == f'FROM python:3.12@{first}\n'

    update = ('--update', '--library-url', LIBRARY, '--format', 'json')
    assert hub.main(*update, path) == 0
    (result,) = results_document(capsys)['results']
    assert (result['status'], result['old'], result['new']) == ('unchanged', first, first)
    assert span_text(path, result) == f'python:3.12@{first}'

    second = hub.push('python', '3.12', seed='b')
    assert hub.main(*update, '--check', path) == 1
    document = results_document(capsys)
    (result,) = document['results']
    assert (result['status'], result['old'], result['new']) == ('would-re-pin', first, second)
    assert any('python:3.12' in note for note in document['notes'])  # the summary, off stdout
    assert hub.main(*update, path) == 1
    (result,) = results_document(capsys)['results']
    assert (result['status'], result['old'], result['new']) == ('re-pinned', first, second)
    assert path.read_text() == f'FROM python:3.12@{second}\n'


def test_pin_json_errors_per_reference_and_per_file(hub, tmp_path, capsys):
    good = hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12\nFROM python:3.99\n')
    broken = tmp_path / 'broken.Dockerfile'
    broken.write_bytes(b'FROM python:3.12\nRUN \xff\n')
    missing = tmp_path / 'missing.Dockerfile'
    assert hub.main('--format', 'json', path, broken, missing) == 3
    document = results_document(capsys)
    assert document['exit_code'] == 3
    results = by_image(document)
    assert results['python:3.99']['status'] == 'error'
    assert "tag '3.99' not found" in results['python:3.99']['reason']
    # one failure leaves the file untouched: its other reference is not pinned
    assert results['python:3.12']['status'] == 'skipped' and 'untouched' in results['python:3.12']['reason']
    assert path.read_text() == 'FROM python:3.12\nFROM python:3.99\n'
    assert document['errors'] == [
        {'file': str(broken), 'line': 2, 'message': 'not valid UTF-8'},
        {'file': str(missing), 'line': None, 'message': 'no such file'},
    ]
    assert good not in json.dumps(document)


def test_columns_count_code_points_and_ignore_a_bom(hub, tmp_path, capsys):
    digest = hub.push('python', '3.12')
    dockerfile = tmp_path / 'Dockerfile'
    dockerfile.write_bytes(b'\xef\xbb\xbffrom  python:3.12  AS  x\r\n')
    compose = tmp_path / 'compose.yaml'
    compose.write_text(
        'services:\n  app: {labels: {"\u00e9t\u00e9": "\U0001f433"}, image: python:3.12}\n', encoding='utf-8',
    )
    assert hub.main('--check', '--format', 'json', dockerfile, compose) == 1
    document = results_document(capsys)
    first, second = document['results']
    assert (first['file'], first['line'], first['columns']) == (str(dockerfile), 1, {'start': 7, 'end': 18})
    assert (second['file'], second['line']) == (str(compose), 2)
    line = compose.read_text(encoding='utf-8').split('\n')[1]
    assert second['columns']['start'] == line.index('python:3.12') + 1  # code points, not bytes
    for path, result in ((dockerfile, first), (compose, second)):
        assert span_text(path, result) == 'python:3.12' and result['new'] == digest


def test_verbose_json_prints_only_the_document(hub, tmp_path, capsys):
    hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM scratch\nFROM python:3.12\n')
    assert hub.main('-v', '--check', '--format', 'json', path) == 1
    assert [r['status'] for r in results_document(capsys)['results']] == ['skipped', 'would-pin']


def test_usage_error_in_json_mode_is_a_document_too(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12\n')
    assert pin.main(['--format', 'json', '--report', str(tmp_path / 'r.md'), str(path)]) == 2
    document = results_document(capsys)
    assert document['exit_code'] == 2
    assert document['errors'] == [{'file': None, 'line': None, 'message': 'error: --report needs --update'}]
    with pytest.raises(SystemExit) as e:
        check_deprecated_tags.main(['--format', 'xml', str(path)])
    assert e.value.code == 2
    assert capsys.readouterr().out == ''
    with pytest.raises(SystemExit):
        pin.main(['--format', 'sarif', str(path)])  # SARIF is for findings: check-deprecated-tags only


def test_text_mode_is_unchanged(hub, tmp_path, capsys):
    digest = hub.push('python', '3.12')
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM scratch\nFROM python:3.12\n')
    assert hub.main('-v', '--check', path) == 1
    assert capsys.readouterr().out == (
        f'{path}:1: skipped scratch: scratch is not an image\n'
        f'{path}:2: would pin python:3.12 -> python:3.12@{digest}\n'
    )


CHECKED = '''\
FROM python:3.7-slim
FROM centos:7
FROM notary:server AS n
FROM n
FROM openjdk:11-jre-slim-buster
FROM python:3.13
FROM bitnami/python:3.7
FROM python@{zero}
'''


def check(*args):
    return check_deprecated_tags.main(['--library-url', str(LIBRARY), '--docs-url', str(DOCS), *map(str, args)])


def test_check_deprecated_tags_json(tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text(CHECKED.format(zero=ZERO))
    assert check('--format', 'json', path) == 1
    document = results_document(capsys)
    assert (document['hook'], document['exit_code'], document['errors']) == ('check-deprecated-tags', 1, [])
    results = by_image(document)
    statuses = {image: r['status'] for image, r in results.items()}
    assert statuses == {
        'python:3.7-slim': 'unsupported', 'centos:7': 'not-official', 'notary:server': 'deprecated',
        'n': 'skipped', 'openjdk:11-jre-slim-buster': 'unsupported', 'python:3.13': 'supported',
        'bitnami/python:3.7': 'skipped', f'python@{ZERO}': 'skipped',
    }
    slim = results['python:3.7-slim']
    assert slim['old'] == '3.7-slim' and slim['new'] == slim['suggestions'][0]
    assert all(t.endswith('-slim') for t in slim['suggestions'])
    assert slim['reason'] == "python:3.7-slim is no longer supported by the official image 'python'"
    assert results['notary:server']['notice'].startswith('The upstream Notary project')
    assert 'eclipse-temurin' in results['openjdk:11-jre-slim-buster']['alternatives']
    assert results['python:3.13']['new'] == '3.13'
    assert results['bitnami/python:3.7']['reason'] == 'not an official image'
    for result in document['results']:
        assert span_text(path, result) == result['image'], result


def test_check_deprecated_tags_sarif_for_code_scanning(tmp_path, capsys, monkeypatch):
    (tmp_path / 'app dir').mkdir()
    path = tmp_path / 'app dir' / 'Dockerfile'
    path.write_text(CHECKED.format(zero=ZERO))
    monkeypatch.chdir(tmp_path)
    assert check('--format', 'sarif', 'app dir/Dockerfile') == 1
    log = sarif_log(capsys)
    assert log['version'] == '2.1.0'
    (run,) = log['runs']
    driver = run['tool']['driver']
    assert driver['name'] == 'pin-from' and driver['version'] and driver['informationUri'].startswith('https://')
    rules = [r['id'] for r in driver['rules']]
    assert rules == [
        'unsupported-tag', 'deprecated-image', 'not-official',
        'end-of-life', 'near-end-of-life', 'base-end-of-life', 'base-near-end-of-life',
    ]
    assert all(r['help']['text'] and r['shortDescription']['text'] for r in driver['rules'])
    assert run['columnKind'] == 'unicodeCodePoints'
    assert run['invocations'][0]['executionSuccessful'] is True
    found = {r['message']['text'].split(' ')[0]: r for r in run['results']}
    assert [(r['ruleId'], rules[r['ruleIndex']]) for r in run['results']] == [
        ('unsupported-tag', 'unsupported-tag'), ('not-official', 'not-official'),
        ('deprecated-image', 'deprecated-image'), ('unsupported-tag', 'unsupported-tag'),
    ]
    slim = found['python:3.7-slim']
    (location,) = slim['locations']
    assert location['physicalLocation']['artifactLocation'] == {'uri': 'app%20dir/Dockerfile', 'uriBaseId': '%SRCROOT%'}
    assert location['physicalLocation']['region'] == {'startLine': 1, 'startColumn': 6, 'endColumn': 21}
    assert slim['message']['text'].startswith(
        "python:3.7-slim is no longer supported by the official image 'python'. Supported tags of the same variant: 3.")
    assert 'Notice: The upstream Notary project' in found['notary:server:']['message']['text']
    assert 'Alternatives: ' in found['openjdk:11-jre-slim-buster']['message']['text']
    assert all(r['level'] == 'error' for r in run['results'])


def test_sarif_when_the_library_cannot_be_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(snapshot, 'load', lambda *a, **k: None)  # the path without the shipped snapshot
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    args = ['--library-url', 'http://127.0.0.1:9/library/', '--timeout', '2', '--format', 'sarif', str(path)]
    assert check_deprecated_tags.main(args) == 3
    log = sarif_log(capsys)
    invocation = log['runs'][0]['invocations'][0]
    assert (invocation['executionSuccessful'], invocation['exitCode']) == (False, 3)
    assert log['runs'][0]['results'] == []
    texts = [n['message']['text'] for n in invocation['toolExecutionNotifications']]
    assert any(t.startswith('cannot read the official-images library') for t in texts)
    assert any(t.startswith('python:3.13: ') for t in texts)  # the reference it could not judge


def test_json_when_the_library_cannot_be_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(snapshot, 'load', lambda *a, **k: None)  # the path without the shipped snapshot
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    args = ['--library-url', 'http://127.0.0.1:9/library/', '--timeout', '2', '--format', 'json', str(path)]
    assert check_deprecated_tags.main(args) == 3
    document = results_document(capsys)
    (result,) = document['results']
    assert result['status'] == 'error' and 'cannot reach 127.0.0.1:9' in result['reason']
    (error,) = document['errors']
    assert error['file'] is None and error['message'].startswith('cannot read the official-images library')


@pytest.mark.parametrize('where', ('inside', 'outside'))
def test_a_non_utf8_file_name_is_percent_encoded_in_sarif_and_json(tmp_path, capsys, monkeypatch, where):
    """SARIF died on such a name (UnicodeEncodeError) and printed nothing (issue 18, item 12); JSON held lone
    surrogates. One rule for both: the name's bytes, percent-encoded."""
    work = tmp_path / 'work'
    work.mkdir()
    base = work if where == 'inside' else tmp_path
    name = os.fsdecode(b'caf\xe9 \xff.Dockerfile')
    (base / name).write_text('FROM python:3.7-slim\n')
    monkeypatch.chdir(work)
    arg = name if where == 'inside' else str(base / name)
    assert check('--format', 'sarif', arg) == 1
    (result,) = sarif_log(capsys)['runs'][0]['results']
    uri = result['locations'][0]['physicalLocation']['artifactLocation']['uri']
    expected = 'caf%E9%20%FF.Dockerfile'
    assert uri == expected if where == 'inside' else uri == 'file://' + urllib.parse.quote(str(tmp_path)) + '/' + expected
    assert check('--format', 'json', arg) == 1
    (found,) = results_document(capsys)['results']
    assert found['file'].endswith(expected) and '\\ud' not in json.dumps(found)
