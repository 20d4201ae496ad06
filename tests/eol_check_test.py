"""check-deprecated-tags --eol end to end: the README's example, every output format, every file kind, the
API served over HTTP and read from a directory, hostile data. "Today" is fixed with the tests-only variable."""
from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path

import jsonschema
import pytest

from pin_from.check_deprecated_tags import main
from pin_from.support.eol_check import TESTS_TODAY_ENV
from pin_from.support import snapshot

from tests import endoflife_api
from tests.data import DATA, DOCS, OFFICIAL_IMAGES

EOL = endoflife_api.ENDOFLIFE
LIBRARY = OFFICIAL_IMAGES / 'current' / 'library'
README = Path(__file__).resolve().parents[1] / 'README.md'
RESULTS_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / 'pin_from' / 'schemas' / 'results-v1.json')
                            .read_text())
SARIF_SCHEMA = json.loads((DATA / 'sarif' / 'sarif-schema-2.1.0.json').read_text())
FIVE = 'FROM python:3.8\nFROM node:18-alpine\nFROM python:3.12-bullseye\nFROM postgres:16\nFROM ubuntu:24.04\n'


@pytest.fixture(autouse=True)
def _today(monkeypatch, tmp_path):
    monkeypatch.setenv(TESTS_TODAY_ENV, '2026-08-22')
    monkeypatch.setenv('PIN_FROM_LIBRARY_URL', str(LIBRARY))
    monkeypatch.setenv('PIN_FROM_DOCS_URL', str(DOCS))
    monkeypatch.setenv('PIN_FROM_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.delenv('PIN_FROM_EOL', raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _block(after: str, fence: str) -> str:
    """The first fenced block of kind ``fence`` after the text ``after`` in the README."""
    text = README.read_text(encoding='utf-8')
    rest = text[text.index(after):]
    match = re.search(rf'```{fence}\n(.*?)```', rest, re.S)
    assert match, after
    return match.group(1)


def test_the_readme_example_is_the_real_output(tmp_path, capsys):
    dockerfile = _block('A repository with this Dockerfile', 'dockerfile')
    assert dockerfile == FIVE  # the repository the issue names
    console = _block('A repository with this Dockerfile', 'console').splitlines()
    command, expected = console[0], console[1:]
    assert command == '$ check-deprecated-tags --eol endoflife.date/products Dockerfile'
    (tmp_path / 'Dockerfile').write_text(dockerfile)
    code, out, err = run(capsys, '--eol', str(EOL / 'products'), 'Dockerfile')
    assert (code, err) == (1, '')
    assert out.splitlines() == expected


def test_the_readme_warning_is_the_real_output(tmp_path, capsys):
    expected = _block('unless `--eol-fail-within` says so', 'text').splitlines()
    (tmp_path / 'Dockerfile').write_text('FROM python:3.13\nFROM node:24\nFROM postgres:17\nFROM postgres:14\n')
    assert run(capsys, '--eol', str(EOL), 'Dockerfile') == (0, '\n'.join(expected) + '\n', '')
    code, out, _ = run(capsys, '--eol', str(EOL), '--eol-fail-within', '83d', 'Dockerfile')
    assert code == 1 and out.startswith('Dockerfile:4: postgres:14: PostgreSQL 14 reaches end of life')
    assert run(capsys, '--eol', str(EOL), '--eol-fail-within', '81d', 'Dockerfile')[0] == 0
    assert run(capsys, '--eol', str(EOL), '--eol-warn', '30d', 'Dockerfile') == (0, '', '')


def test_without_eol_the_library_check_is_as_before(tmp_path, capsys):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.13-bookworm\nFROM postgres:14\n')
    assert run(capsys, 'Dockerfile') == (0, '', '')
    code, out, _ = run(capsys, '--eol', str(EOL), 'Dockerfile')
    assert code == 1 and 'Debian 12 (Bookworm), reached end of life on 2026-07-11' in out


def test_verbose_says_why_there_is_no_verdict(tmp_path, capsys):
    (tmp_path / 'Dockerfile').write_text('FROM python:3\nFROM nginx:1.31\nFROM postgres:16\n')
    code, out, _ = run(capsys, '-v', '--eol', str(EOL), 'Dockerfile')
    assert code == 0
    assert out.splitlines() == [
        'Dockerfile:1: python:3: no end-of-life verdict: the tag names no Python release cycle',
        "Dockerfile:2: nginx:1.31: no end-of-life verdict: no endoflife.date product names the image 'nginx'",
        'Dockerfile:3: postgres:16: PostgreSQL 16 is supported until 2028-11-09',
    ]
    assert run(capsys, '--eol', str(EOL), 'Dockerfile') == (0, '', '')


def test_verdicts_without_the_library_have_no_suggestion(tmp_path, capsys, monkeypatch):
    """The library cannot be read: end-of-life verdicts still stand, with no suggestion (nothing is known listed)."""
    monkeypatch.setattr(snapshot, 'load', lambda *a, **k: None)  # the path without the shipped snapshot
    monkeypatch.setenv('PIN_FROM_LIBRARY_URL', 'http://127.0.0.1:9/library/')
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    code, out, err = run(capsys, '--timeout', '2', '--eol', str(EOL), 'Dockerfile')
    assert code == 3 and 'cannot read the official-images library' in err
    assert out == 'Dockerfile:1: python:3.8: Python 3.8 reached end of life on 2024-10-07\n'


def test_ignored_references_get_no_verdict(tmp_path, capsys):
    (tmp_path / 'Dockerfile').write_text('# pin-from: ignore\nFROM python:3.8\nFROM python:3.14\n')
    assert run(capsys, '--eol', str(EOL), 'Dockerfile') == (0, '', '')
    (tmp_path / 'compose.yaml').write_text('services:\n  a:\n    image: python:3.8  # pin-from: ignore\n')
    assert run(capsys, '--eol', str(EOL), 'compose.yaml') == (0, '', '')
    code, out, _ = run(capsys, '--format', 'json', '--eol', str(EOL), 'Dockerfile', 'compose.yaml')
    found = [(r['image'], r['status'], [e['status'] for e in r.get('end_of_life', ())]) for r in json.loads(out)['results']]
    assert code == 0 and found == [
        ('python:3.8', 'skipped', []), ('python:3.14', 'supported', ['supported']), ('python:3.8', 'skipped', []),
    ]


@pytest.mark.parametrize(('name', 'text', 'line'), (
    ('compose.yaml', 'services:\n  app:\n    image: python:3.8-slim\n', 3),
    ('deploy.yaml', 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: python:3.8-slim\n', 6),
    ('.github/workflows/ci.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    container: python:3.8-slim\n'
                                 '    steps: [{run: "true"}]\n', 5),
    ('.gitlab-ci.yml', 'image: python:3.8-slim\njob:\n  script: ["true"]\n', 1),
    ('Containerfile', 'ARG X=1\nFROM docker.io/library/python:3.8-slim@sha256:' + '0' * 64 + '\n', 2),
    ('.circleci/config.yml', 'version: 2.1\njobs:\n  build:\n    docker:\n      - image: python:3.8-slim\n', 5),
    ('charts/app/values.yaml', 'replicas: 1\nsidecar:\n  image: python:3.8-slim\n', 3),
))
def test_every_file_kind(tmp_path, capsys, name, text, line):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    code, out, _ = run(capsys, '--eol', str(EOL), name)
    assert code == 1
    assert f'{name}:{line}: python:3.8-slim: Python 3.8 reached end of life on 2024-10-07\n' \
           '    suggestion: python:3.14-slim\n' in out


def test_json(tmp_path, capsys):
    (tmp_path / 'Dockerfile').write_text(FIVE + 'FROM postgres:14\nFROM python:3\n')
    code, out, _ = run(capsys, '--format', 'json', '--eol', str(EOL), 'Dockerfile')
    assert code == 1
    document = json.loads(out)
    jsonschema.Draft202012Validator(RESULTS_SCHEMA).validate(document)
    found = {r['image']: r.get('end_of_life') for r in document['results']}
    assert found['python:3.8'] == [{
        'subject': 'image', 'product': 'python', 'cycle': '3.8', 'title': 'Python 3.8', 'eol': '2024-10-07',
        'status': 'end-of-life', 'level': 'error',
        'message': 'python:3.8: Python 3.8 reached end of life on 2024-10-07', 'suggestion': 'python:3.14',
    }]
    assert [(e['subject'], e['status'], e['level'], e['suggestion']) for e in found['python:3.12-bullseye']] == [
        ('image', 'supported', 'none', None), ('base', 'end-of-life', 'error', 'python:3.12-trixie'),
    ]
    assert [(e['status'], e['level']) for e in found['postgres:14']] == [('near-end-of-life', 'warning')]
    assert found['python:3'] is None  # no cycle: no field
    assert document['exit_code'] == 1


def test_sarif(tmp_path, capsys):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.13\nFROM python:3.12-bullseye\nFROM postgres:14\n')
    code, out, _ = run(capsys, '--format', 'sarif', '--eol', str(EOL), 'Dockerfile')
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (sarif_run,) = log['runs']
    rules = [r['id'] for r in sarif_run['tool']['driver']['rules']]
    found = [(r['ruleId'], rules[r['ruleIndex']], r['level'], r['locations'][0]['physicalLocation']['region']['startLine'])
             for r in sarif_run['results']]
    assert found == [
        ('unsupported-tag', 'unsupported-tag', 'error', 2),
        ('base-end-of-life', 'base-end-of-life', 'error', 2),
        ('near-end-of-life', 'near-end-of-life', 'warning', 3),
    ]
    assert sarif_run['results'][1]['message']['text'] == (
        'python:3.12-bullseye: its base system, Debian 11 (Bullseye), reached end of life on 2024-08-14 '
        '(extended support until 2026-08-31). Suggestion: python:3.12-trixie.'
    )


# --- sources ---------------------------------------------------------------------------------------------------

class _Api(http.server.ThreadingHTTPServer):
    requests: list[str]
    status: int
    body: bytes
    url: str


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Api

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.server.status != 200:
            self.send_error(self.server.status)
            return
        body = self.server.body
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def api():
    """The API (/api/v1/products/full) over real product data, on a local port."""
    server = _Api(('127.0.0.1', 0), _Handler)
    server.requests, server.status = [], 200
    document = endoflife_api.full()
    jsonschema.Draft202012Validator(endoflife_api.schema('FullProductListResponse')).validate(document)
    server.body = json.dumps(document).encode()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f'http://127.0.0.1:{server.server_address[1]}/api/v1/products/full'
    yield server
    server.shutdown()
    server.server_close()


def test_the_api_over_http_one_request_then_the_cache(tmp_path, capsys, api):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\nFROM node:18\nFROM python:3.13-bookworm\n')
    code, out, err = run(capsys, '--eol', api.url, 'Dockerfile')
    assert code == 1 and err == ''
    assert api.requests == ['/api/v1/products/full']  # one request for every image
    assert 'Python 3.8 reached end of life' in out and 'Node.js 18 reached' in out and 'Debian 12' in out
    assert run(capsys, '--eol', api.url, 'Dockerfile') == (code, out, '')
    assert api.requests == ['/api/v1/products/full']  # fresh for a day: no second request
    assert run(capsys, '--offline', '--eol', api.url, 'Dockerfile') == (code, out, '')


def test_the_api_unavailable_a_stale_copy_with_a_note(tmp_path, capsys, api):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    first = run(capsys, '--eol', api.url, 'Dockerfile')
    api.status = 503
    code, out, err = run(capsys, '--library-ttl', '0', '--eol', api.url, 'Dockerfile')
    assert (code, out) == first[:2]
    assert re.fullmatch(r'check-deprecated-tags: (http://127.0.0.1:\d+/api/v1/products/full)(: \1)? answered '
                        r'HTTP 503; using the cached answer\n', err)
    assert len(api.requests) >= 2


def test_the_api_unavailable_and_nothing_cached(tmp_path, capsys, api):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    api.status = 503
    code, out, err = run(capsys, '--eol', api.url, '--timeout', '2', 'Dockerfile')
    assert code == 3
    assert "python:3.8 is no longer supported by the official image 'python'" in out  # the library check ran
    assert 'end of life' not in out
    (line,) = err.splitlines()
    assert line.startswith('check-deprecated-tags: cannot read the end-of-life data: http://127.0.0.1:')
    assert 'No end-of-life verdict was given. Ways out: --eol DIR' in line


def test_offline_and_nothing_cached(tmp_path, capsys, api):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    code, _, err = run(capsys, '--offline', '--eol', api.url, 'Dockerfile')
    assert code == 3 and api.requests == []
    assert 'cannot read the end-of-life data' in err and 'not in the cache and --offline was given' in err


def test_api_json_in_a_directory_and_as_a_file(tmp_path, capsys, monkeypatch):
    (tmp_path / 'Dockerfile').write_text(FIVE)
    expected = run(capsys, '--eol', str(EOL), 'Dockerfile')
    saved = tmp_path / 'saved'
    saved.mkdir()
    (saved / 'full.json').write_text(json.dumps(endoflife_api.full()))
    assert run(capsys, '--eol', str(saved), 'Dockerfile') == expected
    monkeypatch.setenv('PIN_FROM_EOL', str(saved / 'full.json'))
    assert run(capsys, 'Dockerfile') == expected


@pytest.mark.parametrize(('args', 'message'), (
    (['--eol', 'nowhere'], '--eol nowhere: no such file or directory'),
    (['--eol', '.'], '--eol .: holds no product .md or .json files'),
    (['--eol-warn', '30d'], '--eol-warn needs --eol (or PIN_FROM_EOL)'),
    (['--eol-fail-within', '1w'], '--eol-fail-within needs --eol (or PIN_FROM_EOL)'),
))
def test_usage_errors(tmp_path, capsys, args, message):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    code, out, err = run(capsys, *args, 'Dockerfile')
    assert (code, out) == (2, '')
    assert message in err


def test_from_the_configuration_file(tmp_path, capsys):
    """[tool.pin-from]: eol (a path relative to the file), eol-warn, eol-fail-within, as on the command line."""
    (tmp_path / 'Dockerfile').write_text('FROM postgres:14\n')
    (tmp_path / 'data').symlink_to(EOL)
    (tmp_path / 'pyproject.toml').write_text('[tool.pin-from]\neol = "data"\neol-warn = "100d"\n')
    assert run(capsys, 'Dockerfile')[:2] == (
        0, 'Dockerfile:1: warning: postgres:14: PostgreSQL 14 reaches end of life on 2026-11-12, in 82 days\n'
           '    suggestion: postgres:18\n')
    (tmp_path / 'pyproject.toml').write_text('[tool.pin-from]\neol = "data"\neol-fail-within = "12w"\n')
    assert run(capsys, 'Dockerfile')[0] == 1
    (tmp_path / 'pyproject.toml').write_text('[tool.pin-from]\neol = "data"\neol-warn = "soon"\n')
    code, _, err = run(capsys, 'Dockerfile')
    assert code == 2 and 'pyproject.toml: eol-warn' in err


def test_a_bad_duration(capsys):
    with pytest.raises(SystemExit) as e:
        main(['--eol', str(EOL), '--eol-warn', '90 days', 'Dockerfile'])
    assert e.value.code == 2
    assert "--eol-warn: '90 days': expected a whole number and a unit" in capsys.readouterr().err


def test_a_bad_today_for_tests(capsys, monkeypatch, tmp_path):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    monkeypatch.setenv(TESTS_TODAY_ENV, 'soon')
    assert run(capsys, '--eol', str(EOL), 'Dockerfile')[0] == 2


# --- hostile data ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(('content', 'error'), (
    ('[]', 'not an endoflife.date API answer'),
    ('{"result": 7}', 'not an endoflife.date API answer'),
    ('[' * 100000 + ']' * 100000, 'is nested deeper than 100 levels'),
    ('{"result": [', 'is not JSON'),
))
def test_hostile_api_json_is_one_line(tmp_path, capsys, content, error):
    (tmp_path / 'Dockerfile').write_text('FROM python:3.8\n')
    (tmp_path / 'full.json').write_text(content)
    code, out, err = run(capsys, '--eol', 'full.json', 'Dockerfile')
    assert code == 3 and 'end of life' not in out
    (line,) = err.splitlines()
    assert 'cannot read the end-of-life data: full.json: ' in line and error in line


def test_wrong_shapes_are_dropped_not_trusted(tmp_path, capsys):
    python = endoflife_api.product(EOL / 'products' / 'python.md')
    bad = [
        {**python, 'name': '../../etc'},  # not a product name
        {**python, 'name': 'python-two', 'releases': [
            {'name': 3.8, 'eolFrom': '2020-01-01'},  # a number: 3.10 would read as 3.1
            {'name': '3.9', 'eolFrom': 'soon', 'isEol': 'yes'},  # no date, not a boolean: no end
            {'name': '3.7\x1b[31m', 'eolFrom': '2020-01-01'},
            'junk', None,
        ]},
    ]
    (tmp_path / 'full.json').write_text(json.dumps({'result': bad}))
    from pin_from.support import endoflife
    (product,) = endoflife.load(str(tmp_path / 'full.json'), None).products
    assert [(c.name, c.eol, c.ended) for c in product.cycles] == [('3.9', None, False)]


def test_a_product_file_yaml_bomb_is_dropped(tmp_path):
    from pin_from.support import endoflife
    bomb = '---\ncategory: os\na: &a ["x","x","x","x","x","x","x","x","x"]\n' + ''.join(
        f'{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n'
        for i in range(12)
    ) + 'releases: *m\n---\n'
    (tmp_path / 'bomb.md').write_text(bomb)
    (tmp_path / 'python.md').write_text((EOL / 'products' / 'python.md').read_text())
    assert [p.name for p in endoflife.load(str(tmp_path), None).products] == ['python']
