"""JSON from outside is parsed within bounds (issue 18, items 2 and 3).

Deep documents used to raise RecursionError (a traceback, no report, nothing on
stdout with --format json), and a 31 MB document of nested objects ended in
MemoryError under 1 GB. Each hostile document here reaches pin-from the way it
would in a run: an in-toto statement pushed to the real registry, an OSV
answer, a token answer, a credential helper, the cache.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pin_from import untrusted_json
from pin_from.untrusted_json import JSONInputError
from tests.attested_images import SPDX
from tests.explain_report_test import NEW, OLD, hub  # noqa: F401 -- the fixture
from tests.explain_report_test import _part

SLSA_V1 = 'https://slsa.dev/provenance/v1'
DEEP = b'[' * 200_000 + b']' * 200_000


@pytest.mark.parametrize('data, message', [
    (DEEP, 'is nested deeper than 100 levels'),
    (b'{"a":' * 101 + b'1' + b'}' * 101, 'is nested deeper than 100 levels'),
    (b'[' + b'{},' * 20 + b'{}]', 'has more than 20 objects and arrays'),
    (b'[' + b'1,' * 30 + b'1]', 'has more than 30 values'),
    (b'"' + b'x' * 100 + b'"', 'is larger than 100 bytes'),
    (b'[NaN]', 'is not JSON'),
    (b'[Infinity]', 'is not JSON'),
    (b'<html>', 'is not JSON'),
    (b'\xff\xfe{', 'is not JSON'),
])
def test_bounds_and_nonsense_are_one_error(data, message):
    small = {} if b'[[[' in data or b'{"a":{' in data else {'max_containers': 20, 'max_values': 30}
    with pytest.raises(JSONInputError, match=message):
        untrusted_json.loads(data, 100 if b'x' * 100 in data else 10_000_000, **small)


def test_within_the_bounds_it_is_plain_json():
    doc = {'a': [1, 2.5, None, True, 'é\u2028'], 'b': {'c': '[[[[[[[[[[,,,,,,,,,,,,,,,,,,,,,,]]'}}
    data = json.dumps(doc).encode()
    # brackets and commas inside strings are not structure
    assert untrusted_json.loads(data, len(data), max_depth=3, max_containers=3, max_values=9) == doc
    assert untrusted_json.loads(json.dumps(doc), 1000) == doc  # str in, the same
    assert untrusted_json.loads(b'[' * 100 + b']' * 100, 1000) is not None  # exactly the depth bound
    with pytest.raises(JSONInputError, match='is not a JSON object'):
        untrusted_json.loads_object(b'[]', 10)


@pytest.mark.parametrize('data', [
    b'["' + b']' * 200_000 + b'",' + DEEP[:-1] + b']',  # brackets in a string do not hide the depth
    b'["\\\\\\"' + b']' * 200_000 + b'",' + DEEP[:-1] + b']',  # nor do escaped quotes and backslashes
    b'"' + b']' * 200_000 + b'\\' + DEEP,  # nor does an unterminated string (not JSON anyway)
])
def test_depth_hidden_behind_brackets_in_strings_is_still_refused(data):
    with pytest.raises(JSONInputError, match='is nested deeper|is not JSON'):
        untrusted_json.loads(data, 10_000_000)


def test_escapes_pair_as_the_lexer_pairs_them():
    doc = ['\\', '"', '\\"[', '\\\\', '\t\\"{']
    data = json.dumps(doc).encode()
    assert untrusted_json.loads(data, 1000, max_depth=1, max_containers=1, max_values=len(doc) + 1) == doc


def test_a_deep_provenance_gets_its_note_and_the_run_its_report_and_json(hub, tmp_path, capsys):  # noqa: F811
    statement = b'{"predicateType": "%s", "predicate": {"buildDefinition": ' % SLSA_V1.encode() + DEEP + b'}}'
    old = hub.attested('nginx', '1.2', OLD, seed='old')
    path = tmp_path / 'Dockerfile'
    path.write_text(f'FROM nginx:1.2@{old}\n')
    new = hub.attested('nginx', '1.2', {SPDX: NEW[SPDX], SLSA_V1: statement}, seed='new')
    report = tmp_path / 'report.md'
    assert hub.main('--update', '--report', report, '--format', 'json', path) == 1
    assert path.read_text() == f'FROM nginx:1.2@{new}\n'
    document = json.loads(capsys.readouterr().out)
    assert document['exit_code'] == 1 and document['results']
    assert _part(report.read_text(), 'Source') == (
        'new image: provenance unreadable: attestation is nested deeper than 100 levels')
    assert _part(report.read_text(), 'Packages') == '4 upgraded, 1 added, 1 removed'


def test_a_deep_osv_answer_is_osv_unavailable():
    from pin_from.explain.osv import ApiSource, OsvUnavailable, Query
    source = ApiSource('http://osv.invalid', lambda method, url, body: (200, DEEP))
    with pytest.raises(OsvUnavailable, match='answer is nested deeper than 100 levels'):
        source.candidates([Query('Debian:7', 'nginx', '1')])


# 31 MB of {"":{"":{}}}: Python's parser needs about 1.2 GB for it
_MEMORY_CHILD = textwrap.dedent('''
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from pin_from.explain.attestations import AttestationError, parse_sbom
    from pin_from.explain.osv import ApiSource, OsvUnavailable, Query
    bomb = b'[' + b','.join([b'{"":{"":{}}}'] * 2_300_000) + b']'
    statement = b'{"predicateType": "https://spdx.dev/Document", "predicate": ' + bomb + b'}'
    try:
        parse_sbom(statement)
    except AttestationError as e:
        print('sbom:', e)
    source = ApiSource('http://osv.invalid', lambda method, url, body: (200, b'{"results": ' + bomb + b'}'))
    try:
        source.candidates([Query('Debian:7', 'nginx', '1')])
    except OsvUnavailable as e:
        print('osv:', str(e).split(': ', 1)[1])
''')


def test_a_31_mb_document_of_nested_objects_is_refused_within_1_gb():
    proc = subprocess.run([sys.executable, '-c', _MEMORY_CHILD], capture_output=True, text=True, timeout=60)
    assert proc.stderr == '' and proc.returncode == 0
    assert proc.stdout == (
        'sbom: attestation has more than 1,000,000 objects and arrays\n'
        'osv: answer has more than 1,000,000 objects and arrays\n'
    )


def test_token_helper_and_cache_answers_go_through_the_same_bounds(tmp_path):
    from pin_from.errors import RegistryError
    from pin_from.registry.cache import Cache
    from pin_from.registry.client import _token_from
    from pin_from.registry.credentials import CredentialsError, _helper_answer
    with pytest.raises(RegistryError, match='without a usable token'):
        _token_from(DEEP, type('Ep', (), {'name': 'reg.example'})())
    with pytest.raises(CredentialsError, match='answered something other than credentials'):
        _helper_answer(DEEP, 'docker-credential-x', 'reg.example')
    cache = Cache(str(tmp_path / 'c'))
    cache.set('x', b'')
    store = cache._open()
    store.set('pin-from/2 x', b'1.0 j\n' + DEEP)
    notes: list[str] = []
    cache._note = notes.append
    assert cache.get('x', lambda v: True) is None and notes
