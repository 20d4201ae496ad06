"""Registry credentials, found where ``docker`` and ``podman`` keep them.

Order, per registry host (the first source with an answer wins):

1. Docker's client config, ``$DOCKER_CONFIG/config.json`` else
   ``~/.docker/config.json``: the ``credHelpers`` entry for the registry, else
   ``credsStore``, else the ``auths`` entry. As in ``docker``, a configured
   helper is authoritative for the file: its "not found" means no Docker
   credentials, whatever ``auths`` holds.
2. Podman's auth file, ``$REGISTRY_AUTH_FILE`` else
   ``$XDG_RUNTIME_DIR/containers/auth.json``, then
   ``$XDG_CONFIG_HOME/containers/auth.json`` (same keys, same order).

Registry keys match as ``docker`` matches them: exactly, else by host name
with any ``http(s)://`` scheme and ``/path`` removed. Docker Hub's key is
``https://index.docker.io/v1/``; ``docker.io``, ``index.docker.io`` and
``registry-1.docker.io`` all mean it. Podman keys scoped to a namespace
(``quay.io/team``) are ignored: lookups here are per host.

An ``auths`` entry gives ``auth`` (base64 ``user:password``) or ``username``
and ``password``; ``identitytoken`` (what ``docker login`` stores for OAuth
registries) is used as an OAuth2 refresh token at the token realm, and
``registrytoken`` is sent to the registry as a Bearer token as is. A helper
answering the user ``<token>`` hands an identity token.

Everything is lazy: the files are read once per run, on the first challenge,
and a helper runs at most once per host per run (``docker-credential-NAME
get``, the server address on stdin). Nothing is cached on disk or printed; an
error names the registry and the helper or file, never a secret.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Callable
from typing import TypeVar
from typing import Mapping
from typing import NamedTuple

from pin_from import untrusted_json
from pin_from.errors import RegistryError

HUB_KEY = 'https://index.docker.io/v1/'
HUB_NAMES = frozenset(('docker.io', 'index.docker.io', 'registry-1.docker.io'))
HELPER_TIMEOUT = 30.0
HELPER_MAX_OUTPUT = 64 * 1024  # a helper printing more is broken (or hostile)
MAX_CONFIG_FILE = 4 * 1024 * 1024  # config.json, auth.json
_NOT_FOUND = 'credentials not found in native keychain'
_HELPER_NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]*')


class CredentialsError(RegistryError):
    """Credentials that exist but cannot be read: a broken file or helper."""


@dataclass(frozen=True)
class Auth:
    """What to authenticate with; the secrets never show in a repr."""

    username: str = ''
    password: str = field(default='', repr=False)
    identity_token: str = field(default='', repr=False)
    registry_token: str = field(default='', repr=False)

    @property
    def basic(self) -> tuple[str, str] | None:
        """``(user, password)`` for Basic auth, if there is a user name."""
        return (self.username, self.password) if self.username else None

    def __bool__(self) -> bool:
        return bool(self.username or self.identity_token or self.registry_token)


class Source(NamedTuple):
    """One parsed config file: Docker's config.json or Podman's auth.json."""

    path: str
    hub_key: str  # the key its tool uses for Docker Hub
    auths: dict[str, Any]
    helpers: dict[str, str]
    store: str


Runner = Callable[..., 'subprocess.CompletedProcess[bytes]']


def hostname(key: str) -> str:
    """The host a config key names (``docker.io`` for every Hub spelling)."""
    stripped = re.sub(r'^https?://', '', key)
    host = stripped.partition('/')[0].lower()
    return 'docker.io' if host in HUB_NAMES else host


def _scoped(key: str) -> bool:
    """A Podman key for one namespace or repository, not a whole host."""
    return '://' not in key and '/' in key.rstrip('/')


def _match(keys: Mapping[str, Any], address: str, host: str) -> str | None:
    """The key ``docker`` would use for ``address``: exact, else by host name."""
    if address in keys:
        return address
    for key in keys:
        if not _scoped(key) and hostname(key) == host:
            return key
    return None


def docker_config_path(environ: Mapping[str, str]) -> str:
    directory = environ.get('DOCKER_CONFIG') or os.path.join(
        environ.get('HOME') or os.path.expanduser('~'), '.docker',
    )
    return os.path.join(directory, 'config.json')


def podman_auth_paths(environ: Mapping[str, str]) -> list[str]:
    paths = []
    if environ.get('REGISTRY_AUTH_FILE'):
        paths.append(environ['REGISTRY_AUTH_FILE'])
    elif environ.get('XDG_RUNTIME_DIR'):
        paths.append(os.path.join(environ['XDG_RUNTIME_DIR'], 'containers', 'auth.json'))
    config_home = environ.get('XDG_CONFIG_HOME') or os.path.join(
        environ.get('HOME') or os.path.expanduser('~'), '.config',
    )
    paths.append(os.path.join(config_home, 'containers', 'auth.json'))
    return paths


def read_source(path: str, hub_key: str) -> Source | None:
    """Parse one config file; ``None`` if it does not exist."""
    try:
        with open(path, 'rb') as f:
            data = untrusted_json.loads_object(f.read(MAX_CONFIG_FILE + 1), MAX_CONFIG_FILE)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CredentialsError(f'cannot read {path}: {e.strerror or type(e).__name__}') from None
    except untrusted_json.JSONInputError as e:
        raise CredentialsError(f'cannot read {path}: it {e}') from None
    auths, helpers, store = (
        {} if data.get(k) is None else data[k] for k in ('auths', 'credHelpers', 'credsStore')
    )
    store = store or ''
    if not isinstance(auths, dict) or not isinstance(helpers, dict) or not isinstance(store, str):
        raise CredentialsError(f'cannot read {path}: auths, credHelpers or credsStore malformed')
    return Source(path, hub_key, auths, {k: v for k, v in helpers.items() if isinstance(v, str)}, store)


def decode_entry(entry: object, where: str) -> Auth | None:
    """An ``auths`` entry as :class:`Auth` (``where`` names it in errors)."""
    if not isinstance(entry, dict):
        raise CredentialsError(f'{where}: entry is not a JSON object')
    username, password = entry.get('username') or '', entry.get('password') or ''
    if entry.get('auth'):
        try:
            raw = base64.b64decode(str(entry['auth']), validate=True).decode('utf-8')
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialsError(f'{where}: "auth" is not base64 of user:password') from None
        username, sep, password = raw.partition(':')
        if not sep:
            raise CredentialsError(f'{where}: "auth" is not base64 of user:password')
    auth = Auth(
        str(username), str(password),
        str(entry.get('identitytoken') or ''), str(entry.get('registrytoken') or ''),
    )
    return auth or None


class OutputTooLarge(subprocess.SubprocessError):
    """A helper that printed more than HELPER_MAX_OUTPUT bytes: killed."""


def bounded_run(
        args: list[str], input: bytes, timeout: float, **_: object,
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run`` with its output capped at :data:`HELPER_MAX_OUTPUT`
    (stdout and stderr together) and a deadline: a helper that prints forever
    is killed, not read into memory."""
    import selectors
    import time
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(input)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    ends = time.monotonic() + timeout
    total = 0
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map():
            left = ends - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                raise subprocess.TimeoutExpired(args, timeout)
            for key, _events in sel.select(left):
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                chunks[key.fd].append(data)
                total += len(data)
                if total > HELPER_MAX_OUTPUT:
                    proc.kill()
                    proc.wait()
                    raise OutputTooLarge()
    returncode = proc.wait(max(0.1, ends - time.monotonic()))
    out, err = (b''.join(chunks[f.fileno()]) for f in (proc.stdout, proc.stderr))
    proc.stdout.close()
    proc.stderr.close()
    return subprocess.CompletedProcess(args, returncode, out, err)


def run_helper(
        helper: str, address: str, registry: str,
        run: Runner = bounded_run, search_path: str | None = None,
) -> Auth | None:
    """``docker-credential-HELPER get`` for ``address``; ``None`` if it has nothing."""
    program = f'docker-credential-{helper}'
    if not _HELPER_NAME_RE.fullmatch(helper):
        raise CredentialsError(f'credential helper {helper!r} for {registry}: not a helper name')
    executable = shutil.which(program, path=search_path)
    if executable is None:
        raise CredentialsError(f'credential helper {program} for {registry} is not on PATH')
    try:
        proc = run(
            [executable, 'get'], input=address.encode(), capture_output=True,
            timeout=HELPER_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialsError(
            f'credential helper {program} for {registry} did not answer in {HELPER_TIMEOUT:g} s',
        ) from None
    except OutputTooLarge:
        raise CredentialsError(
            f'credential helper {program} for {registry} printed more than '
            f'{HELPER_MAX_OUTPUT // 1024} KiB; stopped',
        ) from None
    except OSError:
        raise CredentialsError(f'credential helper {program} for {registry} could not be run') from None
    if proc.returncode != 0:
        if _NOT_FOUND in (proc.stdout + proc.stderr).decode('utf-8', 'replace'):
            return None
        # Its output may hold anything, secrets included: it is not shown.
        raise CredentialsError(
            f'credential helper {program} failed for {registry} (exit status {proc.returncode})',
        )
    return _helper_answer(proc.stdout, program, registry)


def _helper_answer(stdout: bytes, program: str, registry: str) -> Auth | None:
    try:
        answer = untrusted_json.loads(stdout, HELPER_MAX_OUTPUT)
        username, secret = answer.get('Username') or '', answer.get('Secret') or ''
        if not isinstance(username, str) or not isinstance(secret, str):
            raise TypeError
    except (untrusted_json.JSONInputError, AttributeError, TypeError):
        raise CredentialsError(
            f'credential helper {program} for {registry} answered something other than credentials',
        ) from None
    if username == '<token>':
        return Auth(identity_token=secret) or None
    return Auth(username, secret) or None


_T = TypeVar('_T')


def _once(
        lock: threading.Lock, memo: dict[str, _T | CredentialsError],
        key: str, compute: Callable[[], _T],
) -> _T:
    """``compute()`` once per key, a failure included (raised again, not re-run)."""
    with lock:
        if key not in memo:
            try:
                memo[key] = compute()
            except CredentialsError as e:
                memo[key] = e
        found = memo[key]
    if isinstance(found, CredentialsError):
        raise CredentialsError(str(found))
    return found


class Lookup:
    """``Options.credentials``: registry host -> :class:`Auth` or ``None``.

    Thread-safe; files are read on the first call, each host is looked up
    once (a failure too: it is raised again, the helper is not re-run).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, run: Runner = bounded_run) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self._run = run
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._sources: dict[str, Source | CredentialsError | None] = {}
        self._answers: dict[str, Auth | CredentialsError | None] = {}

    def __call__(self, host: str) -> Auth | None:
        with self._lock:
            host_lock = self._host_locks.setdefault(host, threading.Lock())
        return _once(host_lock, self._answers, host, lambda: self._find(host))

    def paths(self) -> list[tuple[str, str]]:
        """The files consulted, in order, with the key each uses for Docker Hub."""
        docker = [(docker_config_path(self._environ), HUB_KEY)]
        return docker + [(p, 'docker.io') for p in podman_auth_paths(self._environ)]

    def _source(self, path: str, hub_key: str) -> Source | None:
        """Each file is read once, when a lookup first gets to it."""
        return _once(self._lock, self._sources, path, lambda: read_source(path, hub_key))

    def _find(self, host: str) -> Auth | None:
        name = hostname(host)
        for path, hub_key in self.paths():
            source = self._source(path, hub_key)
            if source is None:
                continue
            address = source.hub_key if name == 'docker.io' else host
            auth = self._from_source(source, address, name)
            if auth is not None:
                return auth
        return None

    def _from_source(self, source: Source, address: str, name: str) -> Auth | None:
        key = _match(source.helpers, address, name)
        helper = source.helpers[key] if key is not None else source.store
        if helper:
            return run_helper(helper, address, name, self._run, self._environ.get('PATH'))
        key = _match(source.auths, address, name)
        if key is None:
            return None
        return decode_entry(source.auths[key], f'{source.path}: auths[{key!r}]')
